//! The melody vector: a fixed-size, L2-normalised summary of a [`Contour`] that cosine
//! similarity can compare. Key-invariant because the contour is relative to its median pitch;
//! tempo-invariant because every block is resampled over the voiced span, whatever its length.
//!
//! Blocks (each L2-normalised, weighted, concatenated, then the whole normalised again):
//! * `contour`: relative pitch averaged into `contour_bins` equal time slices — the tune's shape;
//! * `coarse`: the same at `coarse_bins` slices, forgiving small timing differences;
//! * `slope`: differences between neighbouring slices of a `slope_bins + 1` resampling — the
//!   intervals, independent of the median estimate;
//! * `histogram`: time share of each relative pitch (semitone bins, soft-assigned) — which
//!   scale degrees the tune dwells on, independent of their order.

use crate::contour::{contour, Contour};
use crate::error::MelodyError;
use crate::yin::PitchTrack;

/// Semitones either side of the median the histogram covers.
const HISTOGRAM_REACH: i32 = 12;

/// Shape of the melody vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbeddingConfig {
    pub contour_bins: usize,
    pub coarse_bins: usize,
    pub slope_bins: usize,
    pub contour_weight: f32,
    pub coarse_weight: f32,
    pub slope_weight: f32,
    pub histogram_weight: f32,
    /// Less voiced sound than this (seconds) is no melody.
    pub min_voiced_s: f64,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        EmbeddingConfig {
            contour_bins: 32,
            coarse_bins: 12,
            slope_bins: 16,
            contour_weight: 1.0,
            coarse_weight: 1.0,
            slope_weight: 1.0,
            histogram_weight: 3.0,
            min_voiced_s: 0.25,
        }
    }
}

impl EmbeddingConfig {
    /// Length of the vectors this configuration makes.
    pub fn dim(&self) -> usize {
        self.contour_bins + self.coarse_bins + self.slope_bins + (2 * HISTOGRAM_REACH + 1) as usize
    }
}

/// The melody vector of a pitch track.
pub fn embed_track(track: &PitchTrack, cfg: &EmbeddingConfig) -> Result<Vec<f32>, MelodyError> {
    Ok(embed_contour(&contour(track, cfg.min_voiced_s)?, cfg))
}

/// The melody vector of a contour.
pub fn embed_contour(c: &Contour, cfg: &EmbeddingConfig) -> Vec<f32> {
    let mut out = Vec::with_capacity(cfg.dim());
    let fine = resample(&c.rel_semitones, cfg.contour_bins);
    push_block(&mut out, &fine, cfg.contour_weight);
    let coarse = resample(&c.rel_semitones, cfg.coarse_bins);
    push_block(&mut out, &coarse, cfg.coarse_weight);
    let steps = resample(&c.rel_semitones, cfg.slope_bins + 1);
    let slope: Vec<f32> = steps.windows(2).map(|w| w[1] - w[0]).collect();
    push_block(&mut out, &slope, cfg.slope_weight);
    push_block(&mut out, &histogram(c), cfg.histogram_weight);
    normalise(&mut out);
    out
}

/// Averages the piecewise-constant series `x` over `n` equal slices of its length.
pub(crate) fn resample(x: &[f32], n: usize) -> Vec<f32> {
    let len = x.len() as f64;
    (0..n)
        .map(|b| {
            let lo = b as f64 * len / n as f64;
            let hi = (b + 1) as f64 * len / n as f64;
            let mut sum = 0f64;
            let mut i = lo.floor() as usize;
            while (i as f64) < hi && i < x.len() {
                let overlap = (hi.min(i as f64 + 1.0) - lo.max(i as f64)).max(0.0);
                sum += overlap * f64::from(x[i]);
                i += 1;
            }
            (sum / (hi - lo)) as f32
        })
        .collect()
}

/// Time share of each relative pitch over the voiced frames, split between the two nearest
/// semitone bins.
fn histogram(c: &Contour) -> Vec<f32> {
    let bins = (2 * HISTOGRAM_REACH + 1) as usize;
    let mut h = vec![0f32; bins];
    let reach = HISTOGRAM_REACH as f32;
    for (s, _) in c.rel_semitones.iter().zip(&c.voiced).filter(|(_, v)| **v) {
        let pos = s.clamp(-reach, reach) + reach;
        let lo = pos.floor() as usize;
        let frac = pos - lo as f32;
        h[lo] += 1.0 - frac;
        if lo + 1 < bins {
            h[lo + 1] += frac;
        }
    }
    h
}

/// Appends `block` scaled to length `weight` (a flat block stays zero).
fn push_block(out: &mut Vec<f32>, block: &[f32], weight: f32) {
    let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
    let scale = if norm > 1e-6 { weight / norm } else { 0.0 };
    out.extend(block.iter().map(|v| v * scale));
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_averages_slices_of_any_length() {
        assert_eq!(resample(&[1.0, 1.0, 3.0, 3.0], 2), vec![1.0, 3.0]);
        assert_eq!(resample(&[2.0, 4.0], 4), vec![2.0, 2.0, 4.0, 4.0]);
        let r = resample(&[0.0, 3.0, 6.0], 2);
        assert!((r[0] - 1.0).abs() < 1e-6 && (r[1] - 5.0).abs() < 1e-6);
    }
}
