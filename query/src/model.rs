//! The embedding model as the service uses it: loaded once, shared by all requests.

use std::path::Path;
use std::sync::Mutex;

use wave_engine::embedder::{Embedder, Input};
use wave_engine::DefaultBackend;

use crate::error::QueryError;

/// WAVE on the default backend (the CPU, or CUDA with the `cuda` feature) with a name that
/// identifies it in item records and cache keys.
pub struct Model {
    // One forward at a time: the CPU backend already uses every core for one input, and a GPU
    // runs one batch's kernels at a time.
    embedder: Mutex<Embedder<DefaultBackend>>,
    name: String,
    dim: usize,
    video_fps: f64,
}

impl Model {
    /// Loads a model directory (config.json, weights, tokenizer, preprocessor configs).
    pub fn load(dir: &Path) -> Result<Model, QueryError> {
        if !dir.join("config.json").is_file() {
            return Err(QueryError::FailedPrecondition(format!(
                "{}: not a WAVE model directory (no config.json)",
                dir.display()
            )));
        }
        let embedder = Embedder::<DefaultBackend>::load(dir, &Default::default())?;
        let dim = embedder.dim();
        let video_fps = embedder.preprocess_config().sampling.fps();
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| dir.display().to_string());
        Ok(Model {
            embedder: Mutex::new(embedder),
            name,
            dim,
            video_fps,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Frames per second this model takes video at: query and upsert media are decoded at it,
    /// as ingest does.
    pub fn video_fps(&self) -> f64 {
        self.video_fps
    }

    /// L2-normalised embeddings, one per input.
    pub fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, QueryError> {
        let embedder = self
            .embedder
            .lock()
            .map_err(|_| QueryError::Internal("the model lock is poisoned".into()))?;
        Ok(embedder.embed(inputs)?)
    }

    pub fn embed_one(&self, input: Input) -> Result<Vec<f32>, QueryError> {
        self.embed(std::slice::from_ref(&input))?
            .pop()
            .ok_or_else(|| QueryError::Internal("the model returned no vector".into()))
    }
}
