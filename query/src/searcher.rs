//! The query pipeline, independent of the transport: embed the query, vector search, BM25,
//! fusion, prompt-aware re-embedding, results. Blocking; the service runs it off the async
//! threads, the CLI calls it directly on a local store.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wave_engine::embedder::Input;
use wave_index::{Filter, Item, SpaceParams, Store};
use wave_proto::v1 as pb;

use crate::cache::{ReembedCache, ReembedKey};
use crate::convert::{item_to_pb, modality_from_pb, modality_to_pb, non_empty};
use crate::error::QueryError;
use crate::fusion::{self, Candidate, Fusion};
use crate::media::{input_from_bytes, input_from_path, MediaKind};
use crate::model::Model;

/// The store's largest search `k` (wave-index's `MAX_K`, which it does not re-export).
const STORE_MAX_K: usize = 10_000;

/// The vector space the service searches unless told otherwise.
pub const DEFAULT_SPACE: &str = "wave";

/// Tunables of the pipeline.
#[derive(Debug, Clone)]
pub struct SearcherConfig {
    /// The vector space items and queries live in.
    pub space: String,
    /// Where uploaded media is kept (content-addressed), so re-embedding can re-read it.
    pub media_dir: PathBuf,
    /// Largest accepted `top_k`.
    pub max_top_k: usize,
    /// Largest accepted re-embedding `top_n`.
    pub max_rerank: usize,
    /// Re-embedding time budget when the request gives none.
    pub rerank_budget: Duration,
    /// Re-embeddings kept in memory.
    pub cache_entries: usize,
    /// Inputs per Embed request.
    pub max_embed_inputs: usize,
}

impl SearcherConfig {
    /// Defaults for a store in `db_dir`.
    pub fn new(db_dir: &Path) -> SearcherConfig {
        SearcherConfig {
            space: DEFAULT_SPACE.to_string(),
            media_dir: db_dir.join("media"),
            max_top_k: 1000,
            max_rerank: 100,
            rerank_budget: Duration::from_secs(2),
            cache_entries: 10_000,
            max_embed_inputs: 64,
        }
    }
}

pub struct Searcher {
    pub(crate) store: Arc<Store>,
    pub(crate) model: Option<Arc<Model>>,
    pub(crate) cfg: SearcherConfig,
    pub(crate) cache: ReembedCache,
}

/// What the query resolved to before ranking.
struct ResolvedQuery {
    vector: Vec<f32>,
    text: Option<String>,
    exclude: Option<String>,
}

/// A candidate after re-embedding.
struct Ranked {
    cand: Candidate,
    fused_rank: u32,
    item: Option<Item>,
    rerank: Option<(f32, u32)>,
}

impl Searcher {
    /// Wraps a store; creates the vector space (of the model's dimension) when it is missing.
    /// Without a model, queries must be vectors or item ids and upserts must carry vectors.
    pub fn new(
        store: Arc<Store>,
        model: Option<Arc<Model>>,
        cfg: SearcherConfig,
    ) -> Result<Searcher, QueryError> {
        match (store.space_params(&cfg.space), &model) {
            (Some(p), Some(m)) if p.dim != m.dim() => {
                return Err(QueryError::FailedPrecondition(format!(
                    "vector space `{}` has dimension {}, the model `{}` embeds to {}",
                    cfg.space,
                    p.dim,
                    m.name(),
                    m.dim()
                )))
            }
            (None, Some(m)) => store.create_space(&cfg.space, SpaceParams::new(m.dim()))?,
            (None, None) => {
                return Err(QueryError::FailedPrecondition(format!(
                    "the store has no vector space `{}` and no model was given to create it",
                    cfg.space
                )))
            }
            _ => {}
        }
        Ok(Searcher {
            cache: ReembedCache::new(cfg.cache_entries),
            store,
            model,
            cfg,
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn config(&self) -> &SearcherConfig {
        &self.cfg
    }

    pub fn model_name(&self) -> &str {
        self.model.as_ref().map_or("", |m| m.name())
    }

    pub(crate) fn model(&self) -> Result<&Model, QueryError> {
        self.model.as_deref().ok_or_else(|| {
            QueryError::FailedPrecondition(
                "this needs the embedding model and the server runs without one".into(),
            )
        })
    }

    pub fn cache(&self) -> &ReembedCache {
        &self.cache
    }

    pub fn search(
        &self,
        req: &pb::SearchRequest,
        deadline: Option<Instant>,
    ) -> Result<pb::SearchResponse, QueryError> {
        if let Some(hum) = req.hum.as_ref().filter(|h| h.enable) {
            return self.hum_search(req, hum, deadline);
        }
        let top_k = self.top_k(req)?;
        let query = req
            .query
            .as_ref()
            .ok_or_else(|| QueryError::invalid("query is missing"))?;
        let prompt = non_empty(&query.prompt);
        let filter = self.filter(req)?;
        let hybrid = req.hybrid.unwrap_or_default();
        let rerank = req.rerank.unwrap_or_default();
        let rerank_n = rerank.top_n as usize;
        if rerank_n > self.cfg.max_rerank {
            return Err(QueryError::invalid(format!(
                "rerank.top_n = {rerank_n}: allowed 0..={}",
                self.cfg.max_rerank
            )));
        }
        if rerank_n > 0 && prompt.is_none() {
            return Err(QueryError::invalid(
                "rerank.top_n > 0 needs query.prompt: re-embedding applies the prompt to the candidates",
            ));
        }

        let t0 = Instant::now();
        let q = self.resolve(query, prompt.clone())?;
        let embed_ms = ms(t0);
        check_deadline(deadline)?;

        let bm25_on = match hybrid.bm25 {
            Some(true) if q.text.is_none() => {
                return Err(QueryError::invalid("hybrid.bm25 needs a text query"))
            }
            Some(on) => on,
            None => q.text.is_some(),
        };
        let (fusion, default_weight) = match pb::Fusion::try_from(hybrid.fusion) {
            Ok(pb::Fusion::Unspecified | pb::Fusion::Rrf) => {
                let k = if hybrid.rrf_k == 0 { 60 } else { hybrid.rrf_k };
                (Fusion::Rrf { k: k as f32 }, 1.0)
            }
            Ok(pb::Fusion::WeightedSum) => (Fusion::WeightedSum, 1.0),
            Ok(pb::Fusion::Normalized) => (Fusion::Normalized, 0.5),
            Err(_) => {
                return Err(QueryError::invalid(format!(
                    "hybrid.fusion: unknown value {}",
                    hybrid.fusion
                )))
            }
        };
        let weight = hybrid.bm25_weight.unwrap_or(default_weight);
        if !weight.is_finite() || weight < 0.0 {
            return Err(QueryError::invalid(format!(
                "hybrid.bm25_weight = {weight}: must be finite and >= 0"
            )));
        }

        let t1 = Instant::now();
        let want = top_k.max(rerank_n);
        // Fusion needs more than the final count from each list to find agreement.
        let fetch = if bm25_on { want * 2 } else { want } + q.exclude.is_some() as usize;
        let fetch = fetch.min(STORE_MAX_K);
        let ef = (req.ef > 0).then(|| (req.ef as usize).min(STORE_MAX_K));
        let mut vhits = self
            .store
            .search(&self.cfg.space, &q.vector, fetch, ef, &filter)?;
        if let Some(x) = &q.exclude {
            vhits.retain(|h| &h.id != x);
        }
        let candidates = match (&q.text, bm25_on) {
            (Some(text), true) => {
                let bhits = self.store.text_search(text, fetch, &filter)?;
                fusion::fuse(&vhits, &bhits, fusion, weight)
            }
            _ => fusion::single(&vhits, false),
        };
        let search_ms = ms(t1);
        check_deadline(deadline)?;

        let t2 = Instant::now();
        let mut ranked: Vec<Ranked> = candidates
            .into_iter()
            .enumerate()
            .map(|(i, cand)| Ranked {
                cand,
                fused_rank: i as u32 + 1,
                item: None,
                rerank: None,
            })
            .collect();
        let mut resp = pb::SearchResponse {
            embed_ms,
            search_ms,
            ..Default::default()
        };
        if rerank_n > 0 {
            let budget = if rerank.budget_ms > 0 {
                Duration::from_millis(rerank.budget_ms as u64)
            } else {
                self.cfg.rerank_budget
            };
            let stop = Instant::now() + budget;
            let stop = deadline.map_or(stop, |d| d.min(stop));
            let prompt = prompt.as_deref().unwrap_or_default();
            self.reembed(&q.vector, prompt, &mut ranked, rerank_n, stop, &mut resp)?;
        }
        resp.rerank_ms = ms(t2);

        for r in ranked.iter_mut().take(top_k) {
            if r.item.is_none() {
                r.item = self.store.get(&r.cand.id)?;
            }
        }
        resp.results = ranked
            .into_iter()
            .filter(|r| r.item.is_some())
            .take(top_k)
            .map(result_of)
            .collect();
        Ok(resp)
    }

    /// Re-embeds the first `n` media candidates with `prompt` and moves them, ordered by their
    /// cosine with the query, ahead of the rest (which keep their first-stage order).
    fn reembed(
        &self,
        query: &[f32],
        prompt: &str,
        ranked: &mut [Ranked],
        n: usize,
        stop: Instant,
        resp: &mut pb::SearchResponse,
    ) -> Result<(), QueryError> {
        let model = self.model()?;
        let n = n.min(ranked.len());
        for r in ranked.iter_mut().take(n) {
            let Some(item) = self.store.get(&r.cand.id)? else {
                continue;
            };
            let Some(kind) = MediaKind::of_modality(item.modality) else {
                r.item = Some(item);
                continue;
            };
            let key = ReembedKey::new(&item, prompt, model.name());
            let vector = match self.cache.get(&key) {
                Some(v) => {
                    resp.reembed_cache_hits += 1;
                    v
                }
                None if Instant::now() >= stop => {
                    resp.reembed_budget_exhausted = true;
                    r.item = Some(item);
                    continue;
                }
                None => {
                    let path = self.media_path(&item)?;
                    let (input, _) = input_from_path(
                        kind,
                        &path,
                        item.span,
                        Some(prompt.to_string()),
                        model.video_fps(),
                    )
                    .map_err(|e| {
                        QueryError::Internal(format!(
                            "re-embedding item `{}` from {}: {e}",
                            item.id,
                            path.display()
                        ))
                    })?;
                    self.cache.insert(key, model.embed_one(input)?)
                }
            };
            resp.reembedded += 1;
            r.rerank = Some((dot(query, &vector), 0));
            r.item = Some(item);
        }
        // Stable: re-embedded first by score (ties by id), the rest in fused order.
        ranked.sort_by(|a, b| match (a.rerank, b.rerank) {
            (Some((x, _)), Some((y, _))) => y.total_cmp(&x).then_with(|| a.cand.id.cmp(&b.cand.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        for (i, r) in ranked.iter_mut().enumerate() {
            if let Some((s, _)) = r.rerank {
                r.rerank = Some((s, i as u32 + 1));
            }
        }
        Ok(())
    }

    /// Where an item's media can be read: the uploaded copy if the server keeps one, else its
    /// source path.
    pub(crate) fn media_path(&self, item: &Item) -> Result<PathBuf, QueryError> {
        if let Some(hash) = item
            .content_hash
            .as_deref()
            .and_then(|h| h.strip_prefix("sha256:"))
        {
            if let Some(p) = crate::upsert::stored_blob(&self.cfg.media_dir, hash) {
                return Ok(p);
            }
        }
        match item.source.as_deref() {
            Some(src) if Path::new(src).is_file() => Ok(PathBuf::from(src)),
            Some(src) => Err(QueryError::FailedPrecondition(format!(
                "item `{}`: its media {src} is not readable on the server",
                item.id
            ))),
            None => Err(QueryError::FailedPrecondition(format!(
                "item `{}` has no source media to re-embed",
                item.id
            ))),
        }
    }

    fn resolve(
        &self,
        query: &pb::Query,
        prompt: Option<String>,
    ) -> Result<ResolvedQuery, QueryError> {
        use pb::query::Input as Q;
        let input = query.input.as_ref().ok_or_else(|| {
            QueryError::invalid("query is empty: give text, audio, video, item_id or vector")
        })?;
        let (vector, text, exclude) = match input {
            Q::Text(t) => {
                if t.trim().is_empty() {
                    return Err(QueryError::invalid("query text is empty"));
                }
                let v = self.model()?.embed_one(Input::Text(t.clone()))?;
                (v, Some(t.clone()), None)
            }
            Q::Audio(m) => (self.embed_media(MediaKind::Audio, m, prompt)?, None, None),
            Q::Video(m) => (self.embed_media(MediaKind::Video, m, prompt)?, None, None),
            Q::ItemId(id) => (self.item_vector(id)?, None, Some(id.clone())),
            Q::Vector(v) => {
                if v.values.is_empty() {
                    return Err(QueryError::invalid("query vector is empty"));
                }
                (v.values.clone(), None, None)
            }
        };
        Ok(ResolvedQuery {
            vector,
            text,
            exclude,
        })
    }

    pub(crate) fn embed_media(
        &self,
        kind: MediaKind,
        media: &pb::Media,
        prompt: Option<String>,
    ) -> Result<Vec<f32>, QueryError> {
        let model = self.model()?;
        let (input, _) = input_from_bytes(
            kind,
            &media.data,
            &media.format,
            None,
            prompt,
            model.video_fps(),
        )?;
        model.embed_one(input)
    }

    fn item_vector(&self, id: &str) -> Result<Vec<f32>, QueryError> {
        if id.is_empty() {
            return Err(QueryError::invalid("query item_id is empty"));
        }
        match self.store.vector(&self.cfg.space, id)? {
            Some(v) => Ok(v),
            None if self.store.get(id)?.is_some() => Err(QueryError::FailedPrecondition(format!(
                "item `{id}` has no vector in space `{}`",
                self.cfg.space
            ))),
            None => Err(QueryError::NotFound(format!("item `{id}` not found"))),
        }
    }

    pub(crate) fn top_k(&self, req: &pb::SearchRequest) -> Result<usize, QueryError> {
        match req.top_k as usize {
            0 => Ok(10),
            k if k > self.cfg.max_top_k => Err(QueryError::invalid(format!(
                "top_k = {k}: allowed 1..={}",
                self.cfg.max_top_k
            ))),
            k => Ok(k),
        }
    }

    pub(crate) fn filter(&self, req: &pb::SearchRequest) -> Result<Filter, QueryError> {
        let mut modalities = vec![];
        for m in &req.modalities {
            if let Some(m) = modality_from_pb(*m, "modalities")? {
                if !modalities.contains(&m) {
                    modalities.push(m);
                }
            }
        }
        let f = req.filter.clone().unwrap_or_default();
        let time_range = match f.time_range {
            None => None,
            Some(r) if r.start.is_finite() && r.end.is_finite() && r.start <= r.end => {
                Some((r.start, r.end))
            }
            Some(r) => {
                return Err(QueryError::invalid(format!(
                    "filter.time_range [{}, {}]: need finite start <= end",
                    r.start, r.end
                )))
            }
        };
        Ok(Filter {
            modalities,
            tags: f.tags,
            sources: f.sources,
            time_range,
        })
    }

    pub fn embed(
        &self,
        req: &pb::EmbedRequest,
        deadline: Option<Instant>,
    ) -> Result<pb::EmbedResponse, QueryError> {
        use pb::query::Input as Q;
        if req.inputs.is_empty() {
            return Err(QueryError::invalid("inputs is empty"));
        }
        if req.inputs.len() > self.cfg.max_embed_inputs {
            return Err(QueryError::invalid(format!(
                "{} inputs: at most {} per request",
                req.inputs.len(),
                self.cfg.max_embed_inputs
            )));
        }
        let model = self.model()?;
        let mut inputs = Vec::with_capacity(req.inputs.len());
        for (i, q) in req.inputs.iter().enumerate() {
            let prompt = non_empty(&q.prompt);
            let input = match &q.input {
                Some(Q::Text(t)) if !t.trim().is_empty() => Input::Text(t.clone()),
                Some(Q::Text(_)) => {
                    return Err(QueryError::invalid(format!("inputs[{i}]: empty text")))
                }
                Some(Q::Audio(m)) => {
                    input_from_bytes(
                        MediaKind::Audio,
                        &m.data,
                        &m.format,
                        None,
                        prompt,
                        model.video_fps(),
                    )?
                    .0
                }
                Some(Q::Video(m)) => {
                    input_from_bytes(
                        MediaKind::Video,
                        &m.data,
                        &m.format,
                        None,
                        prompt,
                        model.video_fps(),
                    )?
                    .0
                }
                Some(Q::ItemId(_) | Q::Vector(_)) | None => {
                    return Err(QueryError::invalid(format!(
                        "inputs[{i}]: give text, audio or video to embed"
                    )))
                }
            };
            inputs.push(input);
            check_deadline(deadline)?;
        }
        let vectors = model.embed(&inputs)?;
        Ok(pb::EmbedResponse {
            vectors: vectors
                .into_iter()
                .map(|values| pb::Vector { values })
                .collect(),
            dim: model.dim() as u32,
            model: model.name().to_string(),
        })
    }

    pub fn get(&self, req: &pb::GetRequest) -> Result<pb::GetResponse, QueryError> {
        if req.id.is_empty() {
            return Err(QueryError::invalid("id is empty"));
        }
        let item = self
            .store
            .get(&req.id)?
            .ok_or_else(|| QueryError::NotFound(format!("item `{}` not found", req.id)))?;
        let vector = if req.with_vector {
            self.store
                .vector(&self.cfg.space, &req.id)?
                .map(|values| pb::Vector { values })
        } else {
            None
        };
        Ok(pb::GetResponse {
            item: Some(item_to_pb(&item)),
            vector,
        })
    }

    pub fn delete(&self, req: &pb::DeleteRequest) -> Result<pb::DeleteResponse, QueryError> {
        if req.ids.is_empty() {
            return Err(QueryError::invalid("ids is empty"));
        }
        let ids: Vec<&str> = req.ids.iter().map(String::as_str).collect();
        let deleted = self.store.delete(&ids)?;
        Ok(pb::DeleteResponse {
            deleted: deleted as u32,
            not_found: (ids.len() - deleted.min(ids.len())) as u32,
        })
    }

    pub fn stats(&self) -> Result<pb::StatsResponse, QueryError> {
        let s = self.store.stats()?;
        let space = s.spaces.iter().find(|x| x.name == self.cfg.space);
        Ok(pb::StatsResponse {
            items: s.items as u64,
            seq: s.seq,
            text_docs: s.text_docs,
            space: self.cfg.space.clone(),
            dim: space.map_or(0, |x| x.params.dim as u32),
            live_vectors: space.map_or(0, |x| x.live as u64),
            tombstones: space.map_or(0, |x| x.tombstones as u64),
            model: self.model_name().to_string(),
            reembed_cache_entries: self.cache.len() as u64,
            requests_in_flight: 0,
        })
    }

    pub fn cache_counters(&self) -> (u64, u64) {
        (
            self.cache.hits.load(Ordering::Relaxed),
            self.cache.misses.load(Ordering::Relaxed),
        )
    }
}

fn result_of(r: Ranked) -> pb::SearchResult {
    let item = r.item.unwrap_or_default();
    let c = r.cand;
    let stages = pb::StageScores {
        vector_score: c.vector.map(|x| x.0),
        vector_rank: c.vector.map(|x| x.1),
        bm25_score: c.bm25.map(|x| x.0),
        bm25_rank: c.bm25.map(|x| x.1),
        fused_score: c.fused,
        fused_rank: r.fused_rank,
        rerank_score: r.rerank.map(|x| x.0),
        rerank_rank: r.rerank.map(|x| x.1),
        melody_score: None,
        melody_rank: None,
    };
    search_result(c.id, r.rerank.map_or(c.fused, |x| x.0), item, stages)
}

/// One result: the stored item's fields, its final score and the per-stage scores.
pub(crate) fn search_result(
    id: String,
    score: f32,
    item: Item,
    stages: pb::StageScores,
) -> pb::SearchResult {
    pb::SearchResult {
        id,
        score,
        modality: modality_to_pb(item.modality) as i32,
        source: item.source.unwrap_or_default(),
        start: item.span.map(|s| s.0),
        end: item.span.map(|s| s.1),
        title: item.title.unwrap_or_default(),
        caption: item.caption.unwrap_or_default(),
        transcript: item.transcript.unwrap_or_default(),
        tags: item.tags,
        stages: Some(stages),
    }
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

pub(crate) fn check_deadline(deadline: Option<Instant>) -> Result<(), QueryError> {
    match deadline {
        Some(d) if Instant::now() >= d => Err(QueryError::DeadlineExceeded(
            "the request's deadline passed".into(),
        )),
        _ => Ok(()),
    }
}
