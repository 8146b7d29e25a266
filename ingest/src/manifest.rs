//! JSONL manifests: one JSON object per line describing a work item.
//!
//! ```text
//! {"path": "talks/intro.mp4", "id": "intro", "title": "Intro", "tags": ["talk"]}
//! {"text": "An inline document", "caption": "note"}
//! ```
//! Fields: exactly one of `path` (relative paths are resolved against the manifest's folder)
//! or `text`; optional `id`, `title`, `caption`, `transcript` (plain text; it replaces any
//! sidecar) and `tags` (array of strings). Unknown fields are rejected so typos do not pass
//! silently. Blank lines are skipped.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::discover::file_item;
use crate::error::{IngestError, Result};
use crate::item::{Source, WorkItem};
use crate::kind::MediaKind;
use crate::subtitles::Transcript;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: Option<String>,
    text: Option<String>,
    id: Option<String>,
    title: Option<String>,
    caption: Option<String>,
    transcript: Option<String>,
    tags: Option<Vec<String>>,
}

/// Reads a JSONL manifest. A line that is not a valid entry (bad JSON, both or neither of
/// `path`/`text`, a duplicate `id`, a missing or empty file) gives an `Err` naming the manifest
/// line; the other lines are still returned, in file order.
pub fn read_manifest(manifest: &Path) -> Vec<Result<WorkItem>> {
    let content = match std::fs::read(manifest) {
        Ok(bytes) => bytes,
        Err(e) => return vec![Err(IngestError::io(manifest, e))],
    };
    let base = manifest.parent().unwrap_or(Path::new("."));
    let name = manifest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut seen_ids = HashSet::new();
    let mut out = Vec::new();
    for (index, raw) in content.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let bad = |reason: String| IngestError::Manifest {
            path: manifest.to_path_buf(),
            line,
            reason,
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            out.push(Err(bad("not valid UTF-8".into())));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let entry: Entry = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(e) => {
                out.push(Err(bad(format!("invalid entry: {e}"))));
                continue;
            }
        };
        let id = entry.id.clone().unwrap_or_else(|| match &entry.path {
            Some(p) => p.clone(),
            None => format!("{name}:{line}"),
        });
        if !seen_ids.insert(id.clone()) {
            out.push(Err(bad(format!("duplicate id {id:?}"))));
            continue;
        }
        match (entry.path.as_deref(), entry.text.as_deref()) {
            (Some(_), Some(_)) => out.push(Err(bad("has both `path` and `text`".into()))),
            (None, None) => out.push(Err(bad("needs `path` or `text`".into()))),
            (None, Some(t)) if t.trim().is_empty() => out.push(Err(bad("`text` is empty".into()))),
            (None, Some(t)) => out.push(Ok(apply(
                &entry,
                WorkItem {
                    id,
                    kind: MediaKind::Text,
                    source: Source::Inline(t.to_string()),
                    title: None,
                    caption: None,
                    transcript: None,
                    tags: Vec::new(),
                },
            ))),
            (Some(p), None) => {
                let path = base.join(p);
                for result in file_item(&path, id.clone()) {
                    out.push(match result {
                        Ok(item) => Ok(apply(&entry, item)),
                        Err(e) => Err(IngestError::InManifest {
                            manifest: manifest.to_path_buf(),
                            line,
                            source: Box::new(e),
                        }),
                    });
                }
            }
        }
    }
    out
}

/// Copies the manifest's metadata onto an item.
fn apply(entry: &Entry, mut item: WorkItem) -> WorkItem {
    item.title = entry.title.clone();
    item.caption = entry.caption.clone();
    item.tags = entry.tags.clone().unwrap_or_default();
    if let Some(t) = &entry.transcript {
        item.transcript = Some(Transcript::Plain(t.clone()));
    }
    item
}
