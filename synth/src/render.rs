//! Drawing RGB frames: a background and anti-aliased, outlined shapes at given poses.

use crate::motion::Pose;
use crate::world::{Background, Colour, Kind};

/// An RGB image, row-major, 3 bytes a pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Frame {
    /// The pixel at (x, y).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// A frame filled with a background.
pub fn background(kind: Background, width: usize, height: usize) -> Frame {
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        let v = y as f32 / height.max(1) as f32;
        for x in 0..width {
            let px: [f32; 3] = match kind {
                Background::Night => [12.0 + 10.0 * v, 16.0 + 12.0 * v, 48.0 + 20.0 * v],
                Background::Sky => [95.0 + 100.0 * v, 150.0 + 75.0 * v, 235.0 + 15.0 * v],
                Background::Checkerboard => {
                    let cell = (width / 8).max(1);
                    if (x / cell + y / cell).is_multiple_of(2) {
                        [105.0; 3]
                    } else {
                        [160.0; 3]
                    }
                }
                Background::Stripes => {
                    let band = (width / 14).max(1);
                    if (x / band).is_multiple_of(2) {
                        [205.0, 185.0, 150.0]
                    } else {
                        [150.0, 115.0, 85.0]
                    }
                }
            };
            rgb.extend(px.map(|c| c.clamp(0.0, 255.0) as u8));
        }
    }
    Frame { width, height, rgb }
}

/// Whether local point (x, y) (shape radius 1, y down) is inside a shape of `kind`.
fn inside(kind: Kind, x: f32, y: f32) -> bool {
    match kind {
        Kind::Circle => x * x + y * y <= 1.0,
        Kind::Square => x.abs() <= 0.8 && y.abs() <= 0.8,
        Kind::Triangle => {
            // Equilateral, pointing up: below the two upper edges and above the base.
            let s3 = 3f32.sqrt();
            y <= 0.5 && s3 * x - y <= 1.0 + 1e-6 && -s3 * x - y <= 1.0 + 1e-6
        }
        Kind::Star => in_star(x, y),
        Kind::Cross => (x.abs() <= 0.3 && y.abs() <= 0.9) || (y.abs() <= 0.3 && x.abs() <= 0.9),
        Kind::Diamond => x.abs() / 0.75 + y.abs() <= 1.0,
    }
}

/// Five-pointed star by the even-odd rule over its ten vertices.
fn in_star(x: f32, y: f32) -> bool {
    let mut verts = [(0f32, 0f32); 10];
    for (i, v) in verts.iter_mut().enumerate() {
        let r = if i % 2 == 0 { 1.0 } else { 0.45 };
        let a = -std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
        *v = (r * a.cos(), r * a.sin());
    }
    let mut odd = false;
    let mut j = verts.len() - 1;
    for i in 0..verts.len() {
        let (xi, yi) = verts[i];
        let (xj, yj) = verts[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            odd = !odd;
        }
        j = i;
    }
    odd
}

/// Draws a shape (fill plus dark outline, 2×2 supersampled) at `pose`, radius `size` (fraction
/// of the frame width).
pub fn draw_shape(frame: &mut Frame, kind: Kind, colour: Colour, size: f64, pose: Pose) {
    let (w, h) = (frame.width as f32, frame.height as f32);
    let r = (size * pose.scale) as f32 * w;
    if r <= 0.5 {
        return;
    }
    let (cx, cy) = (pose.x as f32 * w, pose.y as f32 * h);
    let (sin, cos) = (-(pose.angle as f32)).sin_cos();
    let fill = colour.rgb().map(f32::from);
    // A pale spot near the top edge turns with the shape, so even a spinning circle is seen
    // to spin.
    let spot = fill.map(|c| 0.45 * c + 140.0);
    let edge = [20.0f32, 20.0, 20.0];
    let reach = r * 1.25;
    let x0 = (cx - reach).floor().max(0.0) as usize;
    let x1 = ((cx + reach).ceil() as usize).min(frame.width);
    let y0 = (cy - reach).floor().max(0.0) as usize;
    let y1 = ((cy + reach).ceil() as usize).min(frame.height);
    for py in y0..y1 {
        for px in x0..x1 {
            let mut acc = [0f32; 3];
            let mut cover = 0f32;
            for (sx, sy) in [(0.25f32, 0.25f32), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let dx = (px as f32 + sx - cx) / r;
                let dy = (py as f32 + sy - cy) / r;
                // Rotate into the shape's frame.
                let (lx, ly) = (dx * cos - dy * sin, dx * sin + dy * cos);
                let in_spot = lx * lx + (ly + 0.5) * (ly + 0.5) <= 0.03;
                let colour = if inside(kind, lx, ly) {
                    Some(if in_spot { spot } else { fill })
                } else if inside(kind, lx * 0.88, ly * 0.88) {
                    Some(edge)
                } else {
                    None
                };
                if let Some(c) = colour {
                    for k in 0..3 {
                        acc[k] += c[k];
                    }
                    cover += 1.0;
                }
            }
            if cover > 0.0 {
                let i = 3 * (py * frame.width + px);
                for (dst, sum) in frame.rgb[i..i + 3].iter_mut().zip(acc) {
                    let v = (sum + f32::from(*dst) * (4.0 - cover)) / 4.0;
                    *dst = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}
