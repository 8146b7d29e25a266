//! What a run tells its caller: progress events while it runs, a report at the end.

use serde::Serialize;

/// A file (or inline manifest entry) that could not be ingested, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The file's path, or `<manifest>:<line>` for a manifest line or inline text.
    pub path: String,
    pub error: String,
}

/// Seconds spent in each stage. Decoding is summed over the decode workers, so its share of
/// the wall time can exceed 1 when they run in parallel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    pub wall_s: f64,
    /// Hashing, probing and decoding, summed over workers.
    pub decode_s: f64,
    /// Inside the embedder.
    pub embed_s: f64,
    /// Store writes (and stale-clip deletes).
    pub write_s: f64,
}

/// The outcome of [`ingest`](crate::pipeline::ingest).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// Work items (files or inline texts) written to the store in this run.
    pub ingested: usize,
    /// Work items already in the store with the same content hash and model.
    pub skipped: usize,
    pub failed: Vec<Failure>,
    /// Vectors written: one per clip (a short file is one clip).
    pub clips: usize,
    pub times: StageTimes,
    /// Most decoded clips alive at once (decoded but not yet embedded): the memory bound.
    pub max_clips_in_flight: usize,
}

/// What happened to one work item.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ingested { clips: usize },
    Skipped,
    Failed(String),
}

/// One work item's outcome, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEvent {
    pub id: String,
    /// Path or `<manifest>:<line>`.
    pub path: String,
    pub outcome: Outcome,
}

/// Receives progress while a run goes on (called from the pipeline's threads).
pub trait Progress: Sync {
    /// Discovery is done: `items` work items will be processed.
    fn start(&self, _items: usize) {}
    /// Discovery rejected an entry (unreadable path, empty file, bad manifest line, bad
    /// sidecar); it is not one of the `items`.
    fn rejected(&self, _failure: &Failure) {}
    /// A work item is finished: stored, skipped or failed. Stored means durable.
    fn file(&self, _event: &FileEvent) {}
    /// `n` more clips went through the embedder.
    fn clips_embedded(&self, _n: usize) {}
}

/// Ignores all progress.
pub struct NoProgress;

impl Progress for NoProgress {}
