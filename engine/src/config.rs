//! The checkpoint's `config.json`, as `Qwen2_5OmniThinkerConfig.save_pretrained` writes it.
//!
//! Every size the model uses comes from here, so the same code runs the tiny golden models and WAVE-7B.

use std::path::Path;

use serde::Deserialize;

use crate::weights::WeightError;

/// Top-level thinker config (`model_type: qwen2_5_omni_thinker`).
#[derive(Debug, Clone, Deserialize)]
pub struct WaveConfig {
    pub text_config: TextConfig,
    pub audio_config: AudioConfig,
    pub vision_config: VisionConfig,
    #[serde(alias = "audio_token_id")]
    pub audio_token_index: u32,
    #[serde(alias = "image_token_id")]
    pub image_token_index: u32,
    #[serde(alias = "video_token_id")]
    pub video_token_index: u32,
    pub audio_start_token_id: u32,
    pub audio_end_token_id: u32,
    pub vision_start_token_id: u32,
    pub vision_end_token_id: u32,
    pub vision_token_id: u32,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<u32>,
    pub pad_token_id: Option<u32>,
    #[serde(default = "default_position_id_per_seconds")]
    pub position_id_per_seconds: f64,
    #[serde(default = "default_seconds_per_chunk")]
    pub seconds_per_chunk: f64,
    #[serde(default)]
    pub classify_type: Option<String>,
    #[serde(default)]
    pub sim_temperature: Option<f64>,
}

fn default_position_id_per_seconds() -> f64 {
    25.0
}
fn default_seconds_per_chunk() -> f64 {
    2.0
}

/// The Qwen2 decoder (`text_config`).
#[derive(Debug, Clone, Deserialize)]
pub struct TextConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub vocab_size: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    #[serde(default)]
    pub head_dim: Option<usize>,
}

impl TextConfig {
    pub fn head_dim(&self) -> usize {
        self.head_dim
            .unwrap_or(self.hidden_size / self.num_attention_heads)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct RopeScaling {
    pub mrope_section: Vec<usize>,
}

/// The Whisper-style audio tower (`audio_config`). BEATs' own config comes from `beats.pt`.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioConfig {
    pub d_model: usize,
    pub encoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub num_mel_bins: usize,
    pub max_source_positions: usize,
    pub n_window: usize,
    pub output_dim: usize,
    #[serde(default)]
    pub beats_path: Option<String>,
    #[serde(default)]
    pub beats_only: bool,
}

/// The Qwen2.5-VL vision tower (`vision_config`).
#[derive(Debug, Clone, Deserialize)]
pub struct VisionConfig {
    pub depth: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_heads: usize,
    pub in_channels: usize,
    pub out_hidden_size: usize,
    pub patch_size: usize,
    pub spatial_merge_size: usize,
    pub temporal_patch_size: usize,
    pub window_size: usize,
    pub fullatt_block_indexes: Vec<usize>,
}

/// BEATs' `cfg` dict (stored inside `beats.pt`, mirrored as `beats_cfg.json` in the golden set).
#[derive(Debug, Clone, Deserialize)]
pub struct BeatsConfig {
    pub input_patch_size: usize,
    pub embed_dim: usize,
    pub conv_bias: bool,
    pub encoder_layers: usize,
    pub encoder_embed_dim: usize,
    pub encoder_ffn_embed_dim: usize,
    pub encoder_attention_heads: usize,
    pub activation_fn: String,
    pub layer_norm_first: bool,
    pub deep_norm: bool,
    pub conv_pos: usize,
    pub conv_pos_groups: usize,
    pub relative_position_embedding: bool,
    pub num_buckets: usize,
    pub max_distance: usize,
    pub gru_rel_pos: bool,
    #[serde(default)]
    pub finetuned_model: bool,
    #[serde(default)]
    pub predictor_class: Option<usize>,
}

impl WaveConfig {
    /// Reads `config.json` from a model directory.
    pub fn from_dir(dir: &Path) -> Result<Self, WeightError> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| WeightError::Io {
            path: path.clone(),
            source: e,
        })?;
        serde_json::from_str(&text).map_err(|e| WeightError::Config {
            path,
            message: e.to_string(),
        })
    }
}
