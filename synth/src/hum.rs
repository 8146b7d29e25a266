//! Hum queries: a tune voiced by a synthetic performer in one of three styles (issue 7:
//! humming, whistling and singing "la la" all count as hums). Every style glides between
//! notes, wobbles with vibrato and drifts a little, over breath and background noise:
//! * hum: a harmonic glottal source shaped by three low formant resonances (a nasal "mm");
//! * whistle: a near-pure tone with a weak second harmonic and breath noise band-limited
//!   around the pitch, slower glides, shallower vibrato;
//! * "la la": a brighter glottal source through open "a" formants (about 700/1200/2600 Hz),
//!   each note started by an "l" (formants lowered, amplitude dipped for 40-70 ms).

use std::f64::consts::TAU;

use crate::ambience::{add_white, limit_peak, rms};
use crate::melody::{schedule, NoteEvent, Tune};
use crate::rng::Rng;
use crate::scene::{HumPlan, HumStyle};

/// Bandwidths of the three formants, Hz.
const BANDWIDTHS: [f64; 3] = [90.0, 160.0, 220.0];

/// Highest harmonic synthesised, Hz.
const MAX_HZ: f64 = 4000.0;

/// Open "a" formants, Hz, before each performer's jitter.
const VOWEL_A: [f64; 3] = [700.0, 1200.0, 2600.0];

/// Formants of the "l" relative to the performer's "a": F1 and F2 lowered, F3 nearly kept.
const L_RATIOS: [f64; 3] = [0.5, 0.8, 0.97];

/// A rendered hum: samples and the notes it sings (their pitch without vibrato).
#[derive(Debug, Clone, PartialEq)]
pub struct Hum {
    pub samples: Vec<f32>,
    pub notes: Vec<NoteEvent>,
}

/// Relative loudness of harmonic `n` of a voice at `f0` through the formants, for a source
/// falling off as `n^-tilt`; `floor` keeps the fundamental strong away from any formant.
fn harmonic_gain(n: usize, f0: f64, formants: &[f64; 3], tilt: f64, floor: f64) -> f64 {
    let f = n as f64 * f0;
    let resonance: f64 = formants
        .iter()
        .zip(BANDWIDTHS)
        .enumerate()
        .map(|(k, (fc, bw))| {
            let x = (f - fc) / (bw / 2.0);
            (1.0 / (1.0 + x * x)).sqrt() / (1.0 + k as f64)
        })
        .sum();
    (n as f64).powf(-tilt) * (floor + resonance)
}

/// Gains of every harmonic under [`MAX_HZ`] of each note.
fn note_gains(notes: &[NoteEvent], formants: &[f64; 3], tilt: f64, floor: f64) -> Vec<Vec<f64>> {
    notes
        .iter()
        .map(|n| {
            let count = (MAX_HZ / n.hz).floor().max(1.0) as usize;
            (1..=count)
                .map(|k| harmonic_gain(k, n.hz, formants, tilt, floor))
                .collect()
        })
        .collect()
}

/// Constant-peak band-pass biquad whose centre follows the pitch (the whistle's breath).
#[derive(Default)]
struct Breath {
    x: [f64; 2],
    y: [f64; 2],
}

impl Breath {
    fn next(&mut self, input: f64, centre_hz: f64, q: f64, rate: f64) -> f64 {
        let w = TAU * centre_hz.min(0.45 * rate) / rate;
        let alpha = w.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        let y = (alpha * input - alpha * self.x[1] + 2.0 * w.cos() * self.y[0]
            - (1.0 - alpha) * self.y[1])
            / a0;
        self.x = [input, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// What one style sounds like, with the draws only that style uses.
enum Voice {
    Hum {
        gains: Vec<Vec<f64>>,
    },
    Whistle {
        second: f64,
        breath: f64,
        q: f64,
        filter: Breath,
    },
    LaLa {
        open: Vec<Vec<f64>>,
        lateral: Vec<Vec<f64>>,
        l_s: f64,
        dip: f64,
    },
}

impl Voice {
    fn new(plan: &HumPlan, notes: &[NoteEvent]) -> Voice {
        // Style-only draws come from their own stream: the hum's noise stream is untouched.
        let mut rng = Rng::derive(plan.seed, "hum-voice", 0);
        match plan.style {
            HumStyle::Hum => Voice::Hum {
                gains: note_gains(notes, &plan.formants, 1.5, 0.35),
            },
            HumStyle::Whistle => Voice::Whistle {
                second: rng.uniform(0.03, 0.08),
                breath: rng.uniform(0.15, 0.3),
                q: rng.uniform(2.5, 5.0),
                filter: Breath::default(),
            },
            HumStyle::LaLa => {
                let a: [f64; 3] = VOWEL_A.map(|f| f * rng.uniform(0.93, 1.07));
                let l: [f64; 3] = std::array::from_fn(|i| a[i] * L_RATIOS[i]);
                Voice::LaLa {
                    open: note_gains(notes, &a, 1.2, 0.2),
                    lateral: note_gains(notes, &l, 1.2, 0.2),
                    l_s: rng.uniform(0.04, 0.07),
                    dip: rng.uniform(0.5, 0.7),
                }
            }
        }
    }

    /// Portamento time between notes, seconds (whistlers slide more).
    fn glide_s(&self) -> f64 {
        match self {
            Voice::Whistle { .. } => 0.07,
            _ => 0.04,
        }
    }

    /// Share of the planned vibrato depth this voice uses.
    fn vibrato_share(&self) -> f64 {
        match self {
            Voice::Whistle { .. } => 0.4,
            _ => 1.0,
        }
    }

    /// One sample of note `k`, `local` seconds after its onset, at `phase` and pitch `f0`;
    /// `noise` is this sample's standard-normal breath draw.
    fn sample(&mut self, k: usize, local: f64, phase: f64, f0: f64, noise: f64, r: f64) -> f64 {
        let sum = |gains: &[f64], mix: &dyn Fn(usize) -> f64| -> f64 {
            gains
                .iter()
                .enumerate()
                .map(|(h, g)| g * mix(h) * ((h + 1) as f64 * phase).sin())
                .sum()
        };
        match self {
            Voice::Hum { gains } => sum(&gains[k], &|_| 1.0) + 0.02 * noise,
            Voice::Whistle {
                second,
                breath,
                q,
                filter,
            } => {
                let air = filter.next(noise, f0, *q, r);
                // Level comparable to a hum's voice (its gains sum to about 0.5).
                0.5 * (phase.sin() + *second * (2.0 * phase).sin()) + *breath * air
            }
            Voice::LaLa {
                open,
                lateral,
                l_s,
                dip,
            } => {
                // The "l": fully lateral for the first half of its length, then a smooth
                // release into the "a"; the amplitude dips with it.
                let u = ((local - 0.5 * *l_s) / (0.5 * *l_s)).clamp(0.0, 1.0);
                let l = if local < 0.0 {
                    0.0
                } else {
                    0.5 * (1.0 + (std::f64::consts::PI * u).cos())
                };
                let (a, lat) = (&open[k], &lateral[k]);
                let voice: f64 = a
                    .iter()
                    .zip(lat)
                    .enumerate()
                    .map(|(h, (ga, gl))| (ga * (1.0 - l) + gl * l) * ((h + 1) as f64 * phase).sin())
                    .sum();
                (1.0 - *dip * l) * voice + 0.015 * noise
            }
        }
    }
}

/// Renders `plan` (a hum of `tune`) at `rate`, `len` samples long.
pub fn render_hum(plan: &HumPlan, tune: &Tune, rate: u32) -> Hum {
    let r = f64::from(rate);
    let len = (plan.duration_s * r).round() as usize;
    let notes = schedule(tune, plan.sung_tonic_hz(), plan.bpm, plan.start_s, 0.92);
    let mut rng = Rng::new(plan.seed);
    let mut voice = Voice::new(plan, &notes);
    let mut out = vec![0f32; len];
    let glide_s = voice.glide_s();
    let vibrato_cents = plan.vibrato_cents * voice.vibrato_share();
    let mut phase = 0.0f64;
    let mut drift = 0.0f64;
    for (i, o) in out.iter_mut().enumerate() {
        let t = i as f64 / r;
        // The current note: the last one started (the first before it starts).
        let k = notes.iter().rposition(|n| n.start_s <= t).unwrap_or(0);
        let note = notes[k];
        let mut log_f = note.hz.log2();
        if k > 0 && t - note.start_s < glide_s {
            // Portamento from the previous note.
            let u = (t - note.start_s) / glide_s;
            log_f = notes[k - 1].hz.log2() * (1.0 - u) + log_f * u;
        }
        drift = 0.9995 * drift + 0.0005 * rng.normal();
        let vib = vibrato_cents / 1200.0 * (TAU * plan.vibrato_hz * t).sin();
        let f0 = 2f64.powf(log_f + vib + drift * 0.01);
        phase += TAU * f0 / r;
        let local = t - note.start_s;
        let env = if t < note.start_s {
            0.0
        } else if local < note.dur_s {
            (local / 0.03).min(1.0) * ((note.dur_s - local) / 0.04).clamp(0.25, 1.0)
        } else {
            0.25 * (1.0 - (local - note.dur_s) / 0.1).max(0.0) // a short dip between notes
        };
        let end = notes.last().map(|n| n.start_s + n.dur_s).unwrap_or(0.0);
        let env = if t > end { 0.0 } else { env };
        let s = voice.sample(k, local, phase, f0, rng.normal(), r);
        *o = (env * s) as f32;
    }
    let level = rms(&out);
    add_white(&mut out, level, plan.snr_db, &mut rng);
    limit_peak(&mut out, 0.9);
    Hum {
        samples: out,
        notes,
    }
}
