//! What kind of media a file is, judged by its extension (content is checked at decode time).

use std::path::Path;

/// The three kinds of work item the pipeline embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// UTF-8 text (`.txt`, `.md`) or inline manifest text.
    Text,
    /// Audio file (`.wav`, `.flac`, `.mp3`, `.ogg`/`.oga`, `.m4a`, `.aac`).
    Audio,
    /// Video file (`.mp4`, `.m4v`, `.mkv`, `.webm`, `.mov`).
    Video,
}

const TEXT_EXTS: &[&str] = &["txt", "md"];
const AUDIO_EXTS: &[&str] = &["wav", "flac", "mp3", "ogg", "oga", "m4a", "aac"];
const VIDEO_EXTS: &[&str] = &["mp4", "m4v", "mkv", "webm", "mov"];

impl MediaKind {
    /// The kind for a file extension (case-insensitive, without the dot), or `None` if ingest
    /// does not handle it.
    pub fn from_extension(ext: &str) -> Option<MediaKind> {
        let ext = ext.to_ascii_lowercase();
        if TEXT_EXTS.contains(&ext.as_str()) {
            Some(MediaKind::Text)
        } else if AUDIO_EXTS.contains(&ext.as_str()) {
            Some(MediaKind::Audio)
        } else if VIDEO_EXTS.contains(&ext.as_str()) {
            Some(MediaKind::Video)
        } else {
            None
        }
    }

    /// The kind for a path, by its extension.
    pub fn from_path(path: &Path) -> Option<MediaKind> {
        MediaKind::from_extension(&extension(path))
    }
}

/// The lower-cased extension of `path`, or an empty string.
pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}
