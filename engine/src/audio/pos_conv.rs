//! BEATs' convolutional positional embedding: a grouped Conv1d with weight normalisation,
//! `SamePad` (drop the last step for an even kernel) and GELU, added to its input.

use burn::tensor::{activation, backend::Backend, module, ops::ConvOptions, Tensor};

use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct PosConv<B: Backend> {
    /// Effective weight g·v/‖v‖, (dim, dim/groups, kernel).
    weight: Tensor<B, 3>,
    bias: Tensor<B, 1>,
    kernel: usize,
    groups: usize,
}

impl<B: Backend> PosConv<B> {
    /// Loads `{prefix}.weight_g` (1, 1, kernel), `{prefix}.weight_v` (dim, dim/groups, kernel)
    /// and `{prefix}.bias` (dim), e.g. prefix `beats.encoder.pos_conv.0`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        dim: usize,
        kernel: usize,
        groups: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let g: Tensor<B, 3> =
            store.tensor(&format!("{prefix}.weight_g"), [1, 1, kernel], device)?;
        let v: Tensor<B, 3> = store.tensor(
            &format!("{prefix}.weight_v"),
            [dim, dim / groups, kernel],
            device,
        )?;
        // weight_norm(dim=2): one norm per kernel tap, over output and input channels.
        let norm = v.clone().square().sum_dim(0).sum_dim(1).sqrt();
        Ok(Self {
            weight: v * (g / norm),
            bias: store.tensor(&format!("{prefix}.bias"), [dim], device)?,
            kernel,
            groups,
        })
    }

    /// x (tokens, dim) → GELU(conv(x)) (tokens, dim); the caller adds it to x.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [tokens, dim] = x.dims();
        let y = module::conv1d(
            x.transpose().reshape([1, dim, tokens]),
            self.weight.clone(),
            Some(self.bias.clone()),
            ConvOptions::new([1], [self.kernel / 2], [1], self.groups),
        );
        // Padding k/2 on both sides yields tokens + 1 steps for an even kernel: SamePad drops the last.
        let y = y.slice([0..1, 0..dim, 0..tokens]);
        activation::gelu(y).reshape([dim, tokens]).transpose()
    }
}
