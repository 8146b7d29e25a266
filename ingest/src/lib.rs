//! wave-ingest (see its issue)
