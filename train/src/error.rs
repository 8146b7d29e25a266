use std::path::PathBuf;

use wave_engine::embedder::EmbedError;
use wave_engine::weights::WeightError;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("invalid argument: {0}")]
    Argument(String),
    #[error("{path}: cannot decode: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(transparent)]
    Weights(#[from] WeightError),
    #[error("{context}: {source}")]
    Embed {
        context: String,
        source: Box<EmbedError>,
    },
    #[error("{path}: bad checkpoint: {message}")]
    Checkpoint { path: PathBuf, message: String },
}

impl TrainError {
    pub fn embed(context: impl Into<String>, source: EmbedError) -> Self {
        TrainError::Embed {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }
}
