//! Errors of the preprocessing functions: bad input shapes or settings, unreadable configs.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid preprocessor config: {message}")]
    Config { path: PathBuf, message: String },
    #[error("invalid preprocessing setting: {0}")]
    Setting(String),
    #[error("invalid input: {0}")]
    Input(String),
}
