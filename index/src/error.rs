use std::path::PathBuf;

/// Everything the store can refuse or fail at. Messages name the offending input.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("item id must be non-empty UTF-8 of at most 1024 bytes without NUL, got {0:?}")]
    BadId(String),
    #[error(
        "item `{0}` is empty: it has neither a vector nor any text (title, caption, transcript)"
    )]
    EmptyRecord(String),
    #[error("item `{id}`: unknown vector space `{space}` (known: {known})")]
    UnknownSpace {
        id: String,
        space: String,
        known: String,
    },
    #[error("unknown vector space `{space}` (known: {known})")]
    UnknownSpaceQuery { space: String, known: String },
    #[error("{what}: vector has dimension {found}, space `{space}` expects {expected}")]
    Dimension {
        what: String,
        space: String,
        expected: usize,
        found: usize,
    },
    #[error("{what}: vector value at index {index} is {value} (NaN and infinities are rejected)")]
    NonFinite {
        what: String,
        index: usize,
        value: f32,
    },
    #[error("{what}: vector is all zeros; cosine similarity is undefined")]
    ZeroVector { what: String },
    #[error("item `{0}` appears twice in one write batch")]
    DuplicateInBatch(String),
    #[error("item `{id}`: {message}")]
    BadItem { id: String, message: String },
    #[error("vector space `{space}` already exists with {existing}, asked for {requested}")]
    SpaceMismatch {
        space: String,
        existing: String,
        requested: String,
    },
    #[error("invalid vector space name {0:?}: use 1-64 characters from [a-z0-9_-]")]
    BadSpaceName(String),
    #[error("invalid parameter: {0}")]
    BadParam(String),
    #[error("store schema: {0}")]
    Schema(#[from] wave_migrations::MigrationError),
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("bm25 index at {path}: {message}")]
    Text { path: PathBuf, message: String },
    #[error("corrupt record `{key}` in {cf}: {message}")]
    Corrupt {
        cf: &'static str,
        key: String,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("hnsw graph of space `{space}`: {message}")]
    Graph { space: String, message: String },
}

impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexError::Text {
            path: PathBuf::new(),
            message: e.to_string(),
        }
    }
}
