//! Checkpoint tensors by name, read on demand and converted to the backend's float type.
//!
//! Tensors are read one at a time with positioned reads (no mmap), so loading holds the
//! model's tensors plus at most one tensor being converted: never two copies of the weights.

mod safetensors;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use burn::tensor::{backend::Backend, Tensor, TensorData};

pub use self::safetensors::SafetensorsFile;

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
}

/// All tensors of a checkpoint, by name. Tracks which names the model asked for, so
/// `check_all_used` can report keys the model does not know.
#[derive(Debug, Default)]
pub struct WeightStore {
    entries: BTreeMap<String, TensorEntry>,
    used: Mutex<BTreeSet<String>>,
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

    /// Adds a tensor entry (used by the PyTorch `.bin`/`.pt` readers).
    pub fn insert(&mut self, name: String, entry: TensorEntry) {
        self.entries.insert(name, entry);
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
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
        Ok((values, entry.shape.clone()))
    }

    /// Reads a tensor, checks its shape, and uploads it to `device`.
    pub fn tensor<B: Backend, const D: usize>(
        &self,
        name: &str,
        shape: [usize; D],
        device: &B::Device,
    ) -> Result<Tensor<B, D>, WeightError> {
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
        let unexpected: Vec<&str> = self
            .entries
            .keys()
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
