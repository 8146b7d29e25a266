//! One pre-norm Qwen2 decoder layer: `x + attn(norm(x))`, then `x + mlp(norm(x))`.

use burn::tensor::{backend::Backend, Bool, Tensor};

use super::attention::Attention;
use crate::config::TextConfig;
use crate::nn::{Bias, RmsNorm, SwiGlu};
use crate::weights::{WeightError, WeightStore};

pub struct DecoderLayer<B: Backend> {
    input_layernorm: RmsNorm<B>,
    self_attn: Attention<B>,
    post_attention_layernorm: RmsNorm<B>,
    mlp: SwiGlu<B>,
}

impl<B: Backend> DecoderLayer<B> {
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &TextConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let h = cfg.hidden_size;
        let eps = cfg.rms_norm_eps;
        Ok(Self {
            input_layernorm: RmsNorm::load(
                store,
                &format!("{prefix}.input_layernorm"),
                h,
                eps,
                device,
            )?,
            self_attn: Attention::load(store, &format!("{prefix}.self_attn"), cfg, device)?,
            post_attention_layernorm: RmsNorm::load(
                store,
                &format!("{prefix}.post_attention_layernorm"),
                h,
                eps,
                device,
            )?,
            mlp: SwiGlu::load(
                store,
                &format!("{prefix}.mlp"),
                h,
                cfg.intermediate_size,
                Bias::Absent,
                device,
            )?,
        })
    }

    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        cos: &Tensor<B, 4>,
        sin: &Tensor<B, 4>,
        mask: &Tensor<B, 4, Bool>,
    ) -> Tensor<B, 3> {
        let x = x.clone()
            + self
                .self_attn
                .forward(self.input_layernorm.forward(x), cos, sin, mask);
        x.clone() + self.mlp.forward(self.post_attention_layernorm.forward(x))
    }
}
