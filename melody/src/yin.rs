//! YIN pitch tracking (de Cheveigné & Kawahara, 2002) on mono PCM, with a voicing decision:
//! a frame is voiced when it is periodic enough (the cumulative-mean-normalised difference
//! dips below a threshold) and loud enough relative to the loudest frame.

use crate::error::MelodyError;

/// Rate the tracker works at; faster input is decimated to about this (pitch needs no more).
const WORK_RATE: u32 = 16_000;

/// Below this RMS (about -100 dBFS) the whole clip counts as silent.
const SILENCE_RMS: f32 = 1e-5;

/// Tunables of the tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchConfig {
    /// Lowest pitch searched, Hz.
    pub min_hz: f32,
    /// Highest pitch searched, Hz.
    pub max_hz: f32,
    /// Seconds between frames.
    pub hop_s: f32,
    /// A frame is periodic when its normalised difference dips below this (YIN's threshold).
    pub threshold: f32,
    /// Frames quieter than the loudest frame by more than this many dB are unvoiced.
    pub floor_db: f32,
}

impl Default for PitchConfig {
    fn default() -> Self {
        // 55 Hz (a low male hum) to 3 kHz (a high whistle or a very high instrument).
        PitchConfig {
            min_hz: 55.0,
            max_hz: 3000.0,
            hop_s: 0.01,
            threshold: 0.15,
            floor_db: 30.0,
        }
    }
}

/// One analysis frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchFrame {
    /// Centre of the frame, seconds from the start.
    pub time_s: f32,
    /// The pitch, when the frame is voiced.
    pub hz: Option<f32>,
    /// YIN's normalised difference at the chosen lag (0: perfectly periodic).
    pub aperiodicity: f32,
    /// RMS level of the frame.
    pub rms: f32,
}

/// A pitch track: one frame every `hop_s` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchTrack {
    pub hop_s: f32,
    pub frames: Vec<PitchFrame>,
}

impl PitchTrack {
    /// Seconds of voiced frames.
    pub fn voiced_seconds(&self) -> f64 {
        self.frames.iter().filter(|f| f.hz.is_some()).count() as f64 * f64::from(self.hop_s)
    }
}

/// Tracks the pitch of `samples` (mono, at `rate` Hz).
pub fn track_pitch(
    samples: &[f32],
    rate: u32,
    cfg: &PitchConfig,
) -> Result<PitchTrack, MelodyError> {
    if !(8_000..=384_000).contains(&rate) {
        return Err(MelodyError::BadRate(rate));
    }
    if samples.iter().any(|s| !s.is_finite()) {
        return Err(MelodyError::NonFinite);
    }
    let (x, work_rate) = decimate(samples, rate);
    let r = work_rate as f32;
    let tau_min = ((r / cfg.max_hz).floor() as usize).max(2);
    let tau_max = (r / cfg.min_hz).ceil() as usize;
    // The integration window spans the longest period searched plus half again, so even the
    // lowest pitch is seen over more than one cycle.
    let window = tau_max + tau_max / 2;
    let span = window + tau_max + 1;
    if x.len() < span {
        return Err(MelodyError::TooShort {
            seconds: samples.len() as f64 / f64::from(rate),
            min_seconds: span as f64 / f64::from(work_rate),
        });
    }
    let hop = ((cfg.hop_s * r).round() as usize).max(1);
    let hop_s = hop as f32 / r;
    let mut frames = Vec::with_capacity((x.len() - span) / hop + 1);
    let mut diff = vec![0f32; tau_max + 2];
    let mut raw = vec![0f32; tau_max + 2];
    let mut start = 0;
    while start + span <= x.len() {
        let frame = &x[start..start + span];
        let rms = (frame[..window].iter().map(|v| v * v).sum::<f32>() / window as f32).sqrt();
        let (lag, aperiodicity) = best_lag(
            frame,
            window,
            tau_min,
            tau_max,
            cfg.threshold,
            &mut diff,
            &mut raw,
        );
        frames.push(PitchFrame {
            time_s: (start + window / 2) as f32 / r,
            hz: lag.map(|l| r / l),
            aperiodicity,
            rms,
        });
        start += hop;
    }
    let loudest = frames.iter().map(|f| f.rms).fold(0f32, f32::max);
    if loudest < SILENCE_RMS {
        return Err(MelodyError::Silent);
    }
    let floor = loudest * 10f32.powf(-cfg.floor_db / 20.0);
    for f in &mut frames {
        if f.rms < floor || f.rms < SILENCE_RMS {
            f.hz = None;
        }
    }
    Ok(PitchTrack { hop_s, frames })
}

/// Averages groups of samples down to about [`WORK_RATE`] (a box low-pass, enough for pitch).
fn decimate(samples: &[f32], rate: u32) -> (Vec<f32>, u32) {
    let factor = (rate / WORK_RATE).max(1) as usize;
    if factor == 1 {
        return (samples.to_vec(), rate);
    }
    let out = samples
        .chunks_exact(factor)
        .map(|c| c.iter().sum::<f32>() / factor as f32)
        .collect();
    (out, rate / factor as u32)
}

/// YIN on one frame: the lag (fractional, samples) of the first dip of the normalised
/// difference below `threshold`, refined to its local minimum and by a parabola; `None` when
/// no lag is periodic enough. Also returns the normalised difference at the chosen lag.
fn best_lag(
    frame: &[f32],
    window: usize,
    tau_min: usize,
    tau_max: usize,
    threshold: f32,
    diff: &mut [f32],
    raw: &mut [f32],
) -> (Option<f32>, f32) {
    // Squared difference between the window and its copy `tau` samples later.
    let head = &frame[..window];
    diff[0] = 0.0;
    for tau in 1..=tau_max + 1 {
        let later = &frame[tau..tau + window];
        diff[tau] = head.iter().zip(later).map(|(a, b)| (a - b) * (a - b)).sum();
    }
    raw.copy_from_slice(diff);
    // Cumulative-mean normalisation: removes the dip at lag 0 and makes the scale absolute.
    let mut running = 0f32;
    for (tau, d) in diff.iter_mut().enumerate().take(tau_max + 2).skip(1) {
        running += *d;
        *d = if running > 0.0 {
            *d * tau as f32 / running
        } else {
            1.0
        };
    }
    let mut chosen = None;
    let mut tau = tau_min;
    while tau <= tau_max {
        if diff[tau] < threshold {
            while tau < tau_max && diff[tau + 1] < diff[tau] {
                tau += 1;
            }
            chosen = Some(tau);
            break;
        }
        tau += 1;
    }
    let Some(tau) = chosen else {
        let lowest = diff[tau_min..=tau_max]
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        return (None, lowest);
    };
    // The parabola goes through the raw difference: normalisation tilts the dip and biases
    // short lags (high pitches).
    let (a, b, c) = (raw[tau - 1], raw[tau], raw[tau + 1]);
    let curvature = a - 2.0 * b + c;
    let shift = if curvature > 0.0 {
        (0.5 * (a - c) / curvature).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    (Some(tau as f32 + shift), diff[tau])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_rate_below_twice_work_rate() {
        let (x, r) = decimate(&vec![0.5; 48_000], 48_000);
        assert_eq!(r, 16_000);
        assert_eq!(x.len(), 16_000);
        assert!(x.iter().all(|v| (v - 0.5).abs() < 1e-6));
    }
}
