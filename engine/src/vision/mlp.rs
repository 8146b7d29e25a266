//! The blocks' gated feed-forward: `down(silu(gate(x)) · up(x))`, all with bias.

use burn::tensor::{activation::silu, backend::Backend, Tensor};

use crate::nn::{Bias, Linear};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub(crate) struct GatedMlp<B: Backend> {
    gate: Linear<B>,
    up: Linear<B>,
    down: Linear<B>,
}

impl<B: Backend> GatedMlp<B> {
    /// Loads `{prefix}.{gate_proj,up_proj,down_proj}`.
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        hidden: usize,
        intermediate: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            gate: Linear::load(
                store,
                &format!("{prefix}.gate_proj"),
                hidden,
                intermediate,
                Bias::Required,
                device,
            )?,
            up: Linear::load(
                store,
                &format!("{prefix}.up_proj"),
                hidden,
                intermediate,
                Bias::Required,
                device,
            )?,
            down: Linear::load(
                store,
                &format!("{prefix}.down_proj"),
                intermediate,
                hidden,
                Bias::Required,
                device,
            )?,
        })
    }

    pub(crate) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let gated = silu(self.gate.forward(x.clone())) * self.up.forward(x);
        self.down.forward(gated)
    }
}
