//! Content keys on a corpus the generator writes: scenes captioned alike get one key, scenes
//! with one key are captioned alike up to sentence form, and the corpus does hold scenes that
//! show the same things under differently worded captions (which training must not treat as
//! each other's negatives, and evaluation must count as hits).

use std::collections::BTreeMap;

use wave_train::corpus::{Scene, Split};

/// What a caption names regardless of its sentence form: its clauses (split at punctuation,
/// "and" and "over"), each as its sorted words without the words only a sentence form contributes
/// ("X over Y." / "Over Y, X." / "Y: X."; "S, with A in the background." / "Over the sound of
/// A, S."), in sorted order.
fn named(caption: &str) -> Vec<Vec<String>> {
    const FORM: [&str; 7] = ["over", "with", "in", "the", "background", "sound", "of"];
    let caption = format!(" {} ", caption.to_lowercase());
    let mut clauses: Vec<Vec<String>> = caption
        .split([',', ':', '.', ';'])
        .flat_map(|part| part.split(" and "))
        .flat_map(|part| part.split(" over "))
        .map(|clause| {
            let mut words: Vec<String> = clause
                .split(|c: char| !c.is_alphanumeric() && c != '-')
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .filter(|w| !FORM.contains(&w.as_str()))
                .collect();
            words.sort();
            words
        })
        .filter(|words| !words.is_empty())
        .collect();
    clauses.sort();
    clauses
}

/// A scene's caption of `view`.
fn caption<'a>(scene: &'a Scene, view: &str) -> Option<&'a str> {
    match view {
        "visual" => scene.text_visual.as_deref(),
        "audio" => scene.text_audio.as_deref(),
        _ => scene.text_full.as_deref(),
    }
}

#[test]
fn content_keys_group_exactly_the_differently_worded_captions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("corpus");
    let mut opts = wave_synth::SynthOptions::new(2, &out);
    opts.count = Some(60);
    wave_synth::generate(&opts, &|_, _| {}).unwrap();

    let mut twins = BTreeMap::new();
    for split in ["train", "val", "test"] {
        let split = Split::open(&out.join(split)).unwrap();
        let scenes: Vec<_> = split.scenes.iter().collect();
        for (id, s) in &scenes {
            assert!(
                s.content.is_some(),
                "{id}: no content read from corpus.jsonl"
            );
        }
        for view in ["visual", "audio", "full"] {
            for (i, (a_id, a)) in scenes.iter().enumerate() {
                for (b_id, b) in &scenes[i + 1..] {
                    let (ca, cb) = (caption(a, view), caption(b, view));
                    let (ka, kb) = (a.content_key(view), b.content_key(view));
                    let alike = named(ca.unwrap()) == named(cb.unwrap());
                    assert_eq!(
                        ka == kb,
                        alike,
                        "{view}: {a_id} and {b_id}: keys {ka:?} / {kb:?}, captions {ca:?} / {cb:?}"
                    );
                    if alike && ca != cb {
                        *twins.entry(view).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    // Silent videos repeat most: the corpus must hold differently worded twins to test.
    assert!(
        twins.get("visual").copied().unwrap_or(0) > 0,
        "no differently worded twins in the corpus: {twins:?}"
    );
}
