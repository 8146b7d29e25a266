//! WAVE's losses (wave.md §2): symmetric InfoNCE over cosine similarities with in-batch
//! negatives, and the QA loss, a cross-entropy over the right answer and its distractors only.

use burn::tensor::activation::log_softmax;
use burn::tensor::{backend::Backend, Tensor};

use crate::memory::Negatives;

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
    info_nce_with_negatives(queries, targets, None, tau)
}

/// [`info_nce`] with extra candidates on both sides: each query is ranked against the batch's
/// targets and `extra`'s targets, each target against the batch's queries and `extra`'s
/// queries (a memory of earlier batches: constants, no gradient flows into them).
pub fn info_nce_with_negatives<B: Backend>(
    queries: Tensor<B, 2>,
    targets: Tensor<B, 2>,
    extra: Option<Negatives<B>>,
    tau: f32,
) -> Tensor<B, 1> {
    let [n, _] = queries.dims();
    let device = queries.device();
    let q = normalize(queries);
    let t = normalize(targets);
    let (query_candidates, target_candidates) = match extra {
        Some(extra) => (
            Tensor::cat(vec![q.clone(), normalize(extra.queries)], 0),
            Tensor::cat(vec![t.clone(), normalize(extra.targets)], 0),
        ),
        None => (q.clone(), t.clone()),
    };
    let eye = Tensor::<B, 2>::eye(n, &device);
    // Row i's own pair is column i; the extra candidates sit after the batch's n columns.
    let own = |logits: Tensor<B, 2>| {
        (log_softmax(logits, 1).slice([0..n, 0..n]) * eye.clone()).sum() / n as f32
    };
    let q2t = own(q.clone().matmul(target_candidates.transpose()) / tau);
    let t2q = own(t.matmul(query_candidates.transpose()) / tau);
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
    fn remembered_negatives_raise_the_loss_only_when_they_resemble_the_pairs() {
        let q = t(&[[1.0, 0.0], [0.0, 1.0]]);
        let targets = t(&[[1.0, 0.1], [0.1, 1.0]]);
        let plain = scalar(info_nce(q.clone(), targets.clone(), 0.1));
        let extra = |rows: &[[f32; 2]]| {
            Some(Negatives {
                queries: t(rows),
                targets: t(rows),
            })
        };
        let far = scalar(info_nce_with_negatives(
            q.clone(),
            targets.clone(),
            extra(&[[-1.0, -1.0]]),
            0.1,
        ));
        let near = scalar(info_nce_with_negatives(
            q,
            targets,
            extra(&[[1.0, 0.05]]),
            0.1,
        ));
        assert!((far - plain).abs() < 1e-3, "{far} vs {plain}");
        assert!(near > plain + 0.3, "{near} vs {plain}");
    }

    #[test]
    fn qa_loss_prefers_the_first_candidate() {
        let q = t(&[[1.0, 0.0]]);
        let right_first = scalar(qa_loss(q.clone(), t(&[[1.0, 0.0], [0.0, 1.0]]), 2, 0.1));
        let wrong_first = scalar(qa_loss(q, t(&[[0.0, 1.0], [1.0, 0.0]]), 2, 0.1));
        assert!(right_first < 0.01 && wrong_first > 5.0);
    }
}
