//! Upsert writes melody vectors: media sent through the real gRPC API (a real server on a real
//! socket, tonic's client, a real RocksDB store, the tiny golden model) gets the same melody
//! vector bulk ingest would give it — uploaded bytes, media already on the server, a [start,
//! end] span of a longer upload — and a hum search over gRPC then finds it by its tune. Media
//! without a tune, and text, get none.

#[path = "support/server.rs"]
mod server;
#[path = "support/tunes.rs"]
mod tunes;

use std::sync::Arc;

use tonic::codegen::tokio_stream;
use wave_ingest::pipeline::{self, NoProgress, PipelineConfig};
use wave_melody::MELODY_SPACE;
use wave_query::pb::wave_client::WaveClient;
use wave_query::{pb, Model, Searcher, SearcherConfig};

use server::{open_store, TestServer};
use tunes::{
    hum_request, model_dir, mp4, noise, play, wav, FALLING, RATE, REPEATS, RISING, ZIGZAG,
};

fn hiss(seconds: f32, seed: u64) -> Vec<f32> {
    let mut rand = noise(seed);
    (0..(seconds * RATE as f32) as usize)
        .map(|_| 0.2 * rand())
        .collect()
}

fn header(id: &str, modality: pb::Modality) -> pb::UpsertItem {
    pb::UpsertItem {
        id: id.into(),
        modality: modality as i32,
        ..Default::default()
    }
}

/// One item of an Upsert stream: its header, then its bytes in two chunks.
fn item(header: pb::UpsertItem, data: &[u8]) -> Vec<pb::UpsertRequest> {
    use pb::upsert_request::Part;
    let mut parts = vec![pb::UpsertRequest {
        part: Some(Part::Item(header)),
    }];
    let half = data.len() / 2;
    for chunk in [&data[..half], &data[half..]] {
        if !chunk.is_empty() {
            parts.push(pb::UpsertRequest {
                part: Some(Part::Chunk(chunk.to_vec())),
            });
        }
    }
    parts
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-5, "{what}: melody vectors differ by {worst}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upserted_media_gets_melody_vectors_and_hum_search_finds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();

    let rising = play(RISING, 330.0, 100.0, true, 1);
    let falling = play(FALLING, 262.0, 120.0, true, 2);
    // Media already on the server: an audio-video clip of ZIGZAG.
    let zigzag_mp4 = files.join("zigzag.mp4");
    mp4(&zigzag_mp4, &play(ZIGZAG, 440.0, 110.0, true, 3));
    // A longer upload: 3 s of hiss, then REPEATS from 3 s on; two spans of it are two items.
    let mut long = hiss(3.0, 4);
    let repeats_at = long.len() as f64 / RATE as f64;
    long.extend(play(REPEATS, 392.0, 100.0, true, 5));
    let long_end = long.len() as f64 / RATE as f64;

    let mut stream = Vec::new();
    stream.extend(item(header("rising", pb::Modality::Audio), &wav(&rising)));
    stream.extend(item(
        pb::UpsertItem {
            format: "wav".into(),
            title: "falling".into(),
            ..header("falling", pb::Modality::Audio)
        },
        &wav(&falling),
    ));
    stream.extend(item(
        pb::UpsertItem {
            source: zigzag_mp4.display().to_string(),
            ..header("zigzag", pb::Modality::AudioVideo)
        },
        &[],
    ));
    stream.extend(item(
        pb::UpsertItem {
            start: Some(repeats_at),
            end: Some(long_end),
            parent: "long".into(),
            ..header("long#tune", pb::Modality::Audio)
        },
        &wav(&long),
    ));
    stream.extend(item(
        pb::UpsertItem {
            start: Some(0.0),
            end: Some(repeats_at),
            parent: "long".into(),
            ..header("long#hiss", pb::Modality::Audio)
        },
        &wav(&long),
    ));
    stream.extend(item(
        header("hiss", pb::Modality::Audio),
        &wav(&hiss(2.0, 6)),
    ));
    stream.extend(item(
        pb::UpsertItem {
            caption: "a note about tunes".into(),
            ..header("note", pb::Modality::Text)
        },
        &[],
    ));

    // The real server on a real socket.
    let db = tmp.path().join("db");
    let store = open_store(&db);
    let model = Arc::new(Model::load(&model_dir()).unwrap());
    let searcher =
        Arc::new(Searcher::new(store.clone(), Some(model), SearcherConfig::new(&db)).unwrap());
    let server = TestServer::start(searcher).await;
    let mut client = WaveClient::connect(server.url()).await.unwrap();

    let written = client
        .upsert(tokio_stream::iter(stream))
        .await
        .expect("Upsert succeeds")
        .into_inner();
    assert_eq!(written.ids.len(), 7, "{written:?}");

    // Clips with a tune have a unit melody vector; tuneless audio and text have none.
    for id in ["rising", "falling", "zigzag", "long#tune"] {
        let v = store
            .vector(MELODY_SPACE, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} has a melody vector"));
        assert_eq!(v.len(), wave_melody::melody_dim(), "{id}");
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{id}: norm {norm}");
        assert!(store.vector("wave", id).unwrap().is_some(), "{id}");
    }
    for id in ["long#hiss", "hiss", "note"] {
        assert!(store.get(id).unwrap().is_some(), "{id} is stored");
        assert_eq!(store.vector(MELODY_SPACE, id).unwrap(), None, "{id}");
    }

    // The same media through bulk ingest gives the same melody vectors.
    let media = tmp.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("rising.wav"), wav(&rising)).unwrap();
    std::fs::copy(&zigzag_mp4, media.join("zigzag.mp4")).unwrap();
    let ingested = open_store(&tmp.path().join("ingested"));
    let embedder = wave_engine::embedder::Embedder::<wave_engine::CpuBackend>::load(
        &model_dir(),
        &Default::default(),
    )
    .unwrap();
    let report = pipeline::ingest(
        &media,
        &ingested,
        &embedder,
        &pipeline::model_id(&model_dir()).unwrap(),
        &PipelineConfig::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    for (api, file) in [("rising", "rising.wav"), ("zigzag", "zigzag.mp4")] {
        let by_api = store.vector(MELODY_SPACE, api).unwrap().unwrap();
        let by_ingest = ingested.vector(MELODY_SPACE, file).unwrap().unwrap();
        assert_close(&by_api, &by_ingest, api);
    }

    // Hums (another key, another tempo, a hummed voice) find their clip first, over gRPC.
    let hums = [
        ("rising", play(RISING, 220.0, 80.0, false, 11)),
        ("falling", play(FALLING, 196.0, 140.0, false, 12)),
        ("zigzag", play(ZIGZAG, 294.0, 95.0, false, 13)),
        ("long#tune", play(REPEATS, 247.0, 120.0, false, 14)),
    ];
    for (target, hum) in &hums {
        let found = client
            .search(hum_request(hum))
            .await
            .unwrap_or_else(|s| panic!("hum search for {target}: {s:?}"))
            .into_inner();
        let first = &found.results[0];
        assert_eq!(&first.id, target, "{:?}", found.results);
        let stages = first.stages.as_ref().unwrap();
        assert_eq!(stages.melody_rank, Some(1), "{stages:?}");
        assert!(stages.melody_score.unwrap() > 0.8, "{stages:?}");
        for r in &found.results {
            let s = r.stages.as_ref().unwrap();
            let tuneless = ["long#hiss", "hiss", "note"].contains(&r.id.as_str());
            assert_eq!(s.melody_score.is_none(), tuneless, "{r:?}");
        }
    }

    drop(client);
    server.stop().await;
}
