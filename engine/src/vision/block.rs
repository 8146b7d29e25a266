//! One pre-norm vision transformer block: segment attention then the gated MLP, each residual.

use burn::tensor::{backend::Backend, Tensor};

use super::attention::VisionAttention;
use super::rotary::Rotary;
use super::VISION_RMS_EPS;
use crate::config::VisionConfig;
use crate::nn::{Bias, RmsNorm, SwiGlu};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub(crate) struct VisionBlock<B: Backend> {
    norm1: RmsNorm<B>,
    attn: VisionAttention<B>,
    norm2: RmsNorm<B>,
    mlp: SwiGlu<B>,
}

impl<B: Backend> VisionBlock<B> {
    /// Loads `{prefix}.{norm1,attn,norm2,mlp}`.
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &VisionConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let hidden = cfg.hidden_size;
        Ok(Self {
            norm1: RmsNorm::load(
                store,
                &format!("{prefix}.norm1"),
                hidden,
                VISION_RMS_EPS,
                device,
            )?,
            attn: VisionAttention::load(
                store,
                &format!("{prefix}.attn"),
                hidden,
                cfg.num_heads,
                device,
            )?,
            norm2: RmsNorm::load(
                store,
                &format!("{prefix}.norm2"),
                hidden,
                VISION_RMS_EPS,
                device,
            )?,
            mlp: SwiGlu::load(
                store,
                &format!("{prefix}.mlp"),
                hidden,
                cfg.intermediate_size,
                Bias::Required,
                device,
            )?,
        })
    }

    /// `x` (n, hidden) in window order; `segments` as for [`VisionAttention::forward`].
    pub(crate) fn forward(
        &self,
        x: Tensor<B, 2>,
        segments: &[usize],
        rotary: &Rotary<B>,
    ) -> Tensor<B, 2> {
        let x = x.clone() + self.attn.forward(self.norm1.forward(x), segments, rotary);
        x.clone() + self.mlp.forward(self.norm2.forward(x))
    }
}
