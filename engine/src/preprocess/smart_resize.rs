//! Qwen2-VL's `smart_resize`: the frame size the processor resizes to. Both sides become
//! multiples of `factor` (patch · merge), the area stays within [min_pixels, max_pixels] and
//! the aspect ratio is roughly kept. Python's `round` rounds half to even, kept here.

use super::PreprocessError;

/// (height, width) -> (resized_height, resized_width).
pub fn smart_resize(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize), PreprocessError> {
    if height == 0 || width == 0 || factor == 0 {
        return Err(PreprocessError::Input(format!(
            "cannot resize a {height}x{width} frame with factor {factor}"
        )));
    }
    let (h, w, f) = (height as f64, width as f64, factor as f64);
    if h.max(w) / h.min(w) > 200.0 {
        return Err(PreprocessError::Input(format!(
            "aspect ratio of {height}x{width} exceeds 200"
        )));
    }
    let mut h_bar = (h / f).round_ties_even() * f;
    let mut w_bar = (w / f).round_ties_even() * f;
    if h_bar * w_bar > max_pixels as f64 {
        let beta = (h * w / max_pixels as f64).sqrt();
        h_bar = f.max((h / beta / f).floor() * f);
        w_bar = f.max((w / beta / f).floor() * f);
    } else if h_bar * w_bar < min_pixels as f64 {
        let beta = (min_pixels as f64 / (h * w)).sqrt();
        h_bar = (h * beta / f).ceil() * f;
        w_bar = (w * beta / f).ceil() * f;
    }
    Ok((h_bar as usize, w_bar as usize))
}
