//! The 3-D patch embedding: a Conv3d whose kernel equals its stride, i.e. one matmul per patch row.
//!
//! The processor already flattens every patch in the Conv3d weight's (C, T, p, p) order, so the
//! kernel flattened the same way is a plain (C·T·p·p, hidden) matrix.

use burn::tensor::{backend::Backend, Tensor};

use crate::config::VisionConfig;
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub(crate) struct PatchEmbed<B: Backend> {
    /// (C·T·p·p, hidden).
    kernel: Tensor<B, 2>,
}

impl<B: Backend> PatchEmbed<B> {
    /// Loads `{prefix}.proj.weight` (hidden, C, T, p, p); the conv has no bias.
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &VisionConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let shape = [
            cfg.hidden_size,
            cfg.in_channels,
            cfg.temporal_patch_size,
            cfg.patch_size,
            cfg.patch_size,
        ];
        let weight: Tensor<B, 5> = store.tensor(&format!("{prefix}.proj.weight"), shape, device)?;
        let kernel = weight
            .reshape([cfg.hidden_size, patch_width(cfg)])
            .transpose();
        Ok(Self { kernel })
    }

    /// (n_patches, C·T·p·p) -> (n_patches, hidden).
    pub(crate) fn forward(&self, patches: Tensor<B, 2>) -> Tensor<B, 2> {
        patches.matmul(self.kernel.clone())
    }
}

/// Values per patch row: channels × temporal patch × patch × patch.
pub(crate) fn patch_width(cfg: &VisionConfig) -> usize {
    cfg.in_channels * cfg.temporal_patch_size * cfg.patch_size * cfg.patch_size
}
