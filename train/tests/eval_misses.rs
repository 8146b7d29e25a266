//! `wave eval --misses N` lists every rank-1 miss (up to N a direction) and names media by file
//! id and caption ("test-00003.v: A red star bounces."), so that clips captioned alike can be
//! told apart; `scripts/hits-by-recognition.py` joins directions on those ids.
//!
//! The tiny golden model has random weights, so it misses often: the lists are not empty.

use std::path::PathBuf;

use wave_train::eval::{evaluate, EvalOptions};

fn golden_model() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

/// "test-00003.v: caption": a file id (no spaces), then the scene's caption.
fn named_by_file_id(label: &str) -> bool {
    label
        .split_once(": ")
        .is_some_and(|(id, _)| id.starts_with("test-") && id.contains('.') && !id.contains(' '))
}

#[test]
fn every_miss_is_listed_and_media_are_named_by_file_id() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let mut opts = wave_synth::SynthOptions::new(2, &corpus);
    opts.count = Some(60);
    wave_synth::generate(&opts, &|_, _| {}).unwrap();

    let report = evaluate(&EvalOptions {
        model: golden_model(),
        data: corpus.join("test"),
        max_scenes: None,
        misses: 1000,
    })
    .unwrap();
    let report = serde_json::to_value(&report).unwrap();

    let mut media_labels_checked = 0;
    for row in report["retrieval"].as_array().unwrap() {
        let direction = row["direction"].as_str().unwrap();
        let (from, to) = direction.split_once("->").unwrap();
        let misses = row["misses"].as_array().map_or(&[][..], |m| m.as_slice());
        let queries = row["queries"].as_f64().unwrap();
        let hits = (queries * row["r1"].as_f64().unwrap()).round();
        assert_eq!(
            misses.len() as f64,
            queries - hits,
            "{direction}: misses listed"
        );
        for miss in misses {
            for (side, key) in [(from, "query"), (to, "first")] {
                let label = miss[key].as_str().unwrap();
                let is_media = side != "T";
                assert_eq!(
                    named_by_file_id(label),
                    is_media,
                    "{direction} {key}: {label:?}"
                );
                media_labels_checked += usize::from(is_media);
            }
        }
    }
    assert!(
        media_labels_checked > 0,
        "the random-weight model missed nothing: {report}"
    );
}
