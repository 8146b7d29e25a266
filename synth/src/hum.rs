//! Hum queries: a tune sung by a hum-like voice. A harmonic glottal source whose pitch glides
//! between notes and wobbles with vibrato, shaped by three formant resonances (a nasal "mm"),
//! with breath and background noise.

use std::f64::consts::TAU;

use crate::ambience::{add_white, limit_peak, rms};
use crate::melody::{schedule, NoteEvent, Tune};
use crate::rng::Rng;
use crate::scene::HumPlan;

/// Bandwidths of the three formants, Hz.
const BANDWIDTHS: [f64; 3] = [90.0, 160.0, 220.0];

/// Highest harmonic synthesised, Hz.
const MAX_HZ: f64 = 4000.0;

/// A rendered hum: samples and the notes it sings (their pitch without vibrato).
#[derive(Debug, Clone, PartialEq)]
pub struct Hum {
    pub samples: Vec<f32>,
    pub notes: Vec<NoteEvent>,
}

/// Relative loudness of harmonic `n` of a voice at `f0` through the formants.
fn harmonic_gain(n: usize, f0: f64, formants: &[f64; 3]) -> f64 {
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
    // Source tilt of a soft hum; the floor keeps the fundamental strong.
    (n as f64).powf(-1.5) * (0.35 + resonance)
}

/// Renders `plan` (a hum of `tune`) at `rate`, `len` samples long.
pub fn render_hum(plan: &HumPlan, tune: &Tune, rate: u32) -> Hum {
    let r = f64::from(rate);
    let len = (plan.duration_s * r).round() as usize;
    let notes = schedule(tune, plan.tonic_hz, plan.bpm, plan.start_s, 0.92);
    let mut rng = Rng::new(plan.seed);
    let mut out = vec![0f32; len];
    let gains: Vec<Vec<f64>> = notes
        .iter()
        .map(|n| {
            let count = (MAX_HZ / n.hz).floor().max(1.0) as usize;
            (1..=count)
                .map(|k| harmonic_gain(k, n.hz, &plan.formants))
                .collect()
        })
        .collect();
    let glide_s = 0.04;
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
        let vib = plan.vibrato_cents / 1200.0 * (TAU * plan.vibrato_hz * t).sin();
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
        let voice: f64 = gains[k]
            .iter()
            .enumerate()
            .map(|(h, g)| g * ((h + 1) as f64 * phase).sin())
            .sum();
        let breath = 0.02 * rng.normal();
        *o = (env * (voice + breath)) as f32;
    }
    let level = rms(&out);
    add_white(&mut out, level, plan.snr_db, &mut rng);
    limit_peak(&mut out, 0.9);
    Hum {
        samples: out,
        notes,
    }
}
