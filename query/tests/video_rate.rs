//! A model that samples video faster than WAVE's 2 fps (its `preprocessor_runtime.json` says
//! so) gets video at its own rate on both sides: ingest stores the vector of the file sampled
//! at that rate, and a search by the same file's bytes embeds it the same way, so the file
//! finds itself at cosine 1 (sampled at 2 fps instead, the two vectors differ).

#[path = "support/server.rs"]
mod server;
#[path = "support/tunes.rs"]
mod tunes;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use wave_engine::embedder::Embedder;
use wave_engine::CpuBackend;
use wave_ingest::pipeline::{self, NoProgress, PipelineConfig};
use wave_query::{pb, Model, Searcher, SearcherConfig};

use server::open_store;
use tunes::model_dir;

/// The tiny golden model, sampling video at `fps`.
fn model_at_fps(dir: &Path, fps: f64) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    for name in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "preprocessor_config.json",
        "beats_cfg.json",
        "chat_template.json",
    ] {
        std::fs::copy(model_dir().join(name), model.join(name)).unwrap();
    }
    let runtime = std::fs::read_to_string(model_dir().join("preprocessor_runtime.json")).unwrap();
    let wave_rate = "\"base_interval_s\": 0.5,";
    assert!(runtime.contains(wave_rate), "{runtime}");
    let runtime = runtime.replace(wave_rate, &format!("\"base_interval_s\": {},", 1.0 / fps));
    std::fs::write(model.join("preprocessor_runtime.json"), runtime).unwrap();
    model
}

/// A silent two-second video of a moving lavfi pattern.
fn silent_mp4(path: &Path, pattern: &str) {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("{pattern}=s=64x48:r=25:d=2"))
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-an"])
        .arg(path)
        .status()
        .expect("ffmpeg runs (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg made {}", path.display());
}

fn video_query(path: &Path) -> pb::SearchRequest {
    pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(pb::query::Input::Video(pb::Media {
                data: std::fs::read(path).unwrap(),
                format: "mp4".into(),
            })),
            prompt: String::new(),
        }),
        top_k: 3,
        ..Default::default()
    }
}

#[test]
fn ingest_and_search_sample_video_at_the_models_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    silent_mp4(&input.join("pattern.mp4"), "testsrc");
    silent_mp4(&input.join("rgb.mp4"), "rgbtestsrc");
    let model4 = model_at_fps(tmp.path(), 4.0);

    let db = tmp.path().join("db");
    let store = open_store(&db);
    let embedder = Embedder::<CpuBackend>::load(&model4, &Default::default()).unwrap();
    let report = pipeline::ingest(
        &input,
        &store,
        &embedder,
        &pipeline::model_id(&model4).unwrap(),
        &PipelineConfig::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.ingested, 2, "{:?}", report.failed);
    drop(embedder);

    let score_of_itself = |model: &Path| {
        let model = Arc::new(Model::load(model).unwrap());
        let searcher = Searcher::new(store.clone(), Some(model), SearcherConfig::new(&db)).unwrap();
        let resp = searcher
            .search(&video_query(&input.join("pattern.mp4")), None)
            .unwrap();
        let first = &resp.results[0];
        assert_eq!(first.id, "pattern.mp4", "{:?}", resp.results);
        first.stages.as_ref().unwrap().vector_score.unwrap()
    };
    assert_eq!(Model::load(&model4).unwrap().video_fps(), 4.0);
    let at_its_rate = score_of_itself(&model4);
    assert!(at_its_rate > 0.9999, "cosine with itself {at_its_rate}");
    // The same weights sampling at WAVE's 2 fps embed the query differently: the rate matters.
    let at_two = score_of_itself(&model_dir());
    assert!(at_two < 0.999, "cosine with itself at 2 fps {at_two}");
}
