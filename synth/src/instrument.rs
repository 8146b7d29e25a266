//! Instrument timbres: each shape kind's sound. Additive or FM synthesis with a per-instrument
//! envelope, band-limited below 7 kHz so nothing aliases at 16 kHz.

use std::f64::consts::TAU;

use crate::motion::{AmpMod, ScoreNote};
use crate::world::Instrument;

/// Highest partial frequency synthesised, Hz.
const MAX_PARTIAL_HZ: f64 = 7000.0;

/// Partials as (harmonic number, amplitude, decay rate 1/s).
fn partials(inst: Instrument) -> Vec<(f64, f64, f64)> {
    match inst {
        Instrument::Flute => vec![(1.0, 1.0, 0.0), (2.0, 0.18, 0.0), (3.0, 0.06, 0.0)],
        Instrument::Clarinet => (0..8)
            .map(|k| (f64::from(2 * k + 1), 1.0 / f64::from(2 * k + 1), 0.0))
            .collect(),
        Instrument::Guitar => (1..=14)
            .map(|n| (f64::from(n), 1.0 / f64::from(n), 1.5 + 1.8 * f64::from(n)))
            .collect(),
        Instrument::Organ => [
            (1.0, 1.0),
            (2.0, 0.7),
            (3.0, 0.5),
            (4.0, 0.35),
            (6.0, 0.2),
            (8.0, 0.15),
        ]
        .iter()
        .map(|&(n, a)| (n, a, 0.0))
        .collect(),
        Instrument::Violin => (1..=20)
            .map(|n| (f64::from(n), 1.0 / f64::from(n), 0.0))
            .collect(),
        Instrument::Bell => Vec::new(), // FM, see below
    }
}

/// (attack s, release s, vibrato depth as a frequency ratio).
fn shape(inst: Instrument) -> (f64, f64, f64) {
    match inst {
        Instrument::Flute => (0.06, 0.08, 0.003),
        Instrument::Clarinet => (0.03, 0.05, 0.0),
        Instrument::Bell => (0.003, 0.12, 0.0),
        Instrument::Guitar => (0.004, 0.06, 0.0),
        Instrument::Organ => (0.012, 0.04, 0.0),
        Instrument::Violin => (0.08, 0.08, 0.006),
    }
}

/// Adds one note, played on `inst`, into `out` (sample rate `rate`).
pub fn add_note(out: &mut [f32], rate: u32, inst: Instrument, n: &ScoreNote) {
    let rate_f = f64::from(rate);
    let start = (n.note.start_s * rate_f).round().max(0.0) as usize;
    let len = (n.note.dur_s * rate_f).round() as usize;
    if start >= out.len() || len == 0 {
        return;
    }
    let len = len.min(out.len() - start);
    let dur = len as f64 / rate_f;
    let (attack, release, vibrato) = shape(inst);
    let parts: Vec<_> = partials(inst)
        .into_iter()
        .filter(|(h, _, _)| h * n.note.hz * 2f64.powf(n.glide.max(0.0) / 12.0) < MAX_PARTIAL_HZ)
        .collect();
    let norm: f64 = parts.iter().map(|p| p.1).sum::<f64>().max(1.0);
    let mut phase = 0.0f64;
    for i in 0..len {
        let t = i as f64 / rate_f;
        let glide = 2f64.powf(n.glide * t / dur / 12.0);
        let vib = 1.0 + vibrato * (TAU * 5.5 * t).sin() * (t / 0.2).min(1.0);
        phase += TAU * n.note.hz * glide * vib / rate_f;
        let tone = match inst {
            Instrument::Bell => {
                let index = 2.5 * (-t / 0.25).exp();
                (phase + index * (3.5 * phase).sin()).sin() * (-t / 0.5).exp()
            }
            _ => {
                parts
                    .iter()
                    .map(|&(h, a, decay)| a * (h * phase).sin() * (-decay * t).exp())
                    .sum::<f64>()
                    / norm
            }
        };
        let env = (t / attack).min(1.0) * ((dur - t) / release).clamp(0.0, 1.0);
        let modulation = match n.modulation {
            AmpMod::Flat => 1.0,
            AmpMod::Tremolo { hz, phase } => {
                0.6 + 0.4 * (TAU * (hz * (n.note.start_s + t) + phase)).cos()
            }
            AmpMod::Swell { period_s, phase } => {
                let s = (TAU * ((n.note.start_s + t) / period_s + phase)).sin();
                0.15 + 0.85 * (0.5 + 0.5 * s)
            }
        };
        out[start + i] += (n.amp * tone * env * modulation) as f32;
    }
}
