//! Search latency through the gRPC API: a real `wave_query` server on a local socket and
//! tonic clients, p50/p99 at several concurrencies.
//!
//! * Without embedding: vector queries against stores of each `--items` size.
//! * With query embedding: text queries embedded by `--model` (hybrid BM25 on, the default).
//!
//! `cargo run --release -p wave-benches --bin query-bench -- --items 10000,100000 --model DIR`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wave_index::{Item, Modality, SpaceParams, Store, StoreOptions, Write};
use wave_query::pb;
use wave_query::{Model, Searcher, SearcherConfig, ServeOptions, ServiceLimits};

#[derive(Parser, Debug)]
struct Args {
    /// Store sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    items: Vec<usize>,
    /// Vector dimension of the no-embedding stores.
    #[arg(long, default_value_t = 128)]
    dim: usize,
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// Searches per client.
    #[arg(long, default_value_t = 200)]
    per_client: usize,
    #[arg(long, default_value_t = 10)]
    top_k: u32,
    /// Model for the query-embedding run (skipped without it).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Items in the store of the query-embedding run.
    #[arg(long, default_value_t = 10_000)]
    embed_items: usize,
    /// Where the stores are built.
    #[arg(long, default_value = "target/bench-data/query")]
    data: PathBuf,
}

const WORDS: [&str; 16] = [
    "dog", "piano", "rain", "train", "guitar", "crowd", "bird", "engine", "speech", "drum",
    "ocean", "wind", "violin", "siren", "laugh", "bell",
];

fn unit(rng: &mut StdRng, dim: usize) -> Vec<f32> {
    let v: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

fn caption(rng: &mut StdRng) -> String {
    (0..6)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A store of `n` items with random unit vectors and random captions.
fn build_store(dir: &std::path::Path, n: usize, dim: usize) -> Result<Arc<Store>> {
    let _ = std::fs::remove_dir_all(dir);
    let opts = StoreOptions {
        sync_writes: false,
        ..StoreOptions::default()
    };
    let store = Store::open(dir, opts)?;
    store.create_space(wave_query::DEFAULT_SPACE, SpaceParams::new(dim))?;
    let mut rng = StdRng::seed_from_u64(n as u64);
    let t = Instant::now();
    for start in (0..n).step_by(2000) {
        let writes: Vec<Write> = (start..(start + 2000).min(n))
            .map(|i| Write {
                item: Item {
                    id: format!("item-{i:07}"),
                    modality: [Modality::Text, Modality::Audio, Modality::Video][i % 3],
                    caption: Some(caption(&mut rng)),
                    ..Item::default()
                },
                vectors: vec![(wave_query::DEFAULT_SPACE.to_string(), unit(&mut rng, dim))],
            })
            .collect();
        store.upsert(&writes)?;
    }
    store.flush()?;
    eprintln!(
        "built {n} items ({dim}-d) in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    Ok(Arc::new(store))
}

struct Figures {
    p50: f64,
    p99: f64,
    qps: f64,
}

/// Starts a server on a free port, runs `clients` × `per_client` searches, stops it.
async fn measure(
    searcher: Arc<Searcher>,
    clients: usize,
    per_client: usize,
    make: Arc<dyn Fn(&mut StdRng) -> pb::SearchRequest + Send + Sync>,
) -> Result<Figures> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let opts = ServeOptions {
        limits: ServiceLimits {
            max_concurrent: 64,
            queue_wait: Duration::from_secs(30),
            ..ServiceLimits::default()
        },
        ..ServeOptions::default()
    };
    let server = tokio::spawn(wave_query::serve(searcher, listener, None, opts, async {
        let _ = stop_rx.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    // Warm-up.
    let mut client = pb::wave_client::WaveClient::new(channel.clone());
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20 {
        client.search(make(&mut rng)).await?;
    }
    let t = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mut client = pb::wave_client::WaveClient::new(channel.clone());
            let make = make.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(1000 + c as u64);
                let mut lat = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let req = make(&mut rng);
                    let t = Instant::now();
                    client.search(req).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
                Ok::<_, tonic::Status>(lat)
            })
        })
        .collect();
    let mut all = vec![];
    for task in tasks {
        all.extend(task.await??);
    }
    let wall = t.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    server.await??;
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Ok(Figures {
        p50: pct(0.50),
        p99: pct(0.99),
        qps: all.len() as f64 / wall,
    })
}

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!("| search | items | concurrency | p50 (ms) | p99 (ms) | searches/s |");
    println!("|---|---|---|---|---|---|");
    for &n in &args.items {
        let dir = args.data.join(format!("vec-{n}-{}", args.dim));
        let store = build_store(&dir, n, args.dim)?;
        let searcher = Arc::new(Searcher::new(store, None, SearcherConfig::new(&dir))?);
        let (dim, top_k) = (args.dim, args.top_k);
        let make: Arc<dyn Fn(&mut StdRng) -> pb::SearchRequest + Send + Sync> =
            Arc::new(move |rng| pb::SearchRequest {
                query: Some(pb::Query {
                    input: Some(pb::query::Input::Vector(pb::Vector {
                        values: unit(rng, dim),
                    })),
                    prompt: String::new(),
                }),
                top_k,
                ..Default::default()
            });
        for &c in &args.concurrency {
            let f = rt.block_on(measure(searcher.clone(), c, args.per_client, make.clone()))?;
            println!(
                "| vector ({}-d), no embedding | {n} | {c} | {:.2} | {:.2} | {:.0} |",
                args.dim, f.p50, f.p99, f.qps
            );
        }
    }
    if let Some(model_dir) = &args.model {
        let model = Arc::new(
            Model::load(model_dir).with_context(|| format!("loading {}", model_dir.display()))?,
        );
        let n = args.embed_items;
        let dir = args.data.join(format!("text-{n}-{}", model.dim()));
        let store = build_store(&dir, n, model.dim())?;
        let name = model.name().to_string();
        let searcher = Arc::new(Searcher::new(
            store,
            Some(model),
            SearcherConfig::new(&dir),
        )?);
        let top_k = args.top_k;
        let make: Arc<dyn Fn(&mut StdRng) -> pb::SearchRequest + Send + Sync> =
            Arc::new(move |rng| pb::SearchRequest {
                query: Some(pb::Query {
                    input: Some(pb::query::Input::Text(caption(rng))),
                    prompt: String::new(),
                }),
                top_k,
                ..Default::default()
            });
        for &c in &args.concurrency {
            let f = rt.block_on(measure(searcher.clone(), c, args.per_client, make.clone()))?;
            println!(
                "| text, embedded by {name} + BM25 (RRF) | {n} | {c} | {:.2} | {:.2} | {:.0} |",
                f.p50, f.p99, f.qps
            );
        }
    }
    Ok(())
}
