//! Which native frames WAVE's `video_decord` keeps, and the resulting effective fps.
//!
//! duration = frames / fps; n = clamp(round(duration / interval), min, max) with Python's
//! half-to-even round; indices = `np.linspace(0, frames − 1, n, dtype=int)` (floor of the f64
//! values, duplicates kept); fps = n / duration; second_per_grid = temporal_patch / fps.

use super::{PreprocessError, VideoSamplingConfig};

/// The sampling of one video.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSampling {
    /// Native frame indices to decode, in order (may repeat for very low native fps).
    pub indices: Vec<usize>,
    /// Effective frame rate of the sampled frames: indices.len() / duration.
    pub fps: f64,
    /// Seconds covered by one temporal patch: temporal_patch_size / fps (f64; the model
    /// receives it as f32, see [`FrameSampling::second_per_grid_f32`]).
    pub second_per_grid: f64,
}

impl FrameSampling {
    /// `torch.tensor([second_per_grid])`: what the position ids are computed from.
    pub fn second_per_grid_f32(&self) -> f32 {
        self.second_per_grid as f32
    }
}

/// Samples a video of `native_frames` frames at `native_fps` (decord's average fps).
pub fn sample_frames(
    native_frames: usize,
    native_fps: f64,
    temporal_patch_size: usize,
    cfg: &VideoSamplingConfig,
) -> Result<FrameSampling, PreprocessError> {
    if native_frames == 0 || !native_fps.is_finite() || native_fps <= 0.0 {
        return Err(PreprocessError::Input(format!(
            "video with {native_frames} frames at {native_fps} fps"
        )));
    }
    if cfg.base_interval_s.is_nan() || cfg.base_interval_s <= 0.0 || cfg.max_frames == 0 {
        return Err(PreprocessError::Setting(
            "video sampling interval / max_frames".into(),
        ));
    }
    let duration = native_frames as f64 / native_fps;
    let wanted = (duration / cfg.base_interval_s).round_ties_even();
    let n = (wanted.max(0.0) as usize)
        .max(cfg.min_frames)
        .min(cfg.max_frames)
        .max(1);
    let indices = linspace_floor(native_frames - 1, n);
    let fps = n as f64 / duration;
    Ok(FrameSampling {
        indices,
        fps,
        second_per_grid: temporal_patch_size as f64 / fps,
    })
}

/// `np.linspace(0, stop, num, dtype=int)`: i · (stop / (num − 1)) in f64, floored, last = stop.
fn linspace_floor(stop: usize, num: usize) -> Vec<usize> {
    if num == 1 {
        return vec![0];
    }
    let step = stop as f64 / (num - 1) as f64;
    let mut v: Vec<usize> = (0..num)
        .map(|i| (i as f64 * step).floor() as usize)
        .collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}
