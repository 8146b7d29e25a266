//! `Wave`: every network of the WAVE embedding model, assembled from a model directory.
//!
//! The directory holds `config.json`, the main checkpoint (`model.safetensors`, a sharded
//! `*.safetensors.index.json`, `pytorch_model.bin` or a sharded `pytorch_model.bin.index.json`)
//! and the BEATs checkpoint (`audio_config.beats_path`, e.g. `beats.pt`). As the reference eval
//! does after `from_pretrained`, the BEATs checkpoint replaces whatever the main checkpoint holds
//! under `beats.` (it also supplies the weight-normed `pos_conv` that transformers drops).
//! Loading fails on missing, unexpected or wrongly shaped tensors, naming tensor and file.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;

use crate::audio::{AudioTower, Beats, BeatsAligner};
use crate::config::{BeatsConfig, WaveConfig};
use crate::fusion::{FusionHead, FusionKind};
use crate::text::TextModel;
use crate::vision::VisionTower;
use crate::weights::{WeightError, WeightFormat, WeightStore};

/// How to read a model directory.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Restrict the main checkpoint to one format (default: safetensors first, then PyTorch).
    pub format: Option<WeightFormat>,
    /// The BEATs checkpoint, overriding `audio_config.beats_path`.
    pub beats_checkpoint: Option<PathBuf>,
}

pub struct Wave<B: Backend> {
    pub config: WaveConfig,
    pub beats_config: BeatsConfig,
    pub text: TextModel<B>,
    pub audio_tower: AudioTower<B>,
    pub beats: Beats<B>,
    pub beats_aligner: BeatsAligner<B>,
    pub vision: VisionTower<B>,
    pub fusion: FusionHead<B>,
}

impl<B: Backend> Wave<B> {
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self, WeightError> {
        Self::load_with(dir, &LoadOptions::default(), device)
    }

    pub fn load_with(
        dir: &Path,
        options: &LoadOptions,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let config = WaveConfig::from_dir(dir)?;
        if config.audio_config.beats_only {
            return Err(WeightError::Config {
                path: dir.join("config.json"),
                message:
                    "audio_config.beats_only = true is not supported (WAVE uses Whisper and BEATs)"
                        .into(),
            });
        }
        let mut store = WeightStore::open_dir_as(dir, options.format)?;
        let beats_config = match beats_checkpoint(dir, &config, options) {
            Some(path) => store.add_beats_checkpoint(&path, "beats.")?,
            None => beats_config_json(dir)?,
        };

        Self::from_store(config, beats_config, &store, device).map_err(|e| match e {
            WeightError::Config { message, .. } => WeightError::Config {
                path: dir.join("config.json"),
                message,
            },
            e => e,
        })
    }

    /// Builds every network from an opened store (a checkpoint, or `WeightStore::random`).
    /// Fails on tensors the store holds that no network asked for.
    pub fn from_store(
        config: WaveConfig,
        beats_config: BeatsConfig,
        store: &WeightStore,
        device: &B::Device,
    ) -> Result<Self, WeightError> {
        let text_cfg = &config.text_config;
        let kind = FusionKind::from_config(config.classify_type.as_deref()).map_err(|message| {
            WeightError::Config {
                path: PathBuf::from("config.json"),
                message,
            }
        })?;
        let text = TextModel::load(store, "model", text_cfg, device)?;
        // The LM head is part of the thinker checkpoint but embeddings never use it.
        store.mark_used("lm_head.weight");
        let audio_tower = AudioTower::load(store, "audio_tower.", &config.audio_config, device)?;
        let beats = Beats::load(store, "beats.", &beats_config, device)?;
        let beats_aligner =
            BeatsAligner::load(store, "", &beats_config, text_cfg.hidden_size, device)?;
        let vision = VisionTower::load(store, "visual.", &config.vision_config, device)?;
        let fusion = FusionHead::load(
            store,
            "classify_linear",
            kind,
            text_cfg.hidden_size,
            text_cfg.num_hidden_layers,
            device,
        )?;
        store.check_all_used()?;
        Ok(Self {
            config,
            beats_config,
            text,
            audio_tower,
            beats,
            beats_aligner,
            vision,
            fusion,
        })
    }
}

/// The BEATs `.pt`: the explicit option, else `audio_config.beats_path` (relative to the model
/// directory; an absolute path from the training machine falls back to its file name in the
/// directory), else `beats.pt` in the directory.
fn beats_checkpoint(dir: &Path, config: &WaveConfig, options: &LoadOptions) -> Option<PathBuf> {
    if let Some(path) = &options.beats_checkpoint {
        return Some(path.clone());
    }
    let mut candidates = Vec::new();
    if let Some(configured) = &config.audio_config.beats_path {
        let configured = Path::new(configured);
        candidates.push(dir.join(configured));
        if let Some(name) = configured.file_name() {
            candidates.push(dir.join(name));
        }
    }
    candidates.push(dir.join("beats.pt"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Without a BEATs checkpoint the main checkpoint's `beats.*` tensors are used with `beats_cfg.json`.
fn beats_config_json(dir: &Path) -> Result<BeatsConfig, WeightError> {
    let path = dir.join("beats_cfg.json");
    let text = std::fs::read_to_string(&path).map_err(|e| WeightError::Io {
        path: path.clone(),
        source: std::io::Error::new(
            e.kind(),
            format!("no BEATs checkpoint (audio_config.beats_path / beats.pt) and no beats_cfg.json: {e}"),
        ),
    })?;
    serde_json::from_str(&text).map_err(|e| WeightError::Config {
        path,
        message: format!("BEATs cfg: {e}"),
    })
}
