//! The demo library's videos into a store, with wave-ingest's pipeline (idempotent: a second
//! start skips what is stored).

use wave_engine::embedder::Embedder;
use wave_engine::DefaultBackend;
use wave_index::Store;
use wave_ingest::pipeline::{self, IngestReport, PipelineConfig, Progress};

use crate::error::DemoError;
use crate::library::DemoLibrary;

/// Ingests `library`'s videos into `store` with `embedder` (whose id is `model_id`).
/// Fails when no video ends up in the store.
pub fn ingest_library(
    library: &DemoLibrary,
    store: &Store,
    embedder: &Embedder<DefaultBackend>,
    model_id: &str,
    progress: &dyn Progress,
) -> Result<IngestReport, DemoError> {
    let manifest = library.manifest_path();
    let report = pipeline::ingest(
        &manifest,
        store,
        embedder,
        model_id,
        &PipelineConfig::default(),
        progress,
    )?;
    if report.ingested + report.skipped == 0 {
        let reason = report
            .failed
            .first()
            .map_or("the manifest lists none".to_string(), |f| f.error.clone());
        return Err(DemoError::EmptyLibrary {
            path: manifest,
            reason,
        });
    }
    Ok(report)
}
