//! A cross-batch memory of negatives: the embeddings of the last few batches of each retrieval
//! task, kept (detached) as extra negatives for the next batches of that task.
//!
//! Why: a batch of 24 pairs rarely holds two scenes that differ in one attribute, while the
//! test gallery (200 clips) holds many, and rank 1 is decided among exactly those. Recomputing
//! a larger batch costs a forward and backward pass per item; remembered embeddings cost a
//! matrix product. They were made by slightly older weights, which is why only the last few
//! batches are kept (as in cross-batch memory for metric learning, where embeddings drift
//! slowly once training has settled, as it has when a stage starts from a trained model).
//!
//! The memory is not part of the checkpoint: a resumed run starts it empty and refills it
//! within a few cycles of tasks.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::tasks::Task;

/// Both sides of one remembered batch, rows scaled to unit length.
struct RememberedBatch {
    /// The batch key of each pair (its caption, or its tune for hums): a remembered pair with
    /// the key of a pair in the current batch is a false negative and is left out.
    keys: Vec<String>,
    queries: Vec<f32>,
    targets: Vec<f32>,
}

/// The last `batches` batches of each task.
pub struct NegativeMemory {
    batches: usize,
    dim: usize,
    per_task: BTreeMap<Task, VecDeque<RememberedBatch>>,
}

/// Remembered embeddings to add to a batch's candidates: `(m, d)` queries and targets.
pub struct Negatives<B: Backend> {
    pub queries: Tensor<B, 2>,
    pub targets: Tensor<B, 2>,
}

impl NegativeMemory {
    /// Keeps `batches` batches per task (0 keeps none).
    pub fn new(batches: usize) -> Self {
        NegativeMemory {
            batches,
            dim: 0,
            per_task: BTreeMap::new(),
        }
    }

    /// How many pairs are remembered for `task`.
    pub fn len(&self, task: Task) -> usize {
        self.per_task
            .get(&task)
            .map_or(0, |q| q.iter().map(|b| b.keys.len()).sum())
    }

    /// Stores a batch's embeddings (row-major `(keys.len(), dim)` each, the same `dim` every
    /// time), dropping the oldest batch of the task when full.
    pub fn remember(&mut self, task: Task, keys: Vec<String>, queries: &[f32], targets: &[f32]) {
        if self.batches == 0 || keys.is_empty() {
            return;
        }
        let rows = keys.len();
        if self.dim == 0 {
            self.dim = queries.len() / rows;
        }
        assert_eq!(queries.len(), rows * self.dim, "query rows");
        assert_eq!(targets.len(), rows * self.dim, "target rows");
        let kept = self.per_task.entry(task).or_default();
        if kept.len() == self.batches {
            kept.pop_front();
        }
        kept.push_back(RememberedBatch {
            keys,
            queries: unit_rows(queries, self.dim),
            targets: unit_rows(targets, self.dim),
        });
    }

    /// The remembered pairs of `task` whose keys are not in `exclude`, or `None` if there are
    /// none.
    pub fn negatives<B: Backend>(
        &self,
        task: Task,
        exclude: &BTreeSet<String>,
        device: &B::Device,
    ) -> Option<Negatives<B>> {
        let mut queries = Vec::new();
        let mut targets = Vec::new();
        let d = self.dim;
        for batch in self.per_task.get(&task)? {
            for (row, key) in batch.keys.iter().enumerate() {
                if exclude.contains(key) {
                    continue;
                }
                queries.extend_from_slice(&batch.queries[row * d..(row + 1) * d]);
                targets.extend_from_slice(&batch.targets[row * d..(row + 1) * d]);
            }
        }
        let m = queries.len() / d;
        (m > 0).then(|| Negatives {
            queries: Tensor::from_data(TensorData::new(queries, [m, d]), device),
            targets: Tensor::from_data(TensorData::new(targets, [m, d]), device),
        })
    }
}

fn unit_rows(x: &[f32], dim: usize) -> Vec<f32> {
    x.chunks(dim)
        .flat_map(|row| {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter().map(move |v| v / norm)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wave_engine::CpuBackend as B;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_the_last_batches_and_leaves_out_the_current_batchs_keys() {
        let mut memory = NegativeMemory::new(2);
        memory.remember(Task::TextVideo, keys(&["a"]), &[3.0, 4.0], &[0.0, 2.0]);
        memory.remember(
            Task::TextVideo,
            keys(&["b", "c"]),
            &[1.0, 0.0, 0.0, 1.0],
            &[1.0, 0.0, 0.0, 1.0],
        );
        memory.remember(Task::TextAudio, keys(&["x"]), &[1.0, 0.0], &[1.0, 0.0]);
        assert_eq!(memory.len(Task::TextVideo), 3);
        // A third batch pushes out the first.
        memory.remember(Task::TextVideo, keys(&["d"]), &[0.0, 5.0], &[5.0, 0.0]);
        assert_eq!(memory.len(Task::TextVideo), 3);

        let exclude: BTreeSet<String> = keys(&["c"]).into_iter().collect();
        let n = memory
            .negatives::<B>(Task::TextVideo, &exclude, &Default::default())
            .expect("negatives");
        let q = n.queries.into_data().to_vec::<f32>().unwrap();
        let t = n.targets.into_data().to_vec::<f32>().unwrap();
        // "b" then "d", scaled to unit length; "a" was pushed out, "c" is excluded.
        assert_eq!(q, vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(t, vec![1.0, 0.0, 1.0, 0.0]);
        assert!(memory
            .negatives::<B>(Task::VideoAudio, &exclude, &Default::default())
            .is_none());
    }

    #[test]
    fn a_memory_of_zero_batches_keeps_nothing() {
        let mut memory = NegativeMemory::new(0);
        memory.remember(Task::TextVideo, keys(&["a"]), &[1.0, 0.0], &[1.0, 0.0]);
        assert_eq!(memory.len(Task::TextVideo), 0);
    }
}
