//! What a query can fail at, and the gRPC status each failure maps to.

use tonic::{Code, Status};
use wave_engine::embedder::EmbedError;
use wave_engine::preprocess::PreprocessError;
use wave_engine::prompt::PromptError;
use wave_index::IndexError;
use wave_ingest::IngestError;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The request is malformed: the message names the field.
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    /// The request needs something the server does not have (e.g. the model).
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    DeadlineExceeded(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// Media bytes or a media file that could not be decoded.
    #[error("bad media: {0}")]
    Media(#[from] IngestError),
    #[error("embedding: {0}")]
    Embed(#[from] EmbedError),
    #[error("store: {0}")]
    Index(#[from] IndexError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

impl QueryError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        QueryError::InvalidArgument(msg.into())
    }

    pub fn code(&self) -> Code {
        match self {
            QueryError::InvalidArgument(_) | QueryError::Media(_) => Code::InvalidArgument,
            QueryError::NotFound(_) => Code::NotFound,
            QueryError::FailedPrecondition(_) => Code::FailedPrecondition,
            QueryError::ResourceExhausted(_) => Code::ResourceExhausted,
            QueryError::DeadlineExceeded(_) => Code::DeadlineExceeded,
            QueryError::Unauthenticated(_) => Code::Unauthenticated,
            QueryError::Embed(e) => embed_code(e),
            QueryError::Index(e) => index_code(e),
            QueryError::Io { .. } | QueryError::Internal(_) => Code::Internal,
        }
    }
}

/// Errors caused by what the caller sent are INVALID_ARGUMENT; the rest is the server's fault.
fn embed_code(e: &EmbedError) -> Code {
    match e {
        EmbedError::Item { source, .. } => embed_code(source),
        EmbedError::Input(_)
        | EmbedError::Preprocess(PreprocessError::Input(_))
        | EmbedError::Prompt(PromptError::Encode(_) | PromptError::Layout(_)) => {
            Code::InvalidArgument
        }
        _ => Code::Internal,
    }
}

fn index_code(e: &IndexError) -> Code {
    match e {
        IndexError::BadId(_)
        | IndexError::EmptyRecord(_)
        | IndexError::Dimension { .. }
        | IndexError::NonFinite { .. }
        | IndexError::ZeroVector { .. }
        | IndexError::DuplicateInBatch(_)
        | IndexError::BadItem { .. }
        | IndexError::BadParam(_) => Code::InvalidArgument,
        IndexError::UnknownSpace { .. } | IndexError::UnknownSpaceQuery { .. } => {
            Code::FailedPrecondition
        }
        _ => Code::Internal,
    }
}

impl From<QueryError> for Status {
    fn from(e: QueryError) -> Status {
        Status::new(e.code(), e.to_string())
    }
}
