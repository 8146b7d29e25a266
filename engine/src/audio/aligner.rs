//! WAVE's BEATs aligner: BEATs tokens (50/s) → Whisper-rate tokens (25/s) in the LLM's width.
//!
//! Zero-pad (or trim) to exactly 2·N_a rows, AvgPool1d(2, 2), `beats_ln`, then `beats_proj`
//! = Linear → GELU (erf) → Linear.

use burn::tensor::{activation, backend::Backend, ops::PadMode, Tensor};

use super::error::AudioError;
use crate::config::BeatsConfig;
use crate::nn::{Bias, LayerNorm, Linear, TORCH_LAYER_NORM_EPS};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct BeatsAligner<B: Backend> {
    norm: LayerNorm<B>,
    proj_in: Linear<B>,
    proj_out: Linear<B>,
    dim: usize,
}

impl<B: Backend> BeatsAligner<B> {
    /// Loads `{prefix}beats_ln` (encoder_embed_dim) and `{prefix}beats_proj.0/.2`
    /// (encoder_embed_dim → hidden_size → hidden_size); prefix is `""` for a WAVE checkpoint.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &BeatsConfig,
        hidden_size: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let d = cfg.encoder_embed_dim;
        Ok(Self {
            norm: LayerNorm::load(
                store,
                &format!("{prefix}beats_ln"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            proj_in: Linear::load(
                store,
                &format!("{prefix}beats_proj.0"),
                d,
                hidden_size,
                Bias::Required,
                device,
            )?,
            proj_out: Linear::load(
                store,
                &format!("{prefix}beats_proj.2"),
                hidden_size,
                hidden_size,
                Bias::Required,
                device,
            )?,
            dim: d,
        })
    }

    /// Checks the shapes, then runs [`Self::forward`].
    pub fn try_forward(
        &self,
        beats_feats: Tensor<B, 2>,
        n_audio_tokens: usize,
    ) -> Result<Tensor<B, 2>, AudioError> {
        let [rows, dim] = beats_feats.dims();
        if dim != self.dim {
            return Err(AudioError::Dim {
                what: "BEATs aligner input",
                axis: "channels",
                expected: self.dim,
                found: dim,
            });
        }
        if rows == 0 || n_audio_tokens == 0 {
            return Err(AudioError::TooShort {
                what: "BEATs aligner",
                unit: "tokens",
                found: rows.min(n_audio_tokens),
                min: 1,
            });
        }
        Ok(self.forward(beats_feats, n_audio_tokens))
    }

    /// BEATs features (n_b, encoder_embed_dim) → (n_audio_tokens, hidden_size), one row per
    /// Whisper token of the same clip.
    pub fn forward(&self, beats_feats: Tensor<B, 2>, n_audio_tokens: usize) -> Tensor<B, 2> {
        let pooled = self.pool(beats_feats, n_audio_tokens);
        self.project(self.norm(pooled))
    }

    /// Pad with zero rows (appended) or trim to 2·n_audio_tokens, then average row pairs.
    /// A pair straddling the end averages a real row with a zero row, as in the reference.
    pub fn pool(&self, beats_feats: Tensor<B, 2>, n_audio_tokens: usize) -> Tensor<B, 2> {
        let [rows, dim] = beats_feats.dims();
        let target = 2 * n_audio_tokens;
        let x = if rows < target {
            beats_feats.pad([(0, target - rows), (0, 0)], PadMode::Constant(0.0))
        } else {
            beats_feats.narrow(0, 0, target)
        };
        x.reshape([n_audio_tokens, 2, dim])
            .mean_dim(1)
            .reshape([n_audio_tokens, dim])
    }

    /// `beats_ln`.
    pub fn norm(&self, pooled: Tensor<B, 2>) -> Tensor<B, 2> {
        self.norm.forward(pooled)
    }

    /// `beats_proj`: Linear → GELU (erf) → Linear.
    pub fn project(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.proj_out
            .forward(activation::gelu(self.proj_in.forward(x)))
    }
}
