//! Weights held in memory rather than read from files: what a trainer builds the model from at
//! every step. Tensors whose names it marks trainable are handed out with `require_grad` and
//! remembered, so the trainer can read their gradients after `backward`.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use burn::tensor::{backend::Backend, Tensor, TensorData};

use super::{WeightError, WeightStore};

/// One tensor's values (row-major f32) and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub values: Vec<f32>,
    pub shape: Vec<usize>,
}

/// A trainable tensor as the model received it: `Tensor<B, D>` for the store's backend, boxed
/// because the store is not generic. Downcast with [`TrackedTensor::grad_values`].
pub struct TrackedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    tensor: Box<dyn Any + Send>,
}

impl TrackedTensor {
    /// The gradient of this tensor in `grads`, flattened row-major; `None` if it took no part
    /// in the loss.
    pub fn grad_values<B: burn::tensor::backend::AutodiffBackend>(
        &self,
        grads: &B::Gradients,
    ) -> Option<Vec<f32>> {
        fn read<B: burn::tensor::backend::AutodiffBackend, const D: usize>(
            any: &(dyn Any + Send),
            grads: &B::Gradients,
        ) -> Option<Option<Vec<f32>>> {
            let tensor = any.downcast_ref::<Tensor<B, D>>()?;
            Some(tensor.grad(grads).map(|g| {
                g.into_data()
                    .convert::<f32>()
                    .to_vec::<f32>()
                    .expect("a float gradient reads back as f32")
            }))
        }
        let any = self.tensor.as_ref();
        read::<B, 1>(any, grads)
            .or_else(|| read::<B, 2>(any, grads))
            .or_else(|| read::<B, 3>(any, grads))
            .or_else(|| read::<B, 4>(any, grads))
            .or_else(|| read::<B, 5>(any, grads))
            .flatten()
    }

    /// The sum of this tensor's elements, as an autodiff node whose parent is the tensor.
    fn sum<B: Backend>(&self) -> Option<Tensor<B, 1>> {
        fn read<B: Backend, const D: usize>(any: &(dyn Any + Send)) -> Option<Tensor<B, 1>> {
            Some(any.downcast_ref::<Tensor<B, D>>()?.clone().sum())
        }
        let any = self.tensor.as_ref();
        read::<B, 1>(any)
            .or_else(|| read::<B, 2>(any))
            .or_else(|| read::<B, 3>(any))
            .or_else(|| read::<B, 4>(any))
            .or_else(|| read::<B, 5>(any))
    }
}

/// The in-memory part of a [`WeightStore`].
#[derive(Default)]
pub(super) struct MemoryWeights {
    pub(super) tensors: BTreeMap<String, HostTensor>,
    pub(super) trainable: BTreeSet<String>,
    pub(super) tracked: std::sync::Mutex<Vec<TrackedTensor>>,
}

impl std::fmt::Debug for MemoryWeights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryWeights")
            .field("tensors", &self.tensors.len())
            .field("trainable", &self.trainable.len())
            .finish()
    }
}

impl WeightStore {
    /// A store over tensors in memory. Tensors named in `trainable` are handed out with
    /// `require_grad` and recorded (see [`WeightStore::take_tracked`]).
    pub fn from_memory(tensors: BTreeMap<String, HostTensor>, trainable: BTreeSet<String>) -> Self {
        Self {
            memory: Some(MemoryWeights {
                tensors,
                trainable,
                tracked: Default::default(),
            }),
            ..Self::default()
        }
    }

    /// The trainable tensors handed out so far, in request order (emptying the record).
    pub fn take_tracked(&self) -> Vec<TrackedTensor> {
        match &self.memory {
            Some(m) => std::mem::take(&mut *m.tracked.lock().unwrap()),
            None => Vec::new(),
        }
    }

    /// Puts every trainable tensor handed out so far into one autodiff graph, through one
    /// operation over all of them whose result is dropped (no gradient changes). Call it once
    /// the model is built, before its forward.
    ///
    /// Each `require_grad` tensor starts a graph of its own, and burn merges graphs when an
    /// operation meets two, by moving one into another picked arbitrarily. Met one by one in
    /// the forward, the weights made the whole graph built so far move again and again: a
    /// fifth of a training step's samples under perf. One merge of single-node graphs here
    /// leaves the forward none to do (0.5 %). It has to be one operation over all of them:
    /// joining them one at a time, each into the last, left the forward's merges as they were.
    pub fn join_tracked<B: Backend>(&self) {
        let Some(memory) = &self.memory else {
            return;
        };
        let sums: Vec<Tensor<B, 1>> = memory
            .tracked
            .lock()
            .unwrap()
            .iter()
            .filter_map(TrackedTensor::sum::<B>)
            .collect();
        if sums.len() > 1 {
            drop(Tensor::cat(sums, 0));
        }
    }

    pub(super) fn memory_tensor<B: Backend, const D: usize>(
        &self,
        memory: &MemoryWeights,
        name: &str,
        shape: [usize; D],
        device: &B::Device,
    ) -> Result<Tensor<B, D>, WeightError> {
        let host = memory
            .tensors
            .get(name)
            .ok_or_else(|| WeightError::Missing {
                name: name.to_string(),
                files: "(weights in memory)".into(),
            })?;
        if host.shape != shape {
            return Err(WeightError::Shape {
                name: name.to_string(),
                path: "(weights in memory)".into(),
                expected: shape.to_vec(),
                found: host.shape.clone(),
            });
        }
        self.mark_used(name);
        let tensor = Tensor::from_data(TensorData::new(host.values.clone(), shape), device);
        if !memory.trainable.contains(name) {
            return Ok(tensor);
        }
        let tensor = tensor.require_grad();
        memory.tracked.lock().unwrap().push(TrackedTensor {
            name: name.to_string(),
            shape: shape.to_vec(),
            tensor: Box::new(tensor.clone()),
        });
        Ok(tensor)
    }
}
