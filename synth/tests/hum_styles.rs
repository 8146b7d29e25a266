//! Hum queries come in three styles (humming, whistling, singing "la la"), each about a third
//! of them, chosen by a stream of their own: whistles sound one to two octaves above the hum
//! register, the other voices in it.

use std::collections::BTreeMap;

use wave_synth::scene::HumStyle;
use wave_synth::{plan, SynthOptions};

#[test]
fn about_a_third_of_the_hums_are_each_style() {
    for seed in [3, 7] {
        let mut opts = SynthOptions::new(seed, std::env::temp_dir().join("unused-hum-styles"));
        opts.count = Some(300);
        let p = plan(&opts).expect("plan");
        let hums: Vec<_> = p.scenes.iter().flat_map(|s| s.hums.iter()).collect();
        assert!(hums.len() >= 100, "{} hums", hums.len());
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for h in &hums {
            *counts.entry(h.style.word()).or_default() += 1;
            match h.style {
                HumStyle::Whistle => assert!((1.0..=2.0).contains(&h.octaves_up), "{h:?}"),
                _ => assert_eq!(h.octaves_up, 0.0, "{h:?}"),
            }
            let sung = h.sung_tonic_hz();
            assert!(
                (12.0 * (sung / h.tonic_hz).log2() - 12.0 * h.octaves_up).abs() < 1e-9,
                "{h:?}"
            );
        }
        for style in HumStyle::ALL {
            let share = *counts.get(style.word()).unwrap_or(&0) as f64 / hums.len() as f64;
            assert!(
                (0.22..=0.45).contains(&share),
                "seed {seed}: {style:?} is {share:.2} of the hums ({counts:?})"
            );
        }
    }
}
