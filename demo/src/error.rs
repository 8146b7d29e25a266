//! What setting up the demo can fail at.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{context} {path}: {source}")]
    Io {
        path: PathBuf,
        context: &'static str,
        source: std::io::Error,
    },
    #[error("generating the demo library: {0}")]
    Synth(#[from] wave_synth::SynthError),
    #[error("{path}: line {line}: {reason}")]
    Corpus {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("thumbnail of {video}: {reason}")]
    Thumbnail { video: PathBuf, reason: String },
    #[error("ingesting the demo library: {0}")]
    Ingest(#[from] wave_ingest::pipeline::PipelineError),
    #[error("the demo server: {0}")]
    Serve(String),
    #[error("the demo library {path} has no videos: {reason}")]
    EmptyLibrary { path: PathBuf, reason: String },
}

impl DemoError {
    pub fn io(path: &Path, context: &'static str, source: std::io::Error) -> DemoError {
        DemoError::Io {
            path: path.to_path_buf(),
            context,
            source,
        }
    }
}
