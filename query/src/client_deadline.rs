//! Clients' deadlines (`grpc-timeout`), answered with DEADLINE_EXCEEDED by this server.
//!
//! tonic's server starts its own timer on the `grpc-timeout` header outside every layer we
//! add, and when that timer wins it answers a generic CANCELLED ("Timeout expired"), which
//! tells a client nothing about why. So the server gives up [`CLIENT_DEADLINE_SLACK`] before
//! the client's deadline: the handlers stop their work then (see `service.rs`), and this layer
//! answers DEADLINE_EXCEEDED for a call whose handler has not answered by then, including one
//! still waiting for its request body. Its timer starts when the call arrives, right after
//! tonic's, and its future is polled before tonic looks at its own timer, so it always wins.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tonic::Status;

/// How much earlier than a client's deadline the server gives up. A `grpc-timeout` shorter
/// than this is answered at once.
pub const CLIENT_DEADLINE_SLACK: Duration = Duration::from_millis(10);

/// The time the server gives a call whose `grpc-timeout` header is `header`: the client's
/// timeout less [`CLIENT_DEADLINE_SLACK`]. `None` for a missing or malformed header.
pub fn client_budget(header: &str) -> Option<Duration> {
    parse_grpc_timeout(header).map(|t| t.saturating_sub(CLIENT_DEADLINE_SLACK))
}

/// `grpc-timeout`: up to 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    if v.len() < 2 || v.len() > 9 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Answers DEADLINE_EXCEEDED for calls still running when their client's budget runs out.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientDeadlineLayer;

impl<S> tower_layer::Layer<S> for ClientDeadlineLayer {
    type Service = ClientDeadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientDeadline { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ClientDeadline<S> {
    inner: S,
}

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for ClientDeadline<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ClientDeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let budget = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(client_budget);
        ClientDeadlineFuture {
            sleep: budget.map(tokio::time::sleep),
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    pub struct ClientDeadlineFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl<F, ResBody, E> Future for ClientDeadlineFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: Default,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let expired = || {
            Poll::Ready(Ok(Status::deadline_exceeded(format!(
                "the request's deadline passed (the client's grpc-timeout less the server's \
                 {} ms of slack)",
                CLIENT_DEADLINE_SLACK.as_millis()
            ))
            .into_http()))
        };
        // Checked by the clock first: a timer whose instant has passed may only fire at the
        // runtime's next tick, and an expired call should not start its work.
        let deadline = this.sleep.as_ref().as_pin_ref().map(|s| s.deadline());
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return expired();
        }
        if let Poll::Ready(out) = this.inner.poll(cx) {
            return Poll::Ready(out);
        }
        match this.sleep.as_pin_mut().map(|s| s.poll(cx)) {
            Some(Poll::Ready(())) => expired(),
            _ => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("m"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
    }

    #[test]
    fn the_budget_keeps_the_slack() {
        assert_eq!(client_budget("100m"), Some(Duration::from_millis(90)));
        assert_eq!(client_budget("3m"), Some(Duration::ZERO));
        assert_eq!(client_budget("bad"), None);
    }
}
