//! Between the store's types and the API's messages.

use wave_index::{Item, Modality};
use wave_proto::v1 as pb;

use crate::error::QueryError;

pub fn modality_to_pb(m: Modality) -> pb::Modality {
    match m {
        Modality::Text => pb::Modality::Text,
        Modality::Audio => pb::Modality::Audio,
        Modality::Video => pb::Modality::Video,
        Modality::AudioVideo => pb::Modality::AudioVideo,
    }
}

/// A modality named in a request; `None` for MODALITY_UNSPECIFIED.
pub fn modality_from_pb(value: i32, field: &str) -> Result<Option<Modality>, QueryError> {
    match pb::Modality::try_from(value) {
        Ok(pb::Modality::Unspecified) => Ok(None),
        Ok(pb::Modality::Text) => Ok(Some(Modality::Text)),
        Ok(pb::Modality::Audio) => Ok(Some(Modality::Audio)),
        Ok(pb::Modality::Video) => Ok(Some(Modality::Video)),
        Ok(pb::Modality::AudioVideo) => Ok(Some(Modality::AudioVideo)),
        Err(_) => Err(QueryError::invalid(format!(
            "{field}: unknown modality value {value}"
        ))),
    }
}

pub fn non_empty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

pub fn item_to_pb(item: &Item) -> pb::Item {
    pb::Item {
        id: item.id.clone(),
        modality: modality_to_pb(item.modality) as i32,
        source: item.source.clone().unwrap_or_default(),
        start: item.span.map(|s| s.0),
        end: item.span.map(|s| s.1),
        parent: item.parent.clone().unwrap_or_default(),
        title: item.title.clone().unwrap_or_default(),
        caption: item.caption.clone().unwrap_or_default(),
        transcript: item.transcript.clone().unwrap_or_default(),
        tags: item.tags.clone(),
        content_hash: item.content_hash.clone().unwrap_or_default(),
        model: item.model.clone().unwrap_or_default(),
    }
}

/// A [start, end] pair given as two optional fields: both or neither.
pub fn span_from_pb(
    start: Option<f64>,
    end: Option<f64>,
    what: &str,
) -> Result<Option<(f64, f64)>, QueryError> {
    match (start, end) {
        (None, None) => Ok(None),
        (Some(s), Some(e)) if s.is_finite() && e.is_finite() && 0.0 <= s && s < e => {
            Ok(Some((s, e)))
        }
        (Some(s), Some(e)) => Err(QueryError::invalid(format!(
            "{what}: span [{s}, {e}] must satisfy 0 <= start < end"
        ))),
        _ => Err(QueryError::invalid(format!(
            "{what}: give both start and end, or neither"
        ))),
    }
}
