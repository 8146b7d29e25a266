//! `wave`: the command line. It only wires the libraries together; each subcommand lives in
//! its own module.

/// `println!` for what a command prints on stdout, except that a reader that has gone
/// (`wave search … | head`) ends the process quietly, as a closed pipe ends other Unix tools,
/// instead of with a panic. (Resetting SIGPIPE instead would also kill `serve` on a dropped
/// connection.)
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with [`outln!`]'s handling of a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

mod demo_cmd;
mod eval_cmd;
mod ingest_cmd;
mod search_cmd;
mod serve_cmd;
mod store_cmd;
mod synth_cmd;
mod train_cmd;

use std::io::Write;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "wave",
    version,
    about = "Any-to-any multimodal search over text, audio and video"
)]
struct Cli {
    /// Log filter (e.g. `info`, `wave_index=debug`) [default: `info` for serve (one line per
    /// request), `warn` otherwise].
    #[arg(long, global = true, env = "WAVE_LOG")]
    log: Option<String>,
    /// Log lines on stderr: `text` for people, `json` (one object a line) for log collectors.
    #[arg(long, global = true, env = "WAVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and maintain a store.
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Ingest a folder or a JSONL manifest: decode, cut into clips, embed, store.
    Ingest(ingest_cmd::IngestArgs),
    /// Generate the deterministic synthetic audio-visual corpus (train/val/test).
    Synth(synth_cmd::SynthArgs),
    /// Serve the gRPC search API over a store.
    Serve(serve_cmd::ServeArgs),
    /// Search a running server or a local store.
    Search(search_cmd::SearchArgs),
    /// Train the small WAVE model on a synthetic corpus (WAVE's recipe).
    Train(train_cmd::TrainArgs),
    /// Evaluate a model on a corpus split: retrieval, hum and QA metrics.
    Eval(eval_cmd::EvalArgs),
    /// Hum-to-find-video: a demo library, its web page and the gRPC API on one port.
    Demo(demo_cmd::DemoArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        // hnsw_rs narrates every graph load at info.
        Command::Serve(_) => "info,hnsw_rs=warn",
        Command::Train(_) => "info",
        _ => "warn",
    };
    let filter = cli.log.as_deref().unwrap_or(default_filter);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // Fields at the top level of each object, beside timestamp, level, target and message.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let result = match cli.command {
        Command::Store(c) => store_cmd::run(c),
        Command::Ingest(a) => ingest_cmd::run(a),
        Command::Synth(a) => synth_cmd::run(a),
        Command::Serve(a) => serve_cmd::run(a),
        Command::Search(a) => search_cmd::run(a),
        Command::Demo(a) => demo_cmd::run(a),
        Command::Train(a) => train_cmd::run(a),
        Command::Eval(a) => eval_cmd::run(a),
    };
    match result {
        // With JSON logs a failure is one more JSON line, so stderr stays machine-readable.
        Err(e) if cli.log_format == LogFormat::Json => {
            tracing::error!(error = format!("{e:#}"), "failed");
            std::process::exit(1)
        }
        other => other,
    }
}

/// Writes to stdout; a closed pipe exits 0 and any other failure exits 1, with a message.
fn write_stdout(args: std::fmt::Arguments) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("wave: writing to stdout: {e}");
        std::process::exit(1);
    }
}
