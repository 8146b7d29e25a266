//! The same seed gives byte-identical corpora (WAVs, MP4s, manifests); another seed does not.

mod common;

use common::{corpus, files};

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (_a, first) = corpus(11, 6);
    let (_b, second) = corpus(11, 6);
    let (fa, fb) = (files(&first), files(&second));
    // 6 scenes × (wav + 2 mp4) + 3 hums + 2 JSONL per split + corpus.json.
    assert_eq!(fa.len(), 6 * 3 + 3 + 3 * 2 + 1, "files: {:?}", fa.keys());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between two runs with the same seed"
        );
    }
    let mp4s = fa.keys().filter(|k| k.ends_with(".mp4")).count();
    assert_eq!(mp4s, 12, "two videos per scene");

    let (_c, other) = corpus(12, 6);
    let fc = files(&other);
    let same = fa
        .iter()
        .filter(|(name, bytes)| name.ends_with(".wav") && fc.get(*name) == Some(bytes))
        .count();
    assert_eq!(same, 0, "another seed must give other sounds");
}
