//! Multi-head self-attention restricted to contiguous segments (windows or frames).
//!
//! The reference builds a dense block-diagonal mask; attending segment by segment gives the same
//! result without the (n × n) score matrix. Consecutive segments of equal length are batched.

use burn::tensor::{activation::softmax, backend::Backend, Tensor};

use super::rotary::Rotary;
use crate::nn::{Bias, Linear};
use crate::weights::{WeightError, WeightStore};

/// Upper bound on the score elements of one batched matmul (keeps full-frame attention on long
/// videos from allocating all frames' scores at once).
const MAX_SCORE_ELEMENTS: usize = 1 << 26;

#[derive(Debug, Clone)]
pub(crate) struct VisionAttention<B: Backend> {
    q: Linear<B>,
    k: Linear<B>,
    v: Linear<B>,
    proj: Linear<B>,
    num_heads: usize,
}

impl<B: Backend> VisionAttention<B> {
    /// Loads `{prefix}.{q,k,v,proj}`, each (hidden, hidden) with bias.
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        hidden: usize,
        num_heads: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let linear = |name: &str| {
            Linear::load(
                store,
                &format!("{prefix}.{name}"),
                hidden,
                hidden,
                Bias::Required,
                device,
            )
        };
        Ok(Self {
            q: linear("q")?,
            k: linear("k")?,
            v: linear("v")?,
            proj: linear("proj")?,
            num_heads,
        })
    }

    /// `x` (n, hidden); `segments` are lengths summing to n, each attending only to itself.
    pub(crate) fn forward(
        &self,
        x: Tensor<B, 2>,
        segments: &[usize],
        rotary: &Rotary<B>,
    ) -> Tensor<B, 2> {
        let [n, hidden] = x.dims();
        let head_dim = hidden / self.num_heads;
        let split = |t: Tensor<B, 2>| t.reshape([n, self.num_heads, head_dim]);
        let q = rotary.apply(split(self.q.forward(x.clone())));
        let k = rotary.apply(split(self.k.forward(x.clone())));
        let v = split(self.v.forward(x));
        let scale = 1.0 / (head_dim as f64).sqrt();

        let mut outputs = Vec::new();
        let mut start = 0;
        for (len, count) in batches(segments, self.num_heads) {
            let rows = start..start + len * count;
            // (count·len, heads, d) -> (count, heads, len, d)
            let take = |t: &Tensor<B, 3>| {
                t.clone()
                    .slice([rows.clone(), 0..self.num_heads, 0..head_dim])
                    .reshape([count, len, self.num_heads, head_dim])
                    .swap_dims(1, 2)
            };
            let (qs, ks, vs) = (take(&q), take(&k), take(&v));
            let scores = qs.matmul(ks.swap_dims(2, 3)) * scale;
            let out = softmax(scores, 3).matmul(vs);
            outputs.push(out.swap_dims(1, 2).reshape([len * count, hidden]));
            start += len * count;
        }
        self.proj.forward(Tensor::cat(outputs, 0))
    }
}

/// Groups consecutive equal-length segments into (length, count) batches of bounded size.
fn batches(segments: &[usize], heads: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &len in segments.iter().filter(|&&len| len > 0) {
        let cap = (MAX_SCORE_ELEMENTS / (heads * len * len)).max(1);
        match out.last_mut() {
            Some((last_len, count)) if *last_len == len && *count < cap => *count += 1,
            _ => out.push((len, 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::batches;

    #[test]
    fn equal_neighbours_share_a_batch() {
        assert_eq!(
            batches(&[4, 4, 2, 4, 4, 4], 2),
            vec![(4, 2), (2, 1), (4, 3)]
        );
    }

    #[test]
    fn batches_are_capped() {
        let len = 4096;
        let segments = vec![len; 10];
        let total: usize = batches(&segments, 16).iter().map(|(_, c)| c).sum();
        assert_eq!(total, 10);
        assert!(batches(&segments, 16).len() > 1);
    }
}
