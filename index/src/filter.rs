//! Restrictions on which items a search may return.

use crate::item::Modality;

/// All given conditions must hold. An empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The item's modality is one of these (any if empty).
    pub modalities: Vec<Modality>,
    /// The item carries every one of these tags.
    pub tags: Vec<String>,
    /// The item's source starts with one of these prefixes (any if empty).
    pub sources: Vec<String>,
    /// The item's [start, end] overlaps this range (seconds). Items without a span never match.
    pub time_range: Option<(f64, f64)>,
}

/// What the filter reads of an item, held in memory for every live point.
#[derive(Debug)]
pub(crate) struct ItemMeta {
    pub id: String,
    pub modality: Modality,
    pub source: Option<String>,
    pub span: Option<(f64, f64)>,
    pub tags: Vec<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.modalities.is_empty()
            && self.tags.is_empty()
            && self.sources.is_empty()
            && self.time_range.is_none()
    }

    pub(crate) fn matches(&self, m: &ItemMeta) -> bool {
        if !self.modalities.is_empty() && !self.modalities.contains(&m.modality) {
            return false;
        }
        if !self.tags.iter().all(|t| m.tags.iter().any(|x| x == t)) {
            return false;
        }
        if !self.sources.is_empty() {
            let Some(src) = &m.source else { return false };
            if !self.sources.iter().any(|p| src.starts_with(p.as_str())) {
                return false;
            }
        }
        if let Some((from, to)) = self.time_range {
            let Some((start, end)) = m.span else {
                return false;
            };
            if end < from || start > to {
                return false;
            }
        }
        true
    }
}
