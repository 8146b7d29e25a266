//! wave-query: the search service.
//!
//! * [`Searcher`]: the pipeline on a store and a model — query embedding (text, audio, video,
//!   stored item, raw vector), HNSW vector search with filters, tantivy BM25 and fusion (RRF,
//!   weighted sum, normalised), prompt-aware re-embedding of the top candidates with a cache
//!   per (item, prompt, model) and a time budget; plus Embed, Upsert, Delete, Get, Stats.
//! * [`service`]: the tonic `wave.v1.Wave` service over a [`Searcher`] with bearer-token auth,
//!   a concurrency limit with back-pressure, per-request deadlines and metrics.
//! * [`grpc_api`]: the services (Wave, health, reflection) with their layers and `/metrics`,
//!   for tonic's server or mounted in an axum app beside other routes.
//! * [`server`]: the process — gRPC with health and reflection, optional TLS, Prometheus
//!   `/metrics`, graceful shutdown; [`message_limit`] answers oversized messages with
//!   RESOURCE_EXHAUSTED, [`client_deadline`] answers a client's expired `grpc-timeout` with
//!   DEADLINE_EXCEEDED and [`rpc_log`] logs one event per call.

pub mod cache;
pub mod client_deadline;
pub mod convert;
pub mod error;
pub mod fusion;
pub mod grpc_api;
pub mod hum;
pub mod media;
pub mod message_limit;
pub mod metrics;
pub mod model;
pub mod rpc_log;
pub mod searcher;
pub mod server;
pub mod service;
pub mod upsert;

pub use error::QueryError;
pub use grpc_api::GrpcApi;
pub use model::Model;
pub use searcher::{Searcher, SearcherConfig, DEFAULT_SPACE};
pub use server::{serve, ServeOptions, TlsFiles};
pub use service::{ServiceLimits, WaveService};
pub use upsert::Upload;
pub use wave_proto::v1 as pb;
