//! The vision tower: pixel patches of one or more videos in, one row per merged token out.
//!
//! patch embedding -> regroup into attention windows -> blocks (window attention, or per-frame
//! attention in the `fullatt_block_indexes` blocks), all with 2-D RoPE -> merger -> back to the
//! processor's token order.

use std::path::PathBuf;

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use super::block::VisionBlock;
use super::error::VisionError;
use super::merger::PatchMerger;
use super::patch_embed::{patch_width, PatchEmbed};
use super::rotary::Rotary;
use super::windows::{lengths, WindowLayout};
use crate::config::VisionConfig;
use crate::weights::{WeightError, WeightStore};

#[derive(Debug, Clone)]
pub struct VisionTower<B: Backend> {
    patch_embed: PatchEmbed<B>,
    blocks: Vec<VisionBlock<B>>,
    merger: PatchMerger<B>,
    cfg: VisionConfig,
    /// Merged tokens per attention-window side (`window_size / merge / patch`).
    window_side: usize,
    device: B::Device,
}

/// Intermediates of one forward, for parity checks.
#[derive(Debug, Clone)]
pub struct VisionTrace<B: Backend> {
    /// (n_patches, hidden) patch-embedding output, processor order.
    pub patch_embeds: Tensor<B, 2>,
    /// (n_patches, hidden) output of the last block, window order (the merger's input).
    pub merger_in: Tensor<B, 2>,
    /// (n_patches / merge², out_hidden) the tower's output, processor order.
    pub output: Tensor<B, 2>,
    pub layout: WindowLayout,
}

impl<B: Backend> VisionTower<B> {
    /// Loads `{prefix}patch_embed`, `{prefix}blocks.N`, `{prefix}merger` (prefix e.g. `"visual."`).
    pub fn load(
        store: &WeightStore,
        prefix: &str,
        cfg: &VisionConfig,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let window_side = check_config(cfg)?;
        let blocks = (0..cfg.depth)
            .map(|i| VisionBlock::load(store, &format!("{prefix}blocks.{i}"), cfg, device))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            patch_embed: PatchEmbed::load(store, &format!("{prefix}patch_embed"), cfg, device)?,
            blocks,
            merger: PatchMerger::load(store, &format!("{prefix}merger"), cfg, device)?,
            cfg: cfg.clone(),
            window_side,
            device: device.clone(),
        })
    }

    /// One video: `patches` (t·h·w, C·T·p·p) from the processor, `grid_thw` its grid in patches.
    /// Returns (t·h·w / merge², out_hidden).
    pub fn forward(
        &self,
        patches: Tensor<B, 2>,
        grid_thw: [usize; 3],
    ) -> Result<Tensor<B, 2>, VisionError> {
        self.forward_videos(patches, &[grid_thw])
    }

    /// Several videos at once: their patches concatenated in `grids` order. The output rows are
    /// concatenated the same way; videos never attend to each other.
    pub fn forward_videos(
        &self,
        patches: Tensor<B, 2>,
        grids: &[[usize; 3]],
    ) -> Result<Tensor<B, 2>, VisionError> {
        Ok(self.forward_traced(patches, grids)?.output)
    }

    /// [`Self::forward_videos`] keeping the intermediates the golden data records.
    pub fn forward_traced(
        &self,
        patches: Tensor<B, 2>,
        grids: &[[usize; 3]],
    ) -> Result<VisionTrace<B>, VisionError> {
        self.check_input(&patches, grids)?;
        let layout = self.layout(grids);
        let patch_embeds = self.patch_embed.forward(patches);
        let blocks_in = self.to_window_order(patch_embeds.clone(), &layout);
        let merger_in = self.run_blocks(blocks_in, grids, &layout);
        let output = self
            .merger
            .forward(merger_in.clone())
            .select(0, self.index(&layout.inverse_index()));
        Ok(VisionTrace {
            patch_embeds,
            merger_in,
            output,
            layout,
        })
    }

    /// The first half of [`Self::forward`] for one video: the patch embedding, rows in
    /// window order (the first block's input). [`Self::encode_embedded`] finishes the pass.
    /// A trainer caches this output and trains what follows (blocks and merger).
    pub fn embed_patches(
        &self,
        patches: Tensor<B, 2>,
        grid_thw: [usize; 3],
    ) -> Result<Tensor<B, 2>, VisionError> {
        self.check_input(&patches, &[grid_thw])?;
        let layout = self.layout(&[grid_thw]);
        Ok(self.to_window_order(self.patch_embed.forward(patches), &layout))
    }

    /// The second half of [`Self::forward`] for one video embedded by
    /// [`Self::embed_patches`]: blocks, merger, back to the processor's order.
    pub fn encode_embedded(
        &self,
        blocks_in: Tensor<B, 2>,
        grid_thw: [usize; 3],
    ) -> Result<Tensor<B, 2>, VisionError> {
        self.check_grids(&[grid_thw])?;
        let [t, h, w] = grid_thw;
        let [rows, width] = blocks_in.dims();
        if rows != t * h * w {
            return Err(VisionError::PatchCount {
                expected: t * h * w,
                found: rows,
            });
        }
        if width != self.cfg.hidden_size {
            return Err(VisionError::EmbeddedWidth {
                expected: self.cfg.hidden_size,
                found: width,
            });
        }
        let layout = self.layout(&[grid_thw]);
        let merger_in = self.run_blocks(blocks_in, &[grid_thw], &layout);
        Ok(self
            .merger
            .forward(merger_in)
            .select(0, self.index(&layout.inverse_index())))
    }

    fn layout(&self, grids: &[[usize; 3]]) -> WindowLayout {
        WindowLayout::new(grids, self.cfg.spatial_merge_size, self.window_side)
    }

    /// Window order moves whole merged tokens, so rows are permuted in groups of merge².
    fn to_window_order(&self, patch_embeds: Tensor<B, 2>, layout: &WindowLayout) -> Tensor<B, 2> {
        let merge = self.cfg.spatial_merge_size;
        let merge_unit = merge * merge;
        let hidden = self.cfg.hidden_size;
        let [n, _] = patch_embeds.dims();
        patch_embeds
            .reshape([n / merge_unit, merge_unit * hidden])
            .select(0, self.index(&layout.window_index))
            .reshape([n, hidden])
    }

    /// The blocks over rows in window order: window attention, or per-frame attention in the
    /// `fullatt_block_indexes` blocks.
    fn run_blocks(
        &self,
        mut x: Tensor<B, 2>,
        grids: &[[usize; 3]],
        layout: &WindowLayout,
    ) -> Tensor<B, 2> {
        let head_dim = self.cfg.hidden_size / self.cfg.num_heads;
        let merge = self.cfg.spatial_merge_size;
        let rotary = Rotary::new(grids, merge, head_dim, &layout.window_index, &self.device);
        let windows = lengths(&layout.cu_window_seqlens);
        let frames = lengths(&layout.cu_frame_seqlens);
        for (i, block) in self.blocks.iter().enumerate() {
            let segments = if self.cfg.fullatt_block_indexes.contains(&i) {
                &frames
            } else {
                &windows
            };
            x = block.forward(x, segments, &rotary);
        }
        x
    }

    fn index(&self, values: &[usize]) -> Tensor<B, 1, Int> {
        let values: Vec<i64> = values.iter().map(|&v| v as i64).collect();
        let len = values.len();
        Tensor::from_data(TensorData::new(values, [len]), &self.device)
    }

    fn check_input(&self, patches: &Tensor<B, 2>, grids: &[[usize; 3]]) -> Result<(), VisionError> {
        self.check_grids(grids)?;
        let [rows, width] = patches.dims();
        let expected_width = patch_width(&self.cfg);
        if width != expected_width {
            return Err(VisionError::PatchWidth {
                expected: expected_width,
                found: width,
            });
        }
        let expected_rows: usize = grids.iter().map(|[t, h, w]| t * h * w).sum();
        if rows != expected_rows {
            return Err(VisionError::PatchCount {
                expected: expected_rows,
                found: rows,
            });
        }
        Ok(())
    }

    fn check_grids(&self, grids: &[[usize; 3]]) -> Result<(), VisionError> {
        let merge = self.cfg.spatial_merge_size;
        if grids.is_empty() {
            return Err(VisionError::NoGrids);
        }
        for &grid in grids {
            let [t, h, w] = grid;
            if t == 0 || h == 0 || w == 0 || !h.is_multiple_of(merge) || !w.is_multiple_of(merge) {
                return Err(VisionError::BadGrid { grid, merge });
            }
        }
        Ok(())
    }
}

/// Rejects configs the tower cannot run; returns the window side in merged tokens.
fn check_config(cfg: &VisionConfig) -> Result<usize, WeightError> {
    let invalid = |message: String| WeightError::Config {
        path: PathBuf::from("config.json"),
        message: format!("vision_config: {message}"),
    };
    if cfg.num_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_heads) {
        return Err(invalid(format!(
            "hidden_size {} is not a multiple of num_heads {}",
            cfg.hidden_size, cfg.num_heads
        )));
    }
    // The 2-D RoPE gives each of (row, column) a quarter of the head, duplicated.
    let head_dim = cfg.hidden_size / cfg.num_heads;
    if !head_dim.is_multiple_of(4) {
        return Err(invalid(format!(
            "head_dim {head_dim} must be a multiple of 4 for the 2-D rotary embedding"
        )));
    }
    if cfg.spatial_merge_size == 0 || cfg.patch_size == 0 {
        return Err(invalid(
            "spatial_merge_size and patch_size must be positive".into(),
        ));
    }
    let window_side = cfg.window_size / cfg.spatial_merge_size / cfg.patch_size;
    if window_side == 0 {
        return Err(invalid(format!(
            "window_size {} is smaller than one merged token ({} px)",
            cfg.window_size,
            cfg.spatial_merge_size * cfg.patch_size
        )));
    }
    if let Some(&bad) = cfg.fullatt_block_indexes.iter().find(|&&i| i >= cfg.depth) {
        return Err(invalid(format!(
            "fullatt_block_indexes has {bad}, but depth is {}",
            cfg.depth
        )));
    }
    Ok(window_side)
}
