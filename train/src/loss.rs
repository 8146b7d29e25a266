//! WAVE's losses (wave.md §2): symmetric InfoNCE over cosine similarities with in-batch
//! negatives, and the QA loss, a cross-entropy over the right answer and its distractors only.

use burn::tensor::activation::log_softmax;
use burn::tensor::{backend::Backend, Tensor};

/// Rows scaled to unit length (`F.normalize`).
pub fn normalize<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}

/// `0.5·(CE(q→t) + CE(t→q))` with the i-th query matching the i-th target.
pub fn info_nce<B: Backend>(
    queries: Tensor<B, 2>,
    targets: Tensor<B, 2>,
    tau: f32,
) -> Tensor<B, 1> {
    let [n, _] = queries.dims();
    let device = queries.device();
    let logits = normalize(queries).matmul(normalize(targets).transpose()) / tau;
    let eye = Tensor::<B, 2>::eye(n, &device);
    let q2t = (log_softmax(logits.clone(), 1) * eye.clone()).sum() / n as f32;
    let t2q = (log_softmax(logits, 0) * eye).sum() / n as f32;
    (q2t + t2q) * -0.5
}

/// Cross-entropy over each query's own `k` candidates, the right one first.
/// `queries`: `(n, d)`; `candidates`: `(n·k, d)`, query i's candidates in rows `i·k..(i+1)·k`.
pub fn qa_loss<B: Backend>(
    queries: Tensor<B, 2>,
    candidates: Tensor<B, 2>,
    k: usize,
    tau: f32,
) -> Tensor<B, 1> {
    let [n, d] = queries.dims();
    let q = normalize(queries).reshape([n, 1, d]);
    let c = normalize(candidates).reshape([n, k, d]);
    let logits = (q * c).sum_dim(2).reshape([n, k]) / tau;
    let right = log_softmax(logits, 1).slice([0..n, 0..1]);
    right.sum() / n as f32 * -1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use wave_engine::CpuBackend as B;

    fn t(rows: &[[f32; 2]]) -> Tensor<B, 2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), 2]), &Default::default())
    }

    fn scalar(x: Tensor<B, 1>) -> f32 {
        x.into_data().to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn info_nce_is_low_for_matching_pairs_and_high_for_swapped() {
        let q = t(&[[1.0, 0.0], [0.0, 1.0]]);
        let good = scalar(info_nce(q.clone(), t(&[[2.0, 0.1], [0.1, 3.0]]), 0.1));
        let bad = scalar(info_nce(q, t(&[[0.1, 3.0], [2.0, 0.1]]), 0.1));
        assert!(good < 0.01, "{good}");
        assert!(bad > 5.0, "{bad}");
    }

    #[test]
    fn qa_loss_prefers_the_first_candidate() {
        let q = t(&[[1.0, 0.0]]);
        let right_first = scalar(qa_loss(q.clone(), t(&[[1.0, 0.0], [0.0, 1.0]]), 2, 0.1));
        let wrong_first = scalar(qa_loss(q, t(&[[0.0, 1.0], [1.0, 0.0]]), 2, 0.1));
        assert!(right_first < 0.01 && wrong_first > 5.0);
    }
}
