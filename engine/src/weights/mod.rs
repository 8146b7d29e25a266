//! Checkpoint tensors by name, read on demand and converted to the backend's float type.
//!
//! Tensors are read one at a time with positioned reads (no mmap), so loading holds the
//! model's tensors plus at most one tensor being converted: never two copies of the weights.

mod memory;
mod pytorch;
mod random;
mod safetensors;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::tensor::{backend::Backend, Tensor, TensorData};

pub use self::memory::{HostTensor, TrackedTensor};
pub use self::pytorch::{PyValue, TorchArchive};
pub use self::random::write_random_safetensors;
pub use self::safetensors::SafetensorsFile;

use crate::config::BeatsConfig;

/// Errors from reading a model directory. Each names the file and, where there is one, the tensor.
#[derive(Debug, thiserror::Error)]
pub enum WeightError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid config: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: corrupt checkpoint: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("tensor `{name}` is missing from the checkpoint ({files})")]
    Missing { name: String, files: String },
    #[error("tensor `{name}` in {path}: expected shape {expected:?}, found {found:?}")]
    Shape {
        name: String,
        path: PathBuf,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor `{name}` in {path}: unsupported dtype {dtype}")]
    Dtype {
        name: String,
        path: PathBuf,
        dtype: String,
    },
    #[error("unexpected tensors in the checkpoint (not used by the model): {names}")]
    Unexpected { names: String },
    #[error("{path}: no weights found (expected model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)")]
    NoWeights { path: PathBuf },
}

/// Storage dtype of a checkpoint tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredDtype {
    F32,
    F16,
    BF16,
    F64,
    I64,
    U8,
}

/// Where one tensor's bytes are: file, dtype, shape, byte range.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub file: PathBuf,
    pub dtype: StoredDtype,
    pub shape: Vec<usize>,
    /// Byte offset of the first element within `file`.
    pub offset: u64,
    pub len: u64,
    /// Element strides when the tensor is not stored row-major (PyTorch views); `len` then
    /// spans from the first to the last element. `None`: contiguous.
    pub strides: Option<Vec<usize>>,
}

/// All tensors of a checkpoint, by name. Tracks which names the model asked for, so
/// `check_all_used` can report keys the model does not know.
#[derive(Debug, Default)]
pub struct WeightStore {
    entries: BTreeMap<String, TensorEntry>,
    used: Mutex<BTreeSet<String>>,
    /// `Some(std)`: a [`WeightStore::random`] store, drawing every tensor instead of reading it.
    random: Option<f32>,
    /// Names and shapes asked of a random store, in order.
    requested: Mutex<Vec<(String, Vec<usize>)>>,
    /// `Some`: a [`WeightStore::from_memory`] store (a trainer's weights).
    memory: Option<memory::MemoryWeights>,
}

impl WeightStore {
    /// Adds every tensor of a safetensors file, optionally under a name prefix.
    pub fn add_safetensors(&mut self, path: &Path, prefix: &str) -> Result<(), WeightError> {
        let file = SafetensorsFile::open(path)?;
        for (name, entry) in file.into_entries() {
            self.entries.insert(format!("{prefix}{name}"), entry);
        }
        Ok(())
    }

    /// Adds every tensor of a `torch.save` state dict (`pytorch_model*.bin`), optionally under a prefix.
    pub fn add_pytorch(&mut self, path: &Path, prefix: &str) -> Result<(), WeightError> {
        let archive = TorchArchive::open(path)?;
        for (name, entry) in archive.state_dict_entries(&archive.root, prefix)? {
            self.entries.insert(name, entry);
        }
        Ok(())
    }

    /// Loads a BEATs checkpoint (`{'cfg': dict, 'model': state_dict}`) under `prefix`, replacing
    /// every tensor the store already holds there (as the reference eval re-loads `model.beats`).
    /// Returns its config.
    pub fn add_beats_checkpoint(
        &mut self,
        path: &Path,
        prefix: &str,
    ) -> Result<BeatsConfig, WeightError> {
        let archive = TorchArchive::open(path)?;
        let corrupt = |message: String| WeightError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let cfg = archive
            .root
            .get("cfg")
            .and_then(PyValue::to_json)
            .ok_or_else(|| corrupt("no plain `cfg` dict (expected a BEATs checkpoint)".into()))?;
        let cfg: BeatsConfig = serde_json::from_value(cfg).map_err(|e| WeightError::Config {
            path: path.to_path_buf(),
            message: format!("BEATs cfg: {e}"),
        })?;
        let model = archive
            .root
            .get("model")
            .ok_or_else(|| corrupt("no `model` state dict (expected a BEATs checkpoint)".into()))?;
        let entries = archive.state_dict_entries(model, prefix)?;
        self.entries.retain(|name, _| !name.starts_with(prefix));
        self.entries.extend(entries);
        Ok(cfg)
    }

    /// Opens the weights of a model directory: `model.safetensors`, else the sharded
    /// `model.safetensors.index.json`, else `pytorch_model.bin`, else `pytorch_model.bin.index.json`.
    pub fn open_dir(dir: &Path) -> Result<Self, WeightError> {
        Self::open_dir_as(dir, None)
    }

    /// [`Self::open_dir`] restricted to one format (`None`: safetensors first, then PyTorch).
    pub fn open_dir_as(dir: &Path, format: Option<WeightFormat>) -> Result<Self, WeightError> {
        let mut store = Self::default();
        let formats = match format {
            Some(f) => vec![f],
            None => vec![WeightFormat::Safetensors, WeightFormat::PyTorch],
        };
        for format in formats {
            let (single, index) = match format {
                WeightFormat::Safetensors => ("model.safetensors", "model.safetensors.index.json"),
                WeightFormat::PyTorch => ("pytorch_model.bin", "pytorch_model.bin.index.json"),
            };
            let add = |store: &mut Self, path: &Path| match format {
                WeightFormat::Safetensors => store.add_safetensors(path, ""),
                WeightFormat::PyTorch => store.add_pytorch(path, ""),
            };
            if dir.join(single).is_file() {
                add(&mut store, &dir.join(single))?;
                return Ok(store);
            }
            if dir.join(index).is_file() {
                for (shard, names) in read_index(&dir.join(index))? {
                    let path = dir.join(&shard);
                    add(&mut store, &path)?;
                    if let Some(name) = names.iter().find(|n| !store.contains(n)) {
                        return Err(WeightError::Missing {
                            name: name.clone(),
                            files: path.display().to_string(),
                        });
                    }
                }
                return Ok(store);
            }
        }
        Err(WeightError::NoWeights {
            path: dir.to_path_buf(),
        })
    }

    /// Adds a tensor entry (used by the PyTorch `.bin`/`.pt` readers).
    pub fn insert(&mut self, name: String, entry: TensorEntry) {
        self.entries.insert(name, entry);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
            || self
                .memory
                .as_ref()
                .is_some_and(|m| m.tensors.contains_key(name))
    }

    pub fn entry(&self, name: &str) -> Option<&TensorEntry> {
        self.entries.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    fn files_summary(&self) -> String {
        let files: BTreeSet<_> = self
            .entries
            .values()
            .map(|e| e.file.display().to_string())
            .collect();
        files.into_iter().collect::<Vec<_>>().join(", ")
    }

    /// Reads a tensor as f32 values plus its shape, marking it used.
    pub fn read_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), WeightError> {
        let entry = self.entries.get(name).ok_or_else(|| WeightError::Missing {
            name: name.to_string(),
            files: self.files_summary(),
        })?;
        self.used.lock().unwrap().insert(name.to_string());
        let values = safetensors::read_as_f32(name, entry)?;
        let values = match &entry.strides {
            Some(strides) => gather_strided(&values, &entry.shape, strides),
            None => values,
        };
        Ok((values, entry.shape.clone()))
    }

    /// Reads a tensor, checks its shape, and uploads it to `device`.
    pub fn tensor<B: Backend, const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &B::Device,
    ) -> Result<Tensor<B, D>, WeightError> {
        if let Some(std) = self.random {
            return Ok(self.draw(name, shape, std, device));
        }
        if let Some(memory) = &self.memory {
            return self.memory_tensor(memory, name, shape, device);
        }
        let entry = self.entries.get(name).ok_or_else(|| WeightError::Missing {
            name: name.to_string(),
            files: self.files_summary(),
        })?;
        if entry.shape != shape {
            return Err(WeightError::Shape {
                name: name.to_string(),
                path: entry.file.clone(),
                expected: shape.to_vec(),
                found: entry.shape.clone(),
            });
        }
        let (values, _) = self.read_f32(name)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// Marks tensors as deliberately unused (e.g. BEATs' AudioSet predictor head).
    pub fn mark_used(&self, name: &str) {
        self.used.lock().unwrap().insert(name.to_string());
    }

    /// Fails if the checkpoint holds tensors the model never asked for.
    pub fn check_all_used(&self) -> Result<(), WeightError> {
        let used = self.used.lock().unwrap();
        let in_memory = self.memory.iter().flat_map(|m| m.tensors.keys());
        let unexpected: Vec<&str> = self
            .entries
            .keys()
            .chain(in_memory)
            .filter(|k| !used.contains(*k))
            .map(String::as_str)
            .collect();
        if unexpected.is_empty() {
            Ok(())
        } else {
            let mut names = unexpected
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if unexpected.len() > 20 {
                names.push_str(&format!(" … ({} in all)", unexpected.len()));
            }
            Err(WeightError::Unexpected { names })
        }
    }
}

/// Checkpoint file formats of a model directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    Safetensors,
    PyTorch,
}

/// Shard file → the tensor names the `*.index.json` assigns to it.
fn read_index(path: &Path) -> Result<BTreeMap<String, Vec<String>>, WeightError> {
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| WeightError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let index: Index = serde_json::from_str(&text).map_err(|e| WeightError::Corrupt {
        path: path.to_path_buf(),
        message: format!("bad index: {e}"),
    })?;
    let mut shards: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, shard) in index.weight_map {
        if shard.contains('/') || shard.contains("..") {
            return Err(WeightError::Corrupt {
                path: path.to_path_buf(),
                message: format!("shard name `{shard}` is not a file of the model directory"),
            });
        }
        shards.entry(shard).or_default().push(name);
    }
    Ok(shards)
}

/// Row-major values of a strided view over `span` (which starts at the view's first element).
fn gather_strided(span: &[f32], shape: &[usize], strides: &[usize]) -> Vec<f32> {
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..numel {
        let at: usize = index.iter().zip(strides).map(|(i, s)| i * s).sum();
        out.push(span[at]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
}
