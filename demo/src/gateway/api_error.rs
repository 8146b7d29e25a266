//! The gateway's error answers: an HTTP status and `{"error": {"code", "message"}}`, where the
//! message says what went wrong in words the page can show as is.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::recording::RecordingError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A failed call to the engine's gRPC API.
    pub fn from_status(status: &tonic::Status, engine: &str) -> ApiError {
        use tonic::Code;
        let msg = status.message();
        match status.code() {
            Code::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "engine_unavailable",
                format!("the search engine at {engine} is not available: {msg}"),
            ),
            Code::InvalidArgument => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rejected",
                format!("the search engine could not use this recording: {msg}"),
            ),
            Code::ResourceExhausted => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                format!("the search engine is busy: {msg}"),
            ),
            Code::DeadlineExceeded => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("the search took too long: {msg}"),
            ),
            Code::Unauthenticated | Code::PermissionDenied => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "engine_auth",
                format!("the search engine refused the demo's credentials: {msg}"),
            ),
            code => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "engine_error",
                format!("the search engine failed ({code:?}): {msg}"),
            ),
        }
    }
}

impl From<RecordingError> for ApiError {
    fn from(e: RecordingError) -> ApiError {
        let status = if e.is_internal() {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if matches!(e, RecordingError::TooLarge { .. }) {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "demo gateway error");
        }
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}
