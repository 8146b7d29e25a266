//! The gated (SwiGLU) feed-forward of Qwen2 and Qwen2.5-VL: `down(silu(gate(x)) · up(x))`.

use burn::tensor::{activation::silu, backend::Backend, Tensor};

use super::linear::{Bias, Linear};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct SwiGlu<B: Backend> {
    gate_proj: Linear<B>,
    up_proj: Linear<B>,
    down_proj: Linear<B>,
}

impl<B: Backend> SwiGlu<B> {
    /// Loads `{prefix}.{gate_proj,up_proj,down_proj}`; `bias` applies to all three (the LLM has
    /// none, the vision blocks have them).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        hidden: usize,
        intermediate: usize,
        bias: Bias,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let linear = |name: &str, d_in, d_out| {
            Linear::load(
                store,
                &format!("{prefix}.{name}"),
                d_in,
                d_out,
                bias,
                device,
            )
        };
        Ok(Self {
            gate_proj: linear("gate_proj", hidden, intermediate)?,
            up_proj: linear("up_proj", hidden, intermediate)?,
            down_proj: linear("down_proj", intermediate, hidden)?,
        })
    }

    /// Over the last dimension of `x`.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let gate = silu(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}
