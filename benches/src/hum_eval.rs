//! Hum → video evaluation on the synthetic corpus (issue 7): ingests the audio-video library
//! of a validation and a test source, searches it with every held-out hum through the real hum
//! search (WAVE + melody spaces) at a grid of melody weights, picks the weight with the best
//! MRR on validation, and reports top-1, top-10 and MRR on test for melody alone (weight 1),
//! WAVE alone (weight 0) and fused (the chosen weight), over all hums and per hum style
//! (hum, whistle, "la la").
//!
//! A source is a split folder (`DIR/val`) or a whole corpus (`DIR`, with train/val/test): then
//! every split's audio-video clips are the library and every split's hums the queries, as in
//! the demo (`wave demo` serves `wave synth --seed 7 --count 100` that way).
//!
//! `cargo run --release -p wave-benches --bin hum-eval -- --val DIR/val --test DIR/test
//!  --work /tmp/hum-eval --model models/wave-tiny [--json]` (splits from `wave synth`).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};
use wave_engine::embedder::Embedder;
use wave_engine::CpuBackend;
use wave_index::{Store, StoreOptions};
use wave_ingest::pipeline::{self, NoProgress, PipelineConfig};
use wave_query::{pb, Model, Searcher, SearcherConfig};

#[derive(Parser)]
struct Args {
    /// Validation source: a split folder (corpus.jsonl, manifest.jsonl, media/) or a corpus
    /// folder holding train/val/test. Chooses the weight.
    #[arg(long)]
    val: PathBuf,
    /// Test source (split or corpus folder): the reported numbers.
    #[arg(long)]
    test: PathBuf,
    /// Where the stores go (reused: ingest skips what is already stored).
    #[arg(long)]
    work: PathBuf,
    #[arg(long)]
    model: PathBuf,
    /// Melody weights tried on validation: 0, 1/steps, ..., 1.
    #[arg(long, default_value_t = 10)]
    steps: u32,
    #[arg(long)]
    json: bool,
}

/// A hum and the library items it should find (same tune).
struct HumCase {
    id: String,
    path: PathBuf,
    targets: Vec<String>,
    /// `hum`, `whistle` or `la_la` (corpora from before styles: `hum`).
    style: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Scores {
    top1: f64,
    top10: f64,
    mrr: f64,
}

fn read_jsonl(path: &Path) -> Result<Vec<Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("a line of {}", path.display())))
        .collect()
}

/// The split folders of a source: itself when it holds a `corpus.jsonl`, else its
/// train/val/test folders (a whole corpus).
fn split_dirs(source: &Path) -> Result<Vec<PathBuf>> {
    if source.join("corpus.jsonl").is_file() {
        return Ok(vec![source.to_path_buf()]);
    }
    let splits: Vec<PathBuf> = ["train", "val", "test"]
        .iter()
        .map(|s| source.join(s))
        .filter(|d| d.join("corpus.jsonl").is_file())
        .collect();
    if splits.is_empty() {
        bail!(
            "{} is neither a split folder (corpus.jsonl) nor a corpus (train/val/test)",
            source.display()
        );
    }
    Ok(splits)
}

/// Store folder name of a source: its last two path components (`s7-val`, `hum-eval-s7`), so
/// different corpora never share a store (their item ids repeat).
fn source_name(source: &Path) -> Result<String> {
    let full = source
        .canonicalize()
        .with_context(|| format!("{}", source.display()))?;
    let parts: Vec<String> = full
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.into_iter().rev().collect::<Vec<_>>().join("-"))
}

/// Ingests the source's audio-video items (the video library hums search) into
/// `work/<name>`.
fn library(
    source: &Path,
    work: &Path,
    embedder: &Embedder<CpuBackend>,
    model_id: &str,
) -> Result<PathBuf> {
    let name = source_name(source)?;
    let dir = work.join(&name);
    std::fs::create_dir_all(&dir)?;
    let manifest = dir.join("library.jsonl");
    let mut out = std::fs::File::create(&manifest)?;
    for split in split_dirs(source)? {
        for mut entry in read_jsonl(&split.join("manifest.jsonl"))? {
            let is_av = entry["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "modality:audio_video"));
            if !is_av {
                continue;
            }
            let rel = entry["path"]
                .as_str()
                .context("an audio_video entry without a path")?;
            entry["path"] = json!(split.join(rel).canonicalize()?.to_string_lossy());
            writeln!(out, "{entry}")?;
        }
    }
    drop(out);
    let db = dir.join("db");
    let store = Store::open(&db, StoreOptions::default())?;
    let report = pipeline::ingest(
        &manifest,
        &store,
        embedder,
        model_id,
        &PipelineConfig::default(),
        &NoProgress,
    )?;
    store.flush()?;
    if !report.failed.is_empty() {
        bail!("ingesting {}: {:?}", source.display(), report.failed);
    }
    eprintln!(
        "{name}: {} ingested, {} already stored",
        report.ingested, report.skipped
    );
    Ok(db)
}

fn hum_cases(source: &Path) -> Result<Vec<HumCase>> {
    let mut corpus = vec![];
    for split in split_dirs(source)? {
        for r in read_jsonl(&split.join("corpus.jsonl"))? {
            corpus.push((split.clone(), r));
        }
    }
    let mut by_melody: HashMap<u64, Vec<String>> = HashMap::new();
    for (_, r) in corpus
        .iter()
        .filter(|(_, r)| r["modality"] == "audio_video")
    {
        if let Some(m) = r["melody"].as_u64() {
            by_melody
                .entry(m)
                .or_default()
                .push(r["id"].as_str().unwrap_or_default().to_string());
        }
    }
    let mut cases = vec![];
    for (split, r) in corpus.iter().filter(|(_, r)| r["modality"] == "hum") {
        let melody = r["melody"].as_u64().context("a hum without a melody id")?;
        cases.push(HumCase {
            id: r["id"].as_str().unwrap_or_default().to_string(),
            path: split.join(r["path"].as_str().context("a hum without a path")?),
            targets: by_melody.get(&melody).cloned().unwrap_or_default(),
            style: r["hum_style"].as_str().unwrap_or("hum").to_string(),
        });
    }
    Ok(cases)
}

/// Rank (1-based) of the first target for each hum at `weight`; None if no target was listed.
fn ranks(
    searcher: &Searcher,
    cases: &[HumCase],
    weight: f32,
    library_size: usize,
) -> Result<Vec<Option<usize>>> {
    cases
        .iter()
        .map(|c| {
            let req = pb::SearchRequest {
                query: Some(pb::Query {
                    input: Some(pb::query::Input::Audio(pb::Media {
                        data: std::fs::read(&c.path)?,
                        format: "wav".into(),
                    })),
                    prompt: String::new(),
                }),
                modalities: vec![pb::Modality::AudioVideo as i32],
                top_k: library_size as u32,
                hum: Some(pb::HumSettings {
                    enable: true,
                    melody_weight: Some(weight),
                }),
                ..Default::default()
            };
            let resp = searcher
                .search(&req, None)
                .with_context(|| format!("hum {}", c.id))?;
            Ok(resp
                .results
                .iter()
                .position(|r| c.targets.contains(&r.id))
                .map(|p| p + 1))
        })
        .collect()
}

fn scores(ranks: &[Option<usize>]) -> Scores {
    let n = ranks.len().max(1) as f64;
    let mut s = Scores::default();
    for r in ranks.iter().flatten() {
        s.top1 += (*r == 1) as u8 as f64 / n;
        s.top10 += (*r <= 10) as u8 as f64 / n;
        s.mrr += 1.0 / *r as f64 / n;
    }
    s
}

fn main() -> Result<()> {
    let args = Args::parse();
    let model_id = pipeline::model_id(&args.model)?;
    let embedder = Embedder::<CpuBackend>::load(&args.model, &Default::default())?;
    let model = Arc::new(Model::load(&args.model)?);
    if source_name(&args.val)? == source_name(&args.test)? {
        bail!(
            "--val and --test are the same source ({}): the weight must be chosen elsewhere",
            args.test.display()
        );
    }
    let mut searchers = vec![];
    for split in [&args.val, &args.test] {
        let db = library(split, &args.work, &embedder, &model_id)?;
        let store = Arc::new(Store::open(&db, StoreOptions::default())?);
        let size = store.item_ids()?.len();
        let searcher = Searcher::new(store, Some(model.clone()), SearcherConfig::new(&db))?;
        searchers.push((searcher, hum_cases(split)?, size));
    }
    let weights: Vec<f32> = (0..=args.steps)
        .map(|i| i as f32 / args.steps as f32)
        .collect();
    let (val, val_cases, val_size) = &searchers[0];
    let mut sweep = vec![];
    for &w in &weights {
        let s = scores(&ranks(val, val_cases, w, *val_size)?);
        eprintln!(
            "val  melody_weight {w:.2}: top1 {:.3} top10 {:.3} mrr {:.3}",
            s.top1, s.top10, s.mrr
        );
        sweep.push((w, s));
    }
    // Best MRR; ties go to the better top-1, then to the lower weight (listed first).
    let chosen = sweep
        .iter()
        .copied()
        .reduce(|best, x| {
            if (x.1.mrr, x.1.top1) > (best.1.mrr, best.1.top1) {
                x
            } else {
                best
            }
        })
        .map(|x| x.0)
        .unwrap_or(0.5);
    let (test, test_cases, test_size) = &searchers[1];
    let rows = [
        ("melody alone", 1.0),
        ("WAVE alone", 0.0),
        ("fused", chosen),
    ];
    // Styles in the order the generator lists them; corpora from before styles have only hums.
    let styles: Vec<&str> = ["hum", "whistle", "la_la"]
        .into_iter()
        .filter(|st| test_cases.iter().any(|c| c.style == *st))
        .collect();
    let mut table = vec![];
    for (name, w) in rows {
        let r = ranks(test, test_cases, w, *test_size)?;
        table.push((name, w, "all".to_string(), r.len(), scores(&r)));
        for st in &styles {
            let of_style: Vec<Option<usize>> = r
                .iter()
                .zip(test_cases)
                .filter(|(_, c)| c.style == *st)
                .map(|(x, _)| *x)
                .collect();
            table.push((name, w, st.to_string(), of_style.len(), scores(&of_style)));
        }
    }
    if args.json {
        let out = json!({
            "model": model.name(),
            "val": args.val, "test": args.test,
            "val_hums": val_cases.len(), "test_hums": test_cases.len(),
            "val_library": val_size, "test_library": test_size,
            "chosen_melody_weight": chosen,
            "val_sweep": sweep.iter().map(|(w, s)| json!({"melody_weight": w, "top1": s.top1, "top10": s.top10, "mrr": s.mrr})).collect::<Vec<_>>(),
            "test_results": table.iter().map(|(n, w, st, count, s)| json!({"ranking": n, "melody_weight": w, "hum_style": st, "hums": count, "top1": s.top1, "top10": s.top10, "mrr": s.mrr})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "model {}; melody weight chosen on val ({}): {chosen:.2}",
            model.name(),
            args.val.display()
        );
        println!(
            "test ({}): {} hums, {} audio-video items",
            args.test.display(),
            test_cases.len(),
            test_size
        );
        println!("| ranking | hums | melody weight | top-1 | top-10 | MRR |");
        println!("|---|---|---|---|---|---|");
        for (name, w, st, count, s) in table {
            println!(
                "| {name} | {st} ({count}) | {w:.2} | {:.3} | {:.3} | {:.3} |",
                s.top1, s.top10, s.mrr
            );
        }
    }
    Ok(())
}
