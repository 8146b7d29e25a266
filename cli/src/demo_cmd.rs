//! `wave demo`: hum-to-find-video on the embedded defaults. Generates (or reuses) a demo
//! library, ingests it, and serves the gRPC API and the web page on one port.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use wave_demo::{DemoLibrary, DemoPaths, DemoServerConfig};
use wave_engine::embedder::Embedder;
use wave_engine::DefaultBackend;
use wave_index::{Store, StoreOptions};
use wave_ingest::pipeline::{self, Failure, FileEvent, Outcome, Progress};
use wave_query::{Model, Searcher, SearcherConfig};

#[derive(Args)]
pub struct DemoArgs {
    /// Where the library, its thumbnails and the store are kept (reused by later runs).
    #[arg(long, default_value = "target/wave-demo")]
    dir: PathBuf,
    /// Scenes in the demo library: one video with a soundtrack each (at least 6).
    #[arg(long, default_value_t = wave_demo::DEFAULT_COUNT)]
    count: usize,
    /// Seed of the demo library.
    #[arg(long, default_value_t = wave_demo::DEFAULT_SEED)]
    seed: u64,
    /// Address of the web page, its HTTP API and wave's gRPC API, all on one port (gRPC calls
    /// are told apart by their content type; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// WAVE model directory. Default: `models/wave-tiny` of the wave checkout.
    #[arg(long, env = "WAVE_MODEL")]
    model: Option<PathBuf>,
    /// Videos listed per search.
    #[arg(long, default_value_t = 10)]
    top_k: u32,
}

pub fn run(args: DemoArgs) -> Result<()> {
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => crate::ingest_cmd::default_model()?,
    };
    let paths = DemoPaths::new(&args.dir, args.seed, args.count);

    let started = Instant::now();
    eprintln!(
        "demo: library {} ({} scenes, seed {})",
        paths.library.display(),
        args.count,
        args.seed
    );
    let last_reported = AtomicUsize::new(0);
    let library = DemoLibrary::prepare(&paths.library, args.seed, args.count, &|done, total| {
        // A line per tenth is enough for a minute-long step.
        let step = (total / 10).max(1);
        if done == total || done >= last_reported.load(Ordering::Relaxed) + step {
            last_reported.store(done, Ordering::Relaxed);
            eprintln!("demo: generated {done}/{total} scenes");
        }
    })
    .context("preparing the demo library")?;
    eprintln!(
        "demo: {} videos, {} sample hums ({:.1} s)",
        library.videos.len(),
        library.hums.len(),
        started.elapsed().as_secs_f64()
    );

    let store = Arc::new(
        Store::open(&paths.store, StoreOptions::default()).with_context(|| {
            format!(
                "opening the store at {} (is another `wave demo` using it?)",
                paths.store.display()
            )
        })?,
    );
    ingest(&library, &store, &model_dir)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args, library, store, paths, model_dir))
}

/// Embeds the library's videos that the store does not have yet (with this model).
fn ingest(library: &DemoLibrary, store: &Store, model_dir: &std::path::Path) -> Result<()> {
    let model_id = pipeline::model_id(model_dir)
        .with_context(|| format!("reading the model directory {}", model_dir.display()))?;
    let embedder = Embedder::<DefaultBackend>::load(model_dir, &Default::default())
        .with_context(|| format!("loading the model from {}", model_dir.display()))?;
    let progress = Lines::default();
    let report =
        wave_demo::ingest::ingest_library(library, store, &embedder, &model_id, &progress)?;
    store.flush().context("flushing the store")?;
    eprintln!(
        "demo: ingested {}, already stored {}, failed {} ({:.1} s)",
        report.ingested,
        report.skipped,
        report.failed.len(),
        report.times.wall_s
    );
    Ok(())
}

async fn serve(
    args: DemoArgs,
    library: DemoLibrary,
    store: Arc<Store>,
    paths: DemoPaths,
    model_dir: PathBuf,
) -> Result<()> {
    let model = Arc::new(
        Model::load(&model_dir)
            .with_context(|| format!("loading the model from {}", model_dir.display()))?,
    );
    let searcher = Arc::new(Searcher::new(
        store.clone(),
        Some(model.clone()),
        SearcherConfig::new(&paths.store),
    )?);
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let bound = listener.local_addr()?;
    let page = format!("{}/", wave_demo::server::local_url(bound));

    // Scripts (and the tests) read the bound address from these lines: gRPC and the page
    // share it.
    outln!("listening on {bound}");
    outln!("demo on {page}");
    eprintln!(
        "demo: open {page} (model {}); gRPC on the same port; Ctrl-C stops",
        model.name()
    );

    wave_demo::server::serve(
        listener,
        searcher,
        Arc::new(library),
        DemoServerConfig {
            top_k: args.top_k,
            ..DemoServerConfig::default()
        },
        crate::serve_cmd::shutdown_signal(),
    )
    .await
    .context("the demo server")?;
    store.flush().context("flushing the store")?;
    outln!("stopped");
    Ok(())
}

/// Ingest progress as plain lines on stderr: every tenth of the work, and every failure.
#[derive(Default)]
struct Lines {
    total: AtomicUsize,
    done: AtomicUsize,
}

impl Progress for Lines {
    fn start(&self, items: usize) {
        self.total.store(items, Ordering::Relaxed);
    }

    fn rejected(&self, failure: &Failure) {
        eprintln!("demo: failed {}", failure.error);
    }

    fn file(&self, event: &FileEvent) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.total.load(Ordering::Relaxed);
        if let Outcome::Failed(error) = &event.outcome {
            eprintln!("demo: failed {error}");
        }
        if done == total || done.is_multiple_of((total / 10).max(1)) {
            eprintln!("demo: embedded {done}/{total} videos");
        }
    }
}
