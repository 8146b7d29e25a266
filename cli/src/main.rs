//! `wave`: the command line. It only wires the libraries together; each subcommand lives in
//! its own module.

mod demo_cmd;
mod ingest_cmd;
mod search_cmd;
mod serve_cmd;
mod store_cmd;
mod synth_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wave",
    version,
    about = "Any-to-any multimodal search over text, audio and video"
)]
struct Cli {
    /// Log filter (e.g. `info`, `wave_index=debug`); also RUST_LOG.
    #[arg(long, global = true, env = "WAVE_LOG", default_value = "warn")]
    log: String,
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
    /// Hum-to-find-video: a demo library, the gRPC API and a web page, on the defaults.
    Demo(demo_cmd::DemoArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Store(c) => store_cmd::run(c),
        Command::Ingest(a) => ingest_cmd::run(a),
        Command::Synth(a) => synth_cmd::run(a),
        Command::Serve(a) => serve_cmd::run(a),
        Command::Search(a) => search_cmd::run(a),
        Command::Demo(a) => demo_cmd::run(a),
    }
}
