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

#[test]
fn hum_styles_can_be_restricted_without_touching_anything_else() {
    let mut all = SynthOptions::new(5, std::env::temp_dir().join("unused-hum-styles"));
    all.count = Some(200);
    let every = plan(&all).expect("plan");
    let mut only_hum = all.clone();
    only_hum.hum_styles = vec![HumStyle::Hum];
    let hummed = plan(&only_hum).expect("plan");
    assert_eq!(every.scenes.len(), hummed.scenes.len());
    let mut restyled = 0;
    for (a, b) in every.scenes.iter().zip(&hummed.scenes) {
        assert_eq!(a.hums.len(), b.hums.len());
        for (ha, hb) in a.hums.iter().zip(&b.hums) {
            assert_eq!(hb.style, HumStyle::Hum);
            assert_eq!(hb.octaves_up, 0.0);
            if ha.style == HumStyle::Hum {
                assert_eq!(ha, hb, "a hum already hummed is unchanged");
            } else {
                restyled += 1;
                let reset = wave_synth::scene::HumPlan {
                    style: HumStyle::Hum,
                    octaves_up: 0.0,
                    ..ha.clone()
                };
                assert_eq!(&reset, hb, "only the style changes");
            }
        }
        let strip = |s: &wave_synth::scene::Scene| wave_synth::scene::Scene {
            hums: Vec::new(),
            ..s.clone()
        };
        assert_eq!(strip(a), strip(b), "the scene itself is unchanged");
    }
    assert!(restyled > 0);

    let mut whistles = all.clone();
    whistles.hum_styles = vec![HumStyle::Whistle];
    let p = plan(&whistles).expect("plan");
    assert!(p
        .scenes
        .iter()
        .flat_map(|s| &s.hums)
        .all(|h| h.style == HumStyle::Whistle && (1.0..=2.0).contains(&h.octaves_up)));

    let mut none = all;
    none.hum_styles.clear();
    let err = plan(&none).unwrap_err().to_string();
    assert!(err.contains("at least one hum style"), "{err}");
}
