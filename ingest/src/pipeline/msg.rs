//! What flows between the stages, and the gauge that keeps decoded media bounded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wave_engine::embedder::Input;
use wave_index::{Item, Modality};

/// Which work item a message is about, for reports.
#[derive(Debug)]
pub(crate) struct Label {
    pub key: usize,
    pub id: String,
    /// Path, or the manifest line for inline text.
    pub path: String,
}

/// Everything that will be written for one work item, sent before its clips.
pub(crate) struct FilePlan {
    pub label: Arc<Label>,
    /// The file-level record of media cut into several clips; `None` when the item is one
    /// embedding (text, or media no longer than a window), which then is the file-level record.
    pub parent: Option<Item>,
    /// One item per embedding, in clip order; their modality is set from each clip's decode.
    pub units: Vec<Item>,
    /// Clip ids of an older version of this item that the new one does not overwrite.
    pub stale: Vec<String>,
}

/// A decoded clip waiting for the embedder. Holds an [`InFlight`] slot until dropped.
pub(crate) struct ClipPayload<'g> {
    pub label: Arc<Label>,
    pub index: usize,
    pub modality: Modality,
    pub input: Input,
    /// The clip's melody vector, when it has a tune.
    pub melody: Option<Vec<f32>>,
    pub slot: InFlight<'g>,
}

pub(crate) enum Msg<'g> {
    Plan(FilePlan),
    Clip(ClipPayload<'g>),
    Vector {
        key: usize,
        index: usize,
        modality: Modality,
        vector: Vec<f32>,
        melody: Option<Vec<f32>>,
    },
    Failed {
        label: Arc<Label>,
        error: String,
    },
    Skipped {
        label: Arc<Label>,
    },
}

/// Counts decoded clips that are alive (decoded, not yet embedded) and remembers the most.
#[derive(Default)]
pub(crate) struct Gauge {
    current: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    pub fn acquire(&self) -> InFlight<'_> {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

/// One decoded clip's share of the gauge; released on drop.
pub(crate) struct InFlight<'g>(&'g Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}
