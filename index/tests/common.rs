//! Shared by the store tests: clustered vectors, brute force, items.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wave_index::{Item, Modality, Write};

/// `n` vectors around `clusters` random centres (unit-normalised), deterministic by seed.
pub fn clustered(n: usize, dim: usize, clusters: usize, spread: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect();
    (0..n)
        .map(|i| {
            let c = &centres[i % clusters];
            normalise(
                c.iter()
                    .map(|x| x + spread * rng.gen_range(-1.0f32..1.0))
                    .collect(),
            )
        })
        .collect()
}

pub fn normalise(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / n).collect()
}

/// Exact top-k ids by cosine among `candidates` (indices into `data`).
pub fn brute_force(data: &[Vec<f32>], candidates: &[usize], q: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = candidates
        .iter()
        .map(|&i| (data[i].iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, i)| i).collect()
}

pub fn item(id: &str) -> Item {
    Item {
        id: id.to_string(),
        modality: Modality::Audio,
        ..Default::default()
    }
}

pub fn write(id: &str, space: &str, v: Vec<f32>) -> Write {
    Write {
        item: item(id),
        vectors: vec![(space.to_string(), v)],
    }
}

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
}

/// Copies a directory tree, skipping lock files (a store left locked by a live handle).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "LOCK" || name.to_string_lossy().ends_with(".lock") {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}
