//! Schema 1, the first one: item records with a string modality, times in milliseconds and
//! tags as one comma-separated string. Frozen here so step 2 can read it.

pub mod v1 {
    use serde::{Deserialize, Serialize};

    /// Format byte in front of every schema-1 item record.
    pub const ITEM_FORMAT: u8 = 1;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ItemRecord {
        pub id: String,
        /// "text", "audio", "video" or "audio_video".
        pub modality: String,
        pub source: Option<String>,
        pub start_ms: Option<u64>,
        pub end_ms: Option<u64>,
        pub parent: Option<String>,
        pub title: Option<String>,
        pub caption: Option<String>,
        pub transcript: Option<String>,
        /// Comma-separated.
        pub tags: String,
        pub content_hash: Option<String>,
        pub model: Option<String>,
        pub seq: u64,
        /// (vector space, point id) of each vector the item has.
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
