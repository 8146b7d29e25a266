//! Schema migrations of the wave store, applied in order when a store is opened.
//!
//! Each step is a numbered module holding *frozen* copies of the record formats it reads
//! and writes, so a migration keeps working however the live code in `wave-index` evolves.
//! The store records its schema version in the meta column family; [`migrate`] brings an
//! older store up to [`CURRENT_SCHEMA`] and refuses a store written by a newer binary.

pub mod layout;
mod m0001_initial;
mod m0002_typed_records;

pub use m0001_initial::v1;
pub use m0002_typed_records::v2;

use rocksdb::DB;

/// The schema version this binary writes.
pub const CURRENT_SCHEMA: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("store schema version {found} is newer than this binary supports ({supported}); upgrade wave to open it")]
    TooNew { found: u32, supported: u32 },
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("migration {step}: record `{key}` cannot be decoded: {message}")]
    Decode {
        step: u32,
        key: String,
        message: String,
    },
    #[error("meta `{key}` is corrupt: {message}")]
    Meta { key: String, message: String },
}

/// Reads the store's schema version; `None` for a store with no meta yet (brand new).
pub fn schema_version(db: &DB) -> Result<Option<u32>, MigrationError> {
    let meta = layout::cf(db, layout::CF_META);
    match db.get_cf(meta, layout::META_SCHEMA_VERSION)? {
        None => Ok(None),
        Some(bytes) => {
            let arr: [u8; 4] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| MigrationError::Meta {
                    key: "schema_version".into(),
                    message: format!("expected 4 bytes, found {}", bytes.len()),
                })?;
            Ok(Some(u32::from_be_bytes(arr)))
        }
    }
}

/// Brings the store to [`CURRENT_SCHEMA`]. A new store is stamped with the current version.
/// Returns the versions applied, in order.
pub fn migrate(db: &DB) -> Result<Vec<u32>, MigrationError> {
    let meta = layout::cf(db, layout::CF_META);
    let Some(mut version) = schema_version(db)? else {
        db.put_cf(
            meta,
            layout::META_SCHEMA_VERSION,
            CURRENT_SCHEMA.to_be_bytes(),
        )?;
        return Ok(vec![]);
    };
    if version > CURRENT_SCHEMA {
        return Err(MigrationError::TooNew {
            found: version,
            supported: CURRENT_SCHEMA,
        });
    }
    let mut applied = vec![];
    while version < CURRENT_SCHEMA {
        let next = version + 1;
        tracing::info!(from = version, to = next, "migrating store schema");
        match next {
            2 => m0002_typed_records::apply(db)?,
            _ => unreachable!("no migration step to schema {next}"),
        }
        version = next;
        applied.push(next);
    }
    Ok(applied)
}
