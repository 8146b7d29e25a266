//! `nn.Linear`: `y = x Wᵀ + b` with the checkpoint's `(out, in)` weight layout.

use burn::tensor::{backend::Backend, Tensor};

use crate::weights::{WeightError, WeightStore};

/// Whether a [`Linear`] has a `{prefix}.bias`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bias {
    /// The checkpoint must have one.
    Required,
    /// The layer has none (`bias=False`).
    Absent,
    /// Loaded only if the checkpoint has one (Whisper/BEATs `k_proj`, which some exports drop).
    IfPresent,
}

#[derive(Debug, Clone)]
pub struct Linear<B: Backend> {
    /// `(in, out)`: the stored `(out, in)` weight, transposed once at load (a strided view).
    weight_t: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
}

impl<B: Backend> Linear<B> {
    /// Loads `{prefix}.weight` of shape `(d_out, d_in)` and, as `bias` says, `{prefix}.bias` `(d_out)`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        bias: Bias,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let weight: Tensor<B, 2> =
            store.tensor(&format!("{prefix}.weight"), [d_out, d_in], device)?;
        let name = format!("{prefix}.bias");
        let bias = match bias {
            Bias::Required => Some(store.tensor(&name, [d_out], device)?),
            Bias::IfPresent if store.contains(&name) => {
                Some(store.tensor(&name, [d_out], device)?)
            }
            Bias::IfPresent | Bias::Absent => None,
        };
        Ok(Self {
            weight_t: weight.transpose(),
            bias,
        })
    }

    /// Applies the layer to the last dimension of `x`: all leading dimensions become the rows of
    /// one 2-D matmul.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let dims = x.dims();
        let d_in = dims[D - 1];
        let rows = dims[..D - 1].iter().product::<usize>();
        let mut y = x.reshape([rows, d_in]).matmul(self.weight_t.clone());
        if let Some(bias) = &self.bias {
            y = y + bias.clone().unsqueeze::<2>();
        }
        let mut out_dims = dims;
        out_dims[D - 1] = self.weight_t.dims()[1];
        y.reshape(out_dims)
    }
}
