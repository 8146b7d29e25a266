//! Column families and key encodings shared by every schema version so far.

use rocksdb::{ColumnFamily, DB};

/// id (UTF-8) → item record (format byte + bincode).
pub const CF_ITEMS: &str = "items";
/// space name, 0x00, point id (u64 BE) → vector record.
pub const CF_VECTORS: &str = "vectors";
/// space name → HNSW snapshot header; space name, 0x00, chunk (u32 BE) → snapshot bytes.
pub const CF_SNAPSHOTS: &str = "snapshots";
/// item ids whose text changed since the BM25 index last committed.
pub const CF_TEXT_PENDING: &str = "text_pending";
/// schema version, sequence numbers, vector space definitions.
pub const CF_META: &str = "meta";

pub const ALL_CFS: [&str; 5] = [CF_ITEMS, CF_VECTORS, CF_SNAPSHOTS, CF_TEXT_PENDING, CF_META];

pub const META_SCHEMA_VERSION: &[u8] = b"schema_version";
pub const META_SEQ: &[u8] = b"seq";
/// `space/<name>` → bincode space definition.
pub const META_SPACE_PREFIX: &[u8] = b"space/";

pub fn cf<'a>(db: &'a DB, name: &str) -> &'a ColumnFamily {
    db.cf_handle(name)
        .unwrap_or_else(|| panic!("column family `{name}` is opened with every store"))
}

/// Key of one point's vector in [`CF_VECTORS`].
pub fn vector_key(space: &str, point: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(space.len() + 9);
    k.extend_from_slice(space.as_bytes());
    k.push(0);
    k.extend_from_slice(&point.to_be_bytes());
    k
}

/// Splits a [`CF_VECTORS`] key into space and point id.
pub fn parse_vector_key(key: &[u8]) -> Option<(&str, u64)> {
    if key.len() < 9 {
        return None;
    }
    let (head, point) = key.split_at(key.len() - 8);
    let space = head.strip_suffix(&[0])?;
    Some((
        std::str::from_utf8(space).ok()?,
        u64::from_be_bytes(point.try_into().ok()?),
    ))
}

/// One point's vector and the item it belongs to (value in [`CF_VECTORS`]; unchanged since schema 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VectorRecord {
    pub item: String,
    pub vector: Vec<f32>,
}

/// A named vector space's definition (meta `space/<name>`; unchanged since schema 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpaceDef {
    pub dim: u32,
    pub max_connections: u32,
    pub ef_construction: u32,
    /// Point ids are never reused: the next insert into this space gets this id.
    pub next_point: u64,
}

pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).expect("in-memory encode")
}

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|e| e.to_string())
}
