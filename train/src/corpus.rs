//! The synthetic corpus as the trainer reads it: one split's `corpus.jsonl` (written by
//! `wave synth`), grouped into what each training task pairs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::content::{Content, ObjectRecord, SceneFields};
use crate::error::TrainError;

/// The fields of a `corpus.jsonl` line the trainer uses.
#[derive(Debug, Clone, Deserialize)]
pub struct CorpusRecord {
    pub id: String,
    pub modality: String,
    /// Media path, relative to the split directory.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// For hums: what the hum is ("someone hums the tender candle tune").
    #[serde(default)]
    pub caption: Option<String>,
    /// The scene this record belongs to.
    pub pair_of: String,
    /// For text: `full`, `visual` or `audio`.
    #[serde(default)]
    pub view: Option<String>,
    #[serde(default)]
    pub melody: Option<usize>,
    /// The tune's name ("tender candle").
    #[serde(default)]
    pub melody_name: Option<String>,
    /// For questions: the id of the audio-video clip asked about.
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub distractors: Option<Vec<String>>,
    /// What the scene shows and plays (on every line `wave synth` writes; see
    /// [`crate::content`]).
    #[serde(default)]
    pub objects: Option<Vec<ObjectRecord>>,
    #[serde(default)]
    pub background: Option<String>,
    #[serde(default)]
    pub ambience: Option<String>,
    #[serde(default)]
    pub speech: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub bpm: Option<f64>,
}

impl CorpusRecord {
    /// The scene's content, from an audio-video record (hum records carry the hum's own
    /// tempo, so they are not used); `None` for corpora written without these fields.
    fn content(&self) -> Option<Content> {
        if self.modality != "audio_video" {
            return None;
        }
        Some(Content::new(&SceneFields {
            objects: self.objects.as_deref()?,
            background: self.background.as_deref()?,
            ambience: self.ambience.as_deref()?,
            speech: self.speech.as_deref(),
            melody: self.melody,
            key: self.key.as_deref(),
            bpm: self.bpm,
        }))
    }
}

/// One scene: its media ids and captions.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    pub audio: Option<String>,
    pub video: Option<String>,
    pub audio_video: Option<String>,
    /// Caption of everything (seen and heard).
    pub text_full: Option<String>,
    /// Caption of what is seen.
    pub text_visual: Option<String>,
    /// Caption of what is heard.
    pub text_audio: Option<String>,
    /// Hum queries of this scene's tune.
    pub hums: Vec<Hum>,
    /// The tune the scene plays, if any.
    pub melody: Option<usize>,
    /// The tune named as its captions name it ("the tender candle tune").
    pub tune_caption: Option<String>,
    /// What its captions name, wording aside (`None` for corpora without the fields).
    pub content: Option<Content>,
}

impl Scene {
    /// Hum number `pick` of the scene's hums, counted round (`None` when it has none).
    pub fn hum(&self, pick: usize) -> Option<&Hum> {
        self.hums.get(pick % self.hums.len().max(1))
    }

    /// What a caption of `view` (`visual`, `audio` or `full`) of this scene names, wording
    /// aside; the caption itself where the corpus does not say.
    pub fn content_key(&self, view: &str) -> Option<String> {
        let caption = match view {
            "visual" => &self.text_visual,
            "audio" => &self.text_audio,
            _ => &self.text_full,
        };
        match &self.content {
            Some(c) => Some(match view {
                "visual" => c.seen.clone(),
                "audio" => c.heard.clone(),
                _ => c.full(),
            }),
            None => caption.clone(),
        }
    }
}

/// A hum query: its media id and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Hum {
    pub id: String,
    /// "someone whistles the tender candle tune" (`None` for corpora written without it).
    pub caption: Option<String>,
}

/// A question about a clip with its candidate answers (the right one first).
#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub clip: String,
    pub candidates: Vec<String>,
}

/// One split of the corpus.
#[derive(Debug, Clone)]
pub struct Split {
    pub dir: PathBuf,
    pub scenes: BTreeMap<String, Scene>,
    pub questions: Vec<Question>,
    /// Media id → path (absolute).
    pub media: BTreeMap<String, PathBuf>,
}

impl Split {
    /// Reads `dir/corpus.jsonl`.
    pub fn open(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join("corpus.jsonl");
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Io {
            path: path.clone(),
            source: e,
        })?;
        let mut split = Split {
            dir: dir.to_path_buf(),
            scenes: BTreeMap::new(),
            questions: Vec::new(),
            media: BTreeMap::new(),
        };
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: CorpusRecord = serde_json::from_str(line).map_err(|e| TrainError::Data {
                path: path.clone(),
                message: format!("line {}: {e}", n + 1),
            })?;
            split.add(r, &path)?;
        }
        if split.scenes.is_empty() {
            return Err(TrainError::Data {
                path,
                message: "no scenes (is this a split directory written by `wave synth`?)".into(),
            });
        }
        Ok(split)
    }

    fn add(&mut self, r: CorpusRecord, path: &Path) -> Result<(), TrainError> {
        let missing = |what: &str| TrainError::Data {
            path: path.to_path_buf(),
            message: format!("record {}: {} has no {what}", r.id, r.modality),
        };
        let scene = self.scenes.entry(r.pair_of.clone()).or_default();
        if r.melody.is_some() {
            scene.melody = r.melody;
        }
        if let Some(name) = &r.melody_name {
            scene.tune_caption = Some(format!("the {name} tune"));
        }
        if let Some(content) = r.content() {
            scene.content = Some(content);
        }
        match r.modality.as_str() {
            "text" => {
                let text = r.text.clone().ok_or_else(|| missing("text"))?;
                match r.view.as_deref() {
                    Some("visual") => scene.text_visual = Some(text),
                    Some("audio") => scene.text_audio = Some(text),
                    _ => scene.text_full = Some(text),
                }
            }
            "audio" | "video" | "audio_video" | "hum" => {
                let rel = r.path.as_deref().ok_or_else(|| missing("path"))?;
                self.media.insert(r.id.clone(), self.dir.join(rel));
                let id = Some(r.id.clone());
                match r.modality.as_str() {
                    "audio" => scene.audio = id,
                    "video" => scene.video = id,
                    "audio_video" => scene.audio_video = id,
                    _ => scene.hums.push(Hum {
                        id: r.id.clone(),
                        caption: r.caption.clone(),
                    }),
                }
            }
            "qa" => {
                let answer = r.answer.clone().ok_or_else(|| missing("answer"))?;
                let mut candidates = vec![answer];
                candidates.extend(r.distractors.clone().unwrap_or_default());
                self.questions.push(Question {
                    id: r.id.clone(),
                    question: r.text.clone().ok_or_else(|| missing("question text"))?,
                    clip: r.about.clone().ok_or_else(|| missing("`about` clip"))?,
                    candidates,
                });
            }
            other => {
                return Err(TrainError::Data {
                    path: path.to_path_buf(),
                    message: format!("record {}: unknown modality {other:?}", r.id),
                })
            }
        }
        Ok(())
    }

    /// Keeps the first `n` scenes (in id order) and what belongs to them.
    pub fn truncate(&mut self, n: usize) {
        let keep: BTreeMap<String, Scene> = std::mem::take(&mut self.scenes)
            .into_iter()
            .take(n)
            .collect();
        let media_ids: std::collections::BTreeSet<&String> = keep
            .values()
            .flat_map(|s| {
                [&s.audio, &s.video, &s.audio_video]
                    .into_iter()
                    .flatten()
                    .chain(s.hums.iter().map(|h| &h.id))
            })
            .collect();
        self.media.retain(|id, _| media_ids.contains(id));
        self.questions.retain(|q| media_ids.contains(&q.clip));
        self.scenes = keep;
    }

    /// Every text of the split (captions, questions, answers): the tokenizer's training text.
    pub fn texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.scenes.values() {
            out.extend(
                [&s.text_full, &s.text_visual, &s.text_audio]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        for q in &self.questions {
            out.push(q.question.clone());
            out.extend(q.candidates.iter().cloned());
        }
        out
    }
}
