//! Bulk ingest benchmark: end-to-end clips/s of `wave_ingest::pipeline::ingest` over a
//! generated folder of mixed media, and the share of the wall time spent decoding, embedding
//! and writing.
//!
//! `cargo run --release -p wave-benches --bin ingest-bench -- --files 200 --model DIR`
//!
//! The folder (made once with ffmpeg, reused by later runs) holds, in rotation: text documents,
//! audio (wav, flac, mp3, ogg, m4a, 1-4 s), short video (mp4, mkv, webm, mov, 2-6 s, with a
//! tone, silent or without audio) and every tenth video 40 s long, which the default 30 s
//! window cuts into two clips.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rayon::prelude::*;
use serde_json::json;
use wave_engine::embedder::Embedder;
use wave_engine::CpuBackend;
use wave_index::{Store, StoreOptions};
use wave_ingest::pipeline::{self, FileEvent, PipelineConfig, Progress};

#[derive(Parser, Debug)]
struct Args {
    /// Number of files to generate (at least 200).
    #[arg(long, default_value_t = 200)]
    files: usize,
    /// Model directory. Default: the tiny golden model beside the checkout ($WAVE_GOLDEN_DIR).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Where the generated media lives (kept between runs).
    #[arg(long, default_value = "target/bench-data/ingest")]
    data: PathBuf,
    /// Decode workers (default: one per CPU).
    #[arg(long)]
    workers: Option<usize>,
    /// Write the JSON result here as well as to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.files < 200 {
        bail!("--files must be at least 200");
    }
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| match std::env::var_os("WAVE_GOLDEN_DIR") {
            Some(d) => PathBuf::from(d),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
        });
    let media = args.data.join(format!("media-{}", args.files));
    generate(&media, args.files)?;

    let embedder = Embedder::<CpuBackend>::load(&model, &Default::default())
        .with_context(|| format!("loading {}", model.display()))?;
    let model_id = pipeline::model_id(&model)?;
    let db = tempfile::tempdir()?;
    let store = Store::open(db.path(), StoreOptions::default())?;
    let mut cfg = PipelineConfig::default();
    if let Some(w) = args.workers {
        cfg.decode_workers = w.max(1);
    }
    let report = pipeline::ingest(&media, &store, &embedder, &model_id, &cfg, &Ticker)?;
    if !report.failed.is_empty() {
        bail!("generated files failed: {:?}", report.failed);
    }
    let t = report.times;
    let result = json!({
        "files": report.ingested,
        "clips": report.clips,
        "wall_s": t.wall_s,
        "clips_per_s": report.clips as f64 / t.wall_s,
        "decode_workers": cfg.decode_workers,
        "decode_s_all_workers": t.decode_s,
        "decode_share_per_worker": t.decode_s / t.wall_s / cfg.decode_workers as f64,
        "embed_s": t.embed_s,
        "embed_share": t.embed_s / t.wall_s,
        "write_s": t.write_s,
        "write_share": t.write_s / t.wall_s,
        "max_clips_in_flight": report.max_clips_in_flight,
        "model": model_id,
    });
    eprintln!(
        "{} files, {} clips in {:.1} s: {:.2} clips/s; embed {:.0}%, write {:.1}%, decode {:.0}% \
         of each of {} workers",
        report.ingested,
        report.clips,
        t.wall_s,
        report.clips as f64 / t.wall_s,
        100.0 * t.embed_s / t.wall_s,
        100.0 * t.write_s / t.wall_s,
        100.0 * t.decode_s / t.wall_s / cfg.decode_workers as f64,
        cfg.decode_workers
    );
    println!("{result}");
    if let Some(out) = args.out {
        std::fs::write(out, result.to_string())?;
    }
    Ok(())
}

/// A dot per finished item on stderr.
struct Ticker;

impl Progress for Ticker {
    fn file(&self, _event: &FileEvent) {
        eprint!(".");
    }
}

/// Makes `n` files under `dir` unless a complete set is already there.
fn generate(dir: &Path, n: usize) -> Result<()> {
    let done = dir.join(".complete");
    if done.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    eprintln!("generating {n} files in {}", dir.display());
    (0..n).into_par_iter().try_for_each(|i| make(dir, i))?;
    std::fs::write(done, b"")?;
    Ok(())
}

fn make(dir: &Path, i: usize) -> Result<()> {
    let secs = 1 + i % 4;
    match i % 10 {
        0..=3 => {
            let text = format!(
                "Document {i}. A note about topic {} with a few sentences of text so that the \
                 tokenizer has something to do. Item {i} ends here.",
                i % 17
            );
            std::fs::write(dir.join(format!("doc{i:04}.txt")), text)?;
            Ok(())
        }
        4..=6 => {
            let (ext, codec) = [
                ("wav", "pcm_s16le"),
                ("flac", "flac"),
                ("mp3", "libmp3lame"),
                ("ogg", "libvorbis"),
                ("m4a", "aac"),
            ][i % 5];
            let src = format!(
                "sine=frequency={}:sample_rate=44100:duration={secs}",
                200 + 10 * i
            );
            let path = dir.join(format!("audio{i:04}.{ext}"));
            ffmpeg(&["-f", "lavfi", "-i", &src, "-c:a", codec], &path)
        }
        _ => {
            let (ext, vcodec, acodec) = [
                ("mp4", "libx264", "aac"),
                ("mkv", "libx264", "flac"),
                ("webm", "libvpx", "libvorbis"),
                ("mov", "mpeg4", "aac"),
            ][i % 4];
            let secs = if i % 30 == 9 { 40 } else { 2 + i % 5 };
            let v = format!("testsrc=size=320x240:rate=25:duration={secs}");
            let a = format!("sine=frequency={}:duration={secs}", 300 + i);
            let path = dir.join(format!("video{i:04}.{ext}"));
            let mut args = vec!["-f", "lavfi", "-i", &v];
            // Every third video has no sound.
            if !i.is_multiple_of(3) {
                args.extend(["-f", "lavfi", "-i", &a, "-c:a", acodec]);
            }
            args.extend(["-c:v", vcodec, "-t"]);
            let t = secs.to_string();
            args.push(&t);
            ffmpeg(&args, &path)
        }
    }
}

fn ffmpeg(args: &[&str], out: &Path) -> Result<()> {
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-threads", "1"])
        .args(args)
        .arg(out)
        .status()
        .context("running ffmpeg")?;
    if !status.success() {
        bail!("ffmpeg failed for {}", out.display());
    }
    Ok(())
}
