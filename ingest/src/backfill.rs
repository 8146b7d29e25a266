//! Melody backfill: stores written before melody vectors existed (or through a path that did not
//! make them) gain a `melody` vector for every audio / audio-video clip with a tune, computed
//! from the clip's media exactly as ingest computes it.
//!
//! Each candidate item's media is re-read from where the item says it came from (the kept
//! upload named by its content hash, else its source path) over its `[start, end]` span. An
//! item whose media is missing or undecodable is reported with its id and path, and the run
//! goes on. The melody vectors go in with `Store::put_vectors`, a few dozen items per atomic
//! write that touches only the melody space (the items' other vectors and fields stay as they
//! are, so nothing stored is lost or half-changed); items that already have a melody vector are
//! left alone, so a second run writes nothing, unless [`BackfillOptions::redo`] asks for every
//! clip's vector to be made again (after an upgrade changed how they are made).

use std::path::{Path, PathBuf};

use serde::Serialize;
use wave_engine::embedder::Input;
use wave_index::{IndexError, Item, Modality, Store};

use crate::blob::uploaded_media;
use crate::decode::audio::{decode_audio_with, Audio, AudioOptions};
use crate::decode::video::{decode_video, VideoKind, VideoOptions};
use crate::decode::TARGET_RATE;
use crate::melody::{clip_melody, ensure_melody_space, MELODY_SPACE};

/// Melody vectors written in one store batch.
const WRITE_BATCH: usize = 32;

/// What the backfill looks at and where it finds uploads.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// The clip space: items with a vector here are the clips a hum can find (file-level
    /// records of long media live in another space and get no melody vector, as in ingest).
    pub clip_space: String,
    /// Where the API keeps uploaded media (`wave serve` uses `<store>/media`).
    pub media_dir: PathBuf,
    /// Recompute the melody vectors clips already have too, replacing them: for a store written
    /// before a change to how melody vectors are made (wave's ingest recipe does not include
    /// the tracker, so re-ingesting would skip unchanged media). A clip the new tracker finds
    /// no tune in keeps the vector it had (the store has no way to drop one space's vector).
    pub redo: bool,
}

impl BackfillOptions {
    /// The defaults for the store in `store_dir`: space `wave`, uploads in `<store_dir>/media`.
    pub fn for_store(store_dir: &Path) -> BackfillOptions {
        BackfillOptions {
            clip_space: "wave".into(),
            media_dir: store_dir.join("media"),
            redo: false,
        }
    }
}

/// An item the backfill could not fill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackfillFailure {
    pub id: String,
    /// The media file it tried to read, when there was one.
    pub path: Option<String>,
    pub error: String,
}

/// What a backfill run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BackfillReport {
    /// Audio / audio-video clips looked at.
    pub candidates: usize,
    /// Melody vectors written (with [`BackfillOptions::redo`], rewritten ones too).
    pub filled: usize,
    /// Clips that already had a melody vector (left alone; none with `redo`).
    pub already: usize,
    /// Clips whose media has no tune (no melody vector, as in ingest).
    pub no_tune: usize,
    pub failed: Vec<BackfillFailure>,
}

impl BackfillReport {
    /// Clips not written: they had a vector already or have no tune.
    pub fn skipped(&self) -> usize {
        self.already + self.no_tune
    }
}

/// Adds the missing melody vectors of `store`'s audio and audio-video clips. Per-item problems
/// end up in the report; only a store failure stops the run.
pub fn backfill_melody(
    store: &Store,
    opts: &BackfillOptions,
) -> Result<BackfillReport, IndexError> {
    backfill_melody_with(store, opts, &mut |_| {})
}

/// [`backfill_melody`], telling `on_failure` about each item that fails as it happens (a long
/// run need not wait for its report to say what went wrong).
pub fn backfill_melody_with(
    store: &Store,
    opts: &BackfillOptions,
    on_failure: &mut dyn FnMut(&BackfillFailure),
) -> Result<BackfillReport, IndexError> {
    let mut report = Reporter {
        report: BackfillReport::default(),
        on_failure,
    };
    fill(store, opts, &mut report)?;
    Ok(report.report)
}

/// The report being built and who hears about failures.
struct Reporter<'a> {
    report: BackfillReport,
    on_failure: &'a mut dyn FnMut(&BackfillFailure),
}

impl Reporter<'_> {
    fn failed(&mut self, failure: BackfillFailure) {
        (self.on_failure)(&failure);
        self.report.failed.push(failure);
    }
}

fn fill(store: &Store, opts: &BackfillOptions, out: &mut Reporter<'_>) -> Result<(), IndexError> {
    if store.space_params(&opts.clip_space).is_none() {
        return Ok(());
    }
    ensure_melody_space(store)?;
    let mut reader = MediaReader::default();
    let mut pending: Vec<Pending> = Vec::new();
    for id in store.item_ids()? {
        let Some(item) = store.get(&id)? else {
            continue;
        };
        if !matches!(item.modality, Modality::Audio | Modality::AudioVideo)
            || store.vector(&opts.clip_space, &id)?.is_none()
        {
            continue;
        }
        out.report.candidates += 1;
        if !opts.redo && store.vector(MELODY_SPACE, &id)?.is_some() {
            out.report.already += 1;
            continue;
        }
        let path = match media_path(&item, &opts.media_dir) {
            Ok(p) => p,
            Err(error) => {
                out.failed(BackfillFailure {
                    id,
                    path: item.source.clone(),
                    error,
                });
                continue;
            }
        };
        let melody = match reader.clip_input(&item, &path) {
            Ok(Some(input)) => clip_melody(&input),
            Ok(None) => None,
            Err(e) => {
                out.failed(BackfillFailure {
                    id: id.clone(),
                    path: Some(path.display().to_string()),
                    error: format!("item `{id}`: {e}"),
                });
                continue;
            }
        };
        let Some(melody) = melody else {
            out.report.no_tune += 1;
            continue;
        };
        pending.push(Pending {
            id,
            source: item.source,
            melody,
        });
        if pending.len() >= WRITE_BATCH {
            write(store, &mut pending, out)?;
        }
    }
    write(store, &mut pending, out)
}

/// The file an item's media is read from: the kept upload, else its source path.
fn media_path(item: &Item, media_dir: &Path) -> Result<PathBuf, String> {
    if let Some(p) = uploaded_media(media_dir, item.content_hash.as_deref()) {
        return Ok(p);
    }
    match item.source.as_deref() {
        Some(src) if Path::new(src).is_file() => Ok(PathBuf::from(src)),
        Some(src) => Err(format!(
            "item `{}`: its source media {src} is missing (not a readable file)",
            item.id
        )),
        None => Err(format!(
            "item `{}`: it records no source media to read",
            item.id
        )),
    }
}

/// A melody vector waiting for its batch.
struct Pending {
    id: String,
    source: Option<String>,
    melody: Vec<f32>,
}

/// Writes the melody vectors: all in one batch, or, if the store refuses the batch for
/// something about an item, one by one so only that item fails. An item deleted since it was
/// read gets nothing and is not counted.
fn write(
    store: &Store,
    pending: &mut Vec<Pending>,
    out: &mut Reporter<'_>,
) -> Result<(), IndexError> {
    if pending.is_empty() {
        return Ok(());
    }
    let batch = std::mem::take(pending);
    match store.put_vectors(MELODY_SPACE, &melody_vectors(&batch)) {
        Ok(gone) => out.report.filled += batch.len() - gone.len(),
        Err(e) if is_item_error(&e) => {
            for p in &batch {
                match store.put_vectors(MELODY_SPACE, &melody_vectors(std::slice::from_ref(p))) {
                    Ok(gone) => out.report.filled += usize::from(gone.is_empty()),
                    Err(e) if is_item_error(&e) => out.failed(BackfillFailure {
                        id: p.id.clone(),
                        path: p.source.clone(),
                        error: format!("item `{}`: the store refused it: {e}", p.id),
                    }),
                    Err(e) => return Err(e),
                }
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn melody_vectors(items: &[Pending]) -> Vec<(&str, Vec<f32>)> {
    items
        .iter()
        .map(|p| (p.id.as_str(), p.melody.clone()))
        .collect()
}

fn is_item_error(e: &IndexError) -> bool {
    matches!(
        e,
        IndexError::BadId(_)
            | IndexError::EmptyRecord(_)
            | IndexError::Dimension { .. }
            | IndexError::NonFinite { .. }
            | IndexError::ZeroVector { .. }
            | IndexError::BadItem { .. }
    )
}

/// Decodes clips' sound, keeping the last whole audio file: the clips of one long file come one
/// after another in id order, and each would otherwise decode the file again.
#[derive(Default)]
struct MediaReader {
    last_audio: Option<(PathBuf, Audio)>,
}

impl MediaReader {
    /// The clip's sound as ingest hands it to the melody tracker; `None` for a video whose
    /// sound turned out to be absent or digital silence.
    fn clip_input(&mut self, item: &Item, path: &Path) -> crate::Result<Option<Input>> {
        let (start, end) = item.span.unwrap_or((0.0, f64::INFINITY));
        match item.modality {
            Modality::Audio => {
                let cached = matches!(&self.last_audio, Some((p, _)) if p == path);
                if !cached {
                    self.last_audio = None;
                    let audio = decode_audio_with(path, &AudioOptions::default())?;
                    self.last_audio = Some((path.to_path_buf(), audio));
                }
                let audio = &self.last_audio.as_ref().expect("decoded above").1;
                Ok(Some(Input::Audio {
                    pcm: audio.between(start, end).to_vec(),
                    sample_rate: TARGET_RATE,
                    prompt: None,
                }))
            }
            _ => {
                // The clip's range only, as ingest decodes long videos; its audio starts at
                // `start`.
                let opts = VideoOptions {
                    start_s: start,
                    duration_s: item.span.map(|(s, e)| e - s),
                    ..VideoOptions::default()
                };
                let video = decode_video(path, &opts)?;
                Ok(match (video.kind, video.audio) {
                    // The melody tracker reads only an input's sound.
                    (VideoKind::AudioVideo, Some(audio)) => Some(Input::Audio {
                        pcm: audio.pcm_16k,
                        sample_rate: TARGET_RATE,
                        prompt: None,
                    }),
                    _ => None,
                })
            }
        }
    }
}
