//! Text documents (`.txt`, `.md`).

use std::path::Path;

use crate::error::{IngestError, Result};
use crate::kind::extension;

/// Reads a UTF-8 text document (a leading byte-order mark is dropped). An empty file is
/// [`IngestError::Empty`]; bytes that are not UTF-8, or NUL bytes (a binary file with a text
/// extension), are [`IngestError::WrongContent`].
pub fn load_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
    if bytes.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    let wrong = |found: &str| IngestError::WrongContent {
        path: path.to_path_buf(),
        ext: extension(path),
        found: found.to_string(),
    };
    let text = String::from_utf8(bytes).map_err(|_| wrong("bytes that are not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(wrong("binary data (NUL bytes)"));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_string())
}
