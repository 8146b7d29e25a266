//! WAVE's two read-outs of the LLM.
//!
//! * Media route ("hierarchical feature fusion", `classify_type = all_layer`): the last-token rows of
//!   `hidden_states[1:]` (outputs of layers 0..n-2 plus the final-norm output of the last layer),
//!   concatenated in layer order → `classify_linear.0` → GELU (erf) → `classify_linear.2`.
//!   (`last_layer` feeds only the final-norm last-token row to the same MLP shape.)
//! * Text route: the final-norm hidden state of the last token, no head.
//!
//! Neither output is normalised here; scoring normalises (see `l2_normalize`).

use burn::tensor::{activation::gelu, backend::Backend, Tensor};

use crate::nn::{Bias, Linear};
use crate::text::TextOutput;
use crate::weights::{WeightError, WeightStore};

/// Which LLM rows the fusion head reads (`config.classify_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusionKind {
    AllLayer,
    LastLayer,
}

impl FusionKind {
    /// `None` means the reference default, `last_layer`.
    pub fn from_config(classify_type: Option<&str>) -> Result<Self, String> {
        match classify_type {
            Some("all_layer") => Ok(Self::AllLayer),
            Some("last_layer") | None => Ok(Self::LastLayer),
            Some(other) => Err(format!("unknown classify_type `{other}`")),
        }
    }
}

pub struct FusionHead<B: Backend> {
    kind: FusionKind,
    fc1: Linear<B>,
    fc2: Linear<B>,
}

impl<B: Backend> FusionHead<B> {
    /// Loads `{prefix}.0` and `{prefix}.2` (prefix `classify_linear`).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        kind: FusionKind,
        hidden: usize,
        num_layers: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let input = match kind {
            FusionKind::AllLayer => hidden * num_layers,
            FusionKind::LastLayer => hidden,
        };
        Ok(Self {
            kind,
            fc1: Linear::load(
                store,
                &format!("{prefix}.0"),
                input,
                hidden,
                Bias::Required,
                device,
            )?,
            fc2: Linear::load(
                store,
                &format!("{prefix}.2"),
                hidden,
                hidden,
                Bias::Required,
                device,
            )?,
        })
    }

    /// `(batch, n_layers · hidden)` (all_layer) or `(batch, hidden)` (last_layer).
    pub fn fusion_input(&self, out: &TextOutput<B>) -> Tensor<B, 2> {
        match self.kind {
            FusionKind::AllLayer => Tensor::cat(out.hidden_states_last_token[1..].to_vec(), 1),
            FusionKind::LastLayer => text_embedding(out),
        }
    }

    /// `classify_linear.0` output, before the GELU.
    pub fn hidden_pre_gelu(&self, fusion_input: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc1.forward(fusion_input)
    }

    /// The media embedding `(batch, hidden)`, not normalised (the reference's `mllm_embeds`).
    pub fn media_embedding(&self, out: &TextOutput<B>) -> Tensor<B, 2> {
        let hidden = self.hidden_pre_gelu(self.fusion_input(out));
        self.fc2.forward(gelu(hidden))
    }
}

/// The text (label) embedding `(batch, hidden)`: final-norm hidden of the last token, not normalised.
pub fn text_embedding<B: Backend>(out: &TextOutput<B>) -> Tensor<B, 2> {
    out.hidden_states_last_token
        .last()
        .cloned()
        .expect("a decoder pass always yields the final-norm row")
}

/// `F.normalize(x, dim=-1)`: `x / max(‖x‖₂, 1e-12)`.
pub fn l2_normalize(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}
