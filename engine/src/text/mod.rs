//! The Qwen2 decoder of the Qwen2.5-Omni thinker (WAVE's LLM).
//!
//! `forward` runs the decoder over input embeddings with M-RoPE positions and a causal (plus
//! optional padding) mask. It keeps the last-position row of every hidden state (the only rows
//! the embedding heads read; keeping all rows of every layer would cost n_layers × L × H floats)
//! and the final-norm output of every position.

mod attention;
mod layer;
pub mod rope;

use burn::tensor::{backend::Backend, Bool, Int, Tensor, TensorData};

use self::layer::DecoderLayer;
use self::rope::MultimodalRope;
use crate::config::TextConfig;
use crate::nn::RmsNorm;
use crate::positions::MropePositions;
use crate::weights::{WeightError, WeightStore};

/// Bad inputs to the LLM.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("token id {id} is outside the vocabulary (size {vocab})")]
    TokenOutOfRange { id: u32, vocab: usize },
    #[error("inconsistent LLM inputs: {0}")]
    Shape(String),
}

/// What one decoder pass returns.
pub struct TextOutput<B: Backend> {
    /// `n_layers + 1` tensors of shape `(batch, hidden)`: the last position of
    /// [embedding output, outputs of layers 0..n-2 (raw residual stream), final-norm(output of the last layer)]
    /// — the HF `hidden_states` convention.
    pub hidden_states_last_token: Vec<Tensor<B, 2>>,
    /// `(batch, len, hidden)`: final-norm output at every position.
    pub last_hidden_state: Tensor<B, 3>,
}

pub struct TextModel<B: Backend> {
    embed_tokens: Tensor<B, 2>,
    layers: Vec<DecoderLayer<B>>,
    norm: RmsNorm<B>,
    rope: MultimodalRope,
    vocab_size: usize,
    hidden_size: usize,
}

impl<B: Backend> TextModel<B> {
    /// Loads `{prefix}.embed_tokens`, `{prefix}.layers.N.*` and `{prefix}.norm` (prefix `model` in WAVE).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &TextConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let embed_tokens = store.tensor(
            &format!("{prefix}.embed_tokens.weight"),
            [cfg.vocab_size, cfg.hidden_size],
            device,
        )?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::load(store, &format!("{prefix}.layers.{i}"), cfg, device))
            .collect::<Result<Vec<_>, _>>()?;
        let norm = RmsNorm::load(
            store,
            &format!("{prefix}.norm"),
            cfg.hidden_size,
            cfg.rms_norm_eps,
            device,
        )?;
        Ok(Self {
            embed_tokens,
            layers,
            norm,
            rope: MultimodalRope::new(
                cfg.head_dim(),
                cfg.rope_theta,
                &cfg.rope_scaling.mrope_section,
            ),
            vocab_size: cfg.vocab_size,
            hidden_size: cfg.hidden_size,
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden_size
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Token embeddings `(len, hidden)` of one sequence.
    pub fn embed(&self, ids: &[u32], device: &B::Device) -> Result<Tensor<B, 2>, TextError> {
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
            return Err(TextError::TokenOutOfRange {
                id,
                vocab: self.vocab_size,
            });
        }
        let ids: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
        let len = ids.len();
        let ids = Tensor::<B, 1, Int>::from_data(TensorData::new(ids, [len]), device);
        Ok(self.embed_tokens.clone().select(0, ids))
    }

    /// Runs the decoder. `inputs_embeds`: `(batch, len, hidden)`; one `MropePositions` of length
    /// `len` per row; `attention_mask`: per row, true for real tokens (None = all real).
    pub fn forward(
        &self,
        inputs_embeds: Tensor<B, 3>,
        positions: &[MropePositions],
        attention_mask: Option<&[Vec<bool>]>,
    ) -> Result<TextOutput<B>, TextError> {
        let [batch, len, hidden] = inputs_embeds.dims();
        if len == 0 || batch == 0 {
            return Err(TextError::Shape("empty input sequence".into()));
        }
        if hidden != self.hidden_size {
            return Err(TextError::Shape(format!(
                "inputs_embeds hidden size {hidden}, model has {}",
                self.hidden_size
            )));
        }
        if positions.len() != batch || positions.iter().any(|p| p.len() != len) {
            return Err(TextError::Shape(format!(
                "need {batch} position rows of length {len}"
            )));
        }
        if let Some(m) = attention_mask {
            if m.len() != batch || m.iter().any(|row| row.len() != len) {
                return Err(TextError::Shape(format!(
                    "attention mask must be {batch} rows of length {len}"
                )));
            }
        }
        let device = inputs_embeds.device();
        let (cos, sin) = self.rope.cos_sin::<B>(positions, &device);
        let mask = blocked_attention(batch, len, attention_mask, &device);

        let last = |x: &Tensor<B, 3>| {
            x.clone()
                .slice([0..batch, len - 1..len, 0..hidden])
                .reshape([batch, hidden])
        };
        let mut hidden_states_last_token = Vec::with_capacity(self.layers.len() + 1);
        let mut x = inputs_embeds;
        for layer in &self.layers {
            hidden_states_last_token.push(last(&x));
            x = layer.forward(x, &cos, &sin, &mask);
        }
        let last_hidden_state = self.norm.forward(x);
        hidden_states_last_token.push(last(&last_hidden_state));
        Ok(TextOutput {
            hidden_states_last_token,
            last_hidden_state,
        })
    }
}

/// `(batch, 1, len, len)`, true where query i may not attend key j: j > i (causal) or j is padding.
fn blocked_attention<B: Backend>(
    batch: usize,
    len: usize,
    attention_mask: Option<&[Vec<bool>]>,
    device: &B::Device,
) -> Tensor<B, 4, Bool> {
    let mut blocked = Vec::with_capacity(batch * len * len);
    for b in 0..batch {
        for i in 0..len {
            for j in 0..len {
                let padded = attention_mask.is_some_and(|m| !m[b][j]);
                blocked.push(j > i || padded);
            }
        }
    }
    Tensor::from_data(TensorData::new(blocked, [batch, 1, len, len]), device)
}
