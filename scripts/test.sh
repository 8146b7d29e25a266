#!/usr/bin/env bash
# Sets up a fresh machine and runs every check CI runs: format, lints, the CUDA feature's
# build check, and the whole test suite (real RocksDB, real ffmpeg, real sockets).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export WAVE_GOLDEN_DIR="${WAVE_GOLDEN_DIR:-$(cd .. && pwd)/shared/golden/wave-tiny-ref}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo check -p wave-engine -p wave-train --features cuda --all-targets
cargo test --workspace
