//! Hum search: find a clip by humming, whistling or singing its tune. The audio query is
//! searched twice — by its WAVE embedding in the clip space (what it sounds like) and by its
//! melody vector in the `melody` space (which tune it is, whatever the key and tempo) — and the
//! two lists are fused: every candidate of either list is scored in both spaces from its stored
//! vectors, each score is min-max normalised over the candidates, and
//! `fused = (1 - w) · wave + w · melody`. A candidate without a melody vector (silent video,
//! text, a clip without a tune) gets the lowest melody score.

use std::collections::BTreeMap;
use std::time::Instant;

use wave_engine::embedder::Input;
use wave_index::Item;
use wave_melody::MELODY_SPACE;
use wave_proto::v1 as pb;

use crate::convert::non_empty;
use crate::error::QueryError;
use crate::media::{input_from_bytes, MediaKind};
use crate::searcher::{check_deadline, dot, search_result, Searcher};

/// The melody list's weight when the request gives none: the best MRR on the synthetic
/// corpus' validation split (`hum-eval`, README "Hum search"). Measured with the golden tiny
/// model (random weights), whose WAVE ranking is near chance, so val chose melody alone;
/// re-run `hum-eval` with the trained `models/wave-tiny` and update this.
pub const DEFAULT_MELODY_WEIGHT: f32 = 1.0;

/// Each list is searched this deep at least (more when top_k is larger), so the fusion sees
/// items one list ranks low and the other high.
const MIN_FETCH: usize = 50;

/// The store's largest search `k` (wave-index's `MAX_K`).
const STORE_MAX_K: usize = 10_000;

/// One candidate of a hum search: its cosine in each space (None: no vector there).
#[derive(Debug, Clone, PartialEq)]
pub struct HumCandidate {
    pub id: String,
    pub wave: Option<f32>,
    pub melody: Option<f32>,
}

/// A fused candidate: 1-based ranks by each score, and the fused score.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedHum {
    pub id: String,
    pub wave: Option<(f32, u32)>,
    pub melody: Option<(f32, u32)>,
    pub fused: f32,
}

/// Fuses hum candidates with `melody_weight` (0..=1); sorted by fused score, ties by id.
pub fn fuse_hum(cands: &[HumCandidate], melody_weight: f32) -> Vec<FusedHum> {
    let wave_rank = ranks(cands, |c| c.wave);
    let melody_rank = ranks(cands, |c| c.melody);
    let norm = |get: fn(&HumCandidate) -> Option<f32>| {
        let scores: Vec<f32> = cands.iter().filter_map(get).collect();
        let lo = scores.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        move |c: &HumCandidate| match get(c) {
            Some(s) if hi > lo => (s - lo) / (hi - lo),
            Some(_) => 1.0,
            None => 0.0,
        }
    };
    let (nw, nm) = (norm(|c| c.wave), norm(|c| c.melody));
    let mut out: Vec<FusedHum> = cands
        .iter()
        .map(|c| FusedHum {
            id: c.id.clone(),
            wave: c.wave.zip(wave_rank.get(c.id.as_str()).copied()),
            melody: c.melody.zip(melody_rank.get(c.id.as_str()).copied()),
            fused: (1.0 - melody_weight) * nw(c) + melody_weight * nm(c),
        })
        .collect();
    out.sort_by(|a, b| b.fused.total_cmp(&a.fused).then_with(|| a.id.cmp(&b.id)));
    out
}

/// 1-based rank of each candidate by one of its scores (candidates without it are unranked).
fn ranks(cands: &[HumCandidate], get: fn(&HumCandidate) -> Option<f32>) -> BTreeMap<&str, u32> {
    let mut scored: Vec<(&str, f32)> = cands
        .iter()
        .filter_map(|c| get(c).map(|s| (c.id.as_str(), s)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    scored
        .into_iter()
        .enumerate()
        .map(|(i, (id, _))| (id, i as u32 + 1))
        .collect()
}

impl Searcher {
    /// Runs a hum search (see the module docs); `req.hum.enable` is set.
    pub(crate) fn hum_search(
        &self,
        req: &pb::SearchRequest,
        hum: &pb::HumSettings,
        deadline: Option<Instant>,
    ) -> Result<pb::SearchResponse, QueryError> {
        let top_k = self.top_k(req)?;
        let melody_weight = hum.melody_weight.unwrap_or(DEFAULT_MELODY_WEIGHT);
        if !(0.0..=1.0).contains(&melody_weight) {
            return Err(QueryError::invalid(format!(
                "hum.melody_weight = {melody_weight}: allowed 0..=1"
            )));
        }
        if self.store.space_params(MELODY_SPACE).is_none() {
            return Err(QueryError::FailedPrecondition(format!(
                "the store has no `{MELODY_SPACE}` vector space: ingest its audio with a wave \
                 that writes melody vectors"
            )));
        }
        let query = req
            .query
            .as_ref()
            .ok_or_else(|| QueryError::invalid("query is missing"))?;
        let (kind, media) = match &query.input {
            Some(pb::query::Input::Audio(m)) => (MediaKind::Audio, m),
            Some(pb::query::Input::Video(m)) => (MediaKind::Video, m),
            _ => {
                return Err(QueryError::invalid(
                    "a hum search needs query.audio (or query.video with a soundtrack)",
                ))
            }
        };
        let filter = self.filter(req)?;

        let t0 = Instant::now();
        let model = self.model()?;
        let (input, _) = input_from_bytes(
            kind,
            &media.data,
            &media.format,
            None,
            non_empty(&query.prompt),
            model.video_fps(),
        )?;
        let melody = match &input {
            Input::Audio {
                pcm, sample_rate, ..
            }
            | Input::AudioVideo {
                pcm, sample_rate, ..
            } => wave_melody::melody_vector(pcm, *sample_rate)
                .map_err(|e| QueryError::invalid(format!("hum query audio: {e}")))?,
            _ => {
                return Err(QueryError::invalid(
                    "hum query video has no soundtrack to read a tune from",
                ))
            }
        };
        let wave = model.embed_one(input)?;
        let embed_ms = t0.elapsed().as_secs_f64() * 1e3;
        check_deadline(deadline)?;

        let t1 = Instant::now();
        let space = &self.cfg.space;
        let fetch = (top_k * 4).clamp(MIN_FETCH, STORE_MAX_K);
        let ef = (req.ef > 0).then(|| (req.ef as usize).min(STORE_MAX_K));
        let wave_hits = self.store.search(space, &wave, fetch, ef, &filter)?;
        let melody_hits = self
            .store
            .search(MELODY_SPACE, &melody, fetch, ef, &filter)?;
        let mut by_id: BTreeMap<String, HumCandidate> = BTreeMap::new();
        for h in &wave_hits {
            by_id.insert(
                h.id.clone(),
                HumCandidate {
                    id: h.id.clone(),
                    wave: Some(h.score),
                    melody: None,
                },
            );
        }
        for h in &melody_hits {
            by_id
                .entry(h.id.clone())
                .or_insert_with(|| HumCandidate {
                    id: h.id.clone(),
                    wave: None,
                    melody: None,
                })
                .melody = Some(h.score);
        }
        // Score every candidate in the space whose list missed it, from its stored vector.
        for c in by_id.values_mut() {
            if c.wave.is_none() {
                c.wave = self.store.vector(space, &c.id)?.map(|v| dot(&v, &wave));
            }
            if c.melody.is_none() {
                c.melody = self
                    .store
                    .vector(MELODY_SPACE, &c.id)?
                    .map(|v| dot(&v, &melody));
            }
        }
        let cands: Vec<HumCandidate> = by_id.into_values().collect();
        let fused = fuse_hum(&cands, melody_weight);
        let search_ms = t1.elapsed().as_secs_f64() * 1e3;
        check_deadline(deadline)?;

        let mut results = Vec::with_capacity(top_k);
        for (i, f) in fused.into_iter().enumerate() {
            if results.len() == top_k {
                break;
            }
            if let Some(item) = self.store.get(&f.id)? {
                results.push(hum_result(f, i as u32 + 1, item));
            }
        }
        Ok(pb::SearchResponse {
            results,
            embed_ms,
            search_ms,
            ..Default::default()
        })
    }
}

fn hum_result(f: FusedHum, fused_rank: u32, item: Item) -> pb::SearchResult {
    let stages = pb::StageScores {
        vector_score: f.wave.map(|x| x.0),
        vector_rank: f.wave.map(|x| x.1),
        fused_score: f.fused,
        fused_rank,
        melody_score: f.melody.map(|x| x.0),
        melody_rank: f.melody.map(|x| x.1),
        ..Default::default()
    };
    search_result(f.id, f.fused, item, stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, wave: Option<f32>, melody: Option<f32>) -> HumCandidate {
        HumCandidate {
            id: id.into(),
            wave,
            melody,
        }
    }

    #[test]
    fn the_weight_moves_the_ranking_from_sound_to_tune() {
        let c = [
            cand("sounds-alike", Some(0.9), Some(0.1)),
            cand("same-tune", Some(0.5), Some(0.95)),
            cand("silent", Some(0.7), None),
        ];
        assert_eq!(fuse_hum(&c, 0.0)[0].id, "sounds-alike");
        let tune = fuse_hum(&c, 1.0);
        assert_eq!(tune[0].id, "same-tune");
        assert_eq!(tune.iter().find(|f| f.id == "silent").unwrap().melody, None);
        assert_eq!(tune[0].melody, Some((0.95, 1)));
        assert_eq!(tune[0].wave, Some((0.5, 3)));
        assert_eq!(fuse_hum(&c, 0.6)[0].id, "same-tune");
    }
}
