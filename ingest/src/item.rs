//! A unit of work for the ingest pipeline: one document, audio file or video file.

use std::path::PathBuf;

use crate::kind::MediaKind;
use crate::subtitles::Transcript;

/// Where the content of a work item comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file on disk.
    File(PathBuf),
    /// Text given inline in a manifest.
    Inline(String),
}

/// One thing to embed, with the metadata that travels with it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Stable identifier: the manifest `id`, else the path relative to the walked root (with
    /// `/` separators), else `<manifest file name>:<line>` for inline text.
    pub id: String,
    pub kind: MediaKind,
    pub source: Source,
    pub title: Option<String>,
    pub caption: Option<String>,
    /// The manifest `transcript` (plain) or a same-name `.srt`/`.vtt`/`.txt` sidecar.
    pub transcript: Option<Transcript>,
    pub tags: Vec<String>,
}

impl WorkItem {
    /// The file path, if the item is a file.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &self.source {
            Source::File(p) => Some(p),
            Source::Inline(_) => None,
        }
    }
}
