//! One pre-LN encoder layer of the Qwen2.5-Omni audio tower, with attention confined to each
//! 2-second chunk (the reference's block-diagonal `cu_seqlens` mask).

use burn::tensor::{activation, backend::Backend, Tensor};

use crate::config::AudioConfig;
use crate::nn::{Bias, LayerNorm, Linear, TORCH_LAYER_NORM_EPS};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct TowerLayer<B: Backend> {
    attn_norm: LayerNorm<B>,
    q_proj: Linear<B>,
    /// No bias in the checkpoint (Whisper's k_proj).
    k_proj: Linear<B>,
    v_proj: Linear<B>,
    out_proj: Linear<B>,
    mlp_norm: LayerNorm<B>,
    fc1: Linear<B>,
    fc2: Linear<B>,
    heads: usize,
}

impl<B: Backend> TowerLayer<B> {
    /// Loads `{prefix}.self_attn.*`, `{prefix}.self_attn_layer_norm`, `{prefix}.fc1/fc2`,
    /// `{prefix}.final_layer_norm`.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &AudioConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let d = cfg.d_model;
        let attn = format!("{prefix}.self_attn");
        // q/k/v/out projections, (d, d) each.
        let proj =
            |name: &str, bias| Linear::load(store, &format!("{attn}.{name}"), d, d, bias, device);
        Ok(Self {
            attn_norm: LayerNorm::load(
                store,
                &format!("{prefix}.self_attn_layer_norm"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            q_proj: proj("q_proj", Bias::Required)?,
            k_proj: proj("k_proj", Bias::IfPresent)?,
            v_proj: proj("v_proj", Bias::Required)?,
            out_proj: proj("out_proj", Bias::Required)?,
            mlp_norm: LayerNorm::load(
                store,
                &format!("{prefix}.final_layer_norm"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )?,
            fc1: Linear::load(
                store,
                &format!("{prefix}.fc1"),
                d,
                cfg.encoder_ffn_dim,
                Bias::Required,
                device,
            )?,
            fc2: Linear::load(
                store,
                &format!("{prefix}.fc2"),
                cfg.encoder_ffn_dim,
                d,
                Bias::Required,
                device,
            )?,
            heads: cfg.encoder_attention_heads,
        })
    }

    /// `x`: (tokens, d_model), the chunks laid end to end; every chunk but possibly the last
    /// has `chunk_len` tokens.
    pub fn forward(&self, x: Tensor<B, 2>, chunk_len: usize) -> Tensor<B, 2> {
        let h = self.attention(self.attn_norm.forward(x.clone()), chunk_len);
        let x = x + h;
        let h = self.fc1.forward(self.mlp_norm.forward(x.clone()));
        x + self.fc2.forward(activation::gelu(h))
    }

    /// Self-attention inside each chunk. Full chunks are attended as one batch, the shorter
    /// tail chunk on its own, which is what the reference's block-diagonal mask amounts to.
    fn attention(&self, x: Tensor<B, 2>, chunk_len: usize) -> Tensor<B, 2> {
        let [tokens, d] = x.dims();
        let q = self.q_proj.forward(x.clone());
        let k = self.k_proj.forward(x.clone());
        let v = self.v_proj.forward(x);

        let full = tokens / chunk_len;
        let tail = tokens % chunk_len;
        let rows = |t: &Tensor<B, 2>, start: usize, len: usize| t.clone().narrow(0, start, len);
        let mut parts = Vec::with_capacity(2);
        if full > 0 {
            let n = full * chunk_len;
            parts.push(self.attend(rows(&q, 0, n), rows(&k, 0, n), rows(&v, 0, n), full));
        }
        if tail > 0 {
            let s = full * chunk_len;
            parts.push(self.attend(rows(&q, s, tail), rows(&k, s, tail), rows(&v, s, tail), 1));
        }
        let out = Tensor::cat(parts, 0).reshape([tokens, d]);
        self.out_proj.forward(out)
    }

    /// Softmax attention over `batch` equally long sequences stored end to end in q/k/v
    /// (rows, d_model); returns (rows, d_model).
    fn attend(
        &self,
        q: Tensor<B, 2>,
        k: Tensor<B, 2>,
        v: Tensor<B, 2>,
        batch: usize,
    ) -> Tensor<B, 2> {
        let [rows, d] = q.dims();
        let len = rows / batch;
        let head_dim = d / self.heads;
        let split = |t: Tensor<B, 2>| {
            t.reshape([batch, len, self.heads, head_dim])
                .swap_dims(1, 2)
        };
        let scores = split(q)
            .matmul(split(k).swap_dims(2, 3))
            .div_scalar((head_dim as f64).sqrt());
        let probs = activation::softmax(scores, 3);
        probs.matmul(split(v)).swap_dims(1, 2).reshape([rows, d])
    }
}
