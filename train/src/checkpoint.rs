//! Training checkpoints: the model weights as a loadable model directory (`model.safetensors`
//! beside the configs), the optimizer moments, and the trainer's state (step, loss history),
//! written so that a run killed at any point resumes from the last complete checkpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use wave_engine::weights::HostTensor;

use crate::error::TrainError;
use crate::optim::{AdamW, Moments};

/// Writes `tensors` as an f32 safetensors file, atomically (temp file + rename).
pub fn write_safetensors(
    path: &Path,
    tensors: &BTreeMap<String, HostTensor>,
) -> Result<(), TrainError> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let data = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), t.shape.clone(), data)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| TrainError::Checkpoint {
                    path: path.to_path_buf(),
                    message: format!("{name}: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tmp = path.with_extension("safetensors.tmp");
    safetensors::tensor::serialize_to_file(views, None, &tmp).map_err(|e| {
        TrainError::Checkpoint {
            path: tmp.clone(),
            message: e.to_string(),
        }
    })?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, e))
}

/// Reads an f32 safetensors file.
pub fn read_safetensors(path: &Path) -> Result<BTreeMap<String, HostTensor>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let bad = |message: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let file = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!(
                "{name}: dtype {:?}, expected F32",
                view.dtype()
            )));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(
            name,
            HostTensor {
                values,
                shape: view.shape().to_vec(),
            },
        );
    }
    Ok(out)
}

/// The trainer's progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainerState {
    /// Steps completed.
    pub step: usize,
    pub total_steps: usize,
    /// `(step, task, loss)` of every step so far.
    pub losses: Vec<(usize, String, f32)>,
    /// The options the run started with (a resumed run must match).
    pub options: serde_json::Value,
}

pub struct Checkpoint {
    pub weights: BTreeMap<String, HostTensor>,
    pub optimizer: AdamW,
    pub state: TrainerState,
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("trainer_state.json")
}

/// Writes weights, optimizer and state into `dir` (a model directory). The state file is
/// written last: its presence marks a complete checkpoint.
pub fn save(dir: &Path, ckpt: &Checkpoint) -> Result<(), TrainError> {
    write_safetensors(&dir.join("model.safetensors"), &ckpt.weights)?;
    let mut moments = BTreeMap::new();
    for (name, m) in &ckpt.optimizer.state {
        let shape = vec![m.m.len()];
        moments.insert(
            format!("m.{name}"),
            HostTensor {
                values: m.m.clone(),
                shape: shape.clone(),
            },
        );
        moments.insert(
            format!("v.{name}"),
            HostTensor {
                values: m.v.clone(),
                shape,
            },
        );
    }
    write_safetensors(&dir.join("optimizer.safetensors"), &moments)?;
    let mut state = serde_json::to_value(&ckpt.state).expect("state serialises");
    state["optimizer_step"] = ckpt.optimizer.step.into();
    state["weight_decay"] = ckpt.optimizer.weight_decay.into();
    let tmp = dir.join("trainer_state.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&state).expect("JSON"))
        .map_err(|e| TrainError::io(&tmp, e))?;
    std::fs::rename(&tmp, state_path(dir)).map_err(|e| TrainError::io(state_path(dir), e))
}

/// Whether `dir` holds a complete checkpoint.
pub fn exists(dir: &Path) -> bool {
    state_path(dir).is_file()
}

pub fn load(dir: &Path) -> Result<Checkpoint, TrainError> {
    let path = state_path(dir);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
    let raw: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| TrainError::Checkpoint {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let state: TrainerState =
        serde_json::from_value(raw.clone()).map_err(|e| TrainError::Checkpoint {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let weights = read_safetensors(&dir.join("model.safetensors"))?;
    let moments = read_safetensors(&dir.join("optimizer.safetensors"))?;
    let mut optimizer = AdamW::new(raw["weight_decay"].as_f64().unwrap_or(0.0) as f32);
    optimizer.step = raw["optimizer_step"].as_u64().unwrap_or(0);
    for (key, t) in &moments {
        if let Some(name) = key.strip_prefix("m.") {
            let v = moments
                .get(&format!("v.{name}"))
                .ok_or_else(|| TrainError::Checkpoint {
                    path: dir.join("optimizer.safetensors"),
                    message: format!("no second moment for {name}"),
                })?;
            optimizer.state.insert(
                name.to_string(),
                Moments {
                    m: t.values.clone(),
                    v: v.values.clone(),
                },
            );
        }
    }
    Ok(Checkpoint {
        weights,
        optimizer,
        state,
    })
}
