//! Schema 2: modality becomes an enum, [start, end] becomes seconds (f64, so sub-millisecond
//! clip bounds survive), tags a list. Vectors, snapshots and meta keep the schema-1 layout.

use rocksdb::{WriteBatch, WriteOptions, DB};

use crate::{layout, v1, MigrationError};

pub mod v2 {
    use serde::{Deserialize, Serialize};

    /// Format byte in front of every schema-2 item record.
    pub const ITEM_FORMAT: u8 = 2;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
    pub enum Modality {
        #[default]
        Text,
        Audio,
        Video,
        AudioVideo,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ItemRecord {
        pub id: String,
        pub modality: Modality,
        pub source: Option<String>,
        pub span: Option<(f64, f64)>,
        pub parent: Option<String>,
        pub title: Option<String>,
        pub caption: Option<String>,
        pub transcript: Option<String>,
        pub tags: Vec<String>,
        pub content_hash: Option<String>,
        pub model: Option<String>,
        pub seq: u64,
        pub points: Vec<(String, u64)>,
    }

    pub fn encode_item(r: &ItemRecord) -> Vec<u8> {
        let mut out = vec![ITEM_FORMAT];
        out.extend(
            bincode::serde::encode_to_vec(r, bincode::config::standard()).expect("encodable"),
        );
        out
    }

    pub fn decode_item(bytes: &[u8]) -> Result<ItemRecord, String> {
        match bytes.split_first() {
            Some((&ITEM_FORMAT, rest)) => {
                bincode::serde::decode_from_slice(rest, bincode::config::standard())
                    .map(|(r, _)| r)
                    .map_err(|e| e.to_string())
            }
            Some((f, _)) => Err(format!("format byte {f}, expected {ITEM_FORMAT}")),
            None => Err("empty record".into()),
        }
    }
}

fn upgrade(r: v1::ItemRecord) -> Result<v2::ItemRecord, String> {
    let modality = match r.modality.as_str() {
        "text" => v2::Modality::Text,
        "audio" => v2::Modality::Audio,
        "video" => v2::Modality::Video,
        "audio_video" => v2::Modality::AudioVideo,
        other => return Err(format!("unknown modality `{other}`")),
    };
    let span = match (r.start_ms, r.end_ms) {
        (Some(s), Some(e)) => Some((s as f64 / 1000.0, e as f64 / 1000.0)),
        _ => None,
    };
    let tags = r
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    Ok(v2::ItemRecord {
        id: r.id,
        modality,
        source: r.source,
        span,
        parent: r.parent,
        title: r.title,
        caption: r.caption,
        transcript: r.transcript,
        tags,
        content_hash: r.content_hash,
        model: r.model,
        seq: r.seq,
        points: r.points,
    })
}

/// Rewrites every item record, and stamps schema 2, in one atomic synced batch.
pub(crate) fn apply(db: &DB) -> Result<(), MigrationError> {
    let items = layout::cf(db, layout::CF_ITEMS);
    let mut batch = WriteBatch::default();
    for entry in db.iterator_cf(items, rocksdb::IteratorMode::Start) {
        let (key, value) = entry?;
        let decode_err = |message: String| MigrationError::Decode {
            step: 2,
            key: String::from_utf8_lossy(&key).into_owned(),
            message,
        };
        let old = v1::decode_item(&value).map_err(decode_err)?;
        let new = upgrade(old).map_err(decode_err)?;
        batch.put_cf(items, &key, v2::encode_item(&new));
    }
    batch.put_cf(
        layout::cf(db, layout::CF_META),
        layout::META_SCHEMA_VERSION,
        2u32.to_be_bytes(),
    );
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    db.write_opt(batch, &opts)?;
    Ok(())
}
