//! Pillow-compatible bicubic resize of 8-bit images (`Image.resize(size, BICUBIC)`), bit-exact
//! with Pillow 13 (the reference's version): separable two-pass convolution with the a = −0.5
//! cubic kernel, its support stretched by the scale when downscaling, per-pixel coefficients
//! normalised to sum 1 and quantised to 22-bit fixed point, uint8 rounding/clipping after each
//! pass. The pass order matters for that rounding: horizontal first, except when the height
//! shrinks by more than twice as many pixels as the width (Pillow 13 then goes vertical first;
//! Pillow ≤ 12 always went horizontal first).

use super::PreprocessError;

/// Fixed-point fraction bits of the coefficients (Pillow's PRECISION_BITS = 32 − 8 − 2).
const PRECISION_BITS: u32 = 22;
/// Pillow's BICUBIC support radius.
const SUPPORT: f64 = 2.0;

/// Cubic convolution kernel with a = −0.5.
fn bicubic(x: f64) -> f64 {
    let a = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * a
    } else {
        0.0
    }
}

/// Per output pixel: first input index and fixed-point weights.
struct Coeffs {
    first: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

/// Coefficients mapping `in_size` samples onto `out_size` (Pillow's precompute_coeffs with
/// the whole image as box, then normalize_coeffs_8bpc).
fn coefficients(in_size: usize, out_size: usize) -> Coeffs {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = SUPPORT * filter_scale;
    // Pillow multiplies by the reciprocal; kept for bit-identical weights.
    let inv_scale = 1.0 / filter_scale;
    let mut first = Vec::with_capacity(out_size);
    let mut weights = Vec::with_capacity(out_size);
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        // C casts truncate toward zero; the values here are > -1 so this is (int)(v + 0.5).
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
        let raw: Vec<f64> = (xmin..xmax)
            .map(|x| bicubic((x as f64 - center + 0.5) * inv_scale))
            .collect();
        let total: f64 = raw.iter().sum();
        let fixed = raw
            .iter()
            .map(|&w| {
                let w = if total != 0.0 { w / total } else { w };
                let scaled = w * (1u32 << PRECISION_BITS) as f64;
                // Round half away from zero, then truncate like the C cast.
                (if w < 0.0 { scaled - 0.5 } else { scaled + 0.5 }) as i32
            })
            .collect();
        first.push(xmin);
        weights.push(fixed);
    }
    Coeffs { first, weights }
}

/// Fixed-point accumulator back to uint8: drop the fraction (arithmetic shift), clamp.
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes an interleaved uint8 image (height, width, channels) to (out_h, out_w).
/// Same size returns a copy, as Pillow does.
pub fn resize_bicubic(
    pixels: &[u8],
    height: usize,
    width: usize,
    channels: usize,
    out_h: usize,
    out_w: usize,
) -> Result<Vec<u8>, PreprocessError> {
    if pixels.len() != height * width * channels || height == 0 || width == 0 || channels == 0 {
        return Err(PreprocessError::Input(format!(
            "{} bytes are not a {height}x{width}x{channels} image",
            pixels.len()
        )));
    }
    if out_h == 0 || out_w == 0 {
        return Err(PreprocessError::Input(format!(
            "cannot resize to {out_h}x{out_w}"
        )));
    }
    let need_horizontal = out_w != width;
    let need_vertical = out_h != height;
    // Pillow 13 runs the vertical pass first when the height shrinks by more than twice as
    // many pixels as the width does (the order changes the uint8 rounding in between).
    let (dh, dw) = (height as i64 - out_h as i64, width as i64 - out_w as i64);
    let vertical_first = dh > 0 && dh > dw * 2;
    let image = Plane {
        pixels: pixels.to_vec(),
        width,
        channels,
    };
    let vert = coefficients(height, out_h);
    let out = if vertical_first {
        let mut image = image;
        if need_vertical {
            image = vertical_pass(&image, &vert, 0);
        }
        if need_horizontal {
            image = horizontal_pass(&image, &coefficients(width, out_w), 0, out_h);
        }
        image
    } else if need_horizontal {
        // Only the source rows the vertical pass reads are resampled horizontally.
        let row0 = vert.first[0];
        let row_end = vert.first[out_h - 1] + vert.weights[out_h - 1].len();
        let rows = if need_vertical {
            row_end - row0
        } else {
            height
        };
        let row0 = if need_vertical { row0 } else { 0 };
        let tmp = horizontal_pass(&image, &coefficients(width, out_w), row0, rows);
        if need_vertical {
            vertical_pass(&tmp, &vert, row0)
        } else {
            tmp
        }
    } else if need_vertical {
        vertical_pass(&image, &vert, 0)
    } else {
        image
    };
    Ok(out.pixels)
}

/// An interleaved uint8 image of `width` columns.
struct Plane {
    pixels: Vec<u8>,
    width: usize,
    channels: usize,
}

/// Resamples rows `row0 .. row0 + rows` of `src` to the coefficient set's output width.
fn horizontal_pass(src: &Plane, coeffs: &Coeffs, row0: usize, rows: usize) -> Plane {
    let ch = src.channels;
    let out_w = coeffs.first.len();
    let half = 1i32 << (PRECISION_BITS - 1);
    let mut out = vec![0u8; rows * out_w * ch];
    for (y, out_row) in out.chunks_exact_mut(out_w * ch).enumerate() {
        let start = (y + row0) * src.width * ch;
        let in_row = &src.pixels[start..start + src.width * ch];
        for (xx, out_px) in out_row.chunks_exact_mut(ch).enumerate() {
            let x0 = coeffs.first[xx];
            for (c, o) in out_px.iter_mut().enumerate() {
                let mut acc = half;
                for (k, &w) in coeffs.weights[xx].iter().enumerate() {
                    acc += in_row[(x0 + k) * ch + c] as i32 * w;
                }
                *o = clip8(acc);
            }
        }
    }
    Plane {
        pixels: out,
        width: out_w,
        channels: ch,
    }
}

/// Resamples columns to the coefficient set's output height; `src` row 0 is source row `row0`.
fn vertical_pass(src: &Plane, coeffs: &Coeffs, row0: usize) -> Plane {
    let stride = src.width * src.channels;
    let out_h = coeffs.first.len();
    let half = 1i32 << (PRECISION_BITS - 1);
    let mut out = vec![0u8; out_h * stride];
    for (yy, out_row) in out.chunks_exact_mut(stride).enumerate() {
        let y0 = coeffs.first[yy] - row0;
        for (i, o) in out_row.iter_mut().enumerate() {
            let mut acc = half;
            for (k, &w) in coeffs.weights[yy].iter().enumerate() {
                acc += src.pixels[(y0 + k) * stride + i] as i32 * w;
            }
            *o = clip8(acc);
        }
    }
    Plane {
        pixels: out,
        width: src.width,
        channels: src.channels,
    }
}
