#!/usr/bin/env bash
# GPU checks of wave-engine, for a machine with an NVIDIA GPU (driver's libcuda plus NVRTC, which
# burn's CUDA backend loads at run time; no nvcc needed to build):
#   1. the parity suite on the GPU in f32,
#   2. the golden embeddings computed in bf16,
#   3. a WAVE-7B-shaped LLM forward on random weights drawn on the device: tokens/s and the
#      share of the GPU's peak FLOP/s, in bf16 and in f32; on CUDA, where python3 has torch and
#      transformers, the same for PyTorch's Qwen2 decoder (benches/python/torch_llm_throughput.py).
# Without a Rust toolchain on the GPU machine, use scripts/gpu-bundle.sh and gpu-bundle-run.sh.
#
# Tolerances. The CPU suite holds 1e-4 against the golden f32 tensors. On CUDA, burn runs large
# f32 matmuls as TF32 on tensor cores (10-bit mantissa, ~5e-4 relative per product), so the f32
# run raises every tolerance to WAVE_CUDA_F32_TOL (default 5e-3; every test prints its measured
# max-abs-diff, record them). The bf16 run (tests/bf16_parity.rs) requires each final unit
# vector within 2e-2 max-abs-diff and cosine >= 0.999 of the f32 reference; burn's CPU backend in
# bf16 measures 3.9e-3 and 0.99993 on the golden tiny model.
#
# Usage: scripts/gpu-check.sh [--cpu]
#   --cpu   the same steps on the CPU backend with small shapes: checks this script's plumbing on
#           a machine without a GPU.
# The machine must build the workspace: where it reaches no registry, bring ~/.cargo/registry (or
# a `cargo vendor` tree) along and set CARGO_NET_OFFLINE=true.
# Environment: WAVE_GOLDEN_DIR (default ../shared/golden/wave-tiny-ref), WAVE_CUDA_F32_TOL,
#   WAVE_PEAK_TFLOPS_BF16 / WAVE_PEAK_TFLOPS_TF32 (defaults: H100 SXM dense, 989.4 / 494.7),
#   WAVE_BENCH_BATCH (4), WAVE_BENCH_SEQ (1024), WAVE_BENCH_LAYERS (28).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=cuda
if [[ "${1:-}" == "--cpu" ]]; then
  mode=cpu
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--cpu]" >&2
  exit 2
fi

export WAVE_GOLDEN_DIR="${WAVE_GOLDEN_DIR:-$(cd .. && pwd)/shared/golden/wave-tiny-ref}"
if [[ ! -f "$WAVE_GOLDEN_DIR/config.json" ]]; then
  echo "gpu-check: no golden set at $WAVE_GOLDEN_DIR (set WAVE_GOLDEN_DIR)" >&2
  exit 1
fi

parity_tests=(--test llm_parity --test audio_parity --test vision_parity --test embed_parity --test checkpoint_loading)
if [[ "$mode" == cuda ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  features=(--features cuda)
  f32_tol="${WAVE_CUDA_F32_TOL:-5e-3}"
  batch="${WAVE_BENCH_BATCH:-4}"
  seq="${WAVE_BENCH_SEQ:-1024}"
  layers="${WAVE_BENCH_LAYERS:-28}"
  shape=()
  runs=("bf16 ${WAVE_PEAK_TFLOPS_BF16:-989.4}" "f32 ${WAVE_PEAK_TFLOPS_TF32:-494.7}")
else
  features=()
  f32_tol=0
  batch=1
  seq=64
  layers=1
  # WAVE-7B's widths with one layer and a small vocabulary: ~1 GB, a few seconds on two cores.
  shape=(--vocab 4096)
  runs=("f32 0" "bf16 0")
fi

echo "== 1. parity suite on $mode, f32 (tolerance floor $f32_tol)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! WAVE_TEST_TOL="$f32_tol" cargo test -p wave-engine "${features[@]}" "${parity_tests[@]}" \
  -- --nocapture >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
grep -E "max abs diff|^test result" "$log"

echo "== 2. golden embeddings in bf16 on $mode"
cargo test -p wave-engine "${features[@]}" --test bf16_parity -- --nocapture

echo "== 3. WAVE-7B-shaped LLM forward on $mode ($layers layers, batch $batch x $seq tokens)"
for run in "${runs[@]}"; do
  read -r dtype peak <<<"$run"
  peak_args=()
  [[ "$peak" != 0 ]] && peak_args=(--peak-tflops "$peak")
  cargo run -q --release -p wave-engine "${features[@]}" --example llm_throughput -- \
    --backend "$mode" --dtype "$dtype" --layers "$layers" --batch "$batch" --seq "$seq" \
    --iters 3 "${shape[@]}" "${peak_args[@]}"
  # The peer in the same run: transformers' Qwen2 decoder of the same shape, where torch is.
  if [[ "$mode" == cuda ]] && python3 -c 'import torch, transformers' 2>/dev/null; then
    python3 benches/python/torch_llm_throughput.py --dtype "$dtype" --layers "$layers" \
      --batch "$batch" --seq "$seq" --iters 3 "${peak_args[@]}"
  fi
done
