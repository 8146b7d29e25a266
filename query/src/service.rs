//! The tonic `wave.v1.Wave` service: auth, admission, deadlines and metrics around the
//! blocking [`Searcher`] calls.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status, Streaming};
use wave_proto::v1 as pb;
use wave_proto::v1::wave_server::Wave;

use crate::client_deadline::client_budget;
use crate::error::QueryError;
use crate::metrics::Metrics;
use crate::searcher::Searcher;
use crate::upsert::Upload;

/// Request limits and auth.
#[derive(Debug, Clone)]
pub struct ServiceLimits {
    /// Required bearer token; `None` accepts every caller.
    pub token: Option<String>,
    /// Requests served at once; more wait up to `queue_wait`, then get RESOURCE_EXHAUSTED.
    pub max_concurrent: usize,
    pub queue_wait: Duration,
    /// Deadline of a request that brings none (a client's shorter grpc-timeout wins).
    pub deadline: Duration,
    /// Total media bytes of one Upsert stream.
    pub max_upload_bytes: usize,
    /// Items in one Upsert stream.
    pub max_upload_items: usize,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            token: None,
            max_concurrent: 64,
            queue_wait: Duration::from_secs(2),
            deadline: Duration::from_secs(60),
            max_upload_bytes: 512 << 20,
            max_upload_items: 10_000,
        }
    }
}

#[derive(Clone)]
pub struct WaveService {
    inner: Arc<Inner>,
}

struct Inner {
    searcher: Arc<Searcher>,
    limits: ServiceLimits,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

/// Counts a request as in flight for as long as it lives.
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WaveService {
    pub fn new(searcher: Arc<Searcher>, limits: ServiceLimits, metrics: Arc<Metrics>) -> Self {
        WaveService {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
                searcher,
                limits,
                metrics,
            }),
        }
    }

    fn authorize(&self, meta: &MetadataMap) -> Result<(), QueryError> {
        let Some(token) = &self.inner.limits.token else {
            return Ok(());
        };
        let given = meta
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                QueryError::Unauthenticated(
                    "missing bearer token: send `authorization: Bearer <token>`".into(),
                )
            })?;
        if given.as_bytes().ct_eq(token.as_bytes()).into() {
            Ok(())
        } else {
            Err(QueryError::Unauthenticated("invalid bearer token".into()))
        }
    }

    /// The earlier of the server's deadline and the client's `grpc-timeout` less
    /// [`crate::client_deadline::CLIENT_DEADLINE_SLACK`].
    fn deadline(&self, meta: &MetadataMap) -> Instant {
        let server = self.inner.limits.deadline;
        let client = meta
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(client_budget);
        Instant::now() + client.map_or(server, |c| c.min(server))
    }

    /// Runs `work` on the blocking pool under the request's deadline, holding a permit.
    async fn blocking<T, F>(&self, deadline: Instant, work: F) -> Result<T, QueryError>
    where
        T: Send + 'static,
        F: FnOnce(Option<Instant>) -> Result<T, QueryError> + Send + 'static,
    {
        let permit = match self.inner.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => match tokio::time::timeout_at(
                deadline
                    .min(Instant::now() + self.inner.limits.queue_wait)
                    .into(),
                self.inner.permits.clone().acquire_owned(),
            )
            .await
            {
                Ok(Ok(p)) => p,
                _ if Instant::now() >= deadline => {
                    return Err(QueryError::DeadlineExceeded(
                        "the request's deadline passed while it waited for a free slot".into(),
                    ))
                }
                _ => {
                    self.inner.metrics.rejected.fetch_add(1, Ordering::Relaxed);
                    return Err(QueryError::ResourceExhausted(format!(
                        "server busy: {} requests in progress; retry later",
                        self.inner.limits.max_concurrent
                    )));
                }
            },
        };
        self.inner.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight(self.inner.clone());
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(Some(deadline))
        });
        match tokio::time::timeout_at(deadline.into(), job).await {
            Err(_) => Err(QueryError::DeadlineExceeded(
                "the request's deadline passed".into(),
            )),
            Ok(Err(e)) => Err(QueryError::Internal(format!("request task failed: {e}"))),
            Ok(Ok(r)) => r,
        }
    }

    /// Records the outcome of one RPC in the metrics (the log event is [`crate::rpc_log`]'s).
    async fn measured<T>(
        &self,
        rpc: &'static str,
        fut: impl std::future::Future<Output = Result<T, QueryError>>,
    ) -> Result<Response<T>, Status> {
        let start = Instant::now();
        let result = fut.await;
        let secs = start.elapsed().as_secs_f64();
        let code = result.as_ref().map_or_else(QueryError::code, |_| Code::Ok);
        self.inner.metrics.observe(rpc, code, secs);
        result.map(Response::new).map_err(Status::from)
    }

    fn searcher(&self) -> Arc<Searcher> {
        self.inner.searcher.clone()
    }
}

/// Reads an Upsert stream into items, enforcing the size limits as bytes arrive.
async fn collect_uploads(
    mut stream: Streaming<pb::UpsertRequest>,
    limits: &ServiceLimits,
) -> Result<Vec<Upload>, QueryError> {
    use pb::upsert_request::Part;
    let mut uploads: Vec<Upload> = vec![];
    let mut bytes = 0usize;
    while let Some(msg) = stream.message().await.map_err(|s| match s.code() {
        Code::InvalidArgument | Code::OutOfRange | Code::ResourceExhausted => {
            QueryError::ResourceExhausted(format!("upsert stream: {}", s.message()))
        }
        _ => QueryError::invalid(format!("upsert stream: {}", s.message())),
    })? {
        match msg.part {
            Some(Part::Item(header)) => {
                if uploads.len() == limits.max_upload_items {
                    return Err(QueryError::ResourceExhausted(format!(
                        "more than {} items in one upsert stream",
                        limits.max_upload_items
                    )));
                }
                uploads.push(Upload {
                    header,
                    data: vec![],
                });
            }
            Some(Part::Chunk(chunk)) => {
                let up = uploads.last_mut().ok_or_else(|| {
                    QueryError::invalid("upsert stream: a media chunk came before any item header")
                })?;
                bytes += chunk.len();
                if bytes > limits.max_upload_bytes {
                    return Err(QueryError::ResourceExhausted(format!(
                        "upsert stream: more than {} bytes of media",
                        limits.max_upload_bytes
                    )));
                }
                up.data.extend_from_slice(&chunk);
            }
            None => return Err(QueryError::invalid("upsert stream: an empty message")),
        }
    }
    Ok(uploads)
}

#[tonic::async_trait]
impl Wave for WaveService {
    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        self.measured("Search", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let req = request.into_inner();
            let s = self.searcher();
            self.blocking(deadline, move |d| s.search(&req, d)).await
        })
        .await
    }

    async fn embed(
        &self,
        request: Request<pb::EmbedRequest>,
    ) -> Result<Response<pb::EmbedResponse>, Status> {
        self.measured("Embed", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let req = request.into_inner();
            let s = self.searcher();
            self.blocking(deadline, move |d| s.embed(&req, d)).await
        })
        .await
    }

    async fn upsert(
        &self,
        request: Request<Streaming<pb::UpsertRequest>>,
    ) -> Result<Response<pb::UpsertResponse>, Status> {
        self.measured("Upsert", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let limits = &self.inner.limits;
            let uploads = tokio::time::timeout_at(
                deadline.into(),
                collect_uploads(request.into_inner(), limits),
            )
            .await
            .map_err(|_| {
                QueryError::DeadlineExceeded(
                    "the deadline passed while receiving the upload".into(),
                )
            })??;
            let s = self.searcher();
            self.blocking(deadline, move |d| s.upsert(uploads, d)).await
        })
        .await
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        self.measured("Delete", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let req = request.into_inner();
            let s = self.searcher();
            self.blocking(deadline, move |_| s.delete(&req)).await
        })
        .await
    }

    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        self.measured("Get", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let req = request.into_inner();
            let s = self.searcher();
            self.blocking(deadline, move |_| s.get(&req)).await
        })
        .await
    }

    async fn stats(
        &self,
        request: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        self.measured("Stats", async {
            self.authorize(request.metadata())?;
            let deadline = self.deadline(request.metadata());
            let s = self.searcher();
            let in_flight = self.inner.metrics.in_flight.load(Ordering::Relaxed).max(0) as u64;
            let mut resp = self.blocking(deadline, move |_| s.stats()).await?;
            resp.requests_in_flight = in_flight;
            Ok(resp)
        })
        .await
    }
}
