//! A dense layer `y = x Wᵀ + b` with the checkpoint's `(out, in)` weight layout.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

pub struct Linear<B: Backend> {
    /// `(in, out)`: the stored `(out, in)` weight, transposed once at load (a strided view).
    weight_t: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
    out_features: usize,
}

impl<B: Backend> Linear<B> {
    /// Loads `{prefix}.weight` of shape `(out, in)` and, when `bias`, `{prefix}.bias`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        in_features: usize,
        out_features: usize,
        bias: bool,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let weight: Tensor<B, 2> = store.tensor(
            &format!("{prefix}.weight"),
            [out_features, in_features],
            device,
        )?;
        let bias = if bias {
            Some(store.tensor(&format!("{prefix}.bias"), [out_features], device)?)
        } else {
            None
        };
        Ok(Self {
            weight_t: weight.transpose(),
            bias,
            out_features,
        })
    }

    /// Applies the layer to the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let dims = x.dims();
        let in_features = dims[D - 1];
        let rows = dims[..D - 1].iter().product::<usize>();
        let mut y = x.reshape([rows, in_features]).matmul(self.weight_t.clone());
        if let Some(bias) = &self.bias {
            y = y + bias.clone().unsqueeze::<2>();
        }
        let mut out_dims = dims;
        out_dims[D - 1] = self.out_features;
        y.reshape(out_dims)
    }
}
