//! `wave ingest`: bulk ingest of a folder or a JSONL manifest into a store. The work is
//! wave-ingest's pipeline; this module parses options, loads the model, shows progress and
//! prints the report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use wave_engine::embedder::Embedder;
use wave_engine::preprocess::PreprocessConfig;
use wave_engine::DefaultBackend;
use wave_index::{Store, StoreOptions};
use wave_ingest::pipeline::{
    self, Failure, FileEvent, IngestReport, Outcome, PipelineConfig, Planned, Progress,
};
use wave_ingest::SegmentConfig;

#[derive(Args)]
pub struct IngestArgs {
    /// A directory (walked recursively), a `.jsonl` manifest, or one file.
    input: PathBuf,
    /// Store directory (created if missing).
    #[arg(long, env = "WAVE_DB")]
    db: PathBuf,
    /// Model directory. Default: `models/wave-tiny` of the wave checkout, if present.
    #[arg(long, env = "WAVE_MODEL")]
    model: Option<PathBuf>,
    /// Print the report as JSON on stdout: {ingested, skipped, failed: [{path, error}], ...}.
    #[arg(long)]
    json: bool,
    /// List what would be ingested, skipped or replaced; decode, embed and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Clip length in seconds.
    #[arg(long, default_value_t = SegmentConfig::default().window_s())]
    window: f64,
    /// Seconds shared by consecutive clips.
    #[arg(long, default_value_t = SegmentConfig::default().overlap_s())]
    overlap: f64,
    /// A last clip shorter than this many seconds joins the previous one.
    #[arg(long, default_value_t = SegmentConfig::default().min_clip_s())]
    min_clip: f64,
    /// Parallel decode workers (default: one per CPU).
    #[arg(long)]
    workers: Option<usize>,
    /// Most clips per embedder call.
    #[arg(long, default_value_t = 8)]
    batch: usize,
}

pub fn run(args: IngestArgs) -> Result<()> {
    let mut cfg = PipelineConfig {
        segment: SegmentConfig::new(args.window, args.overlap, args.min_clip)?,
        embed_batch: args.batch.max(1),
        ..PipelineConfig::default()
    };
    if let Some(w) = args.workers {
        cfg.decode_workers = w.max(1);
    }
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => default_model()?,
    };
    let model_id = pipeline::model_id(&model_dir)
        .with_context(|| format!("reading the model directory {}", model_dir.display()))?;

    if args.dry_run {
        // The model's video rate is part of the recipe that decides what would be skipped.
        let sampling = PreprocessConfig::from_model_dir(&model_dir)
            .with_context(|| format!("reading the settings of {}", model_dir.display()))?
            .sampling;
        return dry_run(&args, &model_id, &cfg.with_model_fps(sampling.fps()));
    }

    let embedder = Embedder::<DefaultBackend>::load(&model_dir, &Default::default())
        .with_context(|| format!("loading the model from {}", model_dir.display()))?;
    let store = Store::open(&args.db, StoreOptions::default())
        .with_context(|| format!("opening store {}", args.db.display()))?;
    let progress = Bars::new();
    let report = pipeline::ingest(&args.input, &store, &embedder, &model_id, &cfg, &progress)
        .with_context(|| format!("ingesting {}", args.input.display()))?;
    store.flush().context("flushing the store")?;
    progress.finish();

    if args.json {
        outln!("{}", serde_json::to_string(&report)?);
    }
    summary(&report, args.json);
    if report.ingested + report.skipped == 0 {
        bail!("nothing could be ingested from {}", args.input.display());
    }
    Ok(())
}

/// `models/wave-tiny` of the checkout this binary was built from, or of a folder above the
/// binary (an installed tree laid out like the checkout).
pub(crate) fn default_model() -> Result<PathBuf> {
    let mut candidates = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/wave-tiny")];
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).map(|d| d.join("models/wave-tiny")));
    }
    candidates
        .into_iter()
        .find(|d| d.join("config.json").is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no default model: models/wave-tiny is not in this checkout; \
                 pass --model DIR (or set WAVE_MODEL) to a WAVE model directory"
            )
        })
}

fn dry_run(args: &IngestArgs, model_id: &str, cfg: &PipelineConfig) -> Result<()> {
    // Never create a store for a dry run.
    let store = if args.db.join("db").exists() {
        Some(
            Store::open(&args.db, StoreOptions::default())
                .with_context(|| format!("opening store {}", args.db.display()))?,
        )
    } else {
        None
    };
    let (items, failed) = pipeline::dry_run(&args.input, store.as_ref(), model_id, cfg);
    if args.json {
        outln!(
            "{}",
            json!({"dry_run": true, "model": model_id, "items": items, "failed": failed})
        );
        return Ok(());
    }
    for item in &items {
        match &item.planned {
            Planned::Ingest { clips } => outln!("ingest   {}  ({clips} clips)", item.path),
            Planned::Replace { clips } => outln!("replace  {}  ({clips} clips)", item.path),
            Planned::Skip => outln!("skip     {}", item.path),
            Planned::Fail { error } => outln!("fail     {error}"),
        }
    }
    for f in &failed {
        outln!("fail     {}", f.error);
    }
    let count = |p: fn(&Planned) -> bool| items.iter().filter(|i| p(&i.planned)).count();
    outln!(
        "dry run: {} to ingest, {} to replace, {} to skip, {} failing (model {model_id})",
        count(|p| matches!(p, Planned::Ingest { .. })),
        count(|p| matches!(p, Planned::Replace { .. })),
        count(|p| matches!(p, Planned::Skip)),
        count(|p| matches!(p, Planned::Fail { .. })) + failed.len()
    );
    Ok(())
}

fn summary(report: &IngestReport, json: bool) {
    let t = &report.times;
    let lines = [
        format!(
            "ingested {} ({} clips), skipped {}, failed {} in {:.1} s ({:.2} clips/s)",
            report.ingested,
            report.clips,
            report.skipped,
            report.failed.len(),
            t.wall_s,
            report.clips as f64 / t.wall_s.max(1e-9)
        ),
        format!(
            "time: decode {:.1} s (all workers), embed {:.1} s, write {:.1} s",
            t.decode_s, t.embed_s, t.write_s
        ),
    ];
    // With --json, stdout holds only the report.
    for line in lines {
        if json {
            eprintln!("{line}");
        } else {
            outln!("{line}");
        }
    }
    if !json {
        for f in &report.failed {
            outln!("  failed: {}", f.error);
        }
    }
}

/// Progress on stderr: a bar with items/s and ETA on a terminal; one line per item otherwise
/// (logs, CI, a parent process reading along).
struct Bars {
    bar: ProgressBar,
    lines: bool,
    clips: AtomicUsize,
}

impl Bars {
    fn new() -> Bars {
        let lines = !std::io::stderr().is_terminal();
        let bar = if lines {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} items  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Bars {
            bar,
            lines,
            clips: AtomicUsize::new(0),
        }
    }

    fn say(&self, line: String) {
        if self.lines {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bars {
    fn start(&self, items: usize) {
        self.bar.set_length(items as u64);
        self.bar.set_message("0 clips");
    }

    fn rejected(&self, failure: &Failure) {
        self.say(format!("failed   {}", failure.error));
    }

    fn file(&self, event: &FileEvent) {
        self.bar.inc(1);
        match &event.outcome {
            Outcome::Ingested { clips } if self.lines => {
                self.say(format!("ingested {}  ({clips} clips)", event.path))
            }
            Outcome::Skipped if self.lines => self.say(format!("skipped  {}", event.path)),
            Outcome::Failed(error) => self.say(format!("failed   {error}")),
            _ => {}
        }
    }

    fn clips_embedded(&self, n: usize) {
        let done = self.clips.fetch_add(n, Ordering::Relaxed) + n;
        self.bar.set_message(format!("{done} clips embedded"));
    }
}
