//! `wave store stats|backup|compact`: maintenance of a store directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use wave_index::{GraphOrigin, Store, StoreOptions};

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
                println!(
                    "{}",
                    json!({"items": stats.items, "seq": stats.seq, "text_docs": stats.text_docs, "spaces": spaces})
                );
            } else {
                println!("items: {}  (sequence {})", stats.items, stats.seq);
                println!("BM25 documents: {}", stats.text_docs);
                for s in stats.spaces {
                    let origin = match s.origin {
                        GraphOrigin::New => "new".to_string(),
                        GraphOrigin::Snapshot { replayed } => {
                            format!("snapshot + {replayed} replayed")
                        }
                        GraphOrigin::Rebuilt { reason } => format!("rebuilt ({reason})"),
                    };
                    println!(
                        "space {}: dim {}, {} live, {} tombstones, graph from {origin}",
                        s.name, s.params.dim, s.live, s.tombstones
                    );
                }
            }
        }
        StoreCommand::Backup { db, to } => {
            open(&db)?.backup(&to)?;
            println!("backup written to {}", to.display());
        }
        StoreCommand::Compact { db, space } => {
            open(&db)?.compact(&space)?;
            println!("space `{space}` compacted");
        }
    }
    Ok(())
}
