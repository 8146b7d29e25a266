//! Tunables of a store and of its vector spaces.

/// Store-wide settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Acknowledge a write only once RocksDB's WAL is synced to disk.
    pub sync_writes: bool,
    /// Write a fresh HNSW snapshot after this many inserts into a space.
    pub snapshot_every: usize,
    /// Rebuild a space without its tombstones once they exceed this share of its points.
    pub compact_tombstone_share: f64,
    /// A filtered search whose filter matches at most this many live items is answered exactly.
    pub exact_filter_max_matches: usize,
    /// ... or at most this share of the space's live items.
    pub exact_filter_max_share: f64,
    /// Memory budget of tantivy's writer.
    pub text_writer_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sync_writes: true,
            snapshot_every: 10_000,
            compact_tombstone_share: 0.3,
            exact_filter_max_matches: 20_000,
            exact_filter_max_share: 0.05,
            text_writer_bytes: 50_000_000,
        }
    }
}

/// HNSW parameters of one vector space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaceParams {
    pub dim: usize,
    /// `M`: links per node per layer (≤ 256).
    pub max_connections: usize,
    pub ef_construction: usize,
}

impl SpaceParams {
    /// Defaults that reach recall@10 ≥ 0.95 at the default search `ef` (see the tests).
    pub fn new(dim: usize) -> Self {
        SpaceParams {
            dim,
            max_connections: 16,
            ef_construction: 200,
        }
    }
}

/// Search breadth used when the caller does not give one.
pub const DEFAULT_EF_SEARCH: usize = 96;
