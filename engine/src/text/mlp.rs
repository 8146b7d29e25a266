//! The SwiGLU feed-forward block: `down(silu(gate(x)) · up(x))`, no biases.

use burn::tensor::{activation::silu, backend::Backend, Tensor};

use crate::nn::{Bias, Linear};
use crate::weights::{WeightError, WeightStore};

pub struct Mlp<B: Backend> {
    gate_proj: Linear<B>,
    up_proj: Linear<B>,
    down_proj: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        hidden: usize,
        intermediate: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            gate_proj: Linear::load(
                store,
                &format!("{prefix}.gate_proj"),
                hidden,
                intermediate,
                Bias::Absent,
                device,
            )?,
            up_proj: Linear::load(
                store,
                &format!("{prefix}.up_proj"),
                hidden,
                intermediate,
                Bias::Absent,
                device,
            )?,
            down_proj: Linear::load(
                store,
                &format!("{prefix}.down_proj"),
                intermediate,
                hidden,
                Bias::Absent,
                device,
            )?,
        })
    }

    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let gate = silu(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}
