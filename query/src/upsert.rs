//! Writes through the API: items with uploaded media (kept content-addressed under the store so
//! re-embedding can re-read it), media already on the server, text, or ready vectors.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wave_engine::embedder::Input;
use wave_index::{Item, Modality, Write};
use wave_ingest::melody::{clip_melody, ensure_melody_space, MELODY_SPACE};
use wave_proto::v1 as pb;

use crate::convert::{modality_from_pb, non_empty, span_from_pb};
use crate::error::QueryError;
use crate::media::{checked_format, input_from_path, MediaKind};
use crate::searcher::{check_deadline, Searcher};

/// One item of an Upsert stream: its header and the media bytes that followed it.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub header: pb::UpsertItem,
    pub data: Vec<u8>,
}

pub(crate) use wave_ingest::blob::stored_blob;

fn io(context: String) -> impl FnOnce(std::io::Error) -> QueryError {
    move |source| QueryError::Io { context, source }
}

/// Saves uploaded media as `<media_dir>/<sha256>/media.<ext>` (once per content).
fn store_blob(media_dir: &Path, data: &[u8], ext: &str) -> Result<(String, PathBuf), QueryError> {
    let hex: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(p) = stored_blob(media_dir, &hex) {
        return Ok((hex, p));
    }
    let dir = media_dir.join(&hex);
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let path = dir.join(format!("media.{ext}"));
    // Write then rename, so a crash never leaves a partial file under the final name.
    let tmp = dir.join(format!(".media.{ext}.tmp"));
    std::fs::write(&tmp, data).map_err(io(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(io(format!("renaming to {}", path.display())))?;
    Ok((hex, path))
}

enum ToEmbed {
    Given(Vec<f32>),
    Model(Input),
    /// A text item with no text to embed: stored for BM25 only.
    Nothing,
}

impl Searcher {
    /// Embeds what needs embedding, then writes every item in one atomic batch. Once this
    /// returns, searches see the items.
    pub fn upsert(
        &self,
        uploads: Vec<Upload>,
        deadline: Option<Instant>,
    ) -> Result<pb::UpsertResponse, QueryError> {
        if uploads.is_empty() {
            return Err(QueryError::invalid("the upsert stream carried no items"));
        }
        let mut items = Vec::with_capacity(uploads.len());
        let mut work = Vec::with_capacity(uploads.len());
        let mut melodies = Vec::with_capacity(uploads.len());
        for up in uploads {
            let (item, todo) = self.prepare(up)?;
            // Media with a tune also gets its melody vector, computed as ingest does.
            melodies.push(match &todo {
                ToEmbed::Model(input) => clip_melody(input),
                _ => None,
            });
            items.push(item);
            work.push(todo);
            check_deadline(deadline)?;
        }
        if melodies.iter().any(Option::is_some) {
            ensure_melody_space(&self.store)?;
        }
        let inputs: Vec<Input> = work
            .iter()
            .filter_map(|w| match w {
                ToEmbed::Model(i) => Some(i.clone()),
                _ => None,
            })
            .collect();
        let mut embedded = if inputs.is_empty() {
            vec![]
        } else {
            self.model()?.embed(&inputs)?
        }
        .into_iter();
        let mut writes = Vec::with_capacity(items.len());
        for ((mut item, todo), melody) in items.into_iter().zip(work).zip(melodies) {
            let vector = match todo {
                ToEmbed::Given(v) => Some(v),
                ToEmbed::Model(_) => {
                    item.model = Some(self.model_name().to_string());
                    embedded.next()
                }
                ToEmbed::Nothing => None,
            };
            let mut vectors: Vec<(String, Vec<f32>)> = vector
                .map(|v| vec![(self.cfg.space.clone(), v)])
                .unwrap_or_default();
            vectors.extend(melody.map(|m| (MELODY_SPACE.to_string(), m)));
            writes.push(Write { item, vectors });
        }
        check_deadline(deadline)?;
        let seq = self.store.upsert(&writes)?;
        Ok(pb::UpsertResponse {
            ids: writes.into_iter().map(|w| w.item.id).collect(),
            seq,
        })
    }

    fn prepare(&self, up: Upload) -> Result<(Item, ToEmbed), QueryError> {
        let h = up.header;
        let what = format!("item `{}`", h.id);
        if h.id.is_empty() {
            return Err(QueryError::invalid("an upsert item has an empty id"));
        }
        let span = span_from_pb(h.start, h.end, &what)?;
        let declared = modality_from_pb(h.modality, &format!("{what}: modality"))?;
        let modality = match declared {
            Some(m) => m,
            None if up.data.is_empty() && h.source.is_empty() => Modality::Text,
            None => {
                return Err(QueryError::invalid(format!(
                    "{what}: modality is required for media items"
                )))
            }
        };
        let mut item = Item {
            id: h.id.clone(),
            modality,
            source: non_empty(&h.source),
            span,
            parent: non_empty(&h.parent),
            title: non_empty(&h.title),
            caption: non_empty(&h.caption),
            transcript: non_empty(&h.transcript),
            tags: h.tags.clone(),
            content_hash: None,
            model: None,
        };
        if let Some(v) = h.vector {
            if !up.data.is_empty() {
                return Err(QueryError::invalid(format!(
                    "{what}: give a vector or media bytes, not both"
                )));
            }
            return Ok((item, ToEmbed::Given(v.values)));
        }
        let Some(kind) = MediaKind::of_modality(modality) else {
            if !up.data.is_empty() {
                return Err(QueryError::invalid(format!(
                    "{what}: a text item takes no media bytes"
                )));
            }
            let text: Vec<&str> = [&item.title, &item.caption, &item.transcript]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let todo = if text.is_empty() {
                ToEmbed::Nothing
            } else {
                ToEmbed::Model(Input::Text(text.join("\n")))
            };
            return Ok((item, todo));
        };
        let video_fps = self.model()?.video_fps();
        let path = if up.data.is_empty() {
            match item.source.as_deref() {
                Some(src) if Path::new(src).is_file() => PathBuf::from(src),
                Some(src) => {
                    return Err(QueryError::invalid(format!(
                        "{what}: no media bytes uploaded and its source {src} is not a file on the server"
                    )))
                }
                None => {
                    return Err(QueryError::invalid(format!(
                        "{what}: a media item needs uploaded bytes or a source path"
                    )))
                }
            }
        } else {
            let ext = checked_format(kind, &h.format)?;
            let (hex, path) = store_blob(&self.cfg.media_dir, &up.data, &ext)?;
            item.content_hash = Some(format!("sha256:{hex}"));
            if item.source.is_none() {
                item.source = Some(path.display().to_string());
            }
            path
        };
        let (input, decoded) = input_from_path(kind, &path, span, None, video_fps)
            .map_err(|e| QueryError::invalid(format!("{what}: {e}")))?;
        // A video declared with sound that has none is stored as what it is.
        if modality == Modality::AudioVideo {
            item.modality = decoded;
        }
        Ok((item, ToEmbed::Model(input)))
    }
}
