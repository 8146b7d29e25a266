//! wave's gRPC API as one set of services: `wave.v1.Wave`, grpc.health.v1 and server reflection
//! (v1 and v1alpha), with the request-size limit and one log event per call, plus the
//! Prometheus `/metrics` route. `wave serve` runs it on tonic's server; `wave demo` mounts
//! [`GrpcApi::router`] in an axum app that also serves its page, on one port.

use std::sync::Arc;

use tonic::service::Routes;
use tonic_health::server::HealthReporter;
use wave_proto::v1::wave_server::WaveServer;

use crate::client_deadline::ClientDeadlineLayer;
use crate::error::QueryError;
use crate::message_limit::MessageLimitLayer;
use crate::metrics::Metrics;
use crate::rpc_log::RpcLogLayer;
use crate::searcher::Searcher;
use crate::service::{ServiceLimits, WaveService};

/// The services of one server and the handles to report and scrape them.
pub struct GrpcApi {
    routes: Routes,
    health: HealthReporter,
    metrics: Arc<Metrics>,
    searcher: Arc<Searcher>,
    max_message_bytes: usize,
}

impl GrpcApi {
    /// The services over `searcher`, reported SERVING. `max_message_bytes` bounds one message
    /// either way.
    pub async fn new(
        searcher: Arc<Searcher>,
        max_message_bytes: usize,
        limits: ServiceLimits,
    ) -> Result<GrpcApi, QueryError> {
        let metrics = Arc::new(Metrics::default());
        let service = WaveService::new(searcher.clone(), limits, metrics.clone());
        let wave = WaveServer::new(service)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes);

        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_serving::<WaveServer<WaveService>>().await;
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(wave_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection()
            .build_v1()
            .map_err(|e| QueryError::Internal(format!("reflection: {e}")))?;
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .map_err(|e| QueryError::Internal(format!("reflection: {e}")))?;
        let routes = Routes::new(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(wave);
        Ok(GrpcApi {
            routes,
            health,
            metrics,
            searcher,
            max_message_bytes,
        })
    }

    /// The services without the layers, for tonic's server (which adds them as its layers).
    pub fn routes(&self) -> Routes {
        self.routes.clone()
    }

    /// The services behind the per-call log and the size limit, as an axum router for an app
    /// that serves other things on the same port. It answers every path: unknown gRPC methods
    /// get UNIMPLEMENTED, so mount it for gRPC requests only.
    pub fn router(&self) -> axum::Router {
        // axum's last layer is the outermost: the log also sees calls the size limit refuses.
        self.routes
            .clone()
            .prepare()
            .into_axum_router()
            .layer(MessageLimitLayer::new(self.max_message_bytes))
            .layer(ClientDeadlineLayer)
            .layer(RpcLogLayer)
    }

    /// The size limit the services were built with.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// `GET /metrics`: the Prometheus text, store gauges read at scrape time.
    pub fn metrics_router(&self) -> axum::Router {
        let (metrics, searcher) = (self.metrics.clone(), self.searcher.clone());
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let (metrics, searcher) = (metrics.clone(), searcher.clone());
                async move {
                    let body = tokio::task::spawn_blocking(move || metrics.render(&searcher))
                        .await
                        .unwrap_or_default();
                    ([("content-type", "text/plain; version=0.0.4")], body)
                }
            }),
        )
    }

    /// Tells health checkers the server is going away (every service, and the server as a
    /// whole), before it stops accepting requests.
    pub async fn set_not_serving(&self) {
        self.health
            .set_not_serving::<WaveServer<WaveService>>()
            .await;
        self.health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
    }
}
