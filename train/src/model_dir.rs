//! A model directory for the small WAVE: `config.json` in WAVE-7B's layout (a Qwen2.5-Omni
//! thinker config) with the small sizes and the trained tokenizer's special-token ids, the
//! preprocessing files, `beats_cfg.json`, and freshly initialised weights.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wave_engine::config::{BeatsConfig, WaveConfig};
use wave_engine::model::Wave;
use wave_engine::weights::{HostTensor, WeightStore};
use wave_engine::CpuBackend;

use crate::error::TrainError;

/// The template files (WAVE-7B's layout; sizes are overwritten).
const TEMPLATE: [(&str, &str); 5] = [
    ("config.json", include_str!("../template/config.json")),
    ("beats_cfg.json", include_str!("../template/beats_cfg.json")),
    (
        "preprocessor_config.json",
        include_str!("../template/preprocessor_config.json"),
    ),
    (
        "preprocessor_runtime.json",
        include_str!("../template/preprocessor_runtime.json"),
    ),
    (
        "chat_template.json",
        include_str!("../template/chat_template.json"),
    ),
];

/// The sizes of the small model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelSizes {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    pub vision_hidden: usize,
    pub vision_depth: usize,
    pub audio_hidden: usize,
    pub audio_layers: usize,
}

impl Default for ModelSizes {
    fn default() -> Self {
        ModelSizes {
            hidden: 128,
            layers: 4,
            heads: 4,
            kv_heads: 2,
            intermediate: 384,
            vision_hidden: 128,
            vision_depth: 2,
            audio_hidden: 128,
            audio_layers: 2,
        }
    }
}

impl ModelSizes {
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Argument(m));
        if self.heads == 0 || self.kv_heads == 0 || self.layers == 0 || self.vision_depth == 0 {
            return bad("heads, kv heads, layers and depths must be positive".into());
        }
        if !self.hidden.is_multiple_of(self.heads) || !self.heads.is_multiple_of(self.kv_heads) {
            return bad(format!(
                "hidden {} must divide into {} heads, and heads into {} kv heads",
                self.hidden, self.heads, self.kv_heads
            ));
        }
        let head_dim = self.hidden / self.heads;
        if !head_dim.is_multiple_of(8) {
            return bad(format!(
                "head dim {head_dim} must be a multiple of 8 (M-RoPE sections)"
            ));
        }
        if !self.vision_hidden.is_multiple_of(4) || !self.audio_hidden.is_multiple_of(4) {
            return bad("vision and audio hidden sizes must be multiples of 4 (4 heads)".into());
        }
        Ok(())
    }
}

/// Writes every file of the model directory but the weights and the tokenizer.
pub fn write_config_files(
    dir: &Path,
    sizes: &ModelSizes,
    vocab_size: usize,
    special: &BTreeMap<&'static str, u32>,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    for (name, text) in TEMPLATE {
        let path = dir.join(name);
        let text = if name == "config.json" {
            let mut config: Value = serde_json::from_str(text).expect("the template parses");
            apply_sizes(&mut config, sizes, vocab_size, special);
            serde_json::to_string_pretty(&config).expect("JSON serialises")
        } else {
            text.to_string()
        };
        std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))?;
    }
    Ok(())
}

fn apply_sizes(
    config: &mut Value,
    s: &ModelSizes,
    vocab_size: usize,
    special: &BTreeMap<&'static str, u32>,
) {
    let half = s.hidden / s.heads / 2;
    let t = half / 4;
    let h = (half - t) / 2;
    config["text_config"]["hidden_size"] = json!(s.hidden);
    config["text_config"]["num_hidden_layers"] = json!(s.layers);
    config["text_config"]["max_window_layers"] = json!(s.layers);
    config["text_config"]["num_attention_heads"] = json!(s.heads);
    config["text_config"]["num_key_value_heads"] = json!(s.kv_heads);
    config["text_config"]["intermediate_size"] = json!(s.intermediate);
    config["text_config"]["vocab_size"] = json!(vocab_size);
    config["text_config"]["rope_scaling"]["mrope_section"] = json!([t, h, half - t - h]);
    config["vision_config"]["hidden_size"] = json!(s.vision_hidden);
    config["vision_config"]["intermediate_size"] = json!(2 * s.vision_hidden);
    config["vision_config"]["depth"] = json!(s.vision_depth);
    config["vision_config"]["fullatt_block_indexes"] = json!([s.vision_depth - 1]);
    config["vision_config"]["out_hidden_size"] = json!(s.hidden);
    config["audio_config"]["d_model"] = json!(s.audio_hidden);
    config["audio_config"]["encoder_ffn_dim"] = json!(2 * s.audio_hidden);
    config["audio_config"]["encoder_layers"] = json!(s.audio_layers);
    config["audio_config"]["num_hidden_layers"] = json!(s.audio_layers);
    config["audio_config"]["output_dim"] = json!(s.hidden);
    // The BEATs weights live in model.safetensors under `beats.` with beats_cfg.json.
    if let Some(audio) = config["audio_config"].as_object_mut() {
        audio.remove("beats_path");
    }
    let id = |t: &str| json!(special[t]);
    config["pad_token_id"] = id("<|endoftext|>");
    config["bos_token_id"] = id("<|im_start|>");
    config["eos_token_id"] = id("<|im_end|>");
    config["audio_token_index"] = id("<|AUDIO|>");
    config["audio_start_token_id"] = id("<|audio_bos|>");
    config["audio_end_token_id"] = id("<|audio_eos|>");
    config["vision_start_token_id"] = id("<|vision_bos|>");
    config["vision_end_token_id"] = id("<|vision_eos|>");
    config["vision_token_id"] = id("<|vision_pad|>");
    config["image_token_index"] = id("<|IMAGE|>");
    config["video_token_index"] = id("<|VIDEO|>");
    config["user_token_id"] = json!(vocab_size - 1);
}

/// Reads the directory's configs.
pub fn read_configs(dir: &Path) -> Result<(WaveConfig, BeatsConfig), TrainError> {
    let config = WaveConfig::from_dir(dir)?;
    let path = dir.join("beats_cfg.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let beats: BeatsConfig = serde_json::from_str(&text).map_err(|e| TrainError::Data {
        path,
        message: e.to_string(),
    })?;
    Ok((config, beats))
}

/// The files of a model directory besides its weights (`tokenizer.json` and the templates).
const MODEL_FILES: [&str; 6] = [
    "config.json",
    "beats_cfg.json",
    "tokenizer.json",
    "preprocessor_config.json",
    "preprocessor_runtime.json",
    "chat_template.json",
];

/// Sets the video frame rate of the model directory `dir` (its `preprocessor_runtime.json`'s
/// `video_sampling.base_interval_s`, which ingest, search and training all sample at).
pub fn set_video_fps(dir: &Path, fps: f64) -> Result<(), TrainError> {
    let path = dir.join("preprocessor_runtime.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let bad = |message: String| TrainError::Data {
        path: path.clone(),
        message,
    };
    let mut runtime: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let root = runtime
        .as_object_mut()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let sampling = root
        .entry("video_sampling")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| bad("video_sampling is not an object".into()))?;
    sampling.insert("base_interval_s".into(), json!(1.0 / fps));
    let text = serde_json::to_string_pretty(&runtime).expect("JSON");
    std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))
}

/// The error for an `--init-from` directory that lacks `missing`.
pub fn not_a_model_dir(missing: std::path::PathBuf) -> TrainError {
    TrainError::Data {
        path: missing,
        message: "not found: --init-from must be a model directory written by `wave train`".into(),
    }
}

/// Copies the model directory `from` (configs and tokenizer) into `to` and returns its weights,
/// checked against the layout its config asks for: the start of a second training stage.
pub fn copy_model(from: &Path, to: &Path) -> Result<BTreeMap<String, HostTensor>, TrainError> {
    std::fs::create_dir_all(to).map_err(|e| TrainError::io(to, e))?;
    for name in MODEL_FILES {
        let src = from.join(name);
        if !src.is_file() {
            return Err(not_a_model_dir(src));
        }
        std::fs::copy(&src, to.join(name)).map_err(|e| TrainError::io(&src, e))?;
    }
    let path = from.join("model.safetensors");
    let weights = crate::checkpoint::read_safetensors(&path)?;
    checked_against_config(to, weights).map_err(|e| match e {
        TrainError::Checkpoint { message, .. } => TrainError::Checkpoint { path, message },
        other => other,
    })
}

/// `weights`, checked to be exactly the tensors (names and shapes) that `dir`'s configs ask
/// for.
pub fn checked_against_config(
    dir: &Path,
    mut weights: BTreeMap<String, HostTensor>,
) -> Result<BTreeMap<String, HostTensor>, TrainError> {
    let (config, beats) = read_configs(dir)?;
    let layout = tensor_layout(&config, &beats)?;
    let bad = |message: String| TrainError::Checkpoint {
        path: dir.join("model.safetensors"),
        message,
    };
    let mut checked = BTreeMap::new();
    for (name, shape) in layout {
        let tensor = weights
            .remove(&name)
            .ok_or_else(|| bad(format!("{name} is missing")))?;
        if tensor.shape != shape {
            return Err(bad(format!(
                "{name} has shape {:?}, its config.json asks for {shape:?}",
                tensor.shape
            )));
        }
        checked.insert(name, tensor);
    }
    if let Some(extra) = weights.keys().next() {
        return Err(bad(format!("{extra} is not a tensor of this model")));
    }
    Ok(checked)
}

/// The names and shapes of every tensor the model asks for.
pub fn tensor_layout(
    config: &WaveConfig,
    beats: &BeatsConfig,
) -> Result<Vec<(String, Vec<usize>)>, TrainError> {
    let store = WeightStore::random(0.0);
    Wave::<CpuBackend>::from_store(config.clone(), beats.clone(), &store, &Default::default())?;
    Ok(store.requested())
}

/// Fresh weights: normal(0, 1/√fan_in) encoder matrices, normal(0, `std`) others, zero biases, unit norm scales (and unit BEATs
/// weight-norm magnitudes and GRU gates), deterministic in `seed`.
pub fn init_weights(
    layout: &[(String, Vec<usize>)],
    std: f32,
    seed: u64,
) -> BTreeMap<String, HostTensor> {
    let mut out = BTreeMap::new();
    for (index, (name, shape)) in layout.iter().enumerate() {
        let n: usize = shape.iter().product();
        let leaf = name.rsplit('.').next().unwrap_or(name);
        let is_norm = name.contains("norm") || name.contains("ln_") || name.contains("_ln");
        let values = if leaf == "bias" || name.ends_with("_bias") && shape.len() == 1 {
            vec![0.0; n]
        } else if (shape.len() == 1 && (is_norm || leaf == "weight"))
            || leaf == "weight_g"
            || leaf == "grep_a"
        {
            vec![1.0; n]
        } else {
            // The encoders start as random feature extractors: fan-in scaling keeps each
            // layer's output as large as its input, so the clip's content is not drowned by
            // positional terms. The LLM and the adapters start at transformers' small `std`.
            let fan_in: usize = shape[1..].iter().product::<usize>().max(1);
            let scale = if is_encoder(name) && shape.len() >= 2 {
                1.0 / (fan_in as f32).sqrt()
            } else {
                std
            };
            let mut rng = SplitMix64(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            (0..n).map(|_| rng.normal() * scale).collect()
        };
        out.insert(
            name.clone(),
            HostTensor {
                values,
                shape: shape.clone(),
            },
        );
    }
    out
}

/// The encoders' own weights (not their adapters): audio tower, ViT (without its merger), BEATs.
pub fn is_encoder(name: &str) -> bool {
    name.starts_with("audio_tower.")
        || name.starts_with("beats.")
        || (name.starts_with("visual.") && !name.starts_with("visual.merger."))
}

/// What the trainer updates: the LLM, the visual merger (WAVE's "visual aligner"), the BEATs
/// aligner, the fusion head, and the audio tower; on request, the ViT blocks and its patch
/// embedding too. WAVE freezes its pretrained encoders; ours start random, and a random
/// Whisper-style tower's output is dominated by its fixed positional terms (measured: 2 % of
/// its output energy varied between clips, against 55 % for BEATs and 96 % for the ViT), so the
/// small audio tower is trained too. The random ViT blocks pass colour on well but shape and
/// motion poorly (linear probes in TRAINING.md), hence the options of training them and the
/// patch embedding (a random projection of each 1176-value pixel patch to 128). BEATs always
/// stays as initialised (a random feature extractor).
pub fn is_trainable(name: &str, vision: VisionTraining) -> bool {
    name.starts_with("model.")
        || name.starts_with("visual.merger.")
        || name.starts_with("audio_tower.")
        || name.starts_with("beats_ln.")
        || name.starts_with("beats_proj.")
        || name.starts_with("classify_linear.")
        || (vision.blocks && is_vision_block(name))
        || (vision.patch_embed && is_patch_embed(name))
}

/// The parts of the ViT before its merger that a run trains (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisionTraining {
    pub blocks: bool,
    pub patch_embed: bool,
}

/// A weight of the ViT blocks (trained only on request, at their own rate).
pub fn is_vision_block(name: &str) -> bool {
    name.starts_with("visual.blocks.")
}

/// The ViT's patch embedding (trained only on request, at its own rate).
pub fn is_patch_embed(name: &str) -> bool {
    name.starts_with("visual.patch_embed.")
}

/// The weights a training step updates (see [`is_trainable`]).
pub fn trainable_names(
    weights: &BTreeMap<String, HostTensor>,
    vision: VisionTraining,
) -> BTreeSet<String> {
    weights
        .keys()
        .filter(|n| is_trainable(n, vision))
        .cloned()
        .collect()
}

/// A small seedable generator (SplitMix64) with Box–Muller normals.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn normal(&mut self) -> f32 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}
