//! Loads a model directory with `Wave::load` on the CPU and reports its size, the time taken and
//! the process's peak memory, e.g. under `/usr/bin/time -v` to confirm that loading streams.
//!
//! `load_checkpoint MODEL_DIR`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use wave_engine::model::Wave;
use wave_engine::CpuBackend;

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: load_checkpoint MODEL_DIR");
        return ExitCode::FAILURE;
    };
    let before = status_kb("VmRSS").unwrap_or(0);
    let start = Instant::now();
    let wave = match Wave::<CpuBackend>::load(&dir, &Default::default()) {
        Ok(wave) => wave,
        Err(e) => {
            eprintln!("load_checkpoint: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM").unwrap_or(0);
    let text = &wave.config.text_config;
    println!(
        "loaded {} (LLM: {} layers, hidden {}, vocab {}) in {seconds:.1} s",
        dir.display(),
        text.num_hidden_layers,
        text.hidden_size,
        text.vocab_size
    );
    println!(
        "RSS before loading {:.1} MB, peak {:.1} MB",
        before as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    ExitCode::SUCCESS
}
