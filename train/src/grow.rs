//! Depth growth of a trained model (`wave train --init-from DIR --grow-llm-layers N
//! --grow-audio-layers M --grow-vision-blocks K`): new layers are inserted between the trained
//! ones so that the grown model embeds exactly as the one it grows from, and training goes on
//! from there with more capacity (the block expansion of LLaMA Pro, arXiv 2401.02415).
//!
//! The Qwen2 decoder, the Whisper-style audio tower and the ViT are pre-norm residual stacks, so a
//! layer whose two output projections (attention out, MLP down) are zero adds nothing to its
//! input: it is the identity. A new layer copies the layer before it and zeroes those
//! projections (and their biases); its other weights get gradients once the projections move
//! off zero. The all-layer fusion head reads one last-token row per LLM layer, so its first
//! matrix gets zero columns for the new layers' rows, and the final-norm row stays last.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wave_engine::weights::HostTensor;

use crate::error::TrainError;

/// How many layers to add to each stack.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Growth {
    pub llm_layers: usize,
    pub audio_layers: usize,
    /// Vision-tower blocks (`visual.blocks`); their weights train only with
    /// `--train-vision-blocks`.
    #[serde(default)]
    pub vision_blocks: usize,
}

impl Growth {
    pub fn is_none(&self) -> bool {
        self.llm_layers == 0 && self.audio_layers == 0 && self.vision_blocks == 0
    }
}

/// Where each layer of a grown stack comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerSource {
    /// The trained layer with this index.
    Trained(usize),
    /// A new, identity-initialised copy of the trained layer with this index.
    IdentityCopy(usize),
}

/// The grown stack's layers in order: `added` new layers spread evenly among `trained` ones,
/// each after a trained layer (the last trained layer always has at least one after it).
pub fn grown_order(trained: usize, added: usize) -> Vec<LayerSource> {
    let mut order = Vec::with_capacity(trained + added);
    for i in 0..trained {
        order.push(LayerSource::Trained(i));
        let after = (i + 1) * added / trained - i * added / trained;
        order.extend(std::iter::repeat_n(LayerSource::IdentityCopy(i), after));
    }
    order
}

/// Grows the model in `dir` (its `config.json` is rewritten with the new layer counts) and
/// returns the grown weights.
pub fn grow(
    dir: &Path,
    mut weights: BTreeMap<String, HostTensor>,
    growth: Growth,
) -> Result<BTreeMap<String, HostTensor>, TrainError> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let bad = |message: String| TrainError::Data {
        path: path.clone(),
        message,
    };
    let mut config: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let count = |config: &Value, section: &str, key: &str| {
        config[section][key]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| bad(format!("{section}.{key} is not a layer count")))
    };

    if growth.llm_layers > 0 {
        let trained = count(&config, "text_config", "num_hidden_layers")?;
        let order = grown_order(trained, growth.llm_layers);
        weights = regrow_stack(weights, "model.layers", &order, &LLM_OUTPUT_PROJECTIONS);
        if config["classify_type"].as_str() == Some("all_layer") {
            widen_fusion_head(&mut weights, &order)?;
        }
        let text_config = &mut config["text_config"];
        text_config["num_hidden_layers"] = order.len().into();
        // Qwen2's sliding-window bound (unused: use_sliding_window is false) names all layers.
        if text_config.get("max_window_layers").is_some() {
            text_config["max_window_layers"] = order.len().into();
        }
    }
    if growth.audio_layers > 0 {
        let trained = count(&config, "audio_config", "encoder_layers")?;
        let order = grown_order(trained, growth.audio_layers);
        weights = regrow_stack(
            weights,
            "audio_tower.layers",
            &order,
            &AUDIO_OUTPUT_PROJECTIONS,
        );
        let audio_config = &mut config["audio_config"];
        audio_config["encoder_layers"] = order.len().into();
        if audio_config.get("num_hidden_layers").is_some() {
            audio_config["num_hidden_layers"] = order.len().into();
        }
    }
    if growth.vision_blocks > 0 {
        let trained = count(&config, "vision_config", "depth")?;
        let order = grown_order(trained, growth.vision_blocks);
        weights = regrow_stack(weights, "visual.blocks", &order, &VISION_OUTPUT_PROJECTIONS);
        let vision_config = &mut config["vision_config"];
        vision_config["depth"] = order.len().into();
        // A copy attends as the block it copies: over the whole frame or within windows.
        if let Some(list) = vision_config.get("fullatt_block_indexes") {
            let full: Vec<u64> = list
                .as_array()
                .and_then(|l| l.iter().map(Value::as_u64).collect())
                .ok_or_else(|| {
                    bad("vision_config.fullatt_block_indexes is not a list of indexes".into())
                })?;
            let grown_full: Vec<usize> = order
                .iter()
                .enumerate()
                .filter(|(_, source)| {
                    let (LayerSource::Trained(i) | LayerSource::IdentityCopy(i)) = **source;
                    full.contains(&(i as u64))
                })
                .map(|(position, _)| position)
                .collect();
            vision_config["fullatt_block_indexes"] = grown_full.into();
        }
    }
    let text = serde_json::to_string_pretty(&config).expect("JSON");
    std::fs::write(&path, text).map_err(|e| TrainError::io(&path, e))?;
    Ok(weights)
}

/// The weights whose zeroing makes a Qwen2 decoder layer the identity.
const LLM_OUTPUT_PROJECTIONS: [&str; 2] = ["self_attn.o_proj.", "mlp.down_proj."];
/// The same for a Whisper encoder layer (its projections have biases, zeroed too).
const AUDIO_OUTPUT_PROJECTIONS: [&str; 2] = ["self_attn.out_proj.", "fc2."];
/// The same for a Qwen2.5-VL vision block (biases too).
const VISION_OUTPUT_PROJECTIONS: [&str; 2] = ["attn.proj.", "mlp.down_proj."];

/// Renumbers `{prefix}.{i}.*` into the grown order, adding the identity copies.
fn regrow_stack(
    weights: BTreeMap<String, HostTensor>,
    prefix: &str,
    order: &[LayerSource],
    output_projections: &[&str],
) -> BTreeMap<String, HostTensor> {
    let stem = format!("{prefix}.");
    let (stack, mut rest): (BTreeMap<_, _>, BTreeMap<_, _>) =
        weights.into_iter().partition(|(n, _)| n.starts_with(&stem));
    // trained layer index → its tensors by name within the layer
    let mut layers: BTreeMap<usize, BTreeMap<String, HostTensor>> = BTreeMap::new();
    for (name, tensor) in stack {
        let tail = &name[stem.len()..];
        let (index, within) = tail
            .split_once('.')
            .expect("layer weight names have a field");
        let index: usize = index.parse().expect("layer index");
        layers
            .entry(index)
            .or_default()
            .insert(within.to_string(), tensor);
    }
    // The copies first, while their trained layers are still at hand; then the trained
    // tensors move to their new names (no second copy of the stack is held).
    for (position, source) in order.iter().enumerate() {
        let LayerSource::IdentityCopy(i) = *source else {
            continue;
        };
        for (within, tensor) in &layers[&i] {
            let silenced = output_projections.iter().any(|p| within.starts_with(p));
            let tensor = if silenced {
                HostTensor {
                    values: vec![0.0; tensor.values.len()],
                    shape: tensor.shape.clone(),
                }
            } else {
                tensor.clone()
            };
            rest.insert(format!("{stem}{position}.{within}"), tensor);
        }
    }
    for (position, source) in order.iter().enumerate() {
        if let LayerSource::Trained(i) = *source {
            for (within, tensor) in layers.remove(&i).unwrap_or_default() {
                rest.insert(format!("{stem}{position}.{within}"), tensor);
            }
        }
    }
    rest
}

/// `classify_linear.0.weight` is `(hidden, hidden · n_layers)`: one column block per layer's
/// last-token row, the last block the final-norm row. Trained blocks move to their layers'
/// new positions (the final-norm block stays last), new blocks are zero.
fn widen_fusion_head(
    weights: &mut BTreeMap<String, HostTensor>,
    order: &[LayerSource],
) -> Result<(), TrainError> {
    let name = "classify_linear.0.weight";
    let old = weights
        .get(name)
        .ok_or_else(|| TrainError::Argument(format!("cannot grow: {name} is missing")))?;
    let trained = order
        .iter()
        .filter(|s| matches!(s, LayerSource::Trained(_)))
        .count();
    let (rows, in_old) = (old.shape[0], old.shape[1]);
    let hidden = in_old / trained;
    let in_new = hidden * order.len();
    // The block each trained row lands in.
    let mut target = vec![0usize; trained];
    for (position, source) in order.iter().enumerate() {
        if let LayerSource::Trained(i) = *source {
            target[i] = position;
        }
    }
    target[trained - 1] = order.len() - 1;
    let mut values = vec![0.0f32; rows * in_new];
    for r in 0..rows {
        for (block, &to) in target.iter().enumerate() {
            let src = &old.values[r * in_old + block * hidden..][..hidden];
            values[r * in_new + to * hidden..][..hidden].copy_from_slice(src);
        }
    }
    weights.insert(
        name.to_string(),
        HostTensor {
            values,
            shape: vec![rows, in_new],
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use LayerSource::*;

    #[test]
    fn new_layers_are_spread_among_the_trained_ones() {
        assert_eq!(
            grown_order(4, 4),
            vec![
                Trained(0),
                IdentityCopy(0),
                Trained(1),
                IdentityCopy(1),
                Trained(2),
                IdentityCopy(2),
                Trained(3),
                IdentityCopy(3)
            ]
        );
        assert_eq!(
            grown_order(4, 2),
            vec![
                Trained(0),
                Trained(1),
                IdentityCopy(1),
                Trained(2),
                Trained(3),
                IdentityCopy(3)
            ]
        );
        assert_eq!(
            grown_order(2, 1),
            vec![Trained(0), Trained(1), IdentityCopy(1)]
        );
        assert_eq!(grown_order(3, 0), vec![Trained(0), Trained(1), Trained(2)]);
    }
}
