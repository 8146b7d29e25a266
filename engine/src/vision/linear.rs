//! `nn.Linear` with bias, stored transposed so the forward is one matmul.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub(crate) struct Linear<B: Backend> {
    /// (in, out): the checkpoint's (out, in) weight, transposed once at load.
    weight_t: Tensor<B, 2>,
    bias: Tensor<B, 1>,
}

impl<B: Backend> Linear<B> {
    /// Loads `{prefix}.weight` (out, in) and `{prefix}.bias` (out).
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let weight: Tensor<B, 2> =
            store.tensor(&format!("{prefix}.weight"), [d_out, d_in], device)?;
        let bias = store.tensor(&format!("{prefix}.bias"), [d_out], device)?;
        Ok(Self {
            weight_t: weight.transpose(),
            bias,
        })
    }

    /// (n, in) -> (n, out).
    pub(crate) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        x.matmul(self.weight_t.clone()) + self.bias.clone().unsqueeze::<2>()
    }
}
