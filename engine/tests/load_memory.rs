//! Loading streams: the peak memory of loading a checkpoint stays within 1.3× the weights as
//! loaded (f32). Each load runs in a child process (this test binary, re-run on one ignored test)
//! so its peak (VmHWM) is its own.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::golden_dir;
use wave_engine::model::Wave;
use wave_engine::random_model::{write_random_model, RandomModel};
use wave_engine::weights::StoredDtype;
use wave_engine::CpuBackend as B;

/// The model directory a child process loads.
const CHILD_DIR: &str = "WAVE_LOAD_MEMORY_DIR";

/// The bound on peak loading memory, as a multiple of the weights.
const MAX_RATIO: f64 = 1.3;

/// ~120 MB of f32 weights, most of them one embedding table: a loader that holds a second copy
/// of the largest tensor (e.g. its raw bytes next to the converted values) exceeds the bound.
fn overrides() -> Vec<(String, serde_json::Value)> {
    [
        ("text_config.vocab_size", 100_000),
        ("text_config.hidden_size", 256),
        ("text_config.intermediate_size", 1024),
        ("text_config.num_attention_heads", 4),
        ("text_config.num_key_value_heads", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
    .collect()
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Runs the child test on `dir`; returns (RSS before loading, peak RSS after), in bytes.
fn load_in_child(dir: &Path) -> (u64, u64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "load_child", "--ignored", "--nocapture"])
        .env(CHILD_DIR, dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| -> u64 {
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("child printed no {name}: {stdout}"))
    };
    (field("rss_before_kb") * 1024, field("hwm_after_kb") * 1024)
}

fn check(dtype: StoredDtype) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("wave-load-memory-{dtype:?}-{}", std::process::id()));
    let model: RandomModel =
        write_random_model(&golden_dir(), &dir, &overrides(), dtype, 7).unwrap();
    let (before, peak) = load_in_child(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let weights = model.f32_bytes();
    let ratio = (peak - before) as f64 / weights as f64;
    eprintln!(
        "{dtype:?} checkpoint: {} parameters, {:.1} MB as f32; loading grew the peak RSS by {:.1} MB ({ratio:.3}×)",
        model.parameters,
        weights as f64 / 1e6,
        (peak - before) as f64 / 1e6
    );
    assert!(
        ratio <= MAX_RATIO,
        "loading peaked at {ratio:.3}× the weights (bound {MAX_RATIO})"
    );
    // The model itself must be resident: a ratio far below 1 means the measurement is broken.
    assert!(ratio >= 0.9, "peak {ratio:.3}× is below the weights' size");
}

#[test]
fn loading_an_f32_checkpoint_peaks_within_1_3x_the_weights() {
    check(StoredDtype::F32);
}

#[test]
fn loading_a_bf16_checkpoint_peaks_within_1_3x_the_weights() {
    check(StoredDtype::BF16);
}

/// The child side of the tests above: loads `$WAVE_LOAD_MEMORY_DIR` and prints its memory.
#[test]
#[ignore = "run by the loading-memory tests in a child process"]
fn load_child() {
    let dir = std::env::var_os(CHILD_DIR).expect("WAVE_LOAD_MEMORY_DIR is set by the parent test");
    let before = status_kb("VmRSS");
    let wave = Wave::<B>::load(Path::new(&dir), &Default::default()).unwrap();
    let peak = status_kb("VmHWM");
    println!("rss_before_kb={before} hwm_after_kb={peak}");
    drop(wave);
}
