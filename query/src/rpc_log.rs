//! One log event per RPC, for every service on the server (Wave, health, reflection), including
//! requests refused before a handler runs (oversized messages, unknown methods): method, gRPC
//! status code, duration in ms and the peer address.
//!
//! The status of a gRPC call is in the response trailers (or, for a call that fails at once, in
//! the response headers), so the event is written when the response body is finished or dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};

/// Logs every call that passes through it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcLogLayer;

impl<S> tower_layer::Layer<S> for RpcLogLayer {
    type Service = RpcLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcLog { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RpcLog<S> {
    inner: S,
}

/// What is known of one call; logged once, when dropped.
struct CallRecord {
    method: String,
    peer: String,
    start: Instant,
    /// `None` until the status arrives; a call dropped without one was cancelled.
    status: Option<Status>,
}

impl CallRecord {
    fn note_status(&mut self, headers: &http::HeaderMap) {
        if self.status.is_some() {
            return;
        }
        // Only the code and the message: tonic's parser would panic on malformed details.
        let mut status_headers = http::HeaderMap::new();
        for name in ["grpc-status", "grpc-message"] {
            if let Some(value) = headers.get(name) {
                status_headers.insert(name, value.clone());
            }
        }
        self.status = Status::from_header_map(&status_headers);
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        // Microsecond resolution is plenty, and keeps the lines short.
        let ms = (self.start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        let (method, peer) = (self.method.as_str(), self.peer.as_str());
        let Some(status) = &self.status else {
            tracing::info!(
                method,
                code = ?Code::Cancelled,
                ms,
                peer,
                error = "the call ended before a status was sent (client cancelled or disconnected)",
                "rpc"
            );
            return;
        };
        let code = status.code();
        match code {
            Code::Ok => tracing::info!(method, code = ?code, ms, peer, "rpc"),
            // The server's own faults.
            Code::Internal | Code::Unknown | Code::DataLoss => {
                tracing::error!(method, code = ?code, ms, peer, error = status.message(), "rpc")
            }
            _ => tracing::info!(method, code = ?code, ms, peer, error = status.message(), "rpc"),
        }
    }
}

/// The client's address, over TCP or TLS (tonic's server), or from axum's connect info (the
/// API mounted in an axum app).
fn peer<B>(request: &http::Request<B>) -> String {
    let ext = request.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|tls| tls.get_ref().remote_addr())
        })
        .or_else(|| {
            ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0)
        })
        .map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for RpcLog<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<LoggedBody<ResBody>>;
    type Error = S::Error;
    type Future = RpcLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let record = CallRecord {
            method: request.uri().path().trim_start_matches('/').to_string(),
            peer: peer(&request),
            start: Instant::now(),
            status: None,
        };
        RpcLogFuture {
            inner: self.inner.call(request),
            record: Some(record),
        }
    }
}

pin_project! {
    pub struct RpcLogFuture<F> {
        #[pin]
        inner: F,
        record: Option<CallRecord>,
    }
}

impl<F, ResBody, E> Future for RpcLogFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<LoggedBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut record = this.record.take();
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(r) = &mut record {
                    // A call that fails at once answers with the status in the headers.
                    r.note_status(response.headers());
                }
                Ok(response.map(|inner| LoggedBody { inner, record }))
            }
            Err(e) => {
                if let Some(r) = &mut record {
                    r.status = Some(Status::unknown("the server failed to answer"));
                }
                Err(e)
            }
        })
    }
}

pin_project! {
    /// A response body that reads the status from the trailers and logs the call when it is
    /// dropped (finished, or abandoned by a client that went away).
    pub struct LoggedBody<B> {
        #[pin]
        inner: B,
        record: Option<CallRecord>,
    }
}

impl<B> Body for LoggedBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let (Some(Ok(frame)), Some(record)) = (&frame, this.record.as_mut()) {
            if let Some(trailers) = frame.trailers_ref() {
                record.note_status(trailers);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
