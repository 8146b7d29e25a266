//! The melody catalogue: at least 30 tunes, all different even when transposed, each heard in
//! the corpus on several instruments, in several keys and tempos.

use std::collections::{BTreeMap, BTreeSet};

use wave_synth::melody::{catalogue, contour, tune_distance, MIN_TUNE_DISTANCE, TUNE_BEATS};
use wave_synth::{plan, CorpusSize, SynthOptions};

#[test]
fn at_least_thirty_distinct_tunes() {
    let tunes = catalogue();
    assert!(tunes.len() >= 30, "{} tunes", tunes.len());
    assert_eq!(tunes, catalogue(), "the catalogue is fixed");
    let names: BTreeSet<&str> = tunes.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), tunes.len(), "names are unique");
    let contours: BTreeSet<Vec<i32>> = tunes.iter().map(contour).collect();
    assert_eq!(contours.len(), tunes.len(), "contours are unique");
    for (i, a) in tunes.iter().enumerate() {
        let beats: f64 = a.notes.iter().map(|n| n.beats).sum();
        assert!((beats - TUNE_BEATS).abs() < 1e-9);
        assert!(a.notes.len() >= 4, "{} has {} notes", a.name, a.notes.len());
        assert!(
            a.notes.windows(2).all(|w| w[0].semitone != w[1].semitone),
            "{}: repeated pitch",
            a.name
        );
        for b in &tunes[i + 1..] {
            assert!(
                tune_distance(a, b) >= MIN_TUNE_DISTANCE,
                "{} vs {}",
                a.name,
                b.name
            );
        }
    }
}

/// Instruments, keys (semitones from A4) and tempos (tens of bpm) a tune is heard in.
type Heard<'a> = (BTreeSet<&'a str>, BTreeSet<i64>, BTreeSet<i64>);

#[test]
fn tunes_are_played_by_several_instruments_in_several_keys_and_tempos() {
    let p = plan(&SynthOptions {
        size: CorpusSize::Full,
        ..SynthOptions::new(9, "unused")
    })
    .expect("plan");
    let mut per_tune: BTreeMap<usize, Heard> = BTreeMap::new();
    for scene in &p.scenes {
        if let (Some(m), Some(player)) = (&scene.melody, scene.objects.first()) {
            let e = per_tune.entry(m.tune).or_default();
            e.0.insert(player.kind.instrument().word());
            e.1.insert((12.0 * (m.tonic_hz / 440.0).log2()).round() as i64);
            e.2.insert((m.bpm / 10.0).round() as i64);
            assert!((110.0..150.0).contains(&m.bpm));
        }
    }
    assert_eq!(per_tune.len(), p.tunes.len());
    for (tune, (instruments, keys, tempos)) in per_tune {
        assert!(instruments.len() >= 3, "tune {tune}: {instruments:?}");
        assert!(keys.len() >= 4, "tune {tune}: {keys:?}");
        assert!(tempos.len() >= 3, "tune {tune}: {tempos:?}");
    }
}
