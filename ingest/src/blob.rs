//! Where the server keeps uploaded media: `<media_dir>/<sha256>/media.<ext>`, content-addressed,
//! and recorded on the item as `content_hash = "sha256:<hex>"`. Reading it back lives here so
//! the API (re-embedding) and the melody backfill find an upload the same way.

use std::path::{Path, PathBuf};

/// The kept copy of uploaded media with this sha256 (64 hex digits), if `media_dir` has it.
pub fn stored_blob(media_dir: &Path, hex: &str) -> Option<PathBuf> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let dir = media_dir.join(hex);
    std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file())
}

/// The kept upload an item's `content_hash` names, if it is one (`sha256:<hex>`) and present.
pub fn uploaded_media(media_dir: &Path, content_hash: Option<&str>) -> Option<PathBuf> {
    let hex = content_hash?.strip_prefix("sha256:")?;
    stored_blob(media_dir, hex)
}
