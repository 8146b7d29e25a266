//! Errors of the corpus generator.

use std::path::PathBuf;

/// Why a corpus could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A bad option (unknown size, zero count, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The output folder already holds files and `force` was not given.
    #[error("output folder {} is not empty (use --force to overwrite the corpus in it)", path.display())]
    OutputNotEmpty { path: PathBuf },
    /// A file or folder could not be read, created or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An external tool (ffmpeg, espeak-ng) is missing or failed.
    #[error("{tool} failed{}: {reason}", path.as_ref().map(|p| format!(" on {}", p.display())).unwrap_or_default())]
    Tool {
        tool: &'static str,
        path: Option<PathBuf>,
        reason: String,
    },
    /// A WAV stream that this crate cannot parse (only PCM 16-bit is read).
    #[error("bad WAV data: {0}")]
    BadWav(String),
    /// A manifest line could not be serialised.
    #[error("cannot serialise a corpus record: {0}")]
    Json(#[from] serde_json::Error),
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SynthError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`SynthError`].
pub type Result<T> = std::result::Result<T, SynthError>;
