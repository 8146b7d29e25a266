//! BEATs' T5-style bidirectional relative-position buckets and the learned bias table they index.

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use crate::weights::{WeightError, WeightStore};

/// Bucket of the offset `key - query`: half the buckets per direction (positive offsets in the
/// upper half); within a direction, exact buckets below `max_exact = half/2`, then log-spaced
/// up to `max_distance`, capped at the direction's last bucket. Computed in f32 like the
/// reference, so the bucket edges fall where they fall there.
pub fn relative_position_bucket(offset: i64, num_buckets: usize, max_distance: usize) -> usize {
    let half = num_buckets / 2;
    let base = if offset > 0 { half } else { 0 };
    let distance = offset.unsigned_abs() as usize;
    let max_exact = half / 2;
    if distance < max_exact {
        return base + distance;
    }
    let log_ratio = (distance as f32 / max_exact as f32).ln();
    let log_range = (max_distance as f64 / max_exact as f64).ln() as f32;
    // `as usize` truncates toward zero, like the reference's `.to(torch.long)` (the value is ≥ 0).
    let large = max_exact + (log_ratio / log_range * (half - max_exact) as f32) as usize;
    base + large.min(half - 1)
}

/// The `relative_attention_bias` embedding (num_buckets, heads), shared by every layer.
#[derive(Debug, Clone)]
pub struct RelativePositionBias<B: Backend> {
    table: Tensor<B, 2>,
    num_buckets: usize,
    max_distance: usize,
}

impl<B: Backend> RelativePositionBias<B> {
    pub fn load(
        store: &WeightStore,
        name: &str,
        num_buckets: usize,
        heads: usize,
        max_distance: usize,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        Ok(Self {
            table: store.tensor(name, [num_buckets, heads], device)?,
            num_buckets,
            max_distance,
        })
    }

    /// The ungated bias for a sequence of `len` tokens: (heads, len, len), entry [h, i, j]
    /// for query i and key j.
    pub fn forward(&self, len: usize) -> Tensor<B, 3> {
        let buckets: Vec<i64> = (0..len as i64)
            .flat_map(|i| (0..len as i64).map(move |j| (i, j)))
            .map(|(i, j)| {
                relative_position_bucket(j - i, self.num_buckets, self.max_distance) as i64
            })
            .collect();
        let device = self.table.device();
        let index = Tensor::<B, 1, Int>::from_data(TensorData::new(buckets, [len * len]), &device);
        let [_, heads] = self.table.dims();
        self.table
            .clone()
            .select(0, index)
            .reshape([len, len, heads])
            .permute([2, 0, 1])
    }
}
