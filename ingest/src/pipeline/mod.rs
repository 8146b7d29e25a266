//! Bulk ingest: discovery → decode (parallel workers) → embedding (batched) → store writes,
//! joined by bounded channels.
//!
//! ```text
//! discover ─► [work list] ─► decode ×N ─(clips, ≤ queue_clips)─► embed ─(vectors)─► write
//! ```
//! Decoded media is the only large thing in flight. Each decode worker holds at most one clip
//! outside the clip channel, the channel holds at most `queue_clips`, the embedder at most
//! `embed_batch`; so at most `decode_workers + queue_clips + embed_batch` clips exist at once
//! whatever the size of the folder ([`IngestReport::max_clips_in_flight`] measures it).
//!
//! Idempotence: every stored item carries the content hash of what it was built from and the
//! model id. A work item whose file-level record is stored with the same hash and model is
//! skipped without decoding. All items of one work item are written in one atomic batch, so
//! after a crash an item is either fully stored (and skipped next time) or absent (and redone).

mod decode;
mod embed;
pub mod hash;
mod msg;
pub mod report;
mod write;

/// Kept here too: the melody side used to live under the pipeline.
pub use crate::melody;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use burn::tensor::backend::Backend;
use serde::Serialize;
use wave_engine::embedder::Embedder;
use wave_index::{IndexError, SpaceParams, Store};

use crate::decode::audio::AudioOptions;
use crate::decode::probe::probe_media;
use crate::decode::video::VideoOptions;
use crate::discover::discover;
use crate::error::IngestError;
use crate::item::{Source, WorkItem};
use crate::kind::MediaKind;
use crate::segment::{segment, SegmentConfig};

pub use decode::clip_id;
pub use hash::{content_hash, model_id};
pub use report::{Failure, FileEvent, IngestReport, NoProgress, Outcome, Progress, StageTimes};

/// WAVE takes at most this many frames of a video; longer clips are thinned uniformly.
pub const MAX_CLIP_FRAMES: usize = 128;

/// Tunables of a run. [`PipelineConfig::default`] suits a laptop.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub segment: SegmentConfig,
    /// Frame sampling and limits (its `start_s`/`duration_s` are set per clip). Its `fps` is
    /// the model's own (the `video_sampling` of its preprocessor settings): [`ingest`] puts it
    /// there, and a [`dry_run`] caller should too, so the recipes agree.
    pub video: VideoOptions,
    pub audio: AudioOptions,
    /// Parallel decode workers (at least 1). Default: the number of CPUs.
    pub decode_workers: usize,
    /// Most clips embedded in one call. Default 8.
    pub embed_batch: usize,
    /// Capacity of the decoded-clip channel. Default 8.
    pub queue_clips: usize,
    /// Store writes are grouped until this many items are ready (or the queue runs dry).
    /// Default 64.
    pub write_batch: usize,
    /// Frames per clip sent to the model. Default [`MAX_CLIP_FRAMES`].
    pub max_clip_frames: usize,
    /// Vector space of clips (and of files that are one clip). Default `wave`.
    pub space: String,
    /// Vector space of the file-level records of media cut into several clips (the mean of
    /// their clips). Default `wave-file`.
    pub file_space: String,
    /// Write a `melody` vector for every audio / audio-video clip with a tune. Default on; off
    /// gives a store as wave wrote them before melody vectors (`wave store backfill-melody`
    /// adds them later).
    pub melody_vectors: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            segment: SegmentConfig::default(),
            video: VideoOptions::default(),
            audio: AudioOptions::default(),
            decode_workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            embed_batch: 8,
            queue_clips: 8,
            write_batch: 64,
            max_clip_frames: MAX_CLIP_FRAMES,
            space: "wave".into(),
            file_space: "wave-file".into(),
            melody_vectors: true,
        }
    }
}

impl PipelineConfig {
    /// This config with video sampled at `fps` (a model's [`VideoSamplingConfig::fps`]).
    ///
    /// [`VideoSamplingConfig::fps`]: wave_engine::preprocess::VideoSamplingConfig::fps
    pub fn with_model_fps(mut self, fps: f64) -> Self {
        self.video.fps = fps;
        self
    }

    /// The settings that shape the stored items; part of every content hash, so changing them
    /// re-ingests.
    pub fn recipe(&self) -> String {
        let (s, v) = (&self.segment, &self.video);
        format!(
            "window={};overlap={};min={};fps={};pixels={};side={};frames={};mix={:?}/{:?}",
            s.window_s(),
            s.overlap_s(),
            s.min_clip_s(),
            v.fps,
            v.max_pixels,
            v.max_frame_side,
            self.max_clip_frames,
            v.mix,
            self.audio.mix
        )
    }
}

/// Why a run stopped as a whole (bad files never stop it: they end up in the report).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("store: {0}")]
    Store(#[from] IndexError),
    #[error(transparent)]
    Config(#[from] IngestError),
}

/// Ingests everything under `input` (a directory, a `.jsonl` manifest or one file) into
/// `store`, embedding with `embedder` whose id is `model_id` (see [`model_id`]).
pub fn ingest<B: Backend>(
    input: &Path,
    store: &Store,
    embedder: &Embedder<B>,
    model_id: &str,
    cfg: &PipelineConfig,
    progress: &dyn Progress,
) -> Result<IngestReport, PipelineError> {
    let started = Instant::now();
    let (work, mut failed) = discover_work(input);
    progress.start(work.len());
    for f in &failed {
        progress.rejected(f);
    }
    let mut report = ingest_items(&work, store, embedder, model_id, cfg, progress)?;
    failed.append(&mut report.failed);
    report.failed = failed;
    report.times.wall_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Discovers `input`: the work items, and a failure for each bad entry.
pub fn discover_work(input: &Path) -> (Vec<WorkItem>, Vec<Failure>) {
    // Absolute paths, so stored sources stay valid from any working directory.
    let root = input.canonicalize().unwrap_or_else(|_| input.to_path_buf());
    let mut work = Vec::new();
    let mut failed = Vec::new();
    for entry in discover(&root) {
        match entry {
            Ok(w) => work.push(w),
            Err(e) => failed.push(failure(&e)),
        }
    }
    (work, failed)
}

fn failure(e: &IngestError) -> Failure {
    Failure {
        path: e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        error: e.to_string(),
    }
}

/// Runs the pipeline over already discovered work items.
pub fn ingest_items<B: Backend>(
    work: &[WorkItem],
    store: &Store,
    embedder: &Embedder<B>,
    model_id: &str,
    cfg: &PipelineConfig,
    progress: &dyn Progress,
) -> Result<IngestReport, PipelineError> {
    let started = Instant::now();
    // Video is sampled at the rate the model was made for, whatever `cfg` came with.
    let cfg = &cfg
        .clone()
        .with_model_fps(embedder.preprocess_config().sampling.fps());
    let params = SpaceParams::new(embedder.dim());
    store.create_space(&cfg.space, params)?;
    store.create_space(&cfg.file_space, params)?;
    if cfg.melody_vectors {
        melody::ensure_melody_space(store)?;
    }

    let gauge = msg::Gauge::default();
    let ctx = decode::DecodeCtx {
        store,
        model_id,
        recipe: cfg.recipe(),
        cfg,
        gauge: &gauge,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        busy_ns: AtomicU64::new(0),
    };
    let (clip_tx, clip_rx) = sync_channel(cfg.queue_clips);
    let (vec_tx, vec_rx) = sync_channel(cfg.write_batch.max(1) * 2);
    let spaces = write::Spaces {
        clip: &cfg.space,
        file: &cfg.file_space,
        melody: melody::MELODY_SPACE,
    };
    let (written, embed_s) = std::thread::scope(|s| {
        for _ in 0..cfg.decode_workers.max(1).min(work.len().max(1)) {
            let tx = clip_tx.clone();
            let ctx = &ctx;
            s.spawn(move || decode::worker(ctx, work, tx));
        }
        drop(clip_tx);
        let writer =
            s.spawn(move || write::write_loop(store, vec_rx, spaces, cfg.write_batch, progress));
        // The embedder runs on the calling thread: it need not be Send or Sync.
        let embed_s = embed::embed_loop(embedder, clip_rx, vec_tx, cfg.embed_batch, progress);
        ctx.stop.store(true, Ordering::Relaxed);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, embed_s)
    });
    let written = written?;
    Ok(IngestReport {
        ingested: written.ingested,
        skipped: written.skipped,
        failed: written.failed,
        clips: written.clips,
        times: StageTimes {
            wall_s: started.elapsed().as_secs_f64(),
            decode_s: ctx.busy_ns.load(Ordering::Relaxed) as f64 * 1e-9,
            embed_s,
            write_s: written.busy_s,
        },
        max_clips_in_flight: gauge.max(),
    })
}

/// What a run would do with one work item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Planned {
    /// New: would be embedded as this many clips.
    Ingest { clips: usize },
    /// Stored, but from other content, settings or model: would be redone.
    Replace { clips: usize },
    /// Stored with the same content hash and model.
    Skip,
    /// Would fail for this reason (only what hashing and probing can tell).
    Fail { error: String },
}

/// One line of a dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedItem {
    pub id: String,
    pub path: String,
    #[serde(flatten)]
    pub planned: Planned,
}

/// What [`ingest`] would do, without decoding or embedding anything and without writing: each
/// work item with its planned action (clip counts from the durations ffprobe reports), and the
/// entries discovery already rejects. `store` is `None` when it does not exist yet.
pub fn dry_run(
    input: &Path,
    store: Option<&Store>,
    model_id: &str,
    cfg: &PipelineConfig,
) -> (Vec<PlannedItem>, Vec<Failure>) {
    let (work, failed) = discover_work(input);
    let recipe = cfg.recipe();
    let planned = work
        .iter()
        .map(|w| PlannedItem {
            id: w.id.clone(),
            path: match &w.source {
                Source::File(p) => p.display().to_string(),
                Source::Inline(_) => w.id.clone(),
            },
            planned: plan_one(w, store, model_id, &recipe, cfg),
        })
        .collect();
    (planned, failed)
}

fn plan_one(
    w: &WorkItem,
    store: Option<&Store>,
    model_id: &str,
    recipe: &str,
    cfg: &PipelineConfig,
) -> Planned {
    let hash = match content_hash(w, recipe) {
        Ok(h) => h,
        Err(e) => {
            return Planned::Fail {
                error: e.to_string(),
            }
        }
    };
    let existing = match store.map(|s| s.get(&w.id)).transpose() {
        Ok(e) => e.flatten(),
        Err(e) => {
            return Planned::Fail {
                error: format!("reading the store: {e}"),
            }
        }
    };
    if let Some(old) = &existing {
        if old.content_hash.as_deref() == Some(hash.as_str())
            && old.model.as_deref() == Some(model_id)
        {
            return Planned::Skip;
        }
    }
    let clips = match (w.kind, w.path()) {
        (MediaKind::Text, _) | (_, None) => 1,
        (_, Some(path)) => match probe_media(path) {
            Ok(info) => {
                let d = info
                    .duration
                    .or(info.video.as_ref().and_then(|v| v.duration))
                    .or(info.audio.as_ref().and_then(|a| a.duration));
                match d {
                    Some(d) => segment(d, &cfg.segment).len().max(1),
                    None => 1,
                }
            }
            Err(e) => {
                return Planned::Fail {
                    error: e.to_string(),
                }
            }
        },
    };
    if existing.is_some() {
        Planned::Replace { clips }
    } else {
        Planned::Ingest { clips }
    }
}
