//! wave's store: items and their vectors in RocksDB (the source of truth), one HNSW graph per
//! named vector space persisted as snapshots inside RocksDB, and a tantivy BM25 index over the
//! items' text kept in line with RocksDB by sequence number.
//!
//! ```text
//! <dir>/db     RocksDB: items, vectors, snapshots, text_pending, meta
//! <dir>/text   tantivy: title, caption, transcript
//! ```
//! The crate knows no model: vectors come in as `f32` slices of a space's dimension.

mod error;
mod filter;
mod item;
mod options;
mod space;
mod store;
mod text;

pub use error::IndexError;
pub use filter::Filter;
pub use item::{Item, Modality, Write};
pub use options::{SpaceParams, StoreOptions};
pub use space::GraphOrigin;
pub use store::{Hit, SpaceStats, Stats, Store};
pub use wave_migrations::CURRENT_SCHEMA;
