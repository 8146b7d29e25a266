//! The per-message size limit on requests, enforced on the wire before tonic decodes anything.
//!
//! tonic refuses an oversized message with OUT_OF_RANGE; gRPC's convention (and what clients
//! retry on) is RESOURCE_EXHAUSTED. This layer reads the 5-byte gRPC frame header (compressed
//! flag, big-endian length) as request bytes arrive and fails the body with RESOURCE_EXHAUSTED
//! as soon as a header announces more than the limit, so an oversized message is never buffered.
//! tonic's own decode limit stays in place behind it.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Status;

/// Bytes of a gRPC length-prefixed message header.
const HEADER_LEN: usize = 5;

/// Wraps every request body in a [`LimitedBody`].
#[derive(Debug, Clone, Copy)]
pub struct MessageLimitLayer {
    max_message_bytes: usize,
}

impl MessageLimitLayer {
    pub fn new(max_message_bytes: usize) -> Self {
        MessageLimitLayer { max_message_bytes }
    }
}

impl<S> tower_layer::Layer<S> for MessageLimitLayer {
    type Service = MessageLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MessageLimit {
            inner,
            max_message_bytes: self.max_message_bytes,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MessageLimit<S> {
    inner: S,
    max_message_bytes: usize,
}

impl<S, B> tower_service::Service<http::Request<B>> for MessageLimit<S>
where
    S: tower_service::Service<http::Request<LimitedBody<B>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = self.max_message_bytes;
        self.inner
            .call(request.map(|body| LimitedBody::new(body, limit)))
    }
}

/// Where the parser is in the stream of length-prefixed messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// `got` bytes of the next header are in `header`.
    Header {
        header: [u8; HEADER_LEN],
        got: usize,
    },
    /// `left` bytes of the current message are still to come.
    Message { left: usize },
    /// The limit was hit; the body has ended with the error.
    Refused,
}

/// Follows message boundaries across arbitrary chunking; returns the announced length of the
/// first message over `limit`.
fn scan(framing: &mut Framing, mut data: &[u8], limit: usize) -> Option<usize> {
    while !data.is_empty() {
        match framing {
            Framing::Header { header, got } => {
                let take = (HEADER_LEN - *got).min(data.len());
                header[*got..*got + take].copy_from_slice(&data[..take]);
                *got += take;
                data = &data[take..];
                if *got == HEADER_LEN {
                    let len =
                        u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
                    if len > limit {
                        *framing = Framing::Refused;
                        return Some(len);
                    }
                    *framing = if len == 0 {
                        Framing::Header {
                            header: [0; HEADER_LEN],
                            got: 0,
                        }
                    } else {
                        Framing::Message { left: len }
                    };
                }
            }
            Framing::Message { left } => {
                let take = (*left).min(data.len());
                *left -= take;
                data = &data[take..];
                if *left == 0 {
                    *framing = Framing::Header {
                        header: [0; HEADER_LEN],
                        got: 0,
                    };
                }
            }
            Framing::Refused => return None,
        }
    }
    None
}

/// The message a client sees when it sends a message over the limit.
pub fn oversized_status(len: usize, limit: usize) -> Status {
    Status::resource_exhausted(format!(
        "request message of {len} bytes is larger than the server's limit of {limit} bytes \
         per message (max_message_bytes); send smaller messages (Upsert: smaller chunks)"
    ))
}

pin_project! {
    /// A request body that ends with RESOURCE_EXHAUSTED at the header of the first message
    /// longer than the limit, before any of that message is passed on.
    pub struct LimitedBody<B> {
        #[pin]
        inner: B,
        limit: usize,
        framing: Framing,
    }
}

impl<B> LimitedBody<B> {
    pub fn new(inner: B, limit: usize) -> Self {
        LimitedBody {
            inner,
            limit,
            framing: Framing::Header {
                header: [0; HEADER_LEN],
                got: 0,
            },
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = self.project();
        if *this.framing == Framing::Refused {
            return Poll::Ready(None);
        }
        let frame = match ready!(this.inner.poll_frame(cx)) {
            None => return Poll::Ready(None),
            Some(Err(e)) => return Poll::Ready(Some(Err(Status::from_error(e.into())))),
            Some(Ok(frame)) => frame,
        };
        if let Some(data) = frame.data_ref() {
            if let Some(len) = scan(this.framing, data, *this.limit) {
                return Poll::Ready(Some(Err(oversized_status(len, *this.limit))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.framing == Framing::Refused || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A request body delivered in the given chunks.
    struct Chunks(VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn message(len: usize) -> Vec<u8> {
        let mut m = vec![0u8];
        m.extend_from_slice(&(len as u32).to_be_bytes());
        m.extend(std::iter::repeat_n(7u8, len));
        m
    }

    /// Polls the body to its end: the bytes passed on and the error it ended with.
    fn drain(stream: &[u8], chunk: usize, limit: usize) -> (Vec<u8>, Option<Status>) {
        let chunks = stream.chunks(chunk).map(Bytes::copy_from_slice).collect();
        let mut body = std::pin::pin!(LimitedBody::new(Chunks(chunks), limit));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut passed = vec![];
        loop {
            match body.as_mut().poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(f))) => passed.extend_from_slice(&f.into_data().unwrap()),
                Poll::Ready(Some(Err(s))) => {
                    assert!(body.is_end_stream(), "the body ends after the error");
                    return (passed, Some(s));
                }
                Poll::Ready(None) => return (passed, None),
                Poll::Pending => unreachable!("the test body is always ready"),
            }
        }
    }

    #[test]
    fn messages_within_the_limit_pass_unchanged_whatever_the_chunking() {
        let stream: Vec<u8> = [message(100), message(0), message(64), message(1)].concat();
        for chunk in [1, 2, 3, 5, 7, 64, 1000] {
            let (passed, err) = drain(&stream, chunk, 100);
            assert!(err.is_none(), "chunk {chunk}: {err:?}");
            assert_eq!(passed, stream, "chunk {chunk}");
        }
    }

    #[test]
    fn an_oversized_message_is_refused_at_its_header_with_resource_exhausted() {
        let stream: Vec<u8> = [message(10), message(101), message(5)].concat();
        for chunk in [1, 2, 3, 4, 6, 15, 16, 17, 20, 1000] {
            let (passed, err) = drain(&stream, chunk, 100);
            let err = err.unwrap_or_else(|| panic!("chunk {chunk}: not refused"));
            assert_eq!(err.code(), tonic::Code::ResourceExhausted, "chunk {chunk}");
            assert!(
                err.message().contains("101 bytes") && err.message().contains("100 bytes"),
                "{}",
                err.message()
            );
            // Nothing of the oversized message's body got through: at most the first message
            // and the header bytes that arrived before the refusal.
            assert!(
                passed.len() <= 15 + 4,
                "chunk {chunk}: {} bytes",
                passed.len()
            );
        }
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_accepted() {
        let (_, err) = drain(&message(100), 9, 100);
        assert!(err.is_none());
    }
}
