//! The bulk pipeline end to end with the real embedder (the tiny golden model) and a real
//! store: every format, clips with parents and spans, sidecar text, silent vs audio-video,
//! bad input, idempotency, dry runs and the bound on decoded media in flight.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{ffmpeg, tone, video, Track};
use wave_engine::embedder::{Embedder, Input};
use wave_engine::CpuBackend;
use wave_index::{Filter, Modality, Store, StoreOptions};
use wave_ingest::pipeline::{
    self, dry_run, ingest, FileEvent, IngestReport, NoProgress, Outcome, PipelineConfig, Planned,
    Progress,
};
use wave_ingest::{segment, Limits, SegmentConfig};

/// The tiny golden model: `$WAVE_GOLDEN_DIR`, else the shared set beside the checkout.
fn model_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

fn embedder() -> Embedder<CpuBackend> {
    Embedder::load(&model_dir(), &Default::default()).expect("the tiny golden model loads")
}

fn model_id() -> String {
    pipeline::model_id(&model_dir()).unwrap()
}

fn open(dir: &Path) -> Store {
    let opts = StoreOptions {
        sync_writes: false,
        ..Default::default()
    };
    Store::open(dir, opts).unwrap()
}

/// Short clips so that short test media still yields several.
fn config() -> PipelineConfig {
    PipelineConfig {
        segment: SegmentConfig::new(3.0, 1.0, 1.0).unwrap(),
        decode_workers: 2,
        ..Default::default()
    }
}

fn run(
    input: &Path,
    store: &Store,
    emb: &Embedder<CpuBackend>,
    cfg: &PipelineConfig,
) -> IngestReport {
    ingest(input, store, emb, &model_id(), cfg, &NoProgress).unwrap()
}

fn ids(store: &Store) -> BTreeSet<String> {
    store.item_ids().unwrap().into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn every_format_with_clips_sidecars_and_modalities() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(input.join("docs")).unwrap();
    write(
        &input.join("docs/note.txt"),
        "The quick brown fox jumps over the lazy dog.",
    );
    write(
        &input.join("docs/readme.md"),
        "# Wave\n\nSearch **audio** and video.\n",
    );
    let a = input.join("audio");
    fs::create_dir_all(&a).unwrap();
    for (name, args) in [
        ("tone.wav", &["-c:a", "pcm_s16le"][..]),
        ("tone.flac", &["-c:a", "flac"]),
        ("tone.mp3", &["-c:a", "libmp3lame"]),
        ("tone.ogg", &["-c:a", "libvorbis"]),
        ("tone.m4a", &["-c:a", "aac"]),
    ] {
        tone(&a, name, 44_100, 1.0, args);
    }
    let v = input.join("video");
    fs::create_dir_all(&v).unwrap();
    video(
        &v,
        "av.mp4",
        160,
        120,
        2.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "aac"],
    );
    video(
        &v,
        "silent.mkv",
        160,
        120,
        2.0,
        Track::None,
        &["-c:v", "libx264"],
    );
    video(
        &v,
        "zeros.webm",
        160,
        120,
        2.0,
        Track::DigitalSilence,
        &["-c:v", "libvpx", "-c:a", "libvorbis"],
    );
    video(
        &v,
        "clip.mov",
        160,
        120,
        2.0,
        Track::Tone,
        &["-c:v", "mpeg4", "-c:a", "aac"],
    );
    // 7 s at a 3 s window with 1 s overlap: [0,3], [2,5], [4,7].
    video(
        &v,
        "long.mp4",
        160,
        120,
        7.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "aac"],
    );
    write(
        &v.join("long.srt"),
        "1\n00:00:00,500 --> 00:00:01,500\nfirst words\n\n2\n00:00:05,500 --> 00:00:06,500\n<i>last</i> words\n",
    );

    let store_dir = tmp.path().join("db");
    let store = open(&store_dir);
    let emb = embedder();
    let cfg = config();
    let report = run(&input, &store, &emb, &cfg);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!((report.ingested, report.skipped), (12, 0));
    assert_eq!(report.clips, 14);

    let mut expected = vec![
        "docs/note.txt",
        "docs/readme.md",
        "audio/tone.wav",
        "audio/tone.flac",
        "audio/tone.mp3",
        "audio/tone.ogg",
        "audio/tone.m4a",
        "video/av.mp4",
        "video/silent.mkv",
        "video/zeros.webm",
        "video/clip.mov",
        "video/long.mp4",
    ];
    expected.extend(["video/long.mp4#0", "video/long.mp4#1", "video/long.mp4#2"]);
    assert_eq!(
        ids(&store),
        set(&expected),
        "the sidecar is no item of its own"
    );

    let modality = |id: &str| store.get(id).unwrap().unwrap().modality;
    assert_eq!(modality("docs/note.txt"), Modality::Text);
    for ext in ["wav", "flac", "mp3", "ogg", "m4a"] {
        assert_eq!(
            modality(&format!("audio/tone.{ext}")),
            Modality::Audio,
            "{ext}"
        );
    }
    assert_eq!(modality("video/av.mp4"), Modality::AudioVideo);
    assert_eq!(modality("video/clip.mov"), Modality::AudioVideo);
    assert_eq!(
        modality("video/silent.mkv"),
        Modality::Video,
        "no audio stream"
    );
    assert_eq!(
        modality("video/zeros.webm"),
        Modality::Video,
        "digital silence"
    );

    // Short media is one item covering the whole file.
    let av = store.get("video/av.mp4").unwrap().unwrap();
    let (s, e) = av.span.unwrap();
    assert!(s == 0.0 && (e - 2.0).abs() < 0.1, "{:?}", av.span);
    assert_eq!(av.parent, None);
    assert_eq!(
        av.source.as_deref(),
        Some(v.canonicalize().unwrap().join("av.mp4").to_str().unwrap())
    );

    // Long media: a parent with the file-level record and one item per clip.
    let parent = store.get("video/long.mp4").unwrap().unwrap();
    assert_eq!(parent.modality, Modality::AudioVideo);
    let full = parent.span.unwrap().1;
    assert!((full - 7.0).abs() < 0.1, "{full}");
    assert_eq!(parent.transcript.as_deref(), Some("first words last words"));
    let cuts = segment(full, &cfg.segment);
    assert_eq!(cuts.len(), 3);
    for cut in &cuts {
        let clip = store
            .get(&format!("video/long.mp4#{}", cut.index))
            .unwrap()
            .unwrap();
        assert_eq!(clip.parent.as_deref(), Some("video/long.mp4"));
        assert_eq!(clip.span, Some((cut.start, cut.end)));
        assert_eq!(clip.source, parent.source);
        assert_eq!(clip.modality, Modality::AudioVideo);
        assert_eq!(clip.content_hash, parent.content_hash);
        assert_eq!(clip.model.as_deref(), Some(model_id().as_str()));
    }
    assert_eq!(
        (cuts[0].start, cuts[1].start, cuts[2].start),
        (0.0, 2.0, 4.0)
    );
    let transcript = |i: usize| {
        store
            .get(&format!("video/long.mp4#{i}"))
            .unwrap()
            .unwrap()
            .transcript
    };
    assert_eq!(transcript(0).as_deref(), Some("first words"));
    assert_eq!(transcript(1), None, "no cue overlaps [2, 5]");
    assert_eq!(transcript(2).as_deref(), Some("last words"));

    // Clips (and one-clip files) live in `wave`; parents of several clips in `wave-file`.
    assert!(store.vector("wave", "video/long.mp4").unwrap().is_none());
    assert!(store
        .vector("wave-file", "video/long.mp4")
        .unwrap()
        .is_some());
    let stats = store.stats().unwrap();
    let live = |name: &str| stats.spaces.iter().find(|s| s.name == name).unwrap().live;
    assert_eq!((live("wave"), live("wave-file")), (14, 1));

    // The stored vector is the embedder's, and text search sees the sidecar.
    let stored = store.vector("wave", "docs/note.txt").unwrap().unwrap();
    let direct = emb
        .embed(&[Input::Text(
            "The quick brown fox jumps over the lazy dog.".into(),
        )])
        .unwrap()
        .remove(0);
    let diff = stored
        .iter()
        .zip(&direct)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-4, "{diff}");
    let hits = store
        .search("wave", &direct, 1, None, &Filter::default())
        .unwrap();
    assert_eq!(hits[0].id, "docs/note.txt");
    let text_hits = store
        .text_search("last words", 5, &Filter::default())
        .unwrap();
    assert!(
        text_hits.iter().any(|h| h.id == "video/long.mp4#2"),
        "{text_hits:?}"
    );
}

#[test]
fn reruns_skip_and_changes_replace_without_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    write(&input.join("a.txt"), "alpha");
    write(&input.join("b.md"), "bravo");
    // 7 s at window 3: three clips.
    tone(&input, "long.wav", 16_000, 7.0, &["-c:a", "pcm_s16le"]);
    let store = open(&tmp.path().join("db"));
    let emb = embedder();
    let cfg = config();
    let id = model_id();

    // A dry run on no store plans everything and writes nothing.
    let (plan, failed) = dry_run(&input, None, &id, &cfg);
    assert!(failed.is_empty());
    let planned: Vec<_> = plan
        .iter()
        .map(|p| (p.id.as_str(), p.planned.clone()))
        .collect();
    assert_eq!(
        planned,
        [
            ("a.txt", Planned::Ingest { clips: 1 }),
            ("b.md", Planned::Ingest { clips: 1 }),
            ("long.wav", Planned::Ingest { clips: 3 }),
        ]
    );

    let first = run(&input, &store, &emb, &cfg);
    assert_eq!((first.ingested, first.skipped, first.clips), (3, 0, 5));
    let all = set(&[
        "a.txt",
        "b.md",
        "long.wav",
        "long.wav#0",
        "long.wav#1",
        "long.wav#2",
    ]);
    assert_eq!(ids(&store), all);
    let seq = store.seq();

    // Same content, same model: nothing is decoded, embedded or written.
    let again = run(&input, &store, &emb, &cfg);
    assert_eq!((again.ingested, again.skipped, again.clips), (0, 3, 0));
    assert!(again.failed.is_empty());
    assert_eq!(store.seq(), seq, "a skip writes nothing");
    assert_eq!(ids(&store), all);
    let (plan, _) = dry_run(&input, Some(&store), &id, &cfg);
    assert!(plan.iter().all(|p| p.planned == Planned::Skip), "{plan:?}");

    // Changed content is redone; a shorter file's extra clips go.
    write(&input.join("a.txt"), "alpha, revised");
    tone(&input, "long.wav", 16_000, 5.0, &["-c:a", "pcm_s16le"]);
    let (plan, _) = dry_run(&input, Some(&store), &id, &cfg);
    let planned: Vec<_> = plan.iter().map(|p| p.planned.clone()).collect();
    assert_eq!(
        planned,
        [
            Planned::Replace { clips: 1 },
            Planned::Skip,
            Planned::Replace { clips: 2 }
        ]
    );
    assert_eq!(store.seq(), seq, "a dry run writes nothing");
    let third = run(&input, &store, &emb, &cfg);
    assert_eq!((third.ingested, third.skipped, third.clips), (2, 1, 3));
    assert_eq!(
        ids(&store),
        set(&["a.txt", "b.md", "long.wav", "long.wav#0", "long.wav#1"])
    );
    assert_eq!(
        store.get("a.txt").unwrap().unwrap().transcript.as_deref(),
        Some("alpha, revised")
    );
    assert_eq!(
        store.get("long.wav#1").unwrap().unwrap().span,
        Some((2.0, 5.0))
    );
    let stats = store.stats().unwrap();
    let live = |name: &str| stats.spaces.iter().find(|s| s.name == name).unwrap().live;
    assert_eq!((live("wave"), live("wave-file")), (4, 1));

    // Another segmentation is other content: redone.
    let cfg4 = PipelineConfig {
        segment: SegmentConfig::new(10.0, 1.0, 1.0).unwrap(),
        ..config()
    };
    let fourth = run(&input, &store, &emb, &cfg4);
    assert_eq!((fourth.ingested, fourth.skipped), (3, 0));
    assert_eq!(ids(&store), set(&["a.txt", "b.md", "long.wav"]));
}

/// Deterministic bytes that look like nothing.
fn noise(len: usize) -> Vec<u8> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

#[test]
fn every_bad_input_is_reported_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("in");
    fs::create_dir_all(&d).unwrap();
    write(&d.join("good.txt"), "a good document");
    tone(&d, "good.wav", 16_000, 1.0, &["-c:a", "pcm_s16le"]);
    // A sidecar that does not parse: reported, and the media goes on without it.
    write(&d.join("good.srt"), "1\nnot a timing line\nhello\n");
    fs::write(d.join("empty.wav"), b"").unwrap();
    fs::write(d.join("corrupt.mp4"), noise(50_000)).unwrap();
    fs::write(d.join("wrong.mp3"), "plain text wearing an mp3 extension\n").unwrap();
    let mkv = video(
        &d,
        "whole.mkv",
        160,
        120,
        6.0,
        Track::Tone,
        &["-c:v", "libx264", "-c:a", "flac"],
    );
    let bytes = fs::read(&mkv).unwrap();
    fs::write(d.join("truncated.mkv"), &bytes[..bytes.len() / 2]).unwrap();
    fs::remove_file(&mkv).unwrap();
    let odd = tone(&d, "odd.wav", 16_000, 1.0, &["-c:a", "pcm_s16le"]);
    let mut bytes = fs::read(&odd).unwrap();
    let tag = bytes.windows(4).position(|w| w == b"fmt ").unwrap() + 8;
    bytes[tag..tag + 2].copy_from_slice(&[0x12, 0x34]);
    fs::write(&odd, bytes).unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=size=20000x16:rate=1:duration=1",
        "-c:v",
        "ffv1",
        d.join("wide.mkv").to_str().unwrap(),
    ]);
    tone(&d, "long.wav", 16_000, 6.0, &["-c:a", "pcm_s16le"]);
    std::os::unix::fs::symlink(d.join("nowhere.wav"), d.join("dangling.wav")).unwrap();

    let limits = Limits {
        max_duration_s: 5.0,
        ..Default::default()
    };
    let mut cfg = config();
    cfg.audio.limits = limits;
    cfg.video.limits = limits;
    let store = open(&tmp.path().join("db"));
    let emb = embedder();
    let report = run(&d, &store, &emb, &cfg);
    assert_eq!(report.ingested, 2, "{:?}", report.failed);
    assert_eq!(
        ids(&store),
        set(&["good.txt", "good.wav"]),
        "nothing of a bad file is stored"
    );
    assert_eq!(store.get("good.wav").unwrap().unwrap().transcript, None);

    let reason = |file: &str| -> String {
        let hits: Vec<_> = report
            .failed
            .iter()
            .filter(|f| f.path.ends_with(file))
            .collect();
        assert_eq!(hits.len(), 1, "{file}: {:?}", report.failed);
        assert!(
            hits[0].error.contains(file),
            "the error names the file: {}",
            hits[0].error
        );
        hits[0].error.clone()
    };
    assert!(reason("good.srt").contains("bad subtitle"));
    assert!(reason("empty.wav").contains("empty file"));
    assert!(
        reason("corrupt.mp4").contains("corrupt"),
        "{}",
        reason("corrupt.mp4")
    );
    assert!(reason("wrong.mp3").contains("does not match"));
    assert!(
        reason("truncated.mkv").contains("truncated"),
        "{}",
        reason("truncated.mkv")
    );
    assert!(reason("odd.wav").contains("unsupported codec"));
    assert!(reason("wide.mkv").contains("absurd resolution"));
    assert!(reason("long.wav").contains("exceeds the limit"));
    assert!(reason("dangling.wav").contains("cannot read"));
    assert_eq!(report.failed.len(), 9);
}

#[test]
fn manifest_metadata_and_malformed_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    tone(d, "talk.wav", 16_000, 1.0, &["-c:a", "pcm_s16le"]);
    let manifest = d.join("items.jsonl");
    write(
        &manifest,
        concat!(
            r#"{"path": "talk.wav", "id": "talk", "title": "A talk", "tags": ["talk", "en"], "transcript": "hello everyone"}"#,
            "\n",
            r#"{"text": "an inline note", "caption": "note"}"#,
            "\n",
            "{not json\n",
            r#"{"path": "talk.wav", "text": "both"}"#,
            "\n",
            r#"{"path": "missing.wav"}"#,
            "\n",
            r#"{"text": "typo", "titel": "x"}"#,
            "\n",
        ),
    );
    let store = open(&d.join("db"));
    let report = run(&manifest, &store, &embedder(), &config());
    assert_eq!(
        (report.ingested, report.failed.len()),
        (2, 4),
        "{:?}",
        report.failed
    );
    for (line, why) in [
        (3, "invalid entry"),
        (4, "both"),
        (5, "missing.wav"),
        (6, "titel"),
    ] {
        let tag = format!("items.jsonl: line {line}:");
        assert!(
            report
                .failed
                .iter()
                .any(|f| f.error.contains(&tag) && f.error.contains(why)),
            "line {line}: {:?}",
            report.failed
        );
    }
    assert_eq!(ids(&store), set(&["talk", "items.jsonl:2"]));
    let talk = store.get("talk").unwrap().unwrap();
    assert_eq!(talk.title.as_deref(), Some("A talk"));
    assert_eq!(talk.tags, ["talk", "en"]);
    assert_eq!(talk.transcript.as_deref(), Some("hello everyone"));
    let note = store.get("items.jsonl:2").unwrap().unwrap();
    assert_eq!(
        (note.caption.as_deref(), note.source.as_deref()),
        (Some("note"), None)
    );
}

/// Records the order of events to check that the run reports each item once.
#[derive(Default)]
struct Events(Mutex<Vec<FileEvent>>);

impl Progress for Events {
    fn file(&self, event: &FileEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

#[test]
fn decoded_media_in_flight_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("in");
    fs::create_dir_all(&d).unwrap();
    for i in 0..24 {
        write(
            &d.join(format!("t{i:02}.txt")),
            &format!("document number {i}"),
        );
    }
    // 12 one-second clips, all decoded at once from one file: the producer outruns the model.
    tone(&d, "long.wav", 16_000, 12.0, &["-c:a", "pcm_s16le"]);
    let cfg = PipelineConfig {
        segment: SegmentConfig::new(1.0, 0.0, 0.5).unwrap(),
        decode_workers: 2,
        queue_clips: 1,
        embed_batch: 2,
        write_batch: 4,
        ..Default::default()
    };
    let store = open(&tmp.path().join("db"));
    let events = Events::default();
    let report = ingest(&d, &store, &embedder(), &model_id(), &cfg, &events).unwrap();
    assert_eq!((report.ingested, report.clips), (25, 36));
    let bound = cfg.decode_workers + cfg.queue_clips + cfg.embed_batch;
    assert!(
        report.max_clips_in_flight >= 1 && report.max_clips_in_flight <= bound,
        "{} clips in flight, bound {bound}",
        report.max_clips_in_flight
    );
    let events = events.0.into_inner().unwrap();
    assert_eq!(events.len(), 25);
    assert!(events
        .iter()
        .all(|e| matches!(e.outcome, Outcome::Ingested { .. })));
    let t = report.times;
    assert!(
        t.wall_s > 0.0 && t.decode_s > 0.0 && t.embed_s > 0.0 && t.write_s > 0.0,
        "{t:?}"
    );
}

/// A copy of the tiny golden model that samples video at `fps` (its
/// `preprocessor_runtime.json` says so); everything else, weights included, is the same.
fn model_at_fps(dir: &Path, fps: f64) -> PathBuf {
    let model = dir.join("model-at-fps");
    fs::create_dir_all(&model).unwrap();
    for name in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "preprocessor_config.json",
        "beats_cfg.json",
        "chat_template.json",
    ] {
        fs::copy(model_dir().join(name), model.join(name)).unwrap();
    }
    let runtime = model_dir().join("preprocessor_runtime.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(runtime).unwrap()).unwrap();
    json["video_sampling"]["base_interval_s"] = serde_json::json!(1.0 / fps);
    fs::write(model.join("preprocessor_runtime.json"), json.to_string()).unwrap();
    model
}

#[test]
fn video_is_sampled_at_the_models_own_frame_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("in");
    fs::create_dir_all(&d).unwrap();
    let path = video(&d, "v.mp4", 64, 48, 2.0, Track::None, &["-c:v", "libx264"]);
    let model = model_at_fps(tmp.path(), 4.0);
    let emb = Embedder::<CpuBackend>::load(&model, &Default::default()).unwrap();
    let id = pipeline::model_id(&model).unwrap();
    let store = open(&tmp.path().join("db"));
    // The config asks for WAVE's 2 fps (the default); the model's 4 fps wins.
    let cfg = config();
    assert_eq!(cfg.video.fps, 2.0);
    let report = ingest(&d, &store, &emb, &id, &cfg, &NoProgress).unwrap();
    assert_eq!(report.ingested, 1, "{:?}", report.failed);
    let stored = store.vector("wave", "v.mp4").unwrap().unwrap();

    // What the model gives for the file decoded at a rate, as the pipeline hands it over.
    let embed_at = |fps: f64| {
        let opts = wave_ingest::VideoOptions {
            fps,
            ..Default::default()
        };
        let v = wave_ingest::decode_video(&path, &opts).unwrap();
        let frames = wave_engine::embedder::VideoFrames {
            num_frames: v.num_frames(),
            height: v.height,
            width: v.width,
            data: v.frames.clone(),
            timing: wave_engine::embedder::FrameTiming::Sampled {
                duration_s: v.info.duration.unwrap(),
            },
        };
        (
            v.num_frames(),
            emb.embed_one(&Input::Video {
                frames,
                prompt: None,
            })
            .unwrap(),
        )
    };
    let max_diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    let (n4, at4) = embed_at(4.0);
    let (n2, at2) = embed_at(2.0);
    assert_eq!((n4, n2), (8, 4));
    assert!(
        max_diff(&stored, &at4) < 1e-5,
        "{}",
        max_diff(&stored, &at4)
    );
    assert!(
        max_diff(&stored, &at2) > 1e-3,
        "{}",
        max_diff(&stored, &at2)
    );

    // A dry run told the model's rate sees the ingested file as unchanged.
    let (planned, _) = dry_run(&d, Some(&store), &id, &cfg.clone().with_model_fps(4.0));
    assert!(
        matches!(planned[0].planned, Planned::Skip),
        "{:?}",
        planned[0].planned
    );
}
