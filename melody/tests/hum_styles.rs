//! Whistling and singing "la la" count as humming (issue 7): for several tunes, the generator's
//! whistled and sung renditions of a tune — transposed and at another tempo, as its hum queries
//! are — find the clip that plays that tune among the clips of fifteen other tunes, by melody
//! vector cosine alone; and the highest whistle the generator can plan is tracked at its pitch.

use std::collections::BTreeMap;

use wave_melody::{melody_vector, track_pitch, PitchConfig};
use wave_synth::hum::render_hum;
use wave_synth::scene::{HumStyle, Scene};
use wave_synth::{plan, scene_audio, SynthOptions, SAMPLE_RATE};

/// Tunes whose renditions are queries, and tunes in the library (one clip each).
const QUERY_TUNES: usize = 11;
const LIBRARY_TUNES: usize = 16;

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One melody scene per tune (the first planned), in tune order, from a planned corpus.
fn scenes_by_tune() -> (Vec<wave_synth::melody::Tune>, Vec<Scene>) {
    let mut opts = SynthOptions::new(31, std::env::temp_dir().join("unused-melody-plan"));
    opts.count = Some(150);
    let p = plan(&opts).expect("plan");
    let mut by_tune: BTreeMap<usize, Scene> = BTreeMap::new();
    for s in p.scenes {
        if let (Some(m), false) = (&s.melody, s.hums.is_empty()) {
            by_tune.entry(m.tune).or_insert(s);
        }
    }
    assert!(
        by_tune.len() >= LIBRARY_TUNES,
        "only {} tunes planned",
        by_tune.len()
    );
    (p.tunes, by_tune.into_values().take(LIBRARY_TUNES).collect())
}

/// Rank (1-based) of clip `target` among `library` for `query`.
fn rank(query: &[f32], library: &[Vec<f32>], target: usize) -> usize {
    let own = cos(query, &library[target]);
    1 + library
        .iter()
        .enumerate()
        .filter(|(i, v)| *i != target && cos(query, v) >= own)
        .count()
}

#[test]
fn whistled_and_sung_la_la_renditions_find_their_tunes_clip() {
    let (tunes, scenes) = scenes_by_tune();
    let library: Vec<Vec<f32>> = scenes
        .iter()
        .map(|s| {
            let audio = scene_audio(s, &tunes, None, SAMPLE_RATE);
            melody_vector(&audio, SAMPLE_RATE).expect("a tune's clip has a melody")
        })
        .collect();
    let mut report = vec![];
    // Queries: the tunes whose hum plan is clearly in another key (a semitone or more, after
    // the whistle's octaves too) and at another tempo (5 % or more) than their clip.
    let queries: Vec<usize> = (0..scenes.len())
        .filter(|&i| {
            let (hum, clip) = (&scenes[i].hums[0], scenes[i].melody.as_ref().unwrap());
            let shift = 12.0 * (hum.tonic_hz / clip.tonic_hz).log2();
            shift.abs() >= 1.0 && (hum.tempo_factor - 1.0).abs() >= 0.05
        })
        .take(QUERY_TUNES)
        .collect();
    assert_eq!(queries.len(), QUERY_TUNES, "queries {queries:?}");
    for target in queries {
        let scene = &scenes[target];
        let tune = &tunes[scene.hums[0].tune];
        for (style, octaves_up) in [
            (HumStyle::Hum, 0.0),
            (HumStyle::Whistle, 1.5),
            (HumStyle::LaLa, 0.0),
        ] {
            let mut hum = scene.hums[0].clone();
            hum.style = style;
            hum.octaves_up = octaves_up;
            let audio = render_hum(&hum, tune, SAMPLE_RATE).samples;
            let v = melody_vector(&audio, SAMPLE_RATE)
                .unwrap_or_else(|e| panic!("{} as {style:?}: {e}", hum.id));
            let r = rank(&v, &library, target);
            let same = cos(&v, &library[target]);
            report.push((target, style, r, same));
        }
    }
    eprintln!("(tune, style, rank, cosine): {report:?}");
    // Measured (plan seed 31): every style 10 of 11 first and 10 in the top 3 (before octave
    // jumps were folded: 8-9 first, and one tune's clip missed by all three). The bar leaves a
    // margin of two renditions.
    for style in [HumStyle::Whistle, HumStyle::LaLa, HumStyle::Hum] {
        let ranks: Vec<usize> = report
            .iter()
            .filter(|x| x.1 == style)
            .map(|x| x.2)
            .collect();
        let firsts = ranks.iter().filter(|r| **r == 1).count();
        let top3 = ranks.iter().filter(|r| **r <= 3).count();
        assert!(
            firsts >= 8 && top3 >= 8,
            "{style:?}: ranks {ranks:?} among {LIBRARY_TUNES} clips ({firsts} first, {top3} in the top 3)"
        );
    }
}

#[test]
fn the_highest_whistle_the_generator_plans_is_tracked_at_its_pitch() {
    let (tunes, scenes) = scenes_by_tune();
    // The top of the plan's ranges: hum tonic 220 Hz, two octaves up, the tune's highest note.
    let scene = scenes
        .iter()
        .max_by_key(|s| {
            let t = &tunes[s.hums[0].tune];
            t.notes.iter().map(|n| n.semitone).max()
        })
        .unwrap();
    let mut hum = scene.hums[0].clone();
    hum.style = HumStyle::Whistle;
    hum.tonic_hz = 219.9;
    hum.octaves_up = 2.0;
    let rendered = render_hum(&hum, &tunes[hum.tune], SAMPLE_RATE);
    let highest = rendered.notes.iter().map(|n| n.hz).fold(0.0, f64::max);
    let cfg = PitchConfig::default();
    assert!(
        highest > 1700.0 && highest < f64::from(cfg.max_hz),
        "highest note {highest} Hz, tracker up to {} Hz",
        cfg.max_hz
    );
    let track = track_pitch(&rendered.samples, SAMPLE_RATE, &cfg).unwrap();
    let mut on_pitch = 0;
    for n in &rendered.notes {
        // The middle half of the note, clear of glides.
        let (lo, hi) = (n.start_s + n.dur_s / 4.0, n.start_s + n.dur_s * 0.75);
        let mut heard: Vec<f64> = track
            .frames
            .iter()
            .filter(|f| (lo..hi).contains(&f64::from(f.time_s)))
            .filter_map(|f| f.hz.map(f64::from))
            .collect();
        heard.sort_by(f64::total_cmp);
        if let Some(median) = heard.get(heard.len() / 2) {
            if (1200.0 * (median / n.hz).log2()).abs() < 50.0 {
                on_pitch += 1;
            }
        }
    }
    assert!(
        on_pitch * 10 >= rendered.notes.len() * 9,
        "{on_pitch} of {} notes tracked within 50 cents",
        rendered.notes.len()
    );
}
