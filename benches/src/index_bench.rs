//! Vector index benchmark: wave's store (hnsw_rs in RocksDB) against hnswlib, on the same
//! vectors in the same run, at matched M / ef_construction, sweeping ef. Also BM25 latency.
//!
//! `cargo run --release -p wave-benches --bin index-bench -- --n 50000 --dim 128`
//! Each side builds in its own process so peak memory is its own.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde_json::json;
use wave_index::{Filter, Item, Modality, SpaceParams, Store, StoreOptions, Write};

#[derive(Parser, Debug, Clone)]
struct Args {
    #[arg(long, default_value_t = 50_000)]
    n: usize,
    #[arg(long, default_value_t = 128)]
    dim: usize,
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    #[arg(long, default_value_t = 16)]
    m: usize,
    #[arg(long, default_value_t = 200)]
    ef_construction: usize,
    #[arg(long, value_delimiter = ',', default_value = "16,32,64,128,256")]
    ef: Vec<usize>,
    /// Where the shared vector files go.
    #[arg(long, default_value = "target/bench-data")]
    data: PathBuf,
    /// Internal: run one side only (`wave`), reading the data files.
    #[arg(long, hide = true)]
    side: Option<String>,
    #[arg(long, default_value = "python3")]
    python: String,
}

const K: usize = 10;

fn clustered(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters = 100;
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect();
    let mut out = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = &centres[rng.gen_range(0..clusters)];
        let v: Vec<f32> = c
            .iter()
            .map(|x| x + 1.2 * rng.gen_range(-1.0f32..1.0))
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
        let _ = i;
    }
    out
}

fn write_f32(path: &Path, v: &[f32]) -> Result<()> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).with_context(|| path.display().to_string())
}

fn read_f32(path: &Path) -> Result<Vec<f32>> {
    let b = std::fs::read(path).with_context(|| path.display().to_string())?;
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn ground_truth(base: &[f32], queries: &[f32], dim: usize) -> Vec<u32> {
    queries
        .par_chunks(dim)
        .flat_map_iter(|q| {
            let mut s: Vec<(f32, u32)> = base
                .chunks(dim)
                .enumerate()
                .map(|(i, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum(), i as u32))
                .collect();
            s.select_nth_unstable_by(K, |a, b| b.0.total_cmp(&a.0));
            s.truncate(K);
            s.into_iter().map(|(_, i)| i)
        })
        .collect()
}

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn current_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn recall(found: &[Vec<u32>], gt: &[u32]) -> f64 {
    let mut hit = 0;
    for (i, f) in found.iter().enumerate() {
        let truth = &gt[i * K..(i + 1) * K];
        hit += truth.iter().filter(|t| f.contains(t)).count();
    }
    hit as f64 / (found.len() * K) as f64
}

/// For each ef: recall@K against the ground truth, queries/s on one thread and on all cores.
fn sweep_ef(
    args: &Args,
    queries: &[f32],
    gt: &[u32],
    search: impl Fn(&[f32], usize) -> Vec<u32> + Sync,
) -> Vec<serde_json::Value> {
    let nq = queries.len() / args.dim;
    let mut sweep = vec![];
    for &ef in &args.ef {
        let t = Instant::now();
        let found: Vec<Vec<u32>> = queries.chunks(args.dim).map(|q| search(q, ef)).collect();
        let qps1 = nq as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _: Vec<Vec<u32>> = queries
            .par_chunks(args.dim)
            .map(|q| search(q, ef))
            .collect();
        let qps_all = nq as f64 / t.elapsed().as_secs_f64();
        sweep.push(
            json!({"ef": ef, "recall": recall(&found, gt), "qps_1": qps1, "qps_all": qps_all}),
        );
    }
    sweep
}

/// The wave side: bulk-load into a fresh store, then sweep ef. Prints one JSON object.
fn run_wave(args: &Args) -> Result<()> {
    let dim = args.dim;
    let base = read_f32(&args.data.join("base.f32"))?;
    let queries = read_f32(&args.data.join("queries.f32"))?;
    let gt: Vec<u32> = read_f32(&args.data.join("gt.f32"))?
        .into_iter()
        .map(|x| x as u32)
        .collect();
    let rss_before = current_rss_kib();
    let dir = tempfile::tempdir()?;
    let opts = StoreOptions {
        sync_writes: false, // bulk load; the WAL is synced once at the end (flush)
        ..Default::default()
    };
    let store = Store::open(dir.path(), opts)?;
    store.create_space(
        "bench",
        SpaceParams {
            dim,
            max_connections: args.m,
            ef_construction: args.ef_construction,
        },
    )?;
    let t = Instant::now();
    for (c, chunk) in base.chunks(dim * 5000).enumerate() {
        let writes: Vec<Write> = chunk
            .chunks(dim)
            .enumerate()
            .map(|(i, v)| Write {
                item: Item {
                    id: format!("{}", c * 5000 + i),
                    modality: Modality::Audio,
                    ..Default::default()
                },
                vectors: vec![("bench".into(), v.to_vec())],
            })
            .collect();
        store.upsert(&writes)?;
    }
    store.flush()?;
    let build_s = t.elapsed().as_secs_f64();
    let peak = peak_rss_kib().saturating_sub(rss_before);
    let sweep = sweep_ef(args, &queries, &gt, |q, ef| {
        store
            .search("bench", q, K, Some(ef), &Filter::default())
            .unwrap()
            .into_iter()
            .map(|h| h.id.parse().unwrap())
            .collect()
    });
    println!(
        "{}",
        json!({"side": "wave", "build_s": build_s, "peak_rss_delta_kib": peak, "sweep": sweep})
    );
    Ok(())
}

fn bm25_latency(n_docs: usize) -> Result<(f64, f64, f64)> {
    let words: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
    let mut rng = StdRng::seed_from_u64(9);
    let dir = tempfile::tempdir()?;
    let store = Store::open(
        dir.path(),
        StoreOptions {
            sync_writes: false,
            ..Default::default()
        },
    )?;
    // Zipf-ish word choice so some terms are common and some rare, as in captions.
    let pick = |rng: &mut StdRng| {
        let r: f64 = rng.gen::<f64>();
        words[((r * r * r) * words.len() as f64) as usize].clone()
    };
    for c in 0..(n_docs / 5000).max(1) {
        let writes: Vec<Write> = (0..5000)
            .map(|i| Write {
                item: Item {
                    id: format!("d{}", c * 5000 + i),
                    caption: Some(
                        (0..12)
                            .map(|_| pick(&mut rng))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    ..Default::default()
                },
                vectors: vec![],
            })
            .collect();
        store.upsert(&writes)?;
    }
    let mut lat = vec![];
    for _ in 0..1000 {
        let q = format!("{} {}", pick(&mut rng), pick(&mut rng));
        let t = Instant::now();
        store.text_search(&q, 10, &Filter::default())?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(f64::total_cmp);
    let qps = 1000.0 / lat.iter().sum::<f64>() * 1e3;
    Ok((lat[500], lat[990], qps))
}

/// hnsw_rs alone, in memory, with the same distance and parameters as the store: separates
/// the library's cost from what the store adds (RocksDB, records, durability).
fn run_hnsw_rs(args: &Args) -> Result<()> {
    use hnsw_rs::prelude::{Distance, Hnsw};
    #[derive(Default, Clone, Copy)]
    struct UnitCosine;
    impl Distance<f32> for UnitCosine {
        fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
            (1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>()).max(0.0)
        }
    }
    let dim = args.dim;
    let base = read_f32(&args.data.join("base.f32"))?;
    let queries = read_f32(&args.data.join("queries.f32"))?;
    let gt: Vec<u32> = read_f32(&args.data.join("gt.f32"))?
        .into_iter()
        .map(|x| x as u32)
        .collect();
    let rss_before = current_rss_kib();
    let t = Instant::now();
    let n = base.len() / dim;
    let graph: Hnsw<f32, UnitCosine> = Hnsw::new(args.m, n, 16, args.ef_construction, UnitCosine);
    let rows: Vec<(&[f32], usize)> = base.chunks(dim).enumerate().map(|(i, v)| (v, i)).collect();
    graph.parallel_insert_slice(&rows);
    let build_s = t.elapsed().as_secs_f64();
    let peak = peak_rss_kib().saturating_sub(rss_before);
    let sweep = sweep_ef(args, &queries, &gt, |q, ef| {
        graph
            .search(q, K, ef)
            .into_iter()
            .map(|n| n.d_id as u32)
            .collect()
    });
    println!(
        "{}",
        json!({"side": "hnsw_rs", "build_s": build_s, "peak_rss_delta_kib": peak, "sweep": sweep})
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    match args.side.as_deref() {
        Some("wave") => return run_wave(&args),
        Some("hnsw_rs") => return run_hnsw_rs(&args),
        _ => {}
    }
    std::fs::create_dir_all(&args.data)?;
    eprintln!(
        "generating {} clustered {}-d vectors and {} queries",
        args.n, args.dim, args.queries
    );
    let base = clustered(args.n, args.dim, 1);
    let queries = clustered(args.queries, args.dim, 2);
    let gt = ground_truth(&base, &queries, args.dim);
    write_f32(&args.data.join("base.f32"), &base)?;
    write_f32(&args.data.join("queries.f32"), &queries)?;
    write_f32(
        &args.data.join("gt.f32"),
        &gt.iter().map(|&x| x as f32).collect::<Vec<_>>(),
    )?;
    drop(base);

    let ef_list = args
        .ef
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let common = |c: &mut Command| {
        c.args(["--n", &args.n.to_string(), "--dim", &args.dim.to_string()])
            .args([
                "--m",
                &args.m.to_string(),
                "--ef-construction",
                &args.ef_construction.to_string(),
            ])
            .args(["--ef", &ef_list]);
    };
    eprintln!("wave side");
    let mut c = Command::new(std::env::current_exe()?);
    c.args(["--side", "wave", "--data"]).arg(&args.data);
    common(&mut c);
    let wave: serde_json::Value = run_json(&mut c)?;
    eprintln!("hnsw_rs side");
    let mut c = Command::new(std::env::current_exe()?);
    c.args(["--side", "hnsw_rs", "--data"]).arg(&args.data);
    common(&mut c);
    let raw: serde_json::Value = run_json(&mut c)?;
    eprintln!("hnswlib side");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/hnswlib_side.py");
    let mut c = Command::new(&args.python);
    c.arg(script).arg("--data").arg(&args.data);
    common(&mut c);
    let peer: serde_json::Value = run_json(&mut c)?;
    eprintln!("bm25 side");
    let (p50, p99, bm25_qps) = bm25_latency(args.n)?;

    let threads = rayon::current_num_threads();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\n## Vector index: {} clustered {}-d vectors, {} queries, k={K}, M={}, ef_construction={}, {threads} cores\n",
        args.n, args.dim, args.queries, args.m, args.ef_construction
    )?;
    writeln!(
        out,
        "| | wave (store) | hnsw_rs alone | hnswlib | wave / hnswlib |\n|---|---|---|---|---|"
    )?;
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    writeln!(
        out,
        "| build time (s) | {:.2} | {:.2} | {:.2} | {:.2} |",
        f(&wave, "build_s"),
        f(&raw, "build_s"),
        f(&peer, "build_s"),
        f(&wave, "build_s") / f(&peer, "build_s")
    )?;
    writeln!(
        out,
        "| peak memory added by the build (MiB) | {:.0} | {:.0} | {:.0} | {:.2} |",
        f(&wave, "peak_rss_delta_kib") / 1024.0,
        f(&raw, "peak_rss_delta_kib") / 1024.0,
        f(&peer, "peak_rss_delta_kib") / 1024.0,
        f(&wave, "peak_rss_delta_kib") / f(&peer, "peak_rss_delta_kib")
    )?;
    writeln!(
        out,
        "\n| ef | recall@10 wave | hnsw_rs | hnswlib | QPS 1 thread wave | hnsw_rs | hnswlib | wave / hnswlib | QPS {threads} threads wave | hnsw_rs | hnswlib | wave / hnswlib |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )?;
    let ws = wave["sweep"].as_array().context("wave sweep")?;
    let ps = peer["sweep"].as_array().context("hnswlib sweep")?;
    let rs = raw["sweep"].as_array().context("hnsw_rs sweep")?;
    for ((w, p), r) in ws.iter().zip(ps).zip(rs) {
        writeln!(
            out,
            "| {} | {:.4} | {:.4} | {:.4} | {:.0} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.2} |",
            w["ef"],
            f(w, "recall"),
            f(r, "recall"),
            f(p, "recall"),
            f(w, "qps_1"),
            f(r, "qps_1"),
            f(p, "qps_1"),
            f(w, "qps_1") / f(p, "qps_1"),
            f(w, "qps_all"),
            f(r, "qps_all"),
            f(p, "qps_all"),
            f(w, "qps_all") / f(p, "qps_all"),
        )?;
    }
    writeln!(
        out,
        "\n## BM25 (tantivy) over {} captions: p50 {p50:.3} ms, p99 {p99:.3} ms, {bm25_qps:.0} queries/s (1 thread)",
        args.n
    )?;
    Ok(())
}

fn run_json(c: &mut Command) -> Result<serde_json::Value> {
    let out = c.output().with_context(|| format!("running {c:?}"))?;
    if !out.status.success() {
        bail!("{c:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().context("no output")?;
    Ok(serde_json::from_str(line)?)
}
