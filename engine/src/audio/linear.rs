//! `nn.Linear` as stored by PyTorch: weight `[out, in]`, optional bias `[out]`.

use burn::tensor::{backend::Backend, module, Tensor};

use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct Linear<B: Backend> {
    /// Stored transposed, `[in, out]`, as burn's `linear` expects.
    weight: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    /// Loads `{prefix}.weight` `[d_out, d_in]` and `{prefix}.bias` `[d_out]` (bias required).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let bias = store.tensor(&format!("{prefix}.bias"), [d_out], device)?;
        Self::load_with_bias(store, prefix, d_in, d_out, Some(bias), device)
    }

    /// Loads `{prefix}.weight` and, only if the checkpoint has one, `{prefix}.bias`.
    pub fn load_optional_bias(
        store: &WeightStore,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let name = format!("{prefix}.bias");
        let bias = if store.contains(&name) {
            Some(store.tensor(&name, [d_out], device)?)
        } else {
            None
        };
        Self::load_with_bias(store, prefix, d_in, d_out, bias, device)
    }

    fn load_with_bias(
        store: &WeightStore,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        bias: Option<Tensor<B, 1>>,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let weight: Tensor<B, 2> =
            store.tensor(&format!("{prefix}.weight"), [d_out, d_in], device)?;
        Ok(Self {
            weight: weight.transpose(),
            bias,
        })
    }

    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        module::linear(x, self.weight.clone(), self.bias.clone())
    }
}
