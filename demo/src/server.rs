//! `wave demo`'s one server: wave's gRPC API and the web page with its JSON gateway on one
//! listener. Requests with a gRPC content type (`application/grpc`, `application/grpc+proto`,
//! HTTP/2) go to the gRPC services with every layer `wave serve` has (size limit, per-call log,
//! metrics, health, reflection); everything else (HTTP/1.1 or HTTP/2) to the page, the gateway
//! and `GET /metrics`.
//!
//! The gateway reaches the engine as a gRPC client over this same port, so a search from the
//! page takes exactly the path of any other client's search (the listener, HTTP/2, the size
//! limit, the log line with its peer, auth, admission control, deadlines, metrics).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;
use wave_query::{GrpcApi, Searcher, ServiceLimits};

use crate::error::DemoError;
use crate::gateway::{self, GatewayConfig};
use crate::library::DemoLibrary;

/// What the server offers besides the library.
#[derive(Debug, Clone)]
pub struct DemoServerConfig {
    /// Videos listed per search.
    pub top_k: u32,
    /// Deadline of one gateway call to the engine.
    pub timeout: Duration,
    /// Largest gRPC message, either way.
    pub max_message_bytes: usize,
    pub limits: ServiceLimits,
}

impl Default for DemoServerConfig {
    fn default() -> Self {
        DemoServerConfig {
            top_k: 10,
            timeout: Duration::from_secs(60),
            max_message_bytes: 64 << 20,
            limits: ServiceLimits::default(),
        }
    }
}

/// Whether a request is a gRPC call (not gRPC-Web, which this server does not translate).
pub fn is_grpc(request: &Request) -> bool {
    request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct == "application/grpc"
                || ct.starts_with("application/grpc+")
                || ct.starts_with("application/grpc;")
        })
}

/// Sends gRPC calls to one router and everything else to the other.
#[derive(Clone)]
struct ByContentType {
    grpc: Router,
    web: Router,
}

impl tower_service::Service<Request> for ByContentType {
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if is_grpc(&request) {
            self.grpc.call(request)
        } else {
            self.web.call(request)
        }
    }
}

/// The address a client on this machine dials to reach `bound` (a wildcard bind is reached on
/// loopback).
pub fn local_url(bound: SocketAddr) -> String {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

/// Serves the gRPC API over `searcher` and the page for `library` on `listener` until
/// `shutdown` resolves; then health reports NOT_SERVING, the listener closes and requests in
/// progress finish. Returns after the last connection is closed.
pub async fn serve(
    listener: TcpListener,
    searcher: Arc<Searcher>,
    library: Arc<DemoLibrary>,
    cfg: DemoServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DemoError> {
    let bound = listener
        .local_addr()
        .map_err(|e| DemoError::Serve(format!("the listener's address: {e}")))?;
    let api = GrpcApi::new(searcher, cfg.max_message_bytes, cfg.limits)
        .await
        .map_err(|e| DemoError::Serve(format!("building the gRPC API: {e}")))?;
    let grpc_url = local_url(bound);
    let page = gateway::router(
        library,
        GatewayConfig {
            grpc_url: grpc_url.clone(),
            top_k: cfg.top_k,
            timeout: cfg.timeout,
        },
    )
    .map_err(|e| DemoError::Serve(format!("the gateway to {grpc_url}: {}", e.message)))?;
    let app = Router::new().fallback_service(ByContentType {
        grpc: api.router(),
        web: page.merge(api.metrics_router()),
    });

    let stop = async move {
        shutdown.await;
        tracing::info!("shutting down: refusing new requests, finishing those in progress");
        api.set_not_serving().await;
    };
    // Without TCP_NODELAY small gRPC answers wait for delayed ACKs (~40 ms a request).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
    .map_err(|e| DemoError::Serve(format!("serving on {bound}: {e}")))
}
