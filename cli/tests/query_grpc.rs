//! The gRPC search API end to end: the real `wave serve` binary on real sockets, driven by an
//! independent client (Python grpcio with reflection and health checking, no .proto file):
//! query/tests/python/e2e.py. `scripts/setup.sh` installs its requirements.

use std::path::PathBuf;
use std::process::Command;

/// The tiny golden model: `$WAVE_GOLDEN_DIR`, else the shared set beside the checkout.
fn model_dir() -> PathBuf {
    match std::env::var_os("WAVE_GOLDEN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/wave-tiny-ref"),
    }
}

#[test]
fn grpc_api_end_to_end_with_python_grpcio() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../query/tests/python/e2e.py");
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg("--wave")
        .arg(env!("CARGO_BIN_EXE_wave"))
        .arg("--model")
        .arg(model_dir())
        .arg("--workdir")
        .arg(work.path())
        .env_remove("WAVE_TOKEN")
        .output()
        .expect("python3 must be installed (scripts/setup.sh installs the test clients)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "e2e.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
