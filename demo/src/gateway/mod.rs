//! The demo's HTTP side: the web page and a small JSON gateway to wave's gRPC API.
//!
//! | route | what |
//! |---|---|
//! | `GET /` (`/app.js`, `/style.css`) | the page |
//! | `GET /api/info` | library size, the engine's model and item count (gRPC `Stats`), limits |
//! | `POST /api/search?mode=hum\|sound&format=F&name=N` | body: the recording; ranked videos |
//! | `GET /api/videos/{id}` | a library video, with byte ranges (play from `#t=start`) |
//! | `GET /api/thumbs/{id}` | its thumbnail |
//! | `GET /api/samples`, `GET /api/samples/{id}` | the corpus' hum recordings, as ready queries |
//!
//! The gateway is a gRPC client of the engine like any other: searches go through the
//! service's auth, admission control, deadlines and metrics.

mod api_error;
mod assets;
pub mod files;
mod search;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};
use wave_proto::v1 as pb;
use wave_proto::v1::wave_client::WaveClient;

pub use api_error::ApiError;

use crate::library::DemoLibrary;
use crate::recording::{MAX_RECORDING_S, MAX_UPLOAD_BYTES, MIN_RECORDING_S};

/// How the gateway reaches the engine and what it serves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The engine's gRPC endpoint, e.g. `http://127.0.0.1:50051`.
    pub grpc_url: String,
    /// Results per search.
    pub top_k: u32,
    /// Deadline of one engine call.
    pub timeout: Duration,
}

pub(crate) struct AppState {
    client: WaveClient<Channel>,
    library: Arc<DemoLibrary>,
    cfg: GatewayConfig,
}

impl AppState {
    /// A client per request: clones share one HTTP/2 connection.
    fn client(&self) -> WaveClient<Channel> {
        self.client.clone()
    }
}

/// The page and the gateway for `library`, talking to the engine at `cfg.grpc_url`. The
/// connection is made lazily, so the gateway answers (with a clear error) while the engine
/// is down and recovers when it is back. Call it inside a Tokio runtime.
pub fn router(library: Arc<DemoLibrary>, cfg: GatewayConfig) -> Result<Router, ApiError> {
    let endpoint = Endpoint::from_shared(cfg.grpc_url.clone())
        .map_err(|e| ApiError::internal(format!("engine address {}: {e}", cfg.grpc_url)))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(cfg.timeout)
        .tcp_nodelay(true);
    let client = WaveClient::new(endpoint.connect_lazy())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let state = Arc::new(AppState {
        client,
        library,
        cfg,
    });
    Ok(Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/style.css", get(assets::style))
        .route("/api/info", get(info))
        .route("/api/samples", get(samples))
        .route("/api/samples/{id}", get(sample_file))
        .route("/api/videos/{id}", get(video_file))
        .route("/api/thumbs/{id}", get(thumb_file))
        .route(
            "/api/search",
            // Twice the accepted size, so an oversized upload still gets the JSON error.
            post(search::search).layer(DefaultBodyLimit::max(2 * MAX_UPLOAD_BYTES)),
        )
        .with_state(state))
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn info(State(state): State<Arc<AppState>>) -> Result<Json<serde_json::Value>, ApiError> {
    let stats = state
        .client()
        .stats(pb::StatsRequest {})
        .await
        .map_err(|s| ApiError::from_status(&s, &state.cfg.grpc_url))?
        .into_inner();
    Ok(Json(serde_json::json!({
        "videos": state.library.videos.len(),
        "samples": state.library.hums.len(),
        "items": stats.items,
        "model": stats.model,
        "space": stats.space,
        "limits": {
            "min_seconds": MIN_RECORDING_S,
            "max_seconds": MAX_RECORDING_S,
            "max_bytes": MAX_UPLOAD_BYTES,
        },
    })))
}

async fn samples(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let list: Vec<_> = state
        .library
        .hums
        .iter()
        .map(|h| {
            serde_json::json!({
                "id": h.id,
                "caption": h.caption,
                "melody_name": h.melody_name,
                "duration_s": h.duration_s,
                "video_id": h.video_id,
                "url": format!("/api/samples/{}", h.id),
            })
        })
        .collect();
    Json(serde_json::json!({ "samples": list }))
}

async fn sample_file(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let hum = state
        .library
        .hum(&id)
        .ok_or_else(|| ApiError::not_found(format!("no sample hum `{id}`")))?;
    files::send_file(&hum.path, "audio/wav", &headers).await
}

async fn video_file(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let video = state
        .library
        .video(&id)
        .ok_or_else(|| ApiError::not_found(format!("no video `{id}` in the demo library")))?;
    files::send_file(&video.path, "video/mp4", &headers).await
}

async fn thumb_file(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Only library ids: they are plain file names, never paths.
    let video = state
        .library
        .video(&id)
        .ok_or_else(|| ApiError::not_found(format!("no video `{id}` in the demo library")))?;
    let path = state.library.thumbnail_path(&video.id);
    files::send_file(&path, "image/jpeg", &headers).await
}
