//! From a pitch track to a melody contour: the voiced pitch in semitones relative to the tune's
//! median, cleaned of blips and octave spikes, over the span from the first to the last voiced
//! frame with the gaps between notes bridged. Relative pitch makes it key-invariant; taking the
//! voiced span (not the clip) as the time axis lets the embedding normalise tempo.

use crate::error::MelodyError;
use crate::yin::PitchTrack;

/// Voiced runs shorter than this many frames are blips (clicks, noise), not notes.
const MIN_RUN_FRAMES: usize = 4;

/// Half-width of the median filter that removes single-frame octave errors.
const MEDIAN_HALF: usize = 2;

/// Relative pitches are clipped to this many semitones (an octave and a fifth) so a stray
/// octave error cannot dominate.
pub const MAX_REL_SEMITONES: f32 = 19.0;

/// The cleaned contour of a tune.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// Semitones relative to the median voiced pitch, one per frame from the first to the last
    /// voiced frame; unvoiced frames inside are linearly bridged.
    pub rel_semitones: Vec<f32>,
    /// Which of those frames were voiced.
    pub voiced: Vec<bool>,
    /// The median voiced pitch, Hz (the tune's reference; dropped by the embedding).
    pub median_hz: f32,
    /// Seconds per frame.
    pub hop_s: f32,
}

/// Builds the contour; errors when less than `min_voiced_s` of voiced sound is left.
pub fn contour(track: &PitchTrack, min_voiced_s: f64) -> Result<Contour, MelodyError> {
    let semis: Vec<Option<f32>> = track
        .frames
        .iter()
        .map(|f| f.hz.map(|hz| 12.0 * (hz / 440.0).log2() + 69.0))
        .collect();
    let semis = drop_short_runs(&semis, MIN_RUN_FRAMES);
    let semis = median_filter_runs(&semis, MEDIAN_HALF);
    let voiced_frames = semis.iter().filter(|s| s.is_some()).count();
    let voiced_s = voiced_frames as f64 * f64::from(track.hop_s);
    if voiced_s < min_voiced_s {
        return Err(MelodyError::NoPitch {
            voiced_s,
            min_voiced_s,
        });
    }
    let first = semis.iter().position(Option::is_some).unwrap_or(0);
    let last = semis.iter().rposition(Option::is_some).unwrap_or(0);
    let span = &semis[first..=last];
    let mut sorted: Vec<f32> = span.iter().flatten().copied().collect();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2];
    let bridged = bridge_gaps(span);
    Ok(Contour {
        rel_semitones: bridged
            .iter()
            .map(|s| (s - median).clamp(-MAX_REL_SEMITONES, MAX_REL_SEMITONES))
            .collect(),
        voiced: span.iter().map(Option::is_some).collect(),
        median_hz: 440.0 * 2f32.powf((median - 69.0) / 12.0),
        hop_s: track.hop_s,
    })
}

/// Unvoices runs of voiced frames shorter than `min`.
fn drop_short_runs(semis: &[Option<f32>], min: usize) -> Vec<Option<f32>> {
    let mut out = semis.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i].is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < out.len() && out[i].is_some() {
            i += 1;
        }
        if i - start < min {
            out[start..i].iter_mut().for_each(|s| *s = None);
        }
    }
    out
}

/// Median of each voiced frame's voiced neighbours within `half` frames (same run only).
fn median_filter_runs(semis: &[Option<f32>], half: usize) -> Vec<Option<f32>> {
    let mut out = semis.to_vec();
    let mut window = Vec::with_capacity(2 * half + 1);
    for (i, s) in semis.iter().enumerate() {
        if s.is_none() {
            continue;
        }
        window.clear();
        let lo = i.saturating_sub(half);
        let hi = (i + half).min(semis.len() - 1);
        // Stay inside this voiced run: a neighbour across a gap is another note.
        let mut a = i;
        while a > lo && semis[a - 1].is_some() {
            a -= 1;
        }
        let mut b = i;
        while b < hi && semis[b + 1].is_some() {
            b += 1;
        }
        window.extend(semis[a..=b].iter().flatten());
        window.sort_by(f32::total_cmp);
        out[i] = Some(window[window.len() / 2]);
    }
    out
}

/// Fills unvoiced frames between voiced ones by linear interpolation (ends are voiced).
fn bridge_gaps(span: &[Option<f32>]) -> Vec<f32> {
    let mut out = vec![0f32; span.len()];
    let mut prev: Option<(usize, f32)> = None;
    for (i, s) in span.iter().enumerate() {
        let Some(v) = *s else { continue };
        out[i] = v;
        if let Some((p, pv)) = prev {
            for (k, o) in out.iter_mut().enumerate().take(i).skip(p + 1) {
                let u = (k - p) as f32 / (i - p) as f32;
                *o = pv + (v - pv) * u;
            }
        }
        prev = Some((i, v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_runs_are_dropped_and_gaps_bridged() {
        let s = [
            Some(1.0),
            None,
            Some(5.0),
            Some(5.0),
            Some(5.0),
            Some(5.0),
            None,
            None,
            Some(8.0),
            Some(8.0),
            Some(8.0),
            Some(8.0),
        ];
        let d = drop_short_runs(&s, 4);
        assert_eq!(d[0], None);
        assert_eq!(d[2], Some(5.0));
        let b = bridge_gaps(&d[2..]);
        assert_eq!(b[4], 6.0);
        assert_eq!(b[5], 7.0);
    }

    #[test]
    fn median_filter_removes_a_single_octave_spike() {
        let s = [Some(60.0), Some(60.0), Some(72.0), Some(60.0), Some(60.0)];
        let m = median_filter_runs(&s, 2);
        assert!(m.iter().all(|v| *v == Some(60.0)));
    }
}
