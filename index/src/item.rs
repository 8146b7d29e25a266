//! The public shape of an item and of a write.

use serde::{Deserialize, Serialize};
use wave_migrations::v2;

pub use wave_migrations::v2::Modality;

/// One searchable thing: a text, a media file, or a clip [start, end] seconds inside one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub modality: Modality,
    /// Where the media lives (a path or URI).
    pub source: Option<String>,
    /// [start, end] seconds within `source` for clips.
    pub span: Option<(f64, f64)>,
    /// The file-level item a clip was cut from.
    pub parent: Option<String>,
    pub title: Option<String>,
    pub caption: Option<String>,
    pub transcript: Option<String>,
    pub tags: Vec<String>,
    pub content_hash: Option<String>,
    /// Id of the model that produced the item's vectors.
    pub model: Option<String>,
}

impl Item {
    pub fn has_text(&self) -> bool {
        [&self.title, &self.caption, &self.transcript]
            .iter()
            .any(|t| t.as_deref().is_some_and(|s| !s.trim().is_empty()))
    }

    pub(crate) fn from_record(r: v2::ItemRecord) -> Item {
        Self::from_record_with_points(r).0
    }

    /// The item and the (space, point id) of each of its vectors.
    pub(crate) fn from_record_with_points(r: v2::ItemRecord) -> (Item, Vec<(String, u64)>) {
        let item = Item {
            id: r.id,
            modality: r.modality,
            source: r.source,
            span: r.span,
            parent: r.parent,
            title: r.title,
            caption: r.caption,
            transcript: r.transcript,
            tags: r.tags,
            content_hash: r.content_hash,
            model: r.model,
        };
        (item, r.points)
    }

    pub(crate) fn to_record(&self, seq: u64, points: Vec<(String, u64)>) -> v2::ItemRecord {
        v2::ItemRecord {
            id: self.id.clone(),
            modality: self.modality,
            source: self.source.clone(),
            span: self.span,
            parent: self.parent.clone(),
            title: self.title.clone(),
            caption: self.caption.clone(),
            transcript: self.transcript.clone(),
            tags: self.tags.clone(),
            content_hash: self.content_hash.clone(),
            model: self.model.clone(),
            seq,
            points,
        }
    }
}

/// An item with its vectors, one per named space. Writing replaces any item with the same id.
#[derive(Debug, Clone, Default)]
pub struct Write {
    pub item: Item,
    pub vectors: Vec<(String, Vec<f32>)>,
}
