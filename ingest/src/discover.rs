//! Finding work: walk a directory tree (or read a JSONL manifest) into [`WorkItem`]s.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{IngestError, Result};
use crate::item::{Source, WorkItem};
use crate::kind::{extension, MediaKind};
use crate::subtitles::load_sidecar;

/// Sidecar extensions, in order of preference: timed cues beat plain text.
const SIDECAR_EXTS: &[&str] = &["srt", "vtt", "txt"];

/// Discovers work under `root`: a `.jsonl` file is read as a manifest ([`read_manifest`](crate::read_manifest)), a
/// directory is walked ([`discover_dir`]), any other file is a single item.
///
/// Every problem is an `Err` entry naming its path; the other entries are still returned.
pub fn discover(root: &Path) -> Vec<Result<WorkItem>> {
    match std::fs::metadata(root) {
        Err(e) => vec![Err(IngestError::io(root, e))],
        Ok(m) if m.is_dir() => discover_dir(root),
        Ok(_) if extension(root) == "jsonl" => crate::manifest::read_manifest(root),
        Ok(_) => {
            let id = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            file_item(root, id).collect()
        }
    }
}

/// Walks `root` recursively in name order. Files with an extension ingest does not know, and
/// hidden entries (name starting with `.`), are skipped; symlinked directories are not followed
/// (no cycles). A `.srt`/`.vtt`/`.txt` with the same stem as an audio or video file beside it is
/// that file's transcript, not an item of its own. Unreadable directories, empty files and bad
/// sidecars are `Err` entries.
pub fn discover_dir(root: &Path) -> Vec<Result<WorkItem>> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Result<WorkItem>>) {
    let entries =
        match std::fs::read_dir(dir).and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>()) {
            Ok(e) => e,
            Err(e) => return out.push(Err(IngestError::io(dir, e))),
        };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let is_symlink = entry.file_type().map(|t| t.is_symlink()).unwrap_or(false);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() && !is_symlink => dirs.push(path),
            Ok(m) if m.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => out.push(Err(IngestError::io(&path, e))),
        }
    }
    files.sort();
    dirs.sort();

    // Sidecars claimed by a media file in this directory.
    let mut claimed = BTreeSet::new();
    for path in &files {
        if matches!(
            MediaKind::from_path(path),
            Some(MediaKind::Audio | MediaKind::Video)
        ) {
            if let Some(sidecar) = find_sidecar(path) {
                claimed.insert(sidecar);
            }
        }
    }
    for path in &files {
        if MediaKind::from_path(path).is_none() || claimed.contains(path) {
            continue;
        }
        out.extend(file_item(path, relative_id(root, path)));
    }
    for d in &dirs {
        walk(root, d, out);
    }
}

fn relative_id(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A work item for one file on disk, with its sidecar transcript, followed by the sidecar's
/// error if it has one that does not parse (the item then goes on without a transcript).
/// The item fails for unknown extensions, unreadable paths and empty files.
pub(crate) fn file_item(path: &Path, id: String) -> impl Iterator<Item = Result<WorkItem>> {
    let (item, sidecar_err) = match check_file(path) {
        Err(e) => (Err(e), None),
        Ok(kind) => {
            let (transcript, err) = match (kind, find_sidecar(path)) {
                (MediaKind::Audio | MediaKind::Video, Some(s)) => match load_sidecar(&s) {
                    Ok(t) => (Some(t), None),
                    Err(e) => (None, Some(e)),
                },
                _ => (None, None),
            };
            let item = WorkItem {
                id,
                kind,
                source: Source::File(path.to_path_buf()),
                title: None,
                caption: None,
                transcript,
                tags: Vec::new(),
            };
            (Ok(item), err)
        }
    };
    std::iter::once(item).chain(sidecar_err.map(Err))
}

/// The kind of an existing, non-empty regular file with a known extension.
fn check_file(path: &Path) -> Result<MediaKind> {
    let kind = MediaKind::from_path(path).ok_or_else(|| IngestError::UnsupportedExtension {
        path: path.to_path_buf(),
        ext: extension(path),
    })?;
    let meta = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
    if !meta.is_file() {
        return Err(IngestError::io(
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    if meta.len() == 0 {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(kind)
}

/// `clip.mp4` → the first of `clip.srt`, `clip.vtt`, `clip.txt` that exists.
pub fn find_sidecar(media: &Path) -> Option<PathBuf> {
    SIDECAR_EXTS
        .iter()
        .map(|ext| media.with_extension(ext))
        .find(|p| p != media && p.is_file())
}
