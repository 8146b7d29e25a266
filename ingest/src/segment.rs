//! Cutting long media into overlapping clips, each embedded on its own.

use crate::error::{IngestError, Result};

/// How media is cut into clips.
///
/// Defaults: **30 s window, 5 s overlap, 10 s minimum clip**. Why:
/// - WAVE samples video at 2 fps and takes at most 128 frames, so a clip up to 64 s is seen
///   at full temporal resolution; longer clips are thinned out uniformly. A 30 s window is 60
///   frames, and even the longest clip this config can produce (a window whose tail absorbed a
///   short remainder: window − overlap + minimum = 35 s, 70 frames) stays under 64 s. (A model
///   that samples faster, as wave-tiny's 4 fps, sees 30 s as 120 frames and thins 35 s.)
/// - 30 s of audio is far below the audio tower's 300 s chunk, so nothing is split inside
///   the model.
/// - One embedding summarises one clip: half-minute clips keep search results precise enough
///   to jump to, while keeping the number of embeddings per hour (≈144) modest.
/// - 5 s of overlap keeps an event of up to 5 s (a spoken sentence, a short action) whole in
///   at least one clip instead of cut in two.
/// - A tail shorter than 10 s has too little content for a useful embedding of its own, so
///   it is merged into the previous clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentConfig {
    window_s: f64,
    overlap_s: f64,
    min_clip_s: f64,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            window_s: 30.0,
            overlap_s: 5.0,
            min_clip_s: 10.0,
        }
    }
}

impl SegmentConfig {
    /// A config with `window_s > 0`, `0 <= overlap_s < window_s` and
    /// `0 <= min_clip_s <= window_s` (all finite), else [`IngestError::Config`].
    pub fn new(window_s: f64, overlap_s: f64, min_clip_s: f64) -> Result<Self> {
        let finite = window_s.is_finite() && overlap_s.is_finite() && min_clip_s.is_finite();
        if !finite || window_s <= 0.0 {
            return Err(IngestError::Config(format!(
                "segment window must be a positive number of seconds, got {window_s}"
            )));
        }
        if !(0.0..window_s).contains(&overlap_s) {
            return Err(IngestError::Config(format!(
                "segment overlap {overlap_s} s must be in [0, window {window_s} s)"
            )));
        }
        if !(0.0..=window_s).contains(&min_clip_s) {
            return Err(IngestError::Config(format!(
                "minimum clip {min_clip_s} s must be in [0, window {window_s} s]"
            )));
        }
        Ok(SegmentConfig {
            window_s,
            overlap_s,
            min_clip_s,
        })
    }

    /// Clip length in seconds.
    pub fn window_s(&self) -> f64 {
        self.window_s
    }

    /// Seconds shared by consecutive clips.
    pub fn overlap_s(&self) -> f64 {
        self.overlap_s
    }

    /// A last clip shorter than this merges into the previous one.
    pub fn min_clip_s(&self) -> f64 {
        self.min_clip_s
    }

    /// Distance between consecutive clip starts.
    pub fn step_s(&self) -> f64 {
        self.window_s - self.overlap_s
    }
}

/// One clip: the time range `[start, end]` in seconds of the source media.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipSpan {
    /// Position of the clip in the media, from 0.
    pub index: usize,
    pub start: f64,
    pub end: f64,
}

impl ClipSpan {
    /// `end - start`.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }

    /// Whether `t` lies in `[start, end]` (a frame on a shared boundary belongs to both clips).
    pub fn contains(&self, t: f64) -> bool {
        t >= self.start && t <= self.end
    }
}

/// Cuts `duration` seconds into clips of `cfg.window_s()` starting every `cfg.step_s()`.
///
/// Media no longer than the window is one clip `[0, duration]`. The last clip ends exactly at
/// `duration`; if it would be shorter than `cfg.min_clip_s()`, it is dropped and the previous
/// clip is extended to `duration` instead. A duration that is zero, negative or not finite
/// gives no clips.
pub fn segment(duration: f64, cfg: &SegmentConfig) -> Vec<ClipSpan> {
    if !duration.is_finite() || duration <= 0.0 {
        return Vec::new();
    }
    let step = cfg.step_s();
    let mut clips: Vec<ClipSpan> = Vec::new();
    for index in 0usize.. {
        // Multiply rather than accumulate so starts do not drift on long media.
        let start = index as f64 * step;
        let end = (start + cfg.window_s).min(duration);
        let is_last = start + cfg.window_s >= duration;
        if is_last && end - start < cfg.min_clip_s {
            if let Some(prev) = clips.last_mut() {
                prev.end = duration;
                break;
            }
        }
        clips.push(ClipSpan { index, start, end });
        if is_last {
            break;
        }
    }
    clips
}
