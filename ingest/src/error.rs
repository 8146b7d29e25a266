//! The one error type of the ingest pipeline: every variant names the offending path.

use std::path::{Path, PathBuf};

/// Why a file (or a manifest line) could not be turned into ingestable media.
///
/// Bad input never panics: it ends up here, with the path and a human-readable reason, so a
/// bulk run can report it and go on with the rest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path could not be opened, listed or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file has zero bytes.
    #[error("{path}: empty file (0 bytes)")]
    Empty { path: PathBuf },
    /// The extension is not one ingest knows (only raised for explicitly named files, e.g. a
    /// manifest entry; a directory walk skips such files).
    #[error("{path}: unsupported file type {ext:?}")]
    UnsupportedExtension { path: PathBuf, ext: String },
    /// The content does not match the extension (e.g. plain text named `.mp3`).
    #[error("{path}: content does not match the .{ext} extension: {found}")]
    WrongContent {
        path: PathBuf,
        ext: String,
        found: String,
    },
    /// The container or stream could not be parsed.
    #[error("{path}: corrupt media: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// The stream ends before the duration its container declares.
    #[error("{path}: truncated media: {reason}")]
    Truncated { path: PathBuf, reason: String },
    /// The container parsed but no decoder exists for the stream's codec.
    #[error("{path}: unsupported codec: {codec}")]
    UnsupportedCodec { path: PathBuf, codec: String },
    /// A required stream (audio for an audio file, video for a video file) is missing.
    #[error("{path}: no {what} stream")]
    MissingStream { path: PathBuf, what: &'static str },
    /// A frame side exceeds the configured maximum (default 16384 px).
    #[error("{path}: absurd resolution {width}x{height} (limit {max_side} px a side)")]
    Resolution {
        path: PathBuf,
        width: u64,
        height: u64,
        max_side: u64,
    },
    /// The media is longer than the configured maximum (default 24 h).
    #[error("{path}: duration {duration_s:.1} s exceeds the limit of {max_s:.1} s")]
    TooLong {
        path: PathBuf,
        duration_s: f64,
        max_s: f64,
    },
    /// ffmpeg/ffprobe could not be run or failed for a reason not classified above.
    #[error("{path}: ffmpeg failed: {reason}")]
    Ffmpeg { path: PathBuf, reason: String },
    /// A subtitle sidecar (.srt/.vtt) could not be parsed.
    #[error("{path}: line {line}: bad subtitle: {reason}")]
    Subtitle {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A manifest line is not a valid entry.
    #[error("{path}: line {line}: {reason}")]
    Manifest {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A manifest entry refers to a file that is itself bad; `source` says how.
    #[error("{manifest}: line {line}: {source}")]
    InManifest {
        manifest: PathBuf,
        line: usize,
        #[source]
        source: Box<IngestError>,
    },
    /// An option value is out of range (e.g. a segment overlap not shorter than the window).
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl IngestError {
    /// The path the error is about (`None` only for [`IngestError::Config`]).
    pub fn path(&self) -> Option<&Path> {
        use IngestError::*;
        match self {
            Io { path, .. }
            | Empty { path }
            | UnsupportedExtension { path, .. }
            | WrongContent { path, .. }
            | Corrupt { path, .. }
            | Truncated { path, .. }
            | UnsupportedCodec { path, .. }
            | MissingStream { path, .. }
            | Resolution { path, .. }
            | TooLong { path, .. }
            | Ffmpeg { path, .. }
            | Subtitle { path, .. }
            | Manifest { path, .. } => Some(path),
            InManifest { source, .. } => source.path(),
            Config(_) => None,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        IngestError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T> = std::result::Result<T, IngestError>;
