//! Multimodal rotary position embedding (M-RoPE) of the Qwen2.5-Omni LLM.
//!
//! Each token has three position ids (t, h, w). The rotary dimensions are split into sections
//! `mrope_section * 2` (the halves of `cat(freqs, freqs)`), and section `i` takes its angle from axis
//! `i % 3`. Angles are computed in f32 exactly as the reference (`inv_freq` in f32, f32 product).

use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::positions::MropePositions;

pub struct MultimodalRope {
    inv_freq: Vec<f32>,
    /// For each of the `head_dim` rotary dimensions, which axis (0 = t, 1 = h, 2 = w) drives it.
    axis_of_dim: Vec<usize>,
}

impl MultimodalRope {
    pub fn new(head_dim: usize, theta: f64, mrope_section: &[usize]) -> Self {
        let half = head_dim / 2;
        let theta = theta as f32;
        let inv_freq = (0..half)
            .map(|j| 1.0 / theta.powf((2 * j) as f32 / head_dim as f32))
            .collect();
        // Sections cover [0, half) then repeat for [half, head_dim); section i uses axis i % 3.
        let mut axis_of_dim = Vec::with_capacity(head_dim);
        for (i, &len) in mrope_section.iter().chain(mrope_section).enumerate() {
            axis_of_dim.extend(std::iter::repeat_n(i % 3, len));
        }
        // A config whose sections do not sum to head_dim/2 would leave dimensions unassigned:
        // give them the temporal axis (what a plain 1-D RoPE would do).
        axis_of_dim.resize(head_dim, 0);
        Self {
            inv_freq,
            axis_of_dim,
        }
    }

    /// `(cos, sin)` of shape `(batch, 1, len, head_dim)`, one row of positions per sequence.
    pub fn cos_sin<B: Backend>(
        &self,
        positions: &[MropePositions],
        device: &B::Device,
    ) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let head_dim = self.axis_of_dim.len();
        let half = self.inv_freq.len();
        let batch = positions.len();
        let len = positions.first().map_or(0, MropePositions::len);
        let mut cos = Vec::with_capacity(batch * len * head_dim);
        let mut sin = Vec::with_capacity(batch * len * head_dim);
        for p in positions {
            for ((&t, &h), &w) in p.t.iter().zip(&p.h).zip(&p.w) {
                let token = [t as f32, h as f32, w as f32];
                for d in 0..head_dim {
                    let pos = token[self.axis_of_dim[d]];
                    let angle = self.inv_freq[d % half] * pos;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
        }
        let shape = [batch, 1, len, head_dim];
        (
            Tensor::from_data(TensorData::new(cos, shape), device),
            Tensor::from_data(TensorData::new(sin, shape), device),
        )
    }
}

/// `x·cos + rotate_half(x)·sin` with `rotate_half([a, b]) = [-b, a]` over the last dimension.
pub fn apply_rotary<B: Backend>(
    x: Tensor<B, 4>,
    cos: &Tensor<B, 4>,
    sin: &Tensor<B, 4>,
) -> Tensor<B, 4> {
    let [b, h, l, d] = x.dims();
    let first = x.clone().slice([0..b, 0..h, 0..l, 0..d / 2]);
    let second = x.clone().slice([0..b, 0..h, 0..l, d / 2..d]);
    let rotated = Tensor::cat(vec![second.neg(), first], 3);
    x * cos.clone() + rotated * sin.clone()
}
