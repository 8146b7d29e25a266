//! From a pitch track to a melody contour: the voiced pitch in semitones relative to the tune's
//! median, cleaned of blips, octave spikes and octave jumps, over the span from the first to the
//! last voiced frame with the gaps between notes bridged. Relative pitch makes it key-invariant;
//! taking the voiced span (not the clip) as the time axis lets the embedding normalise tempo.

use std::collections::VecDeque;

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
    let semis = fold_octave_jumps(&semis, track.hop_s);
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

/// A frame further than this many semitones from the voiced frames just before it is an octave
/// error: tunes rarely leap further, and the tracker's commonest mistake is a whole octave (an
/// inharmonic bell's partials share a period of twice its pitch's while they ring, so the
/// start of each note reads an octave low).
const MAX_MELODIC_LEAP: f32 = 9.0;

/// The folding reference is the median of the voiced frames of this many seconds before (after
/// folding), so a few stray frames (another sound, a consonant) cannot move the octave of all
/// that follows. Chosen on the synthetic corpus's val hums among 0.01-10 s (see README).
const FOLD_HISTORY_S: f32 = 0.3;

/// Moves each voiced frame by whole octaves to within [`MAX_MELODIC_LEAP`] of the voiced frames
/// before it (the median of the last [`FOLD_HISTORY_S`] of them, across gaps too), so the
/// contour keeps one octave throughout. Query and stored clips are folded alike, so a tune with
/// a true octave leap still matches itself.
fn fold_octave_jumps(semis: &[Option<f32>], hop_s: f32) -> Vec<Option<f32>> {
    let history = ((FOLD_HISTORY_S / hop_s).round() as usize).max(1);
    let mut recent: VecDeque<f32> = VecDeque::with_capacity(history);
    let mut sorted = Vec::with_capacity(history);
    semis
        .iter()
        .map(|s| {
            let mut v = (*s)?;
            if !recent.is_empty() {
                sorted.clear();
                sorted.extend(recent.iter().copied());
                sorted.sort_by(f32::total_cmp);
                let leap = v - sorted[sorted.len() / 2];
                if leap.abs() > MAX_MELODIC_LEAP {
                    v -= 12.0 * (leap / 12.0).round();
                }
            }
            if recent.len() == history {
                recent.pop_front();
            }
            recent.push_back(v);
            Some(v)
        })
        .collect()
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
    fn octave_jumps_fold_back_and_melodic_steps_stay() {
        // At a 0.1 s hop the history is three frames. A note read an octave low at its start
        // (a bell's attack), a step of a fourth, a two-octave error across a gap, a step up.
        let s = [
            Some(48.0),
            Some(60.0),
            Some(60.0),
            Some(60.0),
            Some(65.0),
            None,
            Some(89.0),
            Some(67.0),
        ];
        let want = [
            Some(48.0),
            Some(48.0),
            Some(48.0),
            Some(48.0),
            Some(53.0),
            None,
            Some(53.0),
            Some(55.0),
        ];
        assert_eq!(fold_octave_jumps(&s, 0.1), want);
    }

    #[test]
    fn a_stray_frame_does_not_move_the_octave_of_what_follows() {
        // Three frames of other sounds inside a held note. Measured against the previous frame
        // alone, the third (57) would stay where it is, as it is within 9 semitones of the
        // second once folded (65), and every frame after it would fold an octave down to 57.
        let mut s = vec![Some(69.0); 10];
        s.extend([Some(56.0), Some(41.0), Some(57.0)]);
        s.extend(vec![Some(69.0); 10]);
        let f = fold_octave_jumps(&s, 0.1);
        assert!(f[13..].iter().all(|v| *v == Some(69.0)), "{f:?}");
    }

    #[test]
    fn median_filter_removes_a_single_octave_spike() {
        let s = [Some(60.0), Some(60.0), Some(72.0), Some(60.0), Some(60.0)];
        let m = median_filter_runs(&s, 2);
        assert!(m.iter().all(|v| *v == Some(60.0)));
    }
}
