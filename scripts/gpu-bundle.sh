#!/usr/bin/env bash
# Builds, on this machine, what scripts/gpu-bundle-run.sh runs on a GPU machine that has the
# NVIDIA driver and NVRTC but no Rust toolchain and no ffmpeg (a lent device machine):
#   parity/  the engine's parity test binaries built with `--features cuda`, a copy of the golden
#            set, and the llm_throughput example (release);
#   train/   `wave` built with `--features cuda` (release), a 40-scene corpus's train split, the
#            frozen encoders' output for it (so no decoding is needed there), the loss log of
#            the same training command run here on the CPU, and the CPU's results of
#            scripts/gpu-product-check.sh (ingest and search) on that split.
# Each part is one folder under the bundle root (default .gpu-bundle, git-ignored through
# .git/info/exclude) with binaries stripped and packed as bins.tar.xz, small enough to travel
# (a device call carries at most 64 MiB with the working tree; the 6 test binaries, 200 MB
# stripped, pack to 18 MB).
#
# Usage: scripts/gpu-bundle.sh parity|train [BUNDLE_ROOT]
# Environment: WAVE_GOLDEN_DIR (default ../shared/golden/wave-tiny-ref).
set -euo pipefail
cd "$(dirname "$0")/.."

part="${1:-}"
root="${2:-.gpu-bundle}"
case "$part" in
  parity | train) ;;
  *)
    echo "usage: $0 parity|train [BUNDLE_ROOT]" >&2
    exit 2
    ;;
esac
if [[ "$root" != /* ]]; then
  grep -qxF "/$root/" .git/info/exclude 2>/dev/null || echo "/$root/" >>.git/info/exclude
fi
dir="$root/$part"
rm -rf "$dir"
mkdir -p "$dir/bin"

# Copies each executable that cargo reports for the given build into bin/, stripped.
collect() {
  cargo "$@" --message-format=json \
    | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])' \
    | while read -r exe; do
      name="$(basename "$exe")"
      # Test binaries carry a hash suffix; drop it so the run script can name them.
      [[ "$exe" == */deps/* ]] && name="${name%-*}"
      strip -o "$dir/bin/$name" "$exe"
    done
}

if [[ "$part" == parity ]]; then
  golden="${WAVE_GOLDEN_DIR:-$(cd .. && pwd)/shared/golden/wave-tiny-ref}"
  collect test -p wave-engine --features cuda --no-run --test llm_parity --test audio_parity \
    --test vision_parity --test embed_parity --test checkpoint_loading --test bf16_parity
  collect build --release -p wave-engine --features cuda --example llm_throughput
  # Everything the parity tests read, the reference's .bin / .pt checkpoints included; the
  # preprocessing set (7.5 MB, read only by CPU-side tests) stays behind.
  mkdir -p "$dir/golden"
  for f in "$golden"/*; do
    case "$(basename "$f")" in
      preprocess.safetensors) ;;
      *) cp -r "$f" "$dir/golden/" ;;
    esac
  done
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # A copy: the CUDA build below replaces target/release/wave.
  cargo build --release -p wave-cli
  cpu_wave="$work/wave-cpu"
  cp target/release/wave "$cpu_wave"
  "$cpu_wave" synth --seed 3 --count 40 --out "$work/corpus"
  mkdir -p "$dir/corpus"
  cp -r "$work/corpus/train" "$dir/corpus/"
  # The command the GPU machine runs too; here it makes the media cache and the CPU's losses.
  # shellcheck disable=SC2046
  "$cpu_wave" train $(cat scripts/gpu-train-args.txt) --data "$work/corpus" --out "$work/run" \
    --json >"$dir/cpu-steps.jsonl"
  mkdir -p "$dir/run"
  cp "$work/run/encoded-media.safetensors" "$dir/run/"
  # Ingest and search through the product path, for the GPU's results to be compared with.
  bash scripts/gpu-product-check.sh "$cpu_wave" "$dir/corpus/train" "$work/store" \
    >"$dir/cpu-product.txt"
  collect build --release -p wave-cli --features cuda
  # The store links Debian's RocksDB; a machine without it gets it, and what it needs beyond
  # a base system, beside the binary.
  mkdir -p "$dir/bin/lib"
  for so in librocksdb.so.7.8 libgflags.so.2.2 libsnappy.so.1; do
    cp -L "$(ldd "$dir/bin/wave" | awk -v so="$so" '$1 == so { print $3 }')" "$dir/bin/lib/"
  done
fi
# One xz stream with a window that spans several binaries: they share most of their code.
tar -C "$dir" -cf - bin | xz -9 >"$dir/bins.tar.xz"
rm -rf "$dir/bin"
du -sh "$dir"/*
