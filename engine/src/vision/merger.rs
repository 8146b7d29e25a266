//! The patch merger: RMSNorm each patch, concatenate each merge×merge group, then a GELU MLP to
//! the LLM's width.

use burn::tensor::{activation::gelu, backend::Backend, Tensor};

use super::VISION_RMS_EPS;
use crate::config::VisionConfig;
use crate::nn::{Bias, Linear, RmsNorm};
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub(crate) struct PatchMerger<B: Backend> {
    ln_q: RmsNorm<B>,
    fc1: Linear<B>,
    fc2: Linear<B>,
    group_width: usize,
}

impl<B: Backend> PatchMerger<B> {
    /// Loads `{prefix}.ln_q`, `{prefix}.mlp.0` and `{prefix}.mlp.2` (`mlp.1` is the GELU).
    pub(crate) fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &VisionConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let group_width = cfg.hidden_size * cfg.spatial_merge_size * cfg.spatial_merge_size;
        Ok(Self {
            ln_q: RmsNorm::load(
                store,
                &format!("{prefix}.ln_q"),
                cfg.hidden_size,
                VISION_RMS_EPS,
                device,
            )?,
            fc1: Linear::load(
                store,
                &format!("{prefix}.mlp.0"),
                group_width,
                group_width,
                Bias::Required,
                device,
            )?,
            fc2: Linear::load(
                store,
                &format!("{prefix}.mlp.2"),
                group_width,
                cfg.out_hidden_size,
                Bias::Required,
                device,
            )?,
            group_width,
        })
    }

    /// (n_patches, hidden) with each group's patches adjacent -> (n_patches / merge², out_hidden).
    pub(crate) fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let [n, hidden] = x.dims();
        let groups = n * hidden / self.group_width;
        let x = self.ln_q.forward(x).reshape([groups, self.group_width]);
        self.fc2.forward(gelu(self.fc1.forward(x)))
    }
}
