//! Train / val / test hold combinations out of train: train never shows a held-out
//! combination; val and test always show one of theirs and never the other's; everything
//! else (every kind, colour, motion, background, tune, instrument) is still seen in train.

use std::collections::BTreeSet;

use wave_synth::plan::{combos, Combo};
use wave_synth::scene::Split;
use wave_synth::world::{Colour, Instrument, Kind, Motion};
use wave_synth::{plan, CorpusSize, SynthOptions};

#[test]
fn held_out_combinations_never_reach_train() {
    for seed in [0, 1, 2] {
        let opts = SynthOptions {
            size: CorpusSize::Full,
            ..SynthOptions::new(seed, "unused")
        };
        let p = plan(&opts).expect("plan");
        assert_eq!(p.scenes.len(), 2000);
        let val: BTreeSet<String> = p.holdouts.val.iter().map(Combo::label).collect();
        let test: BTreeSet<String> = p.holdouts.test.iter().map(Combo::label).collect();
        assert!(val.is_disjoint(&test));
        let mut shown_in_test = BTreeSet::new();
        let mut train_kinds = BTreeSet::new();
        let mut train_colours = BTreeSet::new();
        let mut train_motions = BTreeSet::new();
        let mut train_tunes = BTreeSet::new();
        let mut train_instruments = BTreeSet::new();
        for scene in &p.scenes {
            let labels: BTreeSet<String> = combos(scene).iter().map(Combo::label).collect();
            let in_val = labels.intersection(&val).count();
            let in_test = labels.intersection(&test).count();
            match scene.split {
                Split::Train => {
                    assert_eq!(in_val + in_test, 0, "{} shows {labels:?}", scene.id);
                    assert!(scene.held_out.is_empty());
                    for o in &scene.objects {
                        train_kinds.insert(o.kind);
                        train_colours.insert(o.colour);
                        train_motions.insert(o.motion);
                        train_instruments.insert(o.kind.instrument());
                    }
                    if let Some(m) = &scene.melody {
                        train_tunes.insert(m.tune);
                    }
                }
                Split::Val => assert!(in_val > 0 && in_test == 0, "{} shows {labels:?}", scene.id),
                Split::Test => {
                    assert!(in_test > 0 && in_val == 0, "{} shows {labels:?}", scene.id);
                    shown_in_test.extend(labels.intersection(&test).cloned());
                }
            }
            let recorded: BTreeSet<String> = scene.held_out.iter().cloned().collect();
            assert_eq!(
                recorded,
                labels
                    .intersection(&val)
                    .chain(labels.intersection(&test))
                    .cloned()
                    .collect()
            );
        }
        assert_eq!(train_kinds.len(), Kind::ALL.len());
        assert_eq!(train_colours.len(), Colour::ALL.len());
        assert_eq!(train_motions.len(), Motion::ALL.len());
        assert_eq!(train_instruments.len(), Instrument::ALL.len());
        assert_eq!(
            train_tunes.len(),
            p.tunes.len(),
            "every tune is heard in train"
        );
        // The full test split shows every kind/colour and motion/background pair held out for it
        // and every tune on its held-out instrument.
        assert_eq!(shown_in_test, test, "seed {seed}");
    }
}

#[test]
fn split_sizes_follow_the_options() {
    let small = plan(&SynthOptions::new(3, "unused")).expect("plan");
    let count = |p: &wave_synth::Plan, s: Split| p.scenes.iter().filter(|x| x.split == s).count();
    assert_eq!(
        [Split::Train, Split::Val, Split::Test].map(|s| count(&small, s)),
        [240, 40, 40]
    );
    let custom = plan(&SynthOptions {
        count: Some(50),
        ..SynthOptions::new(3, "unused")
    })
    .expect("plan");
    assert_eq!(
        [Split::Train, Split::Val, Split::Test].map(|s| count(&custom, s)),
        [40, 5, 5]
    );
    // Same seed, same plan; another seed, another plan.
    assert_eq!(small, plan(&SynthOptions::new(3, "unused")).expect("plan"));
    assert_ne!(
        small.scenes,
        plan(&SynthOptions::new(4, "unused")).expect("plan").scenes
    );
}
