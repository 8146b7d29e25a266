//! A model directory with random weights for any WAVE-shaped config: a template directory's
//! config (e.g. the golden tiny model) with some sizes overridden, and a `model.safetensors`
//! whose tensor names and shapes are exactly those `Wave` asks for. Used by the loading-memory
//! test, the `random_checkpoint` example and the engine benchmark.

use std::path::Path;

use serde_json::Value;

use crate::config::{BeatsConfig, WaveConfig};
use crate::model::Wave;
use crate::weights::{write_random_safetensors, StoredDtype, WeightError, WeightStore};
use crate::CpuBackend;

/// Standard deviation of the random weights (transformers' `initializer_range`).
const INIT_STD: f32 = 0.02;

/// Files of the template directory copied as they are (those present).
const COPIED: [&str; 4] = [
    "tokenizer.json",
    "preprocessor_config.json",
    "preprocessor_runtime.json",
    "chat_template.json",
];

/// What [`write_random_model`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct RandomModel {
    /// Number of weights (elements of every tensor).
    pub parameters: u64,
    /// Bytes of tensor data in `model.safetensors`.
    pub stored_bytes: u64,
}

impl RandomModel {
    /// Bytes the weights take once loaded as f32.
    pub fn f32_bytes(&self) -> u64 {
        self.parameters * 4
    }
}

/// Parses `path.to.key=value` (value as JSON, else as a string); a `beats.` path addresses
/// `beats_cfg.json`, any other `config.json`.
pub fn parse_override(arg: &str) -> Result<(String, Value), String> {
    let (key, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("override `{arg}` is not KEY=VALUE"))?;
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((key.to_string(), value))
}

/// Writes `out/config.json`, `out/beats_cfg.json`, the template's tokenizer and preprocessor
/// files, and `out/model.safetensors` with random weights stored as `dtype`.
///
/// Sizes tied to the LLM's follow it unless overridden themselves: the towers' output sizes
/// (`audio_config.output_dim`, `vision_config.out_hidden_size`) and the M-RoPE sections (¼ of
/// the rotary half for time, the rest split between height and width, as 16/24/24 of 64 in WAVE-7B).
pub fn write_random_model(
    template: &Path,
    out: &Path,
    overrides: &[(String, Value)],
    dtype: StoredDtype,
    seed: u64,
) -> Result<RandomModel, WeightError> {
    let mut config = read_json(&template.join("config.json"))?;
    let mut beats = read_json(&template.join("beats_cfg.json"))?;
    for (key, value) in overrides {
        let (target, path) = match key.strip_prefix("beats.") {
            Some(rest) => (&mut beats, rest),
            None => (&mut config, key.as_str()),
        };
        set_path(target, path, value.clone()).map_err(|message| WeightError::Config {
            path: template.join("config.json"),
            message,
        })?;
    }
    derive_tied_sizes(&mut config, overrides);

    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    write_json(&out.join("config.json"), &config)?;
    write_json(&out.join("beats_cfg.json"), &beats)?;
    for name in COPIED {
        let from = template.join(name);
        if from.is_file() {
            std::fs::copy(&from, out.join(name)).map_err(|e| io(&from, e))?;
        }
    }

    let config = WaveConfig::from_dir(out)?;
    let beats: BeatsConfig = serde_json::from_value(beats).map_err(|e| WeightError::Config {
        path: out.join("beats_cfg.json"),
        message: e.to_string(),
    })?;
    // Build the model once from random tensors to learn every name and shape it asks for.
    let store = WeightStore::random(INIT_STD);
    drop(Wave::<CpuBackend>::from_store(
        config,
        beats,
        &store,
        &Default::default(),
    )?);
    let tensors = store.requested();
    let parameters = tensors
        .iter()
        .map(|(_, shape)| shape.iter().product::<usize>() as u64)
        .sum();
    let stored_bytes = write_random_safetensors(
        &out.join("model.safetensors"),
        &tensors,
        dtype,
        INIT_STD,
        seed,
    )?;
    Ok(RandomModel {
        parameters,
        stored_bytes,
    })
}

fn derive_tied_sizes(config: &mut Value, overrides: &[(String, Value)]) {
    let overridden = |key: &str| overrides.iter().any(|(k, _)| k == key);
    let text = &config["text_config"];
    let hidden = text["hidden_size"].clone();
    let head_dim = text["head_dim"]
        .as_u64()
        .or_else(|| Some(text["hidden_size"].as_u64()? / text["num_attention_heads"].as_u64()?));
    // transformers mirrors the audio layer count in `num_hidden_layers`.
    let audio_layers = config["audio_config"]
        .get("num_hidden_layers")
        .map(|_| config["audio_config"]["encoder_layers"].clone());
    let mut tie = |path: &str, value: Value| {
        if !overridden(path) {
            // The template config came from a model directory, so every parent exists.
            let _ = set_path(config, path, value);
        }
    };
    tie("audio_config.output_dim", hidden.clone());
    tie("vision_config.out_hidden_size", hidden);
    if let Some(head_dim) = head_dim {
        let half = head_dim / 2;
        let t = half / 4;
        let h = (half - t) / 2;
        tie(
            "text_config.rope_scaling.mrope_section",
            serde_json::json!([t, h, half - t - h]),
        );
    }
    if let Some(layers) = audio_layers {
        tie("audio_config.num_hidden_layers", layers);
    }
}

fn set_path(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let mut at = target;
    let keys: Vec<&str> = path.split('.').collect();
    for key in &keys[..keys.len() - 1] {
        at = at
            .get_mut(*key)
            .filter(|v| v.is_object())
            .ok_or_else(|| format!("override `{path}`: no object `{key}`"))?;
    }
    let last = keys[keys.len() - 1];
    at.as_object_mut()
        .ok_or_else(|| format!("override `{path}`: not an object"))?
        .insert(last.to_string(), value);
    Ok(())
}

fn read_json(path: &Path) -> Result<Value, WeightError> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&text).map_err(|e| WeightError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_json(path: &Path, value: &Value) -> Result<(), WeightError> {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    std::fs::write(path, text).map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> WeightError {
    WeightError::Io {
        path: path.to_path_buf(),
        source,
    }
}
