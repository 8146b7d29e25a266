//! Crash safety: a child process writes items and prints each id once `upsert` returned; the
//! parent SIGKILLs it at random moments, reopens the store, and checks that every acknowledged
//! item is there whole, findable, and on both the vector and the BM25 side.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rand::{Rng, SeedableRng};
use wave_index::{Filter, SpaceParams, Store, StoreOptions};

const DIM: usize = 16;
const ROUNDS: usize = 24;

fn vector_for(id: &str) -> Vec<f32> {
    let seed = id
        .bytes()
        .fold(7u64, |s, b| s.wrapping_mul(131).wrapping_add(b as u64));
    clustered(1, DIM, 1, 0.8, seed).remove(0)
}

/// The writer. Runs only when the parent re-executes this test binary with the env var set.
#[test]
#[ignore = "child process of crash_safety_under_sigkill"]
fn crash_child() {
    let Some(dir) = std::env::var_os("WAVE_CRASH_DIR") else {
        return;
    };
    let round: usize = std::env::var("WAVE_CRASH_ROUND").unwrap().parse().unwrap();
    let opts = StoreOptions {
        snapshot_every: 40, // snapshots happen often, so kills land inside them too
        compact_tombstone_share: 0.2,
        ..Default::default()
    };
    let store = Store::open(std::path::Path::new(&dir), opts).unwrap();
    store.create_space("wave", SpaceParams::new(DIM)).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(round as u64);
    for i in 0.. {
        let batch: Vec<_> = (0..rng.gen_range(1..4))
            .map(|j| {
                let id = format!("r{round}-{i}-{j}");
                let mut w = write(&id, "wave", vector_for(&id));
                w.item.title = Some(format!("title {id}"));
                w
            })
            .collect();
        store.upsert(&batch).unwrap();
        for w in &batch {
            println!("ACK {}", w.item.id);
        }
        // Now and then replace or delete an earlier item, so tombstones and compaction happen.
        if i % 7 == 3 {
            let doomed = format!("r{round}-{}-0", i - 3);
            // Announced first: a kill during or right after the delete may leave the item
            // either way, so the parent stops expecting it from here on.
            println!("DELETING {doomed}");
            store.delete(&[&doomed]).unwrap();
        }
    }
}

#[test]
fn crash_safety_under_sigkill() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut acked: std::collections::BTreeSet<String> = Default::default();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("WAVE_CRASH_DIR", dir.path())
            .env("WAVE_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = vec![];
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => lines.push(l),
                    Err(_) => break,
                }
            }
            lines
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(150..900)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.insert(id.to_string());
            } else if let Some(id) = line.strip_prefix("DELETING ") {
                acked.remove(id);
            }
        }

        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let items: std::collections::BTreeSet<String> =
            store.item_ids().unwrap().into_iter().collect();
        for id in &acked {
            assert!(items.contains(id), "round {round}: acknowledged {id} lost");
            let item = store.get(id).unwrap().unwrap();
            assert_eq!(
                item.title.as_deref(),
                Some(format!("title {id}").as_str()),
                "round {round}: {id} half-written"
            );
            assert!(
                store.vector("wave", id).unwrap().is_some(),
                "round {round}: {id} has no vector"
            );
            let hits = store
                .search("wave", &vector_for(id), 10, None, &Filter::default())
                .unwrap();
            assert!(
                hits.iter().any(|h| &h.id == id),
                "round {round}: {id} not found by search"
            );
        }
        // Every stored item (acknowledged or written just before the kill) is whole.
        let mut live: Vec<String> = store.live_ids("wave").unwrap();
        let mut text: Vec<String> = store.text_ids().unwrap();
        live.sort();
        text.sort();
        let items_vec: Vec<String> = items.iter().cloned().collect();
        assert_eq!(
            live, items_vec,
            "round {round}: vector side differs from items"
        );
        assert_eq!(
            text, items_vec,
            "round {round}: BM25 side differs from items"
        );
        // Unacknowledged writes that did land are fine; adopt them so later rounds check them too.
        acked.extend(items.iter().cloned());
        drop(store);
        if started.elapsed() > Duration::from_secs(240) {
            panic!("crash test exceeded its time bound after {round} rounds");
        }
    }
    eprintln!(
        "{ROUNDS} rounds, {} items survived, {:?}",
        acked.len(),
        started.elapsed()
    );
    assert!(
        acked.len() > ROUNDS,
        "children wrote too little to test anything"
    );
}
