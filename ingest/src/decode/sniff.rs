//! A cheap look at a file's first bytes before handing it to a decoder.

use std::io::Read;
use std::path::Path;

use crate::error::{IngestError, Result};
use crate::kind::extension;

/// Bytes inspected at the start of the file.
const HEAD_LEN: usize = 4096;

/// Checks that `path` is a readable, non-empty file whose start does not look like text, so a
/// document renamed `.mp3` is reported as [`IngestError::WrongContent`] instead of as some
/// decoder's obscure complaint.
pub(crate) fn check_binary_media(path: &Path) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let meta = file.metadata().map_err(|e| IngestError::io(path, e))?;
    if !meta.is_file() {
        return Err(IngestError::io(
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    let mut head = Vec::with_capacity(HEAD_LEN);
    (&mut file)
        .take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| IngestError::io(path, e))?;
    if head.is_empty() {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    if looks_like_text(&head) {
        return Err(IngestError::WrongContent {
            path: path.to_path_buf(),
            ext: extension(path),
            found: "plain text".into(),
        });
    }
    Ok(())
}

/// UTF-8 (a multi-byte character cut at the end is fine) with no control bytes other than
/// whitespace. Every media container starts with binary magic or binary headers.
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    valid
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
}
