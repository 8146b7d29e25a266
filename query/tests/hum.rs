//! Hum search through the real pipeline: tunes rendered here are ingested (real decoders, the
//! tiny golden model, a real RocksDB store), every clip with a tune gets a melody vector and
//! the others none, and a hum of one tune — in another key, 20 % faster, sung by a breathy
//! voice with vibrato — finds that tune's clip first; so do the corpus generator's whistled
//! and sung "la la" renditions (issue 7: they count as hums).

#[path = "support/server.rs"]
mod server;
#[path = "support/tunes.rs"]
mod tunes;

use std::f32::consts::TAU;
use std::sync::Arc;

use wave_ingest::pipeline::{self, NoProgress, PipelineConfig};
use wave_melody::MELODY_SPACE;
use wave_query::{Model, QueryError, Searcher, SearcherConfig};
use wave_synth::hum::render_hum;
use wave_synth::melody::{Tune, TuneNote};
use wave_synth::scene::{HumPlan, HumStyle};

use server::open_store;
use tunes::{model_dir, mp4, noise, wav, weighted_hum_request, RATE};

/// How a tune is performed.
struct Voice {
    /// Harmonic roll-off exponent (a plucked/bright instrument vs a soft hum).
    tilt: f32,
    vibrato_semitones: f32,
    breath: f32,
}

const INSTRUMENT: Voice = Voice {
    tilt: 0.8,
    vibrato_semitones: 0.0,
    breath: 0.0,
};
const HUM: Voice = Voice {
    tilt: 1.6,
    vibrato_semitones: 0.3,
    breath: 0.03,
};

/// `notes` (semitones above `tonic_hz`, beats) at `bpm`, after `lead_s` of near-silence.
fn perform(
    notes: &[(i32, f32)],
    tonic_hz: f32,
    bpm: f32,
    lead_s: f32,
    v: &Voice,
    seed: u64,
) -> Vec<f32> {
    let mut noise = noise(seed);
    let r = RATE as f32;
    let mut out: Vec<f32> = (0..(lead_s * r) as usize)
        .map(|_| 0.005 * noise())
        .collect();
    let mut phase = 0f32;
    for &(semi, beats) in notes {
        let hz = tonic_hz * 2f32.powf(semi as f32 / 12.0);
        let n = (beats * 60.0 / bpm * r) as usize;
        let sounding = n * 9 / 10;
        for i in 0..n {
            if i >= sounding {
                out.push(0.005 * noise());
                continue;
            }
            let t = out.len() as f32 / r;
            let f = hz * 2f32.powf(v.vibrato_semitones / 12.0 * (TAU * 5.5 * t).sin());
            phase += TAU * f / r;
            let tone: f32 = (1..=6)
                .map(|h| (h as f32).powf(-v.tilt) * (h as f32 * phase).sin())
                .sum();
            let edge = (i.min(sounding - i) as f32 / (0.015 * r)).min(1.0);
            out.push(edge * 0.3 * tone + v.breath * noise());
        }
    }
    out.extend((0..(0.2 * r) as usize).map(|_| 0.005 * noise()));
    out
}

const ODE: [(i32, f32); 8] = [
    (4, 1.0),
    (4, 1.0),
    (5, 1.0),
    (7, 1.0),
    (7, 1.0),
    (5, 1.0),
    (4, 1.0),
    (2, 1.0),
];
const SCALE_DOWN: [(i32, f32); 8] = [
    (12, 0.5),
    (11, 0.5),
    (9, 0.5),
    (7, 0.5),
    (5, 1.0),
    (4, 1.0),
    (2, 1.0),
    (0, 2.0),
];
const LEAPS: [(i32, f32); 7] = [
    (0, 1.0),
    (12, 1.0),
    (7, 1.0),
    (9, 0.5),
    (5, 0.5),
    (7, 1.0),
    (0, 2.0),
];

/// `notes` voiced in `style` by the corpus generator's hum renderer (its breath, vibrato,
/// glides and background noise), starting on `tonic_hz` at `bpm`.
fn styled(notes: &[(i32, f32)], tonic_hz: f64, bpm: f64, style: HumStyle, seed: u64) -> Vec<f32> {
    let tune = Tune {
        id: 0,
        name: "test".into(),
        mode: "major",
        notes: notes
            .iter()
            .map(|&(semitone, beats)| TuneNote {
                semitone,
                beats: f64::from(beats),
            })
            .collect(),
    };
    let beats: f64 = tune.notes.iter().map(|n| n.beats).sum();
    let plan = HumPlan {
        id: format!("{}.hum", style.word()),
        tune: 0,
        tonic_hz,
        transpose_semitones: 0.0,
        tempo_factor: 1.0,
        bpm,
        start_s: 0.25,
        duration_s: 0.25 + beats * 60.0 / bpm + 0.3,
        vibrato_hz: 5.5,
        vibrato_cents: 30.0,
        formants: [300.0, 1100.0, 2500.0],
        snr_db: 18.0,
        seed,
        style,
        octaves_up: if style == HumStyle::Whistle { 1.5 } else { 0.0 },
    };
    render_hum(&plan, &tune, RATE).samples
}

#[test]
fn ingest_writes_melody_vectors_and_a_hum_finds_its_tune() {
    let tmp = tempfile::tempdir().unwrap();
    let media = tmp.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(
        media.join("ode.wav"),
        wav(&perform(&ODE, 392.0, 100.0, 0.2, &INSTRUMENT, 1)),
    )
    .unwrap();
    std::fs::write(
        media.join("scale.wav"),
        wav(&perform(&SCALE_DOWN, 330.0, 110.0, 0.4, &INSTRUMENT, 2)),
    )
    .unwrap();
    mp4(
        &media.join("leaps.mp4"),
        &perform(&LEAPS, 523.25, 90.0, 0.3, &INSTRUMENT, 3),
    );
    let mut hiss = noise(4);
    let hiss: Vec<f32> = (0..2 * RATE).map(|_| 0.2 * hiss()).collect();
    std::fs::write(media.join("hiss.wav"), wav(&hiss)).unwrap();
    std::fs::write(media.join("notes.txt"), "a note about tunes").unwrap();

    let db = tmp.path().join("db");
    let store = open_store(&db);
    let embedder = wave_engine::embedder::Embedder::<wave_engine::CpuBackend>::load(
        &model_dir(),
        &Default::default(),
    )
    .unwrap();
    let model_id = pipeline::model_id(&model_dir()).unwrap();
    let report = pipeline::ingest(
        &media,
        &store,
        &embedder,
        &model_id,
        &PipelineConfig::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.ingested, 5);

    // Clips with a tune have a unit melody vector; noise and text have none.
    for id in ["ode.wav", "scale.wav", "leaps.mp4"] {
        let v = store
            .vector(MELODY_SPACE, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} has a melody vector"));
        assert_eq!(v.len(), wave_melody::melody_dim());
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "{id}: norm {norm}");
    }
    for id in ["hiss.wav", "notes.txt"] {
        assert!(store.get(id).unwrap().is_some(), "{id} is stored");
        assert_eq!(store.vector(MELODY_SPACE, id).unwrap(), None, "{id}");
    }
    let melody_space = store
        .stats()
        .unwrap()
        .spaces
        .into_iter()
        .find(|s| s.name == MELODY_SPACE)
        .unwrap();
    assert_eq!(melody_space.live, 3);

    let model = Arc::new(Model::load(&model_dir()).unwrap());
    let searcher = Searcher::new(store, Some(model), SearcherConfig::new(&db)).unwrap();

    // Hummed a fifth lower and 20 % faster, or a sixth lower and 20 % slower.
    let hums = [
        (
            "leaps.mp4",
            perform(&LEAPS, 523.25 / 1.5, 108.0, 0.5, &HUM, 11),
        ),
        ("ode.wav", perform(&ODE, 392.0 / 1.68, 80.0, 0.1, &HUM, 12)),
        (
            "scale.wav",
            perform(&SCALE_DOWN, 330.0 * 1.19, 132.0, 0.0, &HUM, 13),
        ),
    ];
    for (target, hum) in &hums {
        let resp = searcher
            .search(&weighted_hum_request(hum, Some(1.0)), None)
            .unwrap();
        let first = &resp.results[0];
        assert_eq!(&first.id, target, "melody alone: {:?}", resp.results);
        let stages = first.stages.as_ref().unwrap();
        assert_eq!(stages.melody_rank, Some(1));
        assert!(stages.melody_score.unwrap() > 0.8, "{stages:?}");
        assert!(stages.vector_score.is_some(), "the WAVE side is scored too");
        // The fused default ranks results by both; items without a tune are never scored by it.
        let fused = searcher
            .search(&weighted_hum_request(hum, None), None)
            .unwrap();
        for r in &fused.results {
            let s = r.stages.as_ref().unwrap();
            assert_eq!(
                s.melody_score.is_none(),
                r.id == "hiss.wav" || r.id == "notes.txt",
                "{r:?}"
            );
        }
    }

    // Whistled (an octave and a half above a hum) and sung "la la", in other keys and tempos,
    // through melody alone and through the default weighting. (Ranks, not scores: LEAPS spends
    // exactly half its time below one scale degree, so its median reference can land a step
    // apart in two renditions and the whistle's cosine drops to about 0.3, still the best.)
    let performances = [
        ("leaps.mp4", &LEAPS[..], 523.25 / 2.5, 100.0),
        ("ode.wav", &ODE[..], 392.0 / 1.9, 118.0),
        ("scale.wav", &SCALE_DOWN[..], 330.0 / 1.4, 95.0),
    ];
    for (i, (target, notes, tonic, bpm)) in performances.into_iter().enumerate() {
        for style in [HumStyle::Whistle, HumStyle::LaLa] {
            let audio = styled(notes, tonic, bpm, style, 20 + i as u64);
            for weight in [Some(1.0), None] {
                let resp = searcher
                    .search(&weighted_hum_request(&audio, weight), None)
                    .unwrap();
                let first = &resp.results[0];
                assert_eq!(
                    &first.id, target,
                    "{style:?} at weight {weight:?}: {:?}",
                    resp.results
                );
                let stages = first.stages.as_ref().unwrap();
                assert_eq!(stages.melody_rank, Some(1), "{style:?}: {stages:?}");
            }
        }
    }

    // Audio without a tune is refused with the reason; so is a bad weight.
    match searcher.search(&weighted_hum_request(&hiss, None), None) {
        Err(QueryError::InvalidArgument(m)) => assert!(m.contains("no pitched content"), "{m}"),
        other => panic!("hiss as a hum: {other:?}"),
    }
    match searcher.search(&weighted_hum_request(&hums[0].1, Some(1.5)), None) {
        Err(QueryError::InvalidArgument(m)) => assert!(m.contains("melody_weight"), "{m}"),
        other => panic!("weight 1.5: {other:?}"),
    }
}
