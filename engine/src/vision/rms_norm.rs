//! Qwen2 RMSNorm: `x / sqrt(mean(x²) + eps) * weight`, no bias, no mean subtraction.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

/// The vision tower's norms all use this epsilon (hard-coded in the reference, not in config.json).
pub(crate) const VISION_RMS_EPS: f64 = 1e-6;

#[derive(Debug, Clone)]
pub(crate) struct RmsNorm<B: Backend> {
    weight: Tensor<B, 1>,
    eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// Loads `{prefix}.weight` (dim).
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        dim: usize,
        eps: f64,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let weight = store.tensor(&format!("{prefix}.weight"), [dim], device)?;
        Ok(Self { weight, eps })
    }

    /// Normalises each row of (n, dim).
    pub(crate) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let inv_rms = (x.clone().square().mean_dim(1) + self.eps).sqrt().recip();
        x * inv_rms * self.weight.clone().unsqueeze::<2>()
    }
}
