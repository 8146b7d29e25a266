//! Writing only some splits, and train from a given scene on: what is written is byte for
//! byte what a full run writes for those scenes, so a larger corpus can be added to a smaller
//! one without redrawing the scenes it has.

mod common;

use common::{corpus, files, jsonl};
use serde_json::Value;
use wave_synth::scene::Split;
use wave_synth::{generate, SynthError, SynthOptions};

/// The scene index of a record id such as `train-00012.av`.
fn scene_index(record: &Value) -> usize {
    let id = record["id"].as_str().expect("id");
    id["train-".len().."train-".len() + 5]
        .parse()
        .expect("scene index")
}

#[test]
fn train_from_writes_exactly_the_later_train_scenes_of_a_full_run() {
    // 20 scenes: 16 train, 2 val, 2 test.
    let (_full_dir, full) = corpus(5, 20);
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("later");
    let summary = generate(
        &SynthOptions {
            count: Some(20),
            splits: vec![Split::Train],
            train_from: 9,
            ..SynthOptions::new(5, &out)
        },
        &|_, _| {},
    )
    .expect("generate");

    assert!(!out.join("val").exists() && !out.join("test").exists());
    assert_eq!(summary.splits.len(), 1);
    assert_eq!(summary.splits[0].scenes, 16 - 9);
    assert_eq!(summary.splits[0].first_scene, 9);

    let later: Vec<Value> = jsonl(&full.join("train/corpus.jsonl"))
        .into_iter()
        .filter(|r| scene_index(r) >= 9)
        .collect();
    let written = jsonl(&out.join("train/corpus.jsonl"));
    assert!(!written.is_empty());
    assert_eq!(
        written, later,
        "records of scenes 9.. differ from the full run's"
    );
    // Melody scenes after the skipped ones keep their tunes (drawn by rank among melody scenes).
    assert!(written.iter().any(|r| r["modality"] == "hum"));

    let full_files = files(&full.join("train/media"));
    let written_files = files(&out.join("train/media"));
    let expected: Vec<&String> = full_files
        .keys()
        .filter(|name| {
            name["train-".len().."train-".len() + 5]
                .parse::<usize>()
                .expect("index")
                >= 9
        })
        .collect();
    assert_eq!(written_files.keys().collect::<Vec<_>>(), expected);
    for (name, bytes) in &written_files {
        assert!(
            bytes == &full_files[name],
            "{name} differs from the full run's"
        );
    }
}

#[test]
fn train_from_must_leave_train_scenes_to_write() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("c");
    let bad = |opts: SynthOptions| generate(&opts, &|_, _| {}).expect_err("refused");
    // count 20 has 16 train scenes.
    let err = bad(SynthOptions {
        count: Some(20),
        train_from: 16,
        ..SynthOptions::new(1, &out)
    });
    assert!(matches!(err, SynthError::InvalidArgument(_)), "{err}");
    assert!(
        err.to_string().contains("below the 16 train scenes"),
        "{err}"
    );
    let err = bad(SynthOptions {
        count: Some(20),
        splits: vec![Split::Val],
        train_from: 3,
        ..SynthOptions::new(1, &out)
    });
    assert!(err.to_string().contains("train is not among"), "{err}");
    let err = bad(SynthOptions {
        splits: vec![],
        ..SynthOptions::new(1, &out)
    });
    assert!(err.to_string().contains("at least one split"), "{err}");
    assert!(!out.exists(), "nothing written for bad options");
}
