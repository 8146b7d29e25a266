//! `wave store backfill-melody` as users run it: a store written without melody vectors (bulk
//! ingest with them switched off, and an API upload whose melody vector is dropped through the
//! index API) gains them from the real binary — the same vectors ingest makes today — while a
//! clip whose source file is gone, and one whose file now holds junk, are reported by name and
//! the others are still filled; nothing else stored changes, a second run writes nothing, and a
//! hum search then finds the clips by their tune. Real RocksDB, real ffmpeg, the tiny golden
//! model.

#[path = "../../query/tests/support/tunes.rs"]
mod tunes;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use serde_json::Value;
use wave_index::{Item, Store, StoreOptions, Write};
use wave_ingest::melody::MELODY_SPACE;
use wave_ingest::pipeline::{self, NoProgress, PipelineConfig};
use wave_ingest::SegmentConfig;
use wave_query::{pb, Model, Searcher, SearcherConfig, Upload};

use tunes::{
    hum_request, model_dir, mp4, noise, play, wav, FALLING, LEAPS, RATE, REPEATS, RISING, ZIGZAG,
};

/// `samples` padded with near-silence to exactly `seconds`.
fn padded(mut samples: Vec<f32>, seconds: f32, seed: u64) -> Vec<f32> {
    let n = (seconds * RATE as f32) as usize;
    assert!(samples.len() <= n, "the tune fits in {seconds} s");
    let mut rand = noise(seed);
    samples.resize_with(n, || 0.003 * rand());
    samples
}

fn open(dir: &Path) -> Arc<Store> {
    Arc::new(Store::open(dir, StoreOptions::default()).unwrap())
}

/// `wave store backfill-melody --store <db> <extra...>`.
fn backfill(db: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wave"))
        .args(["store", "backfill-melody", "--store"])
        .arg(db)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("the wave binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An item's vectors by space.
type Vectors = Vec<(String, Vec<f32>)>;

/// Every item with its vectors outside the melody space.
fn snapshot(store: &Store) -> BTreeMap<String, (Item, Vectors)> {
    let mut all = BTreeMap::new();
    for id in store.item_ids().unwrap() {
        let item = store.get(&id).unwrap().unwrap();
        let mut vectors = vec![];
        for space in ["wave", "wave-file"] {
            if let Some(v) = store.vector(space, &id).unwrap() {
                vectors.push((space.to_string(), v));
            }
        }
        all.insert(id, (item, vectors));
    }
    all
}

/// A space's (live, tombstoned) points.
fn points(store: &Store, space: &str) -> (usize, usize) {
    let stats = store.stats().unwrap();
    let s = stats.spaces.iter().find(|s| s.name == space).unwrap();
    (s.live, s.tombstones)
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

fn ingest(media: &Path, db: &Path, melody_vectors: bool) {
    let store = open(db);
    let embedder = wave_engine::embedder::Embedder::<wave_engine::CpuBackend>::load(
        &model_dir(),
        &Default::default(),
    )
    .unwrap();
    let cfg = PipelineConfig {
        // 5 s clips, so the 10 s video is two clips with a tune each.
        segment: SegmentConfig::new(5.0, 0.0, 1.0).unwrap(),
        decode_workers: 2,
        melody_vectors,
        ..Default::default()
    };
    let report = pipeline::ingest(
        media,
        &store,
        &embedder,
        &pipeline::model_id(&model_dir()).unwrap(),
        &cfg,
        &NoProgress,
    )
    .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

#[test]
fn backfill_adds_the_missing_melody_vectors_and_reports_missing_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let media = tmp.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(
        media.join("rising.wav"),
        wav(&play(RISING, 330.0, 110.0, true, 1)),
    )
    .unwrap();
    mp4(
        &media.join("zigzag.mp4"),
        &play(ZIGZAG, 440.0, 120.0, true, 2),
    );
    let mut two_tunes = padded(play(REPEATS, 392.0, 120.0, true, 3), 5.0, 4);
    two_tunes.extend(padded(play(LEAPS, 262.0, 120.0, true, 5), 5.0, 6));
    mp4(&media.join("long.mp4"), &two_tunes);
    let mut rand = noise(7);
    let hiss: Vec<f32> = (0..2 * RATE).map(|_| 0.2 * rand()).collect();
    std::fs::write(media.join("hiss.wav"), wav(&hiss)).unwrap();
    std::fs::write(media.join("notes.txt"), "a note about tunes").unwrap();
    let gone = media.join("gone.wav");
    std::fs::write(&gone, wav(&play(RISING, 294.0, 90.0, true, 8))).unwrap();
    let spoiled = media.join("spoiled.wav");
    std::fs::write(&spoiled, wav(&play(ZIGZAG, 349.0, 100.0, true, 10))).unwrap();

    // A store as wave wrote them before melody vectors.
    let db = tmp.path().join("db");
    ingest(&media, &db, false);
    let store = open(&db);
    assert!(store.space_params(MELODY_SPACE).is_none());
    let ids: Vec<String> = store.item_ids().unwrap();
    for id in ["long.mp4#0", "long.mp4#1", "gone.wav", "hiss.wav"] {
        assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
    }
    // An upload through the API whose source path is the client's, not the server's: only the
    // kept copy (found by its content hash) can be read back. Its melody vector is dropped
    // through the index API, as an older server would have written it.
    let model = Arc::new(Model::load(&model_dir()).unwrap());
    let searcher = Searcher::new(store.clone(), Some(model), SearcherConfig::new(&db)).unwrap();
    searcher
        .upsert(
            vec![Upload {
                header: pb::UpsertItem {
                    id: "song".into(),
                    modality: pb::Modality::Audio as i32,
                    source: "/home/someone/laptop/song.wav".into(),
                    format: "wav".into(),
                    ..Default::default()
                },
                data: wav(&play(FALLING, 262.0, 120.0, true, 9)),
            }],
            None,
        )
        .unwrap();
    let song = store.get("song").unwrap().unwrap();
    let song_wave = store.vector("wave", "song").unwrap().unwrap();
    store
        .upsert(&[Write {
            item: song,
            vectors: vec![("wave".into(), song_wave)],
        }])
        .unwrap();
    assert_eq!(store.vector(MELODY_SPACE, "song").unwrap(), None);
    let before = snapshot(&store);
    let wave_points_before = points(&store, "wave");
    drop(searcher);
    drop(store);
    // After ingest, one source disappears and another is overwritten with junk.
    std::fs::remove_file(&gone).unwrap();
    std::fs::write(&spoiled, b"RIFF this is not audio any more").unwrap();

    let first = backfill(&db, &[]);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert!(first.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.trim(),
        "melody backfill: 5 done, 1 skipped (0 had one, 1 without a tune), 2 failed",
        "{stderr}"
    );
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("failed:"))
        .collect();
    assert_eq!(failures.len(), 2, "{stderr}");
    assert!(
        failures.iter().any(|l| l.contains("`gone.wav`")
            && l.contains(&gone.display().to_string())
            && l.contains("missing")),
        "{stderr}"
    );
    assert!(
        failures
            .iter()
            .any(|l| l.contains("`spoiled.wav`") && l.contains(&spoiled.display().to_string())),
        "{stderr}"
    );

    let store = open(&db);
    let seq = store.seq();
    for id in [
        "rising.wav",
        "zigzag.mp4",
        "long.mp4#0",
        "long.mp4#1",
        "song",
    ] {
        let v = store
            .vector(MELODY_SPACE, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} has a melody vector now"));
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{id}: norm {norm}");
    }
    for id in [
        "gone.wav",
        "spoiled.wav",
        "hiss.wav",
        "notes.txt",
        "long.mp4",
    ] {
        assert_eq!(store.vector(MELODY_SPACE, id).unwrap(), None, "{id}");
    }
    // Everything else stored is as it was: records and their vectors, and the clip space's
    // graph (no vector was re-inserted there).
    assert_eq!(points(&store, "wave"), wave_points_before);
    let after = snapshot(&store);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (id, (item, vectors)) in &before {
        let (item_now, vectors_now) = &after[id];
        assert_eq!(item, item_now, "{id}");
        assert_eq!(vectors.len(), vectors_now.len(), "{id}");
        for ((s, v), (s_now, v_now)) in vectors.iter().zip(vectors_now) {
            assert_eq!(s, s_now, "{id}");
            assert!(max_diff(v, v_now) < 1e-6, "{id}: {s} vector changed");
        }
    }
    drop(store);

    // A second run finds nothing to do and writes nothing.
    let second = backfill(&db, &["--json"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["filled"], 0, "{report}");
    assert_eq!(report["already"], 5, "{report}");
    assert_eq!(report["no_tune"], 1, "{report}");
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{report}");
    assert_eq!(failed[0]["id"], "gone.wav");
    assert_eq!(failed[0]["path"], gone.display().to_string().as_str());
    assert_eq!(failed[1]["id"], "spoiled.wav");
    assert_eq!(failed[1]["path"], spoiled.display().to_string().as_str());
    let store = open(&db);
    assert_eq!(store.seq(), seq, "the second run wrote nothing");

    // The vectors are those ingest makes with melody vectors on.
    std::fs::remove_file(&spoiled).unwrap();
    let fresh = tmp.path().join("fresh");
    ingest(&media, &fresh, true);
    let fresh = open(&fresh);
    for id in ["rising.wav", "zigzag.mp4", "long.mp4#0", "long.mp4#1"] {
        let filled = store.vector(MELODY_SPACE, id).unwrap().unwrap();
        let ingested = fresh.vector(MELODY_SPACE, id).unwrap().unwrap();
        assert!(max_diff(&filled, &ingested) < 1e-5, "{id}");
    }
    drop(fresh);

    // A vector made by an older tracker (here: another clip's) is left alone by a plain run
    // and made again by --redo, which rewrites every clip with a tune and nothing else.
    let stale = store.vector(MELODY_SPACE, "zigzag.mp4").unwrap().unwrap();
    store
        .put_vectors(MELODY_SPACE, &[("rising.wav", stale.clone())])
        .unwrap();
    let before_redo = snapshot(&store);
    drop(store);
    let plain = backfill(&db, &["--json"]);
    let report: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(
        (report["filled"].as_u64(), report["already"].as_u64()),
        (Some(0), Some(5))
    );
    let store = open(&db);
    assert_eq!(
        store.vector(MELODY_SPACE, "rising.wav").unwrap(),
        Some(stale)
    );
    drop(store);
    let redo = backfill(&db, &["--redo", "--json"]);
    assert!(redo.status.success(), "{}", text(&redo.stderr));
    let report: Value = serde_json::from_slice(&redo.stdout).unwrap();
    assert_eq!(report["filled"], 5, "{report}");
    assert_eq!(report["already"], 0, "{report}");
    assert_eq!(report["no_tune"], 1, "{report}");
    assert_eq!(report["failed"].as_array().unwrap().len(), 2, "{report}");
    let store = open(&db);
    let fresh = open(&tmp.path().join("fresh"));
    for id in ["rising.wav", "zigzag.mp4", "long.mp4#0", "long.mp4#1"] {
        let redone = store.vector(MELODY_SPACE, id).unwrap().unwrap();
        let ingested = fresh.vector(MELODY_SPACE, id).unwrap().unwrap();
        assert!(max_diff(&redone, &ingested) < 1e-5, "{id}");
    }
    drop(fresh);
    assert!(
        snapshot(&store) == before_redo,
        "--redo changed more than melody vectors"
    );

    // Hum search now finds the clips by their tune (another key and tempo, a hummed voice).
    let model = Arc::new(Model::load(&model_dir()).unwrap());
    let searcher = Searcher::new(store, Some(model), SearcherConfig::new(&db)).unwrap();
    let hums = [
        ("rising.wav", play(RISING, 220.0, 85.0, false, 11)),
        ("zigzag.mp4", play(ZIGZAG, 294.0, 100.0, false, 12)),
        ("long.mp4#1", play(LEAPS, 196.0, 140.0, false, 13)),
        ("song", play(FALLING, 330.0, 95.0, false, 14)),
    ];
    for (target, hum) in &hums {
        let found = searcher.search(&hum_request(hum), None).unwrap();
        let first = &found.results[0];
        assert_eq!(&first.id, target, "{:?}", found.results);
        let stages = first.stages.as_ref().unwrap();
        assert_eq!(stages.melody_rank, Some(1), "{stages:?}");
        assert!(stages.melody_score.unwrap() > 0.8, "{stages:?}");
    }
}
