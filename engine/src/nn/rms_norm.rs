//! Qwen2 RMSNorm over the last dimension: `x / sqrt(mean(x²) + eps) * weight`, no bias, no mean
//! subtraction.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct RmsNorm<B: Backend> {
    weight: Tensor<B, 1>,
    eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// Loads `{prefix}.weight` `[dim]`; `eps` comes from the config (text) or the reference's
    /// constant (vision).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        dim: usize,
        eps: f64,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            weight: store.tensor(&format!("{prefix}.weight"), [dim], device)?,
            eps,
        })
    }

    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let inv_rms = (x.clone().square().mean_dim(D - 1) + self.eps)
            .sqrt()
            .recip();
        x * inv_rms * self.weight.clone().unsqueeze::<D>()
    }
}
