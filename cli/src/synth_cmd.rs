//! `wave synth`: writes the deterministic synthetic audio-visual corpus (wave-synth) that the
//! default model is trained and evaluated on.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wave_synth::scene::{HumStyle, Split};
use wave_synth::{generate, CorpusSize, SynthOptions};

#[derive(Args)]
pub struct SynthArgs {
    /// Seed: the same seed and options give byte-identical files.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (created if missing; must be empty unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Preset size: `small` (320 scenes) or `full` (2000 scenes).
    #[arg(long, default_value = "small", value_parser = parse_size)]
    size: CorpusSize,
    /// Total scenes instead of the preset (80 % train, 10 % val, 10 % test; at least 6).
    #[arg(long)]
    count: Option<usize>,
    /// Write into a non-empty folder, replacing a corpus already there (other files are kept).
    #[arg(long)]
    force: bool,
    /// Frame side in pixels.
    #[arg(long, default_value_t = 112)]
    frame_side: usize,
    /// Video frames per second.
    #[arg(long, default_value_t = 8)]
    fps: u32,
    /// Voices of the hum queries, comma-separated: hum, whistle, la_la (default: all three;
    /// `hum` alone gives the corpus of generators before styles existed).
    #[arg(long, value_delimiter = ',', value_parser = parse_hum_style)]
    hum_styles: Option<Vec<HumStyle>>,
    /// Splits to write, comma-separated: train, val, test (default: all three).
    #[arg(long, value_delimiter = ',', value_parser = parse_split)]
    splits: Option<Vec<Split>>,
    /// Skip the first N train scenes: the ones written are exactly those a full run writes, so
    /// a larger --count with --train-from at the old train size adds only new train scenes.
    #[arg(long, default_value_t = 0)]
    train_from: usize,
    /// Print the corpus summary (corpus.json) on stdout.
    #[arg(long)]
    json: bool,
}

fn parse_hum_style(s: &str) -> std::result::Result<HumStyle, String> {
    HumStyle::ALL
        .into_iter()
        .find(|h| h.word() == s)
        .ok_or_else(|| format!("unknown hum style {s:?} (expected hum, whistle or la_la)"))
}

fn parse_split(s: &str) -> std::result::Result<Split, String> {
    Split::ALL
        .into_iter()
        .find(|x| x.word() == s)
        .ok_or_else(|| format!("unknown split {s:?} (expected train, val or test)"))
}

fn parse_size(s: &str) -> std::result::Result<CorpusSize, String> {
    s.parse().map_err(|e: wave_synth::SynthError| e.to_string())
}

pub fn run(args: SynthArgs) -> Result<()> {
    let opts = SynthOptions {
        size: args.size,
        count: args.count,
        force: args.force,
        frame_side: args.frame_side,
        fps: args.fps,
        hum_styles: args.hum_styles.unwrap_or_else(|| HumStyle::ALL.to_vec()),
        splits: args.splits.unwrap_or_else(|| Split::ALL.to_vec()),
        train_from: args.train_from,
        ..SynthOptions::new(args.seed, &args.out)
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} scenes {pos}/{len} [{elapsed_precise}] eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let summary = generate(&opts, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .with_context(|| format!("generating the corpus into {}", args.out.display()))?;
    bar.finish_and_clear();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    outln!(
        "corpus (seed {}, {}) in {} after {:.1} s",
        summary.seed,
        summary.size,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    outln!(
        "{:<6} {:>7} {:>7} {:>6} {:>10}",
        "split",
        "scenes",
        "items",
        "hums",
        "questions"
    );
    for s in &summary.splits {
        outln!(
            "{:<6} {:>7} {:>7} {:>6} {:>10}",
            s.split.word(),
            s.scenes,
            s.items,
            s.hums,
            s.questions
        );
    }
    Ok(())
}
