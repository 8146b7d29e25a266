//! `wave serve`: the gRPC search API over a store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use wave_index::{Store, StoreOptions};
use wave_query::{Model, Searcher, SearcherConfig, ServeOptions, ServiceLimits, TlsFiles};

/// The model `serve` and `search` use when `--model` is not given.
pub const DEFAULT_MODEL_DIR: &str = "models/wave-tiny";

#[derive(Args)]
pub struct ServeArgs {
    /// The store directory (created if missing).
    #[arg(long)]
    db: PathBuf,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    /// WAVE model directory [default: models/wave-tiny].
    #[arg(long)]
    model: Option<PathBuf>,
    /// Vector space of the items.
    #[arg(long, default_value = wave_query::DEFAULT_SPACE)]
    space: String,
    /// Require `authorization: Bearer <TOKEN>` on the Wave service (health and reflection stay open).
    #[arg(long, env = "WAVE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, serves TLS only.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Largest gRPC message in bytes, either way (a larger request gets RESOURCE_EXHAUSTED).
    #[arg(long, default_value_t = 64 << 20)]
    max_message_bytes: usize,
    /// Total media bytes one Upsert stream may carry.
    #[arg(long, default_value_t = 512 << 20)]
    max_upload_bytes: usize,
    /// Deadline of requests that bring none (ms); a client's shorter deadline wins.
    #[arg(long, default_value_t = 60_000)]
    deadline_ms: u64,
    /// Requests served at once; more wait --queue-wait-ms, then get RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 64)]
    max_concurrent: usize,
    #[arg(long, default_value_t = 2_000)]
    queue_wait_ms: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long)]
    metrics_addr: Option<String>,
    /// Re-embeddings kept in memory.
    #[arg(long, default_value_t = 10_000)]
    reembed_cache: usize,
    /// Re-embedding time budget of a search that gives none (ms).
    #[arg(long, default_value_t = 2_000)]
    rerank_budget_ms: u64,
}

/// `--model`, else the default model directory if it exists.
pub fn model_dir(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir.to_path_buf()),
        None if Path::new(DEFAULT_MODEL_DIR).join("config.json").is_file() => {
            Ok(PathBuf::from(DEFAULT_MODEL_DIR))
        }
        None => bail!(
            "no model: pass --model DIR (the default {DEFAULT_MODEL_DIR} does not exist here)"
        ),
    }
}

pub fn run(args: ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> Result<()> {
    let model_dir = model_dir(args.model.as_deref())?;
    let store = Arc::new(
        Store::open(&args.db, StoreOptions::default())
            .with_context(|| format!("opening the store at {}", args.db.display()))?,
    );
    let model = Arc::new(
        Model::load(&model_dir)
            .with_context(|| format!("loading the model from {}", model_dir.display()))?,
    );
    let mut cfg = SearcherConfig::new(&args.db);
    cfg.space = args.space.clone();
    cfg.cache_entries = args.reembed_cache;
    cfg.rerank_budget = Duration::from_millis(args.rerank_budget_ms);
    let searcher = Arc::new(Searcher::new(store, Some(model.clone()), cfg)?);

    let grpc = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let metrics = match &args.metrics_addr {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("binding {a}"))?,
        ),
        None => None,
    };
    let tls = args.tls_cert.clone().zip(args.tls_key.clone());
    // Scripts (and the tests) read the bound addresses from these lines.
    outln!("listening on {}", grpc.local_addr()?);
    if let Some(m) = &metrics {
        outln!("metrics on http://{}/metrics", m.local_addr()?);
    }
    tracing::info!(
        addr = %grpc.local_addr()?,
        model = model.name(),
        dim = model.dim(),
        space = %args.space,
        auth = args.token.is_some(),
        tls = tls.is_some(),
        "serving"
    );
    let opts = ServeOptions {
        tls: tls.map(|(cert, key)| TlsFiles { cert, key }),
        max_message_bytes: args.max_message_bytes,
        limits: ServiceLimits {
            token: args.token.clone().filter(|t| !t.is_empty()),
            max_concurrent: args.max_concurrent,
            queue_wait: Duration::from_millis(args.queue_wait_ms),
            deadline: Duration::from_millis(args.deadline_ms),
            max_upload_bytes: args.max_upload_bytes,
            ..ServiceLimits::default()
        },
    };
    wave_query::serve(searcher, grpc, metrics, opts, shutdown_signal()).await?;
    outln!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
