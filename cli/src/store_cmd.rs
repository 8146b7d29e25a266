//! `wave store stats|backup|compact|backfill-melody`: maintenance of a store directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use wave_index::{GraphOrigin, Store, StoreOptions};
use wave_ingest::BackfillOptions;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Item counts, vector spaces, tombstones, BM25 documents.
    Stats {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// A consistent copy of the store (safe while another process is not writing to it).
    Backup {
        #[arg(long)]
        db: PathBuf,
        /// Target directory; must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Rebuild a vector space's graph without its tombstones.
    Compact {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value = "wave")]
        space: String,
    },
    /// Add the missing melody vectors (hum search) of the store's audio and audio-video clips,
    /// re-reading each clip's media; items that have one are left alone.
    BackfillMelody {
        #[arg(long, visible_alias = "store")]
        db: PathBuf,
        /// Where the server keeps uploaded media (default: <db>/media, as `wave serve`).
        #[arg(long)]
        media_dir: Option<PathBuf>,
        /// The clip vector space.
        #[arg(long, default_value = "wave")]
        space: String,
        /// Make every clip's melody vector again, replacing the stored ones (after an upgrade
        /// of wave changed how they are made; the README's hum-search section says when).
        #[arg(long)]
        redo: bool,
        #[arg(long)]
        json: bool,
    },
}

fn open(db: &Path) -> Result<Store> {
    Store::open(db, StoreOptions::default())
        .with_context(|| format!("opening store {}", db.display()))
}

pub fn run(cmd: StoreCommand) -> Result<()> {
    match cmd {
        StoreCommand::Stats { db, json } => {
            let stats = open(&db)?.stats()?;
            if json {
                let spaces: Vec<_> = stats
                    .spaces
                    .iter()
                    .map(|s| {
                        json!({"name": s.name, "dim": s.params.dim, "live": s.live,
                               "tombstones": s.tombstones, "origin": format!("{:?}", s.origin)})
                    })
                    .collect();
                outln!(
                    "{}",
                    json!({"items": stats.items, "seq": stats.seq, "text_docs": stats.text_docs, "spaces": spaces})
                );
            } else {
                outln!("items: {}  (sequence {})", stats.items, stats.seq);
                outln!("BM25 documents: {}", stats.text_docs);
                for s in stats.spaces {
                    let origin = match s.origin {
                        GraphOrigin::New => "new".to_string(),
                        GraphOrigin::Snapshot { replayed } => {
                            format!("snapshot + {replayed} replayed")
                        }
                        GraphOrigin::Rebuilt { reason } => format!("rebuilt ({reason})"),
                    };
                    outln!(
                        "space {}: dim {}, {} live, {} tombstones, graph from {origin}",
                        s.name,
                        s.params.dim,
                        s.live,
                        s.tombstones
                    );
                }
            }
        }
        StoreCommand::Backup { db, to } => {
            open(&db)?.backup(&to)?;
            outln!("backup written to {}", to.display());
        }
        StoreCommand::Compact { db, space } => {
            open(&db)?.compact(&space)?;
            outln!("space `{space}` compacted");
        }
        StoreCommand::BackfillMelody {
            db,
            media_dir,
            space,
            redo,
            json,
        } => backfill_melody(&db, media_dir, space, redo, json)?,
    }
    Ok(())
}

fn backfill_melody(
    db: &Path,
    media_dir: Option<PathBuf>,
    space: String,
    redo: bool,
    json: bool,
) -> Result<()> {
    // A mistyped path must not become a new, empty store.
    if !db.join("db").is_dir() {
        anyhow::bail!(
            "no store at {} (no {} folder)",
            db.display(),
            db.join("db").display()
        );
    }
    let mut opts = BackfillOptions::for_store(db);
    opts.clip_space = space;
    opts.redo = redo;
    if let Some(dir) = media_dir {
        opts.media_dir = dir;
    }
    // Failures are told as they happen; with --json they are in the report instead.
    let mut tell = |f: &wave_ingest::BackfillFailure| {
        if !json {
            eprintln!("failed: {}", f.error);
        }
    };
    let report = wave_ingest::backfill_melody_with(&open(db)?, &opts, &mut tell)
        .with_context(|| format!("backfilling melody vectors in {}", db.display()))?;
    if json {
        outln!("{}", serde_json::to_string(&report)?);
    } else {
        outln!(
            "melody backfill: {} done, {} skipped ({} had one, {} without a tune), {} failed",
            report.filled,
            report.skipped(),
            report.already,
            report.no_tune,
            report.failed.len()
        );
    }
    Ok(())
}
