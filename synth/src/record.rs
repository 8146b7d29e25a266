//! What the corpus files say about each item: `manifest.jsonl` lines (exactly the fields
//! wave-ingest's manifest reader accepts) and `corpus.jsonl` lines (everything a trainer or an
//! evaluation needs).

use serde::Serialize;

use crate::scene::{HumStyle, Split, Thing};
use crate::world::{Ambience, Background};

/// How an item is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// A caption, as inline text.
    Text,
    /// The soundtrack alone (WAV).
    Audio,
    /// The frames alone (MP4 without an audio stream).
    Video,
    /// Frames and soundtrack (MP4).
    AudioVideo,
    /// A hummed query (WAV).
    Hum,
    /// A question about a scene's audio-video clip, with its answer and distractors.
    Qa,
}

impl Modality {
    /// Tag and id-suffix word.
    pub fn word(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Audio => "audio",
            Modality::Video => "video",
            Modality::AudioVideo => "audio_video",
            Modality::Hum => "hum",
            Modality::Qa => "qa",
        }
    }
}

/// One line of `corpus.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: String,
    pub split: Split,
    pub modality: Modality,
    /// Media file, relative to the split folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Inline text (captions, questions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The scene every item of one clip shares: items with the same `pair_of` are positives of
    /// each other in every cross-modal task.
    pub pair_of: String,
    /// For text items: which caption this is (`visual`, `audio` or `full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<&'static str>,
    /// What the item shows and/or says, in words.
    pub caption: String,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub objects: Vec<Thing>,
    pub background: Background,
    pub ambience: Ambience,
    /// Words spoken in the clip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speech: Option<String>,
    /// Catalogue id of the tune (melody scenes and hums).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub melody: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub melody_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tonic_hz: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpm: Option<f64>,
    /// Held-out combinations this scene shows (empty in train).
    pub held_out: Vec<String>,
    /// Hum only: semitones from the scene's tonic, tempo ratio, and the sung notes as
    /// `[start_s, end_s, hz]` (pitch without vibrato). A hum's targets are the `audio_video`
    /// items with the same `melody`; `pair_of` is the scene it was made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transpose_semitones: Option<f64>,
    /// Hum only: how the tune is voiced (`hum`, `whistle` or `la_la`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hum_style: Option<HumStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tempo_factor: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<[f64; 3]>>,
    /// QA only: the item the question is asked about, the question kind, the answer and
    /// three distractors (`text` is the question).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distractors: Option<Vec<String>>,
}

/// One line of `manifest.jsonl`, as wave-ingest reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManifestEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    pub tags: Vec<String>,
}

impl ManifestEntry {
    /// The manifest line for a record, or `None` for records that are not searchable items
    /// (questions live only in `corpus.jsonl`).
    pub fn from_record(r: &Record) -> Option<ManifestEntry> {
        if r.modality == Modality::Qa {
            return None;
        }
        Some(ManifestEntry {
            path: r.path.clone(),
            text: r.text.clone(),
            id: r.id.clone(),
            caption: r.path.as_ref().map(|_| r.caption.clone()),
            tags: r.tags.clone(),
        })
    }
}
