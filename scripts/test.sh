#!/usr/bin/env bash
# Sets up a fresh machine and runs every check CI runs: format, lints, the CUDA feature's
# build check, and the whole test suite (real RocksDB, real ffmpeg, real sockets).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# CI machines can be short of disk: the suite links ~70 test binaries, each ~200 MB with
# line tables, and one CI run died when the linker hit a full disk (SIGBUS in ld). Without
# debug info and incremental caches the whole target dir is a fraction of that; this build
# keeps its own settings, so it does not disturb a developer's `cargo test` artifacts.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=0
export CARGO_PROFILE_DEV_STRIP=debuginfo
echo "disk before the build:"; df -h . | tail -n 1
export WAVE_GOLDEN_DIR="${WAVE_GOLDEN_DIR:-$(cd .. && pwd)/shared/golden/wave-tiny-ref}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo check -p wave-engine -p wave-train -p wave-query -p wave-cli --features cuda --all-targets
cargo test --workspace
echo "disk after the tests:"; df -h . | tail -n 1; du -sh target 2>/dev/null || true
