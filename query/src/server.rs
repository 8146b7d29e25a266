//! The serving process: the Wave service with grpc.health.v1 and server reflection (v1 and
//! v1alpha), optional TLS, Prometheus `/metrics` on its own HTTP listener, graceful shutdown,
//! the request-size limit and one log event per call.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::client_deadline::ClientDeadlineLayer;
use crate::error::QueryError;
use crate::grpc_api::GrpcApi;
use crate::message_limit::MessageLimitLayer;
use crate::rpc_log::RpcLogLayer;
use crate::searcher::Searcher;
use crate::service::ServiceLimits;

/// PEM files of the server's certificate chain and private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub tls: Option<TlsFiles>,
    /// Largest gRPC message, either way; a larger request gets RESOURCE_EXHAUSTED.
    pub max_message_bytes: usize,
    pub limits: ServiceLimits,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            max_message_bytes: 64 << 20,
            limits: ServiceLimits::default(),
        }
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, QueryError> {
    std::fs::read(path).map_err(|source| QueryError::Io {
        context: format!("reading {}", path.display()),
        source,
    })
}

/// Serves until `shutdown` resolves, then stops accepting, reports NOT_SERVING, and waits for
/// requests in progress to finish.
pub async fn serve(
    searcher: Arc<Searcher>,
    grpc: TcpListener,
    metrics_listener: Option<TcpListener>,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueryError> {
    let api = GrpcApi::new(
        searcher.clone(),
        opts.max_message_bytes,
        opts.limits.clone(),
    )
    .await?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let metrics_task = metrics_listener.map(|listener| {
        let app = api.metrics_router();
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        })
    });

    let mut builder = Server::builder();
    if let Some(tls) = &opts.tls {
        let identity = Identity::from_pem(read(&tls.cert)?, read(&tls.key)?);
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(identity))
            .map_err(|e| QueryError::FailedPrecondition(format!("TLS configuration: {e}")))?;
    }
    // Outermost the log, so it also sees calls refused by the size limit.
    let mut builder = builder
        .layer(RpcLogLayer)
        .layer(ClientDeadlineLayer)
        .layer(MessageLimitLayer::new(opts.max_message_bytes));
    let routes = api.routes();
    let grpc_stop = {
        let stop = stopped(stop_rx.clone());
        async move {
            stop.await;
            tracing::info!("shutting down: refusing new requests, finishing those in progress");
            api.set_not_serving().await;
        }
    };
    builder
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            // Without TCP_NODELAY small responses wait for delayed ACKs (~40 ms a request).
            TcpIncoming::from(grpc).with_nodelay(Some(true)),
            grpc_stop,
        )
        .await
        .map_err(|e| QueryError::Internal(format!("gRPC server: {e}")))?;
    if let Some(task) = metrics_task {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "metrics server"),
            Err(e) => tracing::warn!(error = %e, "metrics server task"),
        }
    }
    searcher.store().flush()?;
    tracing::info!("stopped: requests finished, store flushed");
    Ok(())
}
