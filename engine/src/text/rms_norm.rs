//! Qwen2 RMSNorm: `w · x / sqrt(mean(x²) + eps)`, computed in f32.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

pub struct RmsNorm<B: Backend> {
    weight: Tensor<B, 1>,
    eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        size: usize,
        eps: f64,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            weight: store.tensor(&format!("{prefix}.weight"), [size], device)?,
            eps,
        })
    }

    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let variance = x.clone().powi_scalar(2).mean_dim(D - 1);
        let normed = x * (variance + self.eps).sqrt().recip();
        normed * self.weight.clone().unsqueeze::<D>()
    }
}
