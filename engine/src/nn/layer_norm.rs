//! `nn.LayerNorm` over the last dimension (biased variance, learned weight and bias).

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

/// PyTorch's default epsilon; every LayerNorm in the audio path uses it.
pub const TORCH_LAYER_NORM_EPS: f64 = 1e-5;

#[derive(Debug, Clone)]
pub struct LayerNorm<B: Backend> {
    weight: Tensor<B, 1>,
    bias: Tensor<B, 1>,
    eps: f64,
}

impl<B: Backend> LayerNorm<B> {
    /// Loads `{prefix}.weight` and `{prefix}.bias`, both `[dim]`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        dim: usize,
        eps: f64,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            weight: store.tensor(&format!("{prefix}.weight"), [dim], device)?,
            bias: store.tensor(&format!("{prefix}.bias"), [dim], device)?,
            eps,
        })
    }

    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let (var, mean) = x.clone().var_mean_bias(D - 1);
        let normed = (x - mean) / (var + self.eps).sqrt();
        normed * self.weight.clone().unsqueeze() + self.bias.clone().unsqueeze()
    }
}
