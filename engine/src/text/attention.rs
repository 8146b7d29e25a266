//! Grouped-query self-attention of the Qwen2 decoder: q/k/v with bias, o without, M-RoPE on q and k.

use burn::tensor::{activation::softmax, backend::Backend, Bool, Tensor};

use super::rope::apply_rotary;
use crate::config::TextConfig;
use crate::nn::{Bias, Linear};
use crate::weights::{WeightError, WeightStore};

/// Query rows per attention block (the golden AV/QA cases, 319 and 374 tokens, span two).
const QUERY_BLOCK: usize = 256;

pub struct Attention<B: Backend> {
    q_proj: Linear<B>,
    k_proj: Linear<B>,
    v_proj: Linear<B>,
    o_proj: Linear<B>,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
}

impl<B: Backend> Attention<B> {
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &TextConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let hidden = cfg.hidden_size;
        let head_dim = cfg.head_dim();
        let q_out = cfg.num_attention_heads * head_dim;
        let kv_out = cfg.num_key_value_heads * head_dim;
        Ok(Self {
            q_proj: Linear::load(
                store,
                &format!("{prefix}.q_proj"),
                hidden,
                q_out,
                Bias::Required,
                device,
            )?,
            k_proj: Linear::load(
                store,
                &format!("{prefix}.k_proj"),
                hidden,
                kv_out,
                Bias::Required,
                device,
            )?,
            v_proj: Linear::load(
                store,
                &format!("{prefix}.v_proj"),
                hidden,
                kv_out,
                Bias::Required,
                device,
            )?,
            o_proj: Linear::load(
                store,
                &format!("{prefix}.o_proj"),
                q_out,
                hidden,
                Bias::Absent,
                device,
            )?,
            num_heads: cfg.num_attention_heads,
            num_kv_heads: cfg.num_key_value_heads,
            head_dim,
        })
    }

    /// `x`: `(batch, len, hidden)`; `mask`: `(batch, 1, len, len)`, true where a query may NOT attend.
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        cos: &Tensor<B, 4>,
        sin: &Tensor<B, 4>,
        mask: &Tensor<B, 4, Bool>,
    ) -> Tensor<B, 3> {
        let [batch, len, _] = x.dims();
        let heads =
            |t: Tensor<B, 3>, n: usize| t.reshape([batch, len, n, self.head_dim]).swap_dims(1, 2);
        let q = heads(self.q_proj.forward(x.clone()), self.num_heads);
        let k = heads(self.k_proj.forward(x.clone()), self.num_kv_heads);
        let v = heads(self.v_proj.forward(x), self.num_kv_heads);
        let q = apply_rotary(q, cos, sin);
        let k = self.repeat_kv(apply_rotary(k, cos, sin));
        let v = self.repeat_kv(v);

        let scale = (self.head_dim as f64).powf(-0.5);
        let k_t = k.swap_dims(2, 3);
        // Queries in blocks bound the score matrix to heads × block × len (long media inputs
        // reach tens of thousands of tokens); each row's softmax is unchanged by the split.
        let blocks: Vec<Tensor<B, 4>> = (0..len)
            .step_by(QUERY_BLOCK)
            .map(|start| {
                let end = (start + QUERY_BLOCK).min(len);
                let q =
                    q.clone()
                        .slice([0..batch, 0..self.num_heads, start..end, 0..self.head_dim]);
                let mask = mask.clone().slice([0..batch, 0..1, start..end, 0..len]);
                let scores = q.matmul(k_t.clone()) * scale;
                // f32::MIN rather than -inf keeps fully masked (padding) rows finite, not NaN.
                softmax(scores.mask_fill(mask, f32::MIN), 3).matmul(v.clone())
            })
            .collect();
        let out = Tensor::cat(blocks, 2).swap_dims(1, 2).reshape([
            batch,
            len,
            self.num_heads * self.head_dim,
        ]);
        self.o_proj.forward(out)
    }

    /// Each key/value head serves `num_heads / num_kv_heads` consecutive query heads.
    fn repeat_kv(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let groups = self.num_heads / self.num_kv_heads;
        if groups == 1 {
            return x;
        }
        let [batch, kv, len, dim] = x.dims();
        x.unsqueeze_dim::<5>(2)
            .expand([batch, kv, groups, len, dim])
            .reshape([batch, kv * groups, len, dim])
    }
}
