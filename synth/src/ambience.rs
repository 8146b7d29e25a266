//! Background sounds: each backdrop's ambience, and broadband noise.

use std::f64::consts::TAU;

use crate::rng::Rng;
use crate::world::Ambience;

/// `len` samples of the ambience at `rate`, roughly unit RMS while active.
pub fn ambience(kind: Ambience, len: usize, rate: u32, rng: &mut Rng) -> Vec<f32> {
    let r = f64::from(rate);
    let mut out = vec![0f32; len];
    match kind {
        Ambience::Crickets => {
            // Chirps of three 4-5 kHz pulses, about twice a second.
            let hz = rng.uniform(4200.0, 5200.0);
            let mut at = rng.uniform(0.0, 0.4);
            while at < len as f64 / r {
                for pulse in 0..3 {
                    let s0 = ((at + pulse as f64 * 0.035) * r) as usize;
                    let n = (0.022 * r) as usize;
                    for i in 0..n {
                        if let Some(o) = out.get_mut(s0 + i) {
                            let t = i as f64 / r;
                            let env = (std::f64::consts::PI * i as f64 / n as f64).sin();
                            *o += (2.0 * env * (TAU * hz * t).sin()) as f32;
                        }
                    }
                }
                at += rng.uniform(0.35, 0.65);
            }
        }
        Ambience::Wind => {
            // Brown-ish noise (leaky integration of white noise), slowly swelling.
            let swell_hz = rng.uniform(0.2, 0.5);
            let phase = rng.unit();
            let mut y = 0.0f64;
            for (i, o) in out.iter_mut().enumerate() {
                y = 0.985 * y + 0.17 * rng.normal();
                let t = i as f64 / r;
                let g = 0.6 + 0.4 * (TAU * (swell_hz * t + phase)).sin();
                *o = (y * g) as f32;
            }
        }
        Ambience::Ticking => {
            // Tick-tock of a clock, two a second, alternating pitch.
            let mut at = rng.uniform(0.0, 0.5);
            let mut tick = true;
            while at < len as f64 / r {
                let hz = if tick { 2200.0 } else { 1700.0 };
                let s0 = (at * r) as usize;
                for i in 0..(0.03 * r) as usize {
                    if let Some(o) = out.get_mut(s0 + i) {
                        let t = i as f64 / r;
                        *o += (3.0 * (-t / 0.006).exp() * (TAU * hz * t).sin()) as f32;
                    }
                }
                tick = !tick;
                at += 0.5;
            }
        }
        Ambience::Rain => {
            // A hiss of high-passed noise with random droplets.
            let mut prev = 0.0f64;
            for o in out.iter_mut() {
                let w = rng.normal();
                *o = (0.35 * (w - prev)) as f32;
                prev = w;
            }
            let drops = (len as f64 / r * 30.0) as usize;
            for _ in 0..drops {
                let s0 = rng.below(len.max(1));
                let hz = rng.uniform(1500.0, 4000.0);
                for i in 0..(0.015 * r) as usize {
                    if let Some(o) = out.get_mut(s0 + i) {
                        let t = i as f64 / r;
                        *o += (1.5 * (-t / 0.004).exp() * (TAU * hz * t).sin()) as f32;
                    }
                }
            }
        }
    }
    out
}

/// Root mean square.
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Adds `noise` scaled to sit `db_below` dB under `signal_rms`.
pub fn mix_below(out: &mut [f32], noise: &[f32], signal_rms: f64, db_below: f64) {
    let n = rms(noise);
    if n <= 0.0 {
        return;
    }
    let gain = signal_rms * 10f64.powf(-db_below / 20.0) / n;
    for (o, v) in out.iter_mut().zip(noise) {
        *o += (f64::from(*v) * gain) as f32;
    }
}

/// Adds white noise at `snr_db` below `signal_rms`.
pub fn add_white(out: &mut [f32], signal_rms: f64, snr_db: f64, rng: &mut Rng) {
    let sigma = signal_rms * 10f64.powf(-snr_db / 20.0);
    for o in out.iter_mut() {
        *o += (sigma * rng.normal()) as f32;
    }
}

/// Scales `x` so its peak is at most `peak`.
pub fn limit_peak(x: &mut [f32], peak: f32) {
    let m = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    if m > peak {
        let g = peak / m;
        x.iter_mut().for_each(|v| *v *= g);
    }
}
