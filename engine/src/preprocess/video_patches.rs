//! Video frames to the vision tower's patch rows, as Qwen2VLImageProcessor does for videos:
//! smart_resize + Pillow bicubic resize per frame, rescale (f64 then f32), CLIP mean/std
//! normalisation in f32, frame count padded to a multiple of the temporal patch by repeating
//! the last frame, then the patch flatten order
//! `(t, tp, C, h/m, m, p, w/m, m, p) -> transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)`.

use super::{
    resize_bicubic, sample_frames, smart_resize, FrameSampling, ImageProcessorConfig,
    PreprocessError, VideoSamplingConfig,
};

/// RGB: the processor's channel count.
const CHANNELS: usize = 3;

/// Processor output for one video.
#[derive(Debug, Clone)]
pub struct VideoPatches {
    /// (n_patches, patch_dim) row-major: `pixel_values_videos`.
    pub pixel_values: Vec<f32>,
    pub n_patches: usize,
    /// C · temporal_patch · patch · patch (1176 for Qwen2.5-Omni).
    pub patch_dim: usize,
    /// (t, h, w) in patches: `video_grid_thw`.
    pub grid_thw: [usize; 3],
    /// Frame size after smart_resize (height, width) in pixels.
    pub resized_hw: (usize, usize),
}

/// Processes already-sampled frames: `frames` is (n_frames, height, width, 3) uint8 RGB.
pub fn preprocess_frames(
    frames: &[u8],
    n_frames: usize,
    height: usize,
    width: usize,
    cfg: &ImageProcessorConfig,
) -> Result<VideoPatches, PreprocessError> {
    let frame_len = height * width * CHANNELS;
    if n_frames == 0 || frames.len() != n_frames * frame_len {
        return Err(PreprocessError::Input(format!(
            "{} bytes are not {n_frames} frames of {height}x{width}x3",
            frames.len()
        )));
    }
    let (p, tp, m) = (cfg.patch_size, cfg.temporal_patch_size, cfg.merge_size);
    if p == 0 || tp == 0 || m == 0 {
        return Err(PreprocessError::Setting(
            "patch sizes must be positive".into(),
        ));
    }
    let (rh, rw) = smart_resize(height, width, cfg.factor(), cfg.min_pixels, cfg.max_pixels)?;

    // Normalised frames, channel-first (C, rh, rw) each.
    let mean = cfg.image_mean.map(|x| x as f32);
    let std = cfg.image_std.map(|x| x as f32);
    let mut planes: Vec<Vec<f32>> = Vec::with_capacity(n_frames + tp);
    for frame in frames.chunks_exact(frame_len) {
        let resized = resize_bicubic(frame, height, width, CHANNELS, rh, rw)?;
        let mut chw = vec![0.0f32; CHANNELS * rh * rw];
        for (i, px) in resized.chunks_exact(CHANNELS).enumerate() {
            for c in 0..CHANNELS {
                let rescaled = (px[c] as f64 * cfg.rescale_factor) as f32;
                chw[c * rh * rw + i] = (rescaled - mean[c]) / std[c];
            }
        }
        planes.push(chw);
    }
    // The processor appends temporal_patch − 1 copies of the last frame when not divisible.
    if !planes.len().is_multiple_of(tp) {
        let last = planes[planes.len() - 1].clone();
        planes.extend(std::iter::repeat_n(last, tp - 1));
    }

    let grid = [planes.len() / tp, rh / p, rw / p];
    let [gt, gh, gw] = grid;
    let patch_dim = CHANNELS * tp * p * p;
    let n_patches = gt * gh * gw;
    let mut pixel_values = Vec::with_capacity(n_patches * patch_dim);
    // Row order: t, merged row, merged column, row within merge, column within merge.
    for t in 0..gt {
        for bh in 0..gh / m {
            for bw in 0..gw / m {
                for mh in 0..m {
                    for mw in 0..m {
                        let (y0, x0) = ((bh * m + mh) * p, (bw * m + mw) * p);
                        // Column order: channel, frame within the temporal patch, y, x.
                        for c in 0..CHANNELS {
                            for tt in 0..tp {
                                let plane = &planes[t * tp + tt][c * rh * rw..(c + 1) * rh * rw];
                                for y in y0..y0 + p {
                                    pixel_values
                                        .extend_from_slice(&plane[y * rw + x0..y * rw + x0 + p]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(VideoPatches {
        pixel_values,
        n_patches,
        patch_dim,
        grid_thw: grid,
        resized_hw: (rh, rw),
    })
}

/// The whole video path from decoded frames: samples frame indices from the native frame
/// count and fps, gathers those frames from `all_frames` ((native_frames, H, W, 3) uint8) and
/// processes them. Returns the patches and the sampling (indices, fps, second_per_grid).
pub fn preprocess_video(
    all_frames: &[u8],
    native_frames: usize,
    height: usize,
    width: usize,
    native_fps: f64,
    image_cfg: &ImageProcessorConfig,
    sampling_cfg: &VideoSamplingConfig,
) -> Result<(VideoPatches, FrameSampling), PreprocessError> {
    let frame_len = height * width * CHANNELS;
    if all_frames.len() != native_frames * frame_len {
        return Err(PreprocessError::Input(format!(
            "{} bytes are not {native_frames} frames of {height}x{width}x3",
            all_frames.len()
        )));
    }
    let sampling = sample_frames(
        native_frames,
        native_fps,
        image_cfg.temporal_patch_size,
        sampling_cfg,
    )?;
    let mut picked = Vec::with_capacity(sampling.indices.len() * frame_len);
    for &i in &sampling.indices {
        picked.extend_from_slice(&all_frames[i * frame_len..(i + 1) * frame_len]);
    }
    let patches = preprocess_frames(&picked, sampling.indices.len(), height, width, image_cfg)?;
    Ok((patches, sampling))
}
