//! One BEATs encoder layer: multi-head self-attention with the gated relative-position bias
//! (`gru_rel_pos`), GELU feed-forward, post-LN with DeepNorm residual scaling (or pre-LN when
//! the cfg says `layer_norm_first`).

use burn::tensor::{activation, backend::Backend, Tensor};

use crate::config::BeatsConfig;
use crate::nn::{Activation, Bias, LayerNorm, Linear, TORCH_LAYER_NORM_EPS};
use crate::weights::{WeightError, WeightStore};

/// `grep_linear` maps each head's query to 2 gates × 4 summed logits (fixed by BEATs).
const GATE_LOGITS: usize = 8;

/// The per-layer gate that scales the shared relative-position bias per head and query.
#[derive(Debug, Clone)]
struct BiasGate<B: Backend> {
    linear: Linear<B>,
    /// `grep_a` as (heads, 1, 1).
    a: Tensor<B, 3>,
}

#[derive(Debug, Clone)]
pub struct BeatsLayer<B: Backend> {
    q_proj: Linear<B>,
    k_proj: Linear<B>,
    v_proj: Linear<B>,
    out_proj: Linear<B>,
    gate: Option<BiasGate<B>>,
    attn_norm: LayerNorm<B>,
    fc1: Linear<B>,
    fc2: Linear<B>,
    ffn_norm: LayerNorm<B>,
    heads: usize,
    /// DeepNorm residual scale (2·layers)^¼, or 1.
    residual_scale: f64,
    layer_norm_first: bool,
    activation: Activation,
}

impl<B: Backend> BeatsLayer<B> {
    /// Loads `{prefix}.self_attn.{q,k,v,out}_proj`, `grep_linear`, `grep_a` (if `gru_rel_pos`),
    /// `{prefix}.self_attn_layer_norm`, `fc1`, `fc2`, `final_layer_norm`. The shared
    /// `relative_attention_bias` is not loaded here.
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &BeatsConfig,
        activation: Activation,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let d = cfg.encoder_embed_dim;
        let heads = cfg.encoder_attention_heads;
        let ffn = cfg.encoder_ffn_embed_dim;
        let attn = format!("{prefix}.self_attn");
        // q/k/v/out projections, (d, d) each.
        let proj =
            |name: &str, bias| Linear::load(store, &format!("{attn}.{name}"), d, d, bias, device);
        let gate = if cfg.relative_position_embedding && cfg.gru_rel_pos {
            let a: Tensor<B, 4> =
                store.tensor(&format!("{attn}.grep_a"), [1, heads, 1, 1], device)?;
            Some(BiasGate {
                linear: Linear::load(
                    store,
                    &format!("{attn}.grep_linear"),
                    d / heads,
                    GATE_LOGITS,
                    Bias::Required,
                    device,
                )?,
                a: a.reshape([heads, 1, 1]),
            })
        } else {
            None
        };
        let norm = |name: &str| {
            LayerNorm::load(
                store,
                &format!("{prefix}.{name}"),
                d,
                TORCH_LAYER_NORM_EPS,
                device,
            )
        };
        Ok(Self {
            q_proj: proj("q_proj", Bias::Required)?,
            k_proj: proj("k_proj", Bias::IfPresent)?,
            v_proj: proj("v_proj", Bias::Required)?,
            out_proj: proj("out_proj", Bias::Required)?,
            gate,
            attn_norm: norm("self_attn_layer_norm")?,
            fc1: Linear::load(
                store,
                &format!("{prefix}.fc1"),
                d,
                ffn,
                Bias::Required,
                device,
            )?,
            fc2: Linear::load(
                store,
                &format!("{prefix}.fc2"),
                ffn,
                d,
                Bias::Required,
                device,
            )?,
            ffn_norm: norm("final_layer_norm")?,
            heads,
            residual_scale: if cfg.deep_norm {
                (2.0 * cfg.encoder_layers as f64).powf(0.25)
            } else {
                1.0
            },
            layer_norm_first: cfg.layer_norm_first,
            activation,
        })
    }

    /// x (tokens, dim); `position_bias` the shared ungated bias (heads, tokens, tokens), if any.
    pub fn forward(&self, x: Tensor<B, 2>, position_bias: Option<&Tensor<B, 3>>) -> Tensor<B, 2> {
        if self.layer_norm_first {
            let x = x.clone() + self.attention(self.attn_norm.forward(x), position_bias);
            x.clone() + self.feed_forward(self.ffn_norm.forward(x))
        } else {
            let h = self.attention(x.clone(), position_bias);
            let x = self.attn_norm.forward(x * self.residual_scale + h);
            let h = self.feed_forward(x.clone());
            self.ffn_norm.forward(x * self.residual_scale + h)
        }
    }

    fn feed_forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc2.forward(self.activation.apply(self.fc1.forward(x)))
    }

    fn attention(&self, x: Tensor<B, 2>, position_bias: Option<&Tensor<B, 3>>) -> Tensor<B, 2> {
        let [tokens, d] = x.dims();
        let head_dim = d / self.heads;
        let split = |t: Tensor<B, 2>| t.reshape([tokens, self.heads, head_dim]).swap_dims(0, 1);
        let q = split(self.q_proj.forward(x.clone()));
        let k = split(self.k_proj.forward(x.clone()));
        let v = split(self.v_proj.forward(x));

        // The reference subtracts the row max and rescales (a stabilising no-op for softmax).
        let mut scores = q
            .clone()
            .mul_scalar((head_dim as f64).powf(-0.5))
            .matmul(k.swap_dims(1, 2));
        if let Some(bias) = position_bias {
            let bias = match &self.gate {
                Some(gate) => bias.clone() * gate.forward(q),
                None => bias.clone(),
            };
            scores = scores + bias;
        }
        let out = activation::softmax(scores, 2)
            .matmul(v)
            .swap_dims(0, 1)
            .reshape([tokens, d]);
        self.out_proj.forward(out)
    }
}

impl<B: Backend> BiasGate<B> {
    /// Per-head, per-query multiplier (heads, tokens, 1) from the unscaled queries
    /// (heads, tokens, head_dim): σ-gates a, b from two sums of four logits, a·(b·grep_a − 1) + 2.
    fn forward(&self, q: Tensor<B, 3>) -> Tensor<B, 3> {
        let [heads, tokens, _] = q.dims();
        let logits = self
            .linear
            .forward(q)
            .reshape([heads, tokens, 2, GATE_LOGITS / 2])
            .sum_dim(3)
            .reshape([heads, tokens, 2]);
        let gates = activation::sigmoid(logits);
        let a = gates.clone().slice([0..heads, 0..tokens, 0..1]);
        let b = gates.slice([0..heads, 0..tokens, 1..2]);
        a * (b * self.a.clone() - 1.0) + 2.0
    }
}
