//! `wave eval`: retrieval R@1/5/10 and MRR in every direction, hum→audio-video, and QA accuracy
//! with the question as the prompt vs the generic prompt, on one split of the corpus. The model
//! is loaded from its directory through the same path as any WAVE checkpoint.
//!
//! A gallery item counts as a hit when it is what the query describes: for a caption, every
//! clip whose caption names the same things, however worded (the synthetic world repeats
//! combinations under differently worded captions; see [`crate::content`]); for video <->
//! audio, the query's own scene; for a hum, every audio-video clip playing the same tune.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use wave_engine::embedder::{Embedder, Input};
use wave_engine::encoded::{EncodedMedia, HostMedia, VisionCut};
use wave_engine::fusion::l2_normalize;

use crate::corpus::Split;
use crate::error::TrainError;
use crate::media::{encode_all, load_input};
use crate::trainer::ComputeBackend;

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub model: PathBuf,
    /// A split directory (with `corpus.jsonl`) or a corpus root (its `test/` split is used).
    pub data: PathBuf,
    /// Evaluate only the first N scenes of the split.
    pub max_scenes: Option<usize>,
    /// List up to this many top-1 misses per direction (0: none), to see what the model confuses.
    pub misses: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetrievalMetrics {
    pub direction: String,
    pub queries: usize,
    pub gallery: usize,
    pub r1: f64,
    pub r5: f64,
    pub r10: f64,
    pub mrr: f64,
    /// The first queries (in split order) whose top-1 result was not a hit; empty unless asked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<Miss>,
}

/// A query whose first result was wrong: what was asked, what came first, and where the first
/// right answer ranked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Miss {
    pub query: String,
    pub first: String,
    pub hit_rank: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QaMetrics {
    pub questions: usize,
    pub candidates: usize,
    /// Accuracy with the question as the media prompt (WAVE's QA setting).
    pub question_prompt_accuracy: f64,
    /// Accuracy with the generic retrieval prompt.
    pub generic_prompt_accuracy: f64,
    /// Control: the question as the prompt but another clip's media (one whose answer differs).
    /// Near `question_prompt_accuracy`, the pick is decided by the texts, not by the media.
    pub other_clip_accuracy: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalReport {
    pub model: String,
    pub data: String,
    pub scenes: usize,
    pub retrieval: Vec<RetrievalMetrics>,
    pub hum: Option<RetrievalMetrics>,
    /// Hum → audio-video by melody vectors alone (`hum->AV melody`): how wave's hum search
    /// ranks with its default weight (melody 1.0), for comparison with the model's own `hum`.
    pub hum_melody: Option<RetrievalMetrics>,
    pub qa: Option<QaMetrics>,
}

/// One embedded thing of the split: what counts as a match (`key`), what a miss report calls
/// it (`label`: its caption, or its file and caption where the key is a scene or a tune).
struct Embedded {
    key: String,
    label: String,
    vector: Vec<f32>,
}

pub fn evaluate(opts: &EvalOptions) -> Result<EvalReport, TrainError> {
    let dir = if opts.data.join("corpus.jsonl").is_file() {
        opts.data.clone()
    } else {
        opts.data.join("test")
    };
    let mut split = Split::open(&dir)?;
    if let Some(n) = opts.max_scenes {
        if n == 0 {
            return Err(TrainError::Argument("max scenes must be at least 1".into()));
        }
        split.truncate(n);
    }
    let embedder = Embedder::<ComputeBackend>::load(&opts.model, &Default::default())
        .map_err(|e| TrainError::embed(format!("loading {}", opts.model.display()), e))?;
    let cache = encode_all(&embedder, &split.media, VisionCut::PatchEmbedding)?;
    // Default-prompt vectors are asked for by several directions: embed each once.
    let default_vectors = std::cell::RefCell::new(BTreeMap::<String, Vec<f32>>::new());
    let media_vec = |id: &str, prompt: Option<&str>| -> Result<Vec<f32>, TrainError> {
        if prompt.is_none() {
            if let Some(v) = default_vectors.borrow().get(id) {
                return Ok(v.clone());
            }
        }
        let v = embed_media(&embedder, &cache[id], prompt).map_err(|e| TrainError::embed(id, e))?;
        if prompt.is_none() {
            default_vectors
                .borrow_mut()
                .insert(id.to_string(), v.clone());
        }
        Ok(v)
    };
    let texts = |captions: Vec<String>| -> Result<Vec<Vec<f32>>, TrainError> {
        let inputs: Vec<Input> = captions.into_iter().map(Input::Text).collect();
        embedder
            .embed(&inputs)
            .map_err(|e| TrainError::embed("captions", e))
    };

    // Per scene: the three captions and the three media.
    let mut text_sets: BTreeMap<&str, Vec<Embedded>> = BTreeMap::new();
    let mut media_sets: BTreeMap<&str, Vec<Embedded>> = BTreeMap::new();
    for (view, pick) in [("visual", 0usize), ("audio", 1), ("full", 2)] {
        let rows: Vec<(String, String)> = split
            .scenes
            .values()
            .filter_map(|s| {
                let text = [&s.text_visual, &s.text_audio, &s.text_full][pick].clone()?;
                Some((s.content_key(view)?, text))
            })
            .collect();
        let vectors = texts(rows.iter().map(|r| r.1.clone()).collect())?;
        text_sets.insert(
            view,
            rows.into_iter()
                .zip(vectors)
                .map(|((key, text), vector)| Embedded {
                    label: text,
                    key,
                    vector,
                })
                .collect(),
        );
    }
    for (name, view, pick) in [
        ("video", "visual", 0usize),
        ("audio", "audio", 1),
        ("audio_video", "full", 2),
    ] {
        let mut set = Vec::new();
        for s in split.scenes.values() {
            let caption = [&s.text_visual, &s.text_audio, &s.text_full][pick].clone();
            if let Some(id) = [&s.video, &s.audio, &s.audio_video][pick] {
                set.push(Embedded {
                    label: labelled(id, &caption),
                    key: s.content_key(view).unwrap_or_else(|| id.clone()),
                    vector: media_vec(id, None)?,
                });
            }
        }
        media_sets.insert(name, set);
    }

    let mut retrieval = Vec::new();
    let pairs = [
        ("T->V", &text_sets["visual"], &media_sets["video"]),
        ("V->T", &media_sets["video"], &text_sets["visual"]),
        ("T->A", &text_sets["audio"], &media_sets["audio"]),
        ("A->T", &media_sets["audio"], &text_sets["audio"]),
        ("T->AV", &text_sets["full"], &media_sets["audio_video"]),
        ("AV->T", &media_sets["audio_video"], &text_sets["full"]),
    ];
    for (name, queries, gallery) in pairs {
        retrieval.push(rank_metrics(name, queries, gallery, opts.misses));
    }
    // Video ↔ audio: the same scene (keys are scene ids).
    let by_scene = |pick: usize| -> Result<Vec<Embedded>, TrainError> {
        let mut out = Vec::new();
        for (scene_id, s) in &split.scenes {
            if let (Some(v), Some(a)) = (&s.video, &s.audio) {
                let id = if pick == 0 { v } else { a };
                out.push(Embedded {
                    key: scene_id.clone(),
                    label: labelled(id, &s.text_full),
                    vector: media_vec(id, None)?,
                });
            }
        }
        Ok(out)
    };
    let (videos, audios) = (by_scene(0)?, by_scene(1)?);
    retrieval.push(rank_metrics("V->A", &videos, &audios, opts.misses));
    retrieval.push(rank_metrics("A->V", &audios, &videos, opts.misses));

    // Hum → audio-video: a hit is any clip of the same tune.
    let tune_key = |m: Option<usize>, id: &str| match m {
        Some(m) => format!("tune {m}"),
        None => format!("no tune {id}"),
    };
    let mut hums = Vec::new();
    let mut av_tunes = Vec::new();
    // Their media, in the same order, for the melody ranking below.
    let (mut hum_files, mut av_files) = (Vec::new(), Vec::new());
    for (scene_id, s) in &split.scenes {
        for h in s.hums.iter().map(|h| &h.id) {
            hum_files.push(&split.media[h]);
            let key = tune_key(s.melody, scene_id);
            hums.push(Embedded {
                label: format!("{h} ({key})"),
                key,
                vector: media_vec(h, None)?,
            });
        }
        if let Some(av) = &s.audio_video {
            av_files.push(&split.media[av]);
            let key = tune_key(s.melody, scene_id);
            av_tunes.push(Embedded {
                label: format!("{av} ({key})"),
                key,
                vector: media_vec(av, None)?,
            });
        }
    }
    let hum = (!hums.is_empty()).then(|| rank_metrics("hum->AV", &hums, &av_tunes, opts.misses));
    let hum_melody = if hums.is_empty() {
        None
    } else {
        let fps = embedder.preprocess_config().sampling.fps();
        let melodies = |items: &[Embedded], files: &[&PathBuf], query: bool| {
            items
                .iter()
                .zip(files)
                .map(|(e, path)| {
                    Ok(Embedded {
                        key: e.key.clone(),
                        label: e.label.clone(),
                        vector: melody_of(path, fps, query)?,
                    })
                })
                .collect::<Result<Vec<_>, TrainError>>()
        };
        let hum_melodies = melodies(&hums, &hum_files, true)?;
        let av_melodies = melodies(&av_tunes, &av_files, false)?;
        Some(rank_metrics(
            "hum->AV melody",
            &hum_melodies,
            &av_melodies,
            opts.misses,
        ))
    };

    let qa = if split.questions.is_empty() {
        None
    } else {
        let mut right_q = 0usize;
        let mut right_g = 0usize;
        let mut right_other = 0usize;
        let mut candidates = 0;
        let questions = &split.questions;
        for (i, q) in questions.iter().enumerate() {
            let options = texts(q.candidates.clone())?;
            candidates = candidates.max(options.len());
            let with_question = media_vec(&q.clip, Some(&q.question))?;
            let generic = media_vec(&q.clip, None)?;
            right_q += usize::from(best(&with_question, &options) == 0);
            right_g += usize::from(best(&generic, &options) == 0);
            // The next question (cyclically) about another clip with another answer.
            let other = (1..questions.len())
                .map(|k| &questions[(i + k) % questions.len()])
                .find(|o| o.clip != q.clip && o.candidates[0] != q.candidates[0]);
            if let Some(other) = other {
                let swapped = media_vec(&other.clip, Some(&q.question))?;
                right_other += usize::from(best(&swapped, &options) == 0);
            }
        }
        let n = split.questions.len() as f64;
        Some(QaMetrics {
            questions: split.questions.len(),
            candidates,
            question_prompt_accuracy: right_q as f64 / n,
            generic_prompt_accuracy: right_g as f64 / n,
            other_clip_accuracy: right_other as f64 / n,
        })
    };

    Ok(EvalReport {
        model: opts.model.display().to_string(),
        data: dir.display().to_string(),
        scenes: split.scenes.len(),
        retrieval,
        hum,
        hum_melody,
        qa,
    })
}

/// The melody vector of a media file's sound, extended by one component so a dot product ranks
/// it as wave's hum search does: a query gets 1 there, a clip 0, and a clip without a tune (no
/// melody vector) gets only a large negative value there, so it ranks below every clip with one.
fn melody_of(path: &std::path::Path, fps: f64, query: bool) -> Result<Vec<f32>, TrainError> {
    let pcm = match load_input(path, fps)? {
        Input::Audio { pcm, .. } | Input::AudioVideo { pcm, .. } => Some(pcm),
        _ => None,
    };
    let dim = wave_melody::melody_dim();
    let mut v = match pcm.map(|p| wave_melody::melody_vector(&p, wave_ingest::TARGET_RATE)) {
        Some(Ok(v)) => v,
        // A hum without a tune would be a broken corpus; for a clip it means no melody vector.
        Some(Err(e)) if query => {
            return Err(TrainError::Data {
                path: path.to_path_buf(),
                message: format!("no melody in a hum: {e}"),
            })
        }
        _ => {
            let mut none = vec![0.0; dim + 1];
            none[dim] = -1e3;
            return Ok(none);
        }
    };
    v.push(if query { 1.0 } else { 0.0 });
    Ok(v)
}

/// A media file named by its id and the caption of its scene, for miss reports: the id tells
/// apart clips whose captions read the same.
fn labelled(id: &str, caption: &Option<String>) -> String {
    match caption {
        Some(c) => format!("{id}: {c}"),
        None => id.to_string(),
    }
}

fn embed_media(
    embedder: &Embedder<ComputeBackend>,
    host: &HostMedia,
    prompt: Option<&str>,
) -> Result<Vec<f32>, wave_engine::embedder::EmbedError> {
    let encoded = EncodedMedia::<ComputeBackend>::from_host(host, &Default::default());
    let prepared = embedder.prepare_encoded(&encoded, prompt)?;
    let raw = embedder.forward_prepared(vec![prepared])?;
    let values = raw
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 embedding");
    Ok(l2_normalize(&values))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Index of the option most similar to `query` (first on ties).
fn best(query: &[f32], options: &[Vec<f32>]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, o) in options.iter().enumerate() {
        let s = dot(query, o);
        if s > best.1 {
            best = (i, s);
        }
    }
    best.0
}

/// Rank of the best-scoring hit among the gallery (1-based; ties count against the query), and
/// the first `max_misses` queries whose rank is not 1.
fn rank_metrics(
    direction: &str,
    queries: &[Embedded],
    gallery: &[Embedded],
    max_misses: usize,
) -> RetrievalMetrics {
    let mut hits = [0usize; 3];
    let mut rr = 0.0;
    let mut counted = 0usize;
    let mut misses = Vec::new();
    for q in queries {
        let scores: Vec<f32> = gallery.iter().map(|g| dot(&q.vector, &g.vector)).collect();
        let Some(best_hit) = gallery
            .iter()
            .zip(&scores)
            .filter(|(g, _)| g.key == q.key)
            .map(|(_, &s)| s)
            .reduce(f32::max)
        else {
            continue;
        };
        let above = gallery
            .iter()
            .zip(&scores)
            .filter(|(g, &s)| g.key != q.key && s >= best_hit)
            .count();
        let rank = above + 1;
        if rank > 1 && misses.len() < max_misses {
            let first = gallery
                .iter()
                .zip(&scores)
                .filter(|(g, _)| g.key != q.key)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(g, _)| g.label.clone())
                .unwrap_or_default();
            misses.push(Miss {
                query: q.label.clone(),
                first,
                hit_rank: rank,
            });
        }
        counted += 1;
        rr += 1.0 / rank as f64;
        for (i, k) in [1usize, 5, 10].iter().enumerate() {
            hits[i] += usize::from(rank <= *k);
        }
    }
    let n = counted.max(1) as f64;
    RetrievalMetrics {
        direction: direction.to_string(),
        queries: counted,
        gallery: gallery.len(),
        r1: hits[0] as f64 / n,
        r5: hits[1] as f64 / n,
        r10: hits[2] as f64 / n,
        mrr: rr / n,
        misses,
    }
}

impl EvalReport {
    /// The report as a Markdown table.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| direction | queries | gallery | R@1 | R@5 | R@10 | MRR |\n|---|---|---|---|---|---|---|\n",
        );
        let rows = || {
            self.retrieval
                .iter()
                .chain(self.hum.iter())
                .chain(self.hum_melody.iter())
        };
        for m in rows() {
            out.push_str(&format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
                m.direction, m.queries, m.gallery, m.r1, m.r5, m.r10, m.mrr
            ));
        }
        out.push_str(
            "\nHits: text <-> media, every item whose caption names the same things, however \
             worded; video <-> audio, the query's own scene; hum, every clip of the same tune.\n",
        );
        if let Some(qa) = &self.qa {
            out.push_str(&format!(
                "\nQA ({} questions, {} candidates each): question as prompt {:.3}, generic prompt {:.3}, \
                 question as prompt with another clip's media {:.3}\n",
                qa.questions,
                qa.candidates,
                qa.question_prompt_accuracy,
                qa.generic_prompt_accuracy,
                qa.other_clip_accuracy
            ));
        }
        for m in rows() {
            if m.misses.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "\n{} top-1 misses (the query, then what came first):\n",
                m.direction
            ));
            for miss in &m.misses {
                out.push_str(&format!(
                    "- {}\n  → {} (first right answer at rank {})\n",
                    miss.query, miss.first, miss.hit_rank
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, vector: [f32; 2]) -> Embedded {
        Embedded {
            key: key.to_string(),
            label: format!("{key} item"),
            vector: vector.to_vec(),
        }
    }

    #[test]
    fn a_query_whose_first_result_is_wrong_is_reported_with_what_came_first() {
        let gallery = [
            item("red ball", [1.0, 0.0]),
            item("blue ball", [0.6, 0.8]),
            item("red cube", [0.0, 1.0]),
        ];
        let queries = [
            item("red ball", [0.99, 0.14]),
            // Closer to "blue ball" than to its own "red cube": a miss, its hit second.
            item("red cube", [0.7, 0.71]),
        ];
        let m = rank_metrics("T->V", &queries, &gallery, 5);
        assert_eq!((m.r1, m.r5), (0.5, 1.0));
        assert_eq!(
            m.misses,
            vec![Miss {
                query: "red cube item".into(),
                first: "blue ball item".into(),
                hit_rank: 2,
            }]
        );
        // Not asked for: none listed, and none in the JSON.
        let quiet = rank_metrics("T->V", &queries, &gallery, 0);
        assert!(quiet.misses.is_empty());
        assert!(!serde_json::to_string(&quiet).unwrap().contains("misses"));
    }
}
