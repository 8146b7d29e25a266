//! `wave eval`: retrieval, hum and QA metrics of a model on a corpus split (wave-train).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use wave_train::eval::{evaluate, EvalOptions};

#[derive(Args)]
pub struct EvalArgs {
    /// Model directory.
    #[arg(long, default_value = "models/wave-tiny")]
    model: PathBuf,
    /// A split directory, or a corpus root (its test/ split).
    #[arg(long)]
    data: PathBuf,
    /// Evaluate the first N scenes only.
    #[arg(long)]
    max_scenes: Option<usize>,
    /// Also list the first N queries of each direction whose top-1 result was wrong, with what
    /// came first: what the model confuses.
    #[arg(long, default_value_t = 0)]
    misses: usize,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let report = evaluate(&EvalOptions {
        model: args.model.clone(),
        data: args.data.clone(),
        max_scenes: args.max_scenes,
        misses: args.misses,
    })
    .with_context(|| format!("evaluating {}", args.model.display()))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!(
            "{} on {} ({} scenes)\n",
            report.model,
            report.data,
            report.scenes
        );
        out!("{}", report.table());
    }
    Ok(())
}
