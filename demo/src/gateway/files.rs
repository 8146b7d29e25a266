//! Serving library files (videos, thumbnails, sample hums) with HTTP range requests: a
//! `<video>` seeks to the matched moment (`#t=`) by asking for byte ranges.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::api_error::ApiError;

/// A byte range of a file of `len` bytes, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

/// A `Range` the file cannot satisfy (answered with 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a `Range` header for a file of `len` bytes: `None` when absent or not a single
/// `bytes=` range (the whole file is sent), `Err` when it cannot be satisfied.
pub fn parse_range(value: Option<&str>, len: u64) -> Result<Option<ByteRange>, Unsatisfiable> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: answering with the whole file is allowed and simpler.
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        // The last `b` bytes.
        (true, false) => {
            let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
            if n == 0 || len == 0 {
                return Err(Unsatisfiable);
            }
            ByteRange {
                first: len.saturating_sub(n),
                last: len - 1,
            }
        }
        (false, _) => {
            let first: u64 = a.parse().map_err(|_| Unsatisfiable)?;
            let last = if b.is_empty() {
                len.saturating_sub(1)
            } else {
                b.parse::<u64>()
                    .map_err(|_| Unsatisfiable)?
                    .min(len.saturating_sub(1))
            };
            if first >= len || last < first {
                return Err(Unsatisfiable);
            }
            ByteRange { first, last }
        }
        (true, true) => return Err(Unsatisfiable),
    };
    Ok(Some(range))
}

/// The file at `path` (or the range the request asks for) with `content_type`.
pub async fn send_file(
    path: &Path,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|_| ApiError::not_found(format!("{} is not readable", display_name(path))))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", display_name(path))))?
        .len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(Some(v), len))
        .unwrap_or(Ok(None));
    let mut out_headers = HeaderMap::new();
    out_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out_headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    let (status, first, count) = match range {
        Err(Unsatisfiable) => {
            out_headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{len}")),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out_headers).into_response());
        }
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some(r)) => {
            out_headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {}-{}/{len}", r.first, r.last)),
            );
            (StatusCode::PARTIAL_CONTENT, r.first, r.last - r.first + 1)
        }
    };
    let mut body = vec![0u8; count as usize];
    file.seek(SeekFrom::Start(first))
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", display_name(path))))?;
    file.read_exact(&mut body)
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", display_name(path))))?;
    Ok((status, out_headers, Body::from(body)).into_response())
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the file".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |s: &str| parse_range(Some(s), 100);
        assert_eq!(r("bytes=0-"), Ok(Some(ByteRange { first: 0, last: 99 })));
        assert_eq!(
            r("bytes=10-19"),
            Ok(Some(ByteRange {
                first: 10,
                last: 19
            }))
        );
        assert_eq!(
            r("bytes=90-500"),
            Ok(Some(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(
            r("bytes=-10"),
            Ok(Some(ByteRange {
                first: 90,
                last: 99
            }))
        );
        assert_eq!(r("bytes=0-1,5-6"), Ok(None));
        assert_eq!(r("items=0-1"), Ok(None));
        assert_eq!(r("bytes=100-"), Err(Unsatisfiable));
        assert_eq!(r("bytes=20-10"), Err(Unsatisfiable));
        assert_eq!(r("bytes=x-1"), Err(Unsatisfiable));
        assert_eq!(parse_range(None, 100), Ok(None));
    }
}
