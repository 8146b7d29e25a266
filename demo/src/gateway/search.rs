//! `POST /api/search`: a recording in, ranked library videos out.
//!
//! The body is the recording as the browser has it (MediaRecorder's webm/opus, or an uploaded
//! file). It is decoded and checked here (silence, length), sent to the engine as a 16 kHz WAV
//! over gRPC — as a hum search (by tune and by sound) or a plain sound search — and the
//! results come back with their per-stage scores and the URLs to show and play them.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use wave_proto::v1 as pb;

use super::api_error::ApiError;
use super::AppState;
use crate::recording::Recording;

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// `hum` (default): by tune and sound; `sound`: by sound alone.
    mode: Option<String>,
    /// MIME type or file extension of the body.
    format: Option<String>,
    /// What to call the recording in messages (an uploaded file's name).
    name: Option<String>,
    top_k: Option<u32>,
}

/// How the query is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Hum,
    Sound,
}

#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    mode: Mode,
    query: QueryInfo,
    timings_ms: Timings,
    results: Vec<Hit>,
}

#[derive(Debug, Serialize)]
struct QueryInfo {
    name: String,
    duration_s: f64,
    level_dbfs: f32,
}

#[derive(Debug, Serialize)]
struct Timings {
    decode: f64,
    embed: f64,
    search: f64,
    total: f64,
}

#[derive(Debug, Serialize)]
struct Hit {
    rank: usize,
    id: String,
    title: String,
    caption: String,
    score: f32,
    /// Where the match is in the video, seconds.
    start: f64,
    end: Option<f64>,
    /// Plays from the matched moment (`#t=start`); absent for items outside the library.
    video_url: Option<String>,
    thumb_url: Option<String>,
    stages: Stages,
}

/// Per-stage scores and ranks (absent: the stage did not list the item).
#[derive(Debug, Default, Serialize)]
struct Stages {
    vector: Option<f32>,
    vector_rank: Option<u32>,
    melody: Option<f32>,
    melody_rank: Option<u32>,
    bm25: Option<f32>,
    bm25_rank: Option<u32>,
    fused: f32,
    fused_rank: u32,
    rerank: Option<f32>,
    rerank_rank: Option<u32>,
}

pub async fn search(
    State(state): State<Arc<AppState>>,
    Query(params): Query<SearchParams>,
    body: Bytes,
) -> Result<Json<SearchAnswer>, ApiError> {
    let started = Instant::now();
    let mode = match params.mode.as_deref().unwrap_or("hum") {
        "hum" => Mode::Hum,
        "sound" => Mode::Sound,
        other => {
            return Err(ApiError::bad_request(format!(
                "mode {other:?}: use `hum` or `sound`"
            )))
        }
    };
    let top_k = params.top_k.unwrap_or(state.cfg.top_k).clamp(1, 100);
    let name = upload_name(params.name.as_deref());
    let format = params.format.unwrap_or_default();

    let recording = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || Recording::decode(&body, &format, &name))
            .await
            .map_err(|e| ApiError::internal(format!("decoding task: {e}")))??
    };
    let decode_ms = ms(started);

    let request = pb::SearchRequest {
        query: Some(pb::Query {
            input: Some(pb::query::Input::Audio(pb::Media {
                data: recording.to_wav(),
                format: "wav".into(),
            })),
            prompt: String::new(),
        }),
        modalities: vec![pb::Modality::AudioVideo as i32],
        top_k,
        hum: (mode == Mode::Hum).then_some(pb::HumSettings {
            enable: true,
            melody_weight: None,
        }),
        ..Default::default()
    };
    let response = state
        .client()
        .search(request)
        .await
        .map_err(|s| ApiError::from_status(&s, &state.cfg.grpc_url))?
        .into_inner();

    let results = response
        .results
        .into_iter()
        .enumerate()
        .map(|(i, r)| hit(&state, i + 1, r))
        .collect();
    Ok(Json(SearchAnswer {
        mode,
        query: QueryInfo {
            name,
            duration_s: recording.duration_s,
            level_dbfs: recording.peak_level_dbfs,
        },
        timings_ms: Timings {
            decode: decode_ms,
            embed: response.embed_ms,
            search: response.search_ms,
            total: ms(started),
        },
        results,
    }))
}

fn hit(state: &AppState, rank: usize, r: pb::SearchResult) -> Hit {
    let s = r.stages.unwrap_or_default();
    let start = r.start.unwrap_or(0.0).max(0.0);
    let video = state.library.video(&r.id);
    let in_library = video.is_some();
    let (title, caption) = match video {
        // The library's wording, when the store has none.
        Some(v) if r.title.is_empty() => (v.title.clone(), v.caption.clone()),
        _ => (r.title, r.caption),
    };
    Hit {
        rank,
        video_url: in_library.then(|| format!("/api/videos/{}#t={start:.2}", r.id)),
        thumb_url: in_library.then(|| format!("/api/thumbs/{}", r.id)),
        id: r.id,
        title,
        caption,
        score: r.score,
        start,
        end: r.end,
        stages: Stages {
            vector: s.vector_score,
            vector_rank: s.vector_rank,
            melody: s.melody_score,
            melody_rank: s.melody_rank,
            bm25: s.bm25_score,
            bm25_rank: s.bm25_rank,
            fused: s.fused_score,
            fused_rank: s.fused_rank,
            rerank: s.rerank_score,
            rerank_rank: s.rerank_rank,
        },
    }
}

/// A short, printable name for the recording in messages.
fn upload_name(given: Option<&str>) -> String {
    let cleaned: String = given
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "the recording".to_string()
    } else {
        cleaned.to_string()
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
