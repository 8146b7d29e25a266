//! The vision tower's 2-D rotary embedding.
//!
//! Half of each head's rotary angles follow the patch's row, half its column: with
//! `inv_freq = 1 / 10000^(2i / (head_dim/2))`, a patch at (h, w) gets angles
//! `[h·inv_freq, w·inv_freq]`, duplicated to head_dim for `rotate_half`.

use burn::tensor::{backend::Backend, Tensor, TensorData};

const THETA: f32 = 10_000.0;

/// Per-patch cos/sin tables, (n_patches, 1, head_dim) so they broadcast over heads.
#[derive(Debug, Clone)]
pub(crate) struct Rotary<B: Backend> {
    cos: Tensor<B, 3>,
    sin: Tensor<B, 3>,
}

impl<B: Backend> Rotary<B> {
    /// Tables for the patches of `grids`, rows in window order (`window_index` over merged
    /// tokens of `merge²` patches each).
    pub(crate) fn new(
        grids: &[[usize; 3]],
        merge: usize,
        head_dim: usize,
        window_index: &[usize],
        device: &B::Device,
    ) -> Self {
        // The reference computes inv_freq and the angles in float32; so do we.
        let rotary_dim = head_dim / 2;
        let inv_freq: Vec<f32> = (0..rotary_dim)
            .step_by(2)
            .map(|i| 1.0 / THETA.powf(i as f32 / rotary_dim as f32))
            .collect();

        let positions = patch_positions(grids, merge);
        let merge_unit = merge * merge;
        let n = positions.len();
        let mut cos = Vec::with_capacity(n * head_dim);
        let mut sin = Vec::with_capacity(n * head_dim);
        for &token in window_index {
            for &(row, col) in &positions[token * merge_unit..(token + 1) * merge_unit] {
                let angles: Vec<f32> = inv_freq
                    .iter()
                    .map(|f| row as f32 * f)
                    .chain(inv_freq.iter().map(|f| col as f32 * f))
                    .collect();
                // Duplicated: the first and second half of a head rotate together.
                for _ in 0..2 {
                    cos.extend(angles.iter().map(|a| a.cos()));
                    sin.extend(angles.iter().map(|a| a.sin()));
                }
            }
        }
        Self {
            cos: Tensor::from_data(TensorData::new(cos, [n, 1, head_dim]), device),
            sin: Tensor::from_data(TensorData::new(sin, [n, 1, head_dim]), device),
        }
    }

    /// Rotates (n_patches, heads, head_dim) queries or keys.
    pub(crate) fn apply(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [n, heads, head_dim] = x.dims();
        let half = head_dim / 2;
        let first = x.clone().slice([0..n, 0..heads, 0..half]);
        let second = x.clone().slice([0..n, 0..heads, half..head_dim]);
        let rotated = Tensor::cat(vec![second.neg(), first], 2);
        x * self.cos.clone() + rotated * self.sin.clone()
    }
}

/// (row, column) of every patch in processor order: per video, per frame, merged tokens
/// row-major, and inside each the merge×merge patches row-major.
fn patch_positions(grids: &[[usize; 3]], merge: usize) -> Vec<(usize, usize)> {
    let mut positions = Vec::new();
    for &[t, h, w] in grids {
        for _ in 0..t {
            for block_row in 0..h / merge {
                for block_col in 0..w / merge {
                    for dy in 0..merge {
                        for dx in 0..merge {
                            positions.push((block_row * merge + dy, block_col * merge + dx));
                        }
                    }
                }
            }
        }
    }
    positions
}
