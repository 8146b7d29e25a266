//! What a user of hum search relies on: the tracker hears the right pitch, and a tune's vector
//! stays close to the same tune in another key and at another tempo, hummed, and far from
//! another tune; audio without a tune is refused with a reason.

use std::f32::consts::TAU;

use wave_melody::{melody_vector, track_pitch, MelodyError, PitchConfig};

const RATE: u32 = 16_000;

/// A deterministic noise source (xorshift), so tests need no crate and never vary.
struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn cents(a: f32, b: f32) -> f32 {
    1200.0 * (a / b).log2()
}

fn sine(hz: f32, seconds: f32, rate: u32) -> Vec<f32> {
    (0..(seconds * rate as f32) as usize)
        .map(|i| 0.5 * (TAU * hz * i as f32 / rate as f32).sin())
        .collect()
}

/// A hum-like voice: harmonics falling off, a slow vibrato, breath noise.
fn voice(hz: f32, seconds: f32, rate: u32, noise: &mut Noise) -> Vec<f32> {
    let mut phase = 0f32;
    (0..(seconds * rate as f32) as usize)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let f = hz * 2f32.powf(0.3 / 12.0 * (TAU * 5.0 * t).sin());
            phase += TAU * f / rate as f32;
            let v: f32 = (1..=8)
                .map(|h| (h as f32).powf(-1.3) * (h as f32 * phase).sin())
                .sum();
            0.3 * v + 0.02 * noise.next()
        })
        .collect()
}

/// Sings `notes` (semitones above `tonic_hz`, lengths in beats) at `bpm` with the hum voice,
/// a short breath between notes, after `lead_s` of quiet noise.
fn sing(notes: &[(i32, f32)], tonic_hz: f32, bpm: f32, lead_s: f32, seed: u64) -> Vec<f32> {
    let mut noise = Noise(seed);
    let mut out: Vec<f32> = (0..(lead_s * RATE as f32) as usize)
        .map(|_| 0.01 * noise.next())
        .collect();
    for &(semi, beats) in notes {
        let hz = tonic_hz * 2f32.powf(semi as f32 / 12.0);
        let dur = beats * 60.0 / bpm;
        let mut note = voice(hz, dur * 0.9, RATE, &mut noise);
        let n = note.len();
        for (i, s) in note.iter_mut().enumerate() {
            let edge = (i.min(n - i) as f32 / (0.02 * RATE as f32)).min(1.0);
            *s *= edge;
        }
        out.extend(note);
        out.extend((0..(dur * 0.1 * RATE as f32) as usize).map(|_| 0.01 * noise.next()));
    }
    out.extend((0..(0.2 * RATE as f32) as usize).map(|_| 0.01 * noise.next()));
    out
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

const TWINKLE: [(i32, f32); 7] = [
    (0, 1.0),
    (0, 1.0),
    (7, 1.0),
    (7, 1.0),
    (9, 1.0),
    (9, 1.0),
    (7, 2.0),
];
const DESCENT: [(i32, f32); 7] = [
    (12, 0.5),
    (11, 0.5),
    (9, 1.0),
    (7, 1.0),
    (5, 0.5),
    (4, 0.5),
    (0, 2.0),
];
const WALTZ: [(i32, f32); 7] = [
    (4, 1.0),
    (2, 1.0),
    (0, 1.0),
    (2, 1.0),
    (4, 1.0),
    (4, 1.0),
    (4, 2.0),
];

#[test]
fn pure_tones_are_tracked_within_a_few_cents() {
    for (hz, rate) in [
        (82.41, 16_000),
        (220.0, 16_000),
        (440.0, 44_100),
        (1318.5, 48_000),
        (2093.0, 16_000),
    ] {
        let track = track_pitch(&sine(hz, 0.5, rate), rate, &PitchConfig::default()).unwrap();
        let voiced: Vec<f32> = track.frames.iter().filter_map(|f| f.hz).collect();
        assert!(
            voiced.len() * 10 >= track.frames.len() * 9,
            "{hz} Hz: most frames voiced"
        );
        let mut sorted = voiced.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        assert!(
            cents(median, hz).abs() < 5.0,
            "{hz} Hz at {rate}: tracked {median}"
        );
    }
}

#[test]
fn a_hummed_note_is_tracked_at_its_fundamental() {
    let mut noise = Noise(3);
    let samples = voice(146.83, 0.8, RATE, &mut noise);
    let track = track_pitch(&samples, RATE, &PitchConfig::default()).unwrap();
    let voiced: Vec<f32> = track.frames.iter().filter_map(|f| f.hz).collect();
    assert!(voiced.len() * 10 >= track.frames.len() * 9);
    // Vibrato swings ±30 cents; every frame stays within it (no octave errors).
    for hz in &voiced {
        assert!(cents(*hz, 146.83).abs() < 40.0, "tracked {hz} Hz");
    }
}

#[test]
fn a_tune_is_close_to_itself_transposed_and_at_another_tempo_and_far_from_other_tunes() {
    let reference = melody_vector(&sing(&TWINKLE, 261.63, 120.0, 0.3, 1), RATE).unwrap();
    assert_eq!(reference.len(), wave_melody::melody_dim());
    let norm: f32 = reference.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    let variants = [
        (-7.0, 0.8, 0.1),  // a fifth down, 20 % slower
        (5.0, 1.2, 0.6),   // a fourth up, 20 % faster
        (-15.0, 1.0, 0.0), // a man humming a woman's tune
    ];
    let others = [
        melody_vector(&sing(&DESCENT, 261.63, 120.0, 0.3, 2), RATE).unwrap(),
        melody_vector(&sing(&WALTZ, 261.63, 120.0, 0.3, 3), RATE).unwrap(),
    ];
    for (i, (semis, tempo, lead)) in variants.into_iter().enumerate() {
        let tonic = 261.63 * 2f32.powf(semis / 12.0);
        let v = melody_vector(
            &sing(&TWINKLE, tonic, 120.0 * tempo, lead, 10 + i as u64),
            RATE,
        )
        .unwrap();
        let same = cos(&reference, &v);
        assert!(same > 0.9, "variant {i}: cosine with itself {same}");
        for (j, o) in others.iter().enumerate() {
            let other = cos(o, &v);
            assert!(
                other < same - 0.15,
                "variant {i}: other tune {j} at {other}, same tune at {same}"
            );
        }
    }
}

#[test]
fn silence_short_clips_and_noise_are_refused_with_a_reason() {
    assert_eq!(
        melody_vector(&vec![0.0; 16_000], RATE),
        Err(MelodyError::Silent)
    );
    assert!(matches!(
        melody_vector(&sine(220.0, 0.02, RATE), RATE),
        Err(MelodyError::TooShort { .. })
    ));
    let mut noise = Noise(9);
    let hiss: Vec<f32> = (0..RATE).map(|_| 0.3 * noise.next()).collect();
    let err = melody_vector(&hiss, RATE).unwrap_err();
    assert!(matches!(err, MelodyError::NoPitch { .. }), "{err}");
    assert!(err.to_string().contains("no pitched content"));
    assert_eq!(
        melody_vector(&[f32::NAN; 16_000], RATE),
        Err(MelodyError::NonFinite)
    );
    assert_eq!(
        melody_vector(&sine(220.0, 1.0, RATE), 100),
        Err(MelodyError::BadRate(100))
    );
}
