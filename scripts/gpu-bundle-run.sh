#!/usr/bin/env bash
# Runs a bundle made by scripts/gpu-bundle.sh on a GPU machine without a Rust toolchain, from the
# repository root. Prints everything; exits non-zero if a check fails.
#   parity: 1. the engine's parity suite on CUDA in f32 (tolerance WAVE_CUDA_F32_TOL, default
#              5e-3: burn runs large f32 matmuls as TF32), 2. the golden embeddings in bf16,
#           3. a WAVE-7B-shaped LLM forward in bf16 and f32, burn against PyTorch's Qwen2 decoder
#              (benches/python/torch_llm_throughput.py) on the same GPU in the same run.
#   train:  `wave train` built for CUDA with the arguments of scripts/gpu-train-args.txt, on the
#           bundled corpus and media cache; its per-step losses beside the CPU run's. Then
#           ingest and search on CUDA (scripts/gpu-product-check.sh) against the CPU's results
#           (fails when a top 1 differs, fewer than 8 of 10 are shared, or a score by > 5e-3).
#           The losses are printed beside each other, not judged.
#   product: only the ingest and search part of train, from the same bundle.
#
# Usage: scripts/gpu-bundle-run.sh parity|train|product [BUNDLE_ROOT]
# Environment: WAVE_CUDA_F32_TOL, WAVE_BENCH_BATCH (4), WAVE_BENCH_SEQ (1024),
#   WAVE_BENCH_LAYERS (28), WAVE_PEAK_TFLOPS_BF16 / _TF32 (H100 SXM dense: 989.4 / 494.7).
set -uo pipefail
cd "$(dirname "$0")/.."

part="${1:-}"
root="${2:-.gpu-bundle}"
dir="$root/${part/product/train}"
if [[ ! -f "$dir/bins.tar.xz" ]]; then
  echo "usage: $0 parity|train|product [BUNDLE_ROOT] (no bundle at $dir: run scripts/gpu-bundle.sh)" >&2
  exit 2
fi
# Python's lzma, not an xz binary the machine may lack.
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")' \
  "$dir/bins.tar.xz" "$dir" || exit 1
bin="$dir/bin"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
# burn's CUDA backend (cudarc) opens libcuda and libnvrtc at run time; the toolkit's stubs/
# folder also holds a libcuda.so, which answers every call with CUDA_ERROR_STUB_LIBRARY.
nvrtc_dirs="$(find /usr/local /opt /usr/lib -name 'libnvrtc.so*' -not -path '*/stubs/*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)"
export LD_LIBRARY_PATH="$PWD/$bin/lib:${nvrtc_dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "NVRTC from: ${nvrtc_dirs:-none found}"

failed=0
step() {
  echo
  echo "== $*"
}

if [[ "$part" == parity ]]; then
  export WAVE_GOLDEN_DIR="$PWD/$dir/golden"
  tol="${WAVE_CUDA_F32_TOL:-5e-3}"
  step "1. parity suite on CUDA, f32 (tolerance floor $tol)"
  for t in llm_parity audio_parity vision_parity embed_parity checkpoint_loading; do
    echo "-- $t"
    WAVE_TEST_TOL="$tol" timeout 150 "$bin/$t" --nocapture --test-threads 1 >"$dir/$t.log" 2>&1 \
      || failed=1
    grep -E "max abs diff|^test |test result|panicked|rror" "$dir/$t.log"
  done
  step "2. golden embeddings in bf16 on CUDA"
  timeout 150 "$bin/bf16_parity" --nocapture --test-threads 1 || failed=1
  batch="${WAVE_BENCH_BATCH:-4}"
  seq="${WAVE_BENCH_SEQ:-1024}"
  layers="${WAVE_BENCH_LAYERS:-28}"
  for run in "bf16 ${WAVE_PEAK_TFLOPS_BF16:-989.4}" "f32 ${WAVE_PEAK_TFLOPS_TF32:-494.7}"; do
    read -r dtype peak <<<"$run"
    step "3. WAVE-7B-shaped LLM forward, $dtype, $layers layers, batch $batch x $seq tokens: burn"
    timeout 180 "$bin/llm_throughput" --backend cuda --dtype "$dtype" --layers "$layers" \
      --batch "$batch" --seq "$seq" --iters 3 --peak-tflops "$peak" || failed=1
    echo "-- the same on PyTorch"
    timeout 150 python3 benches/python/torch_llm_throughput.py --dtype "$dtype" --layers "$layers" \
      --batch "$batch" --seq "$seq" --iters 3 --peak-tflops "$peak" || failed=1
  done
elif [[ "$part" == train ]]; then
  run="$dir/run"
  step "wave train on CUDA: $(cat scripts/gpu-train-args.txt)"
  # shellcheck disable=SC2046
  timeout 300 "$bin/wave" train $(cat scripts/gpu-train-args.txt) --data "$dir/corpus" \
    --out "$run" --json >"$dir/cuda-steps.jsonl" || failed=1
  python3 - "$dir/cpu-steps.jsonl" "$dir/cuda-steps.jsonl" <<'EOF' || failed=1
import json, sys
cpu, cuda = ([json.loads(l) for l in open(p) if l.startswith("{")] for p in sys.argv[1:3])
print(f"{'step':>4} {'task':>7} {'loss cpu':>10} {'loss cuda':>10} {'s cpu':>7} {'s cuda':>7}")
for c, g in zip(cpu, cuda):
    print(f"{c['step']:>4} {c['task']:>7} {c['loss']:>10.5f} {g['loss']:>10.5f} "
          f"{c['seconds']:>7.3f} {g['seconds']:>7.3f}")
if len(cuda) != len(cpu):
    sys.exit(f"CUDA run logged {len(cuda)} steps, CPU {len(cpu)}")
# The first step's loss is before any update: the same model on the same batch.
first = abs(cpu[0]["loss"] - cuda[0]["loss"])
print(f"first-step loss difference {first:.2e}")
mean = lambda xs: sum(xs) / len(xs)
print(f"mean seconds per step (after the first): cpu {mean([s['seconds'] for s in cpu[1:]]):.3f}, "
      f"cuda {mean([s['seconds'] for s in cuda[1:]]):.3f}")
EOF
fi
if [[ "$part" == train || "$part" == product ]]; then
  step "ingest and search on CUDA"
  bash scripts/gpu-product-check.sh "$bin/wave" "$dir/corpus/train" "$(mktemp -d)/store" \
    >"$dir/cuda-product.txt" || failed=1
  python3 - "$dir/cpu-product.txt" "$dir/cuda-product.txt" <<'EOF' || failed=1
import json, sys
cpu, cuda = (open(p).read().splitlines() for p in sys.argv[1:3])
print("cuda:", cuda[0], "| cpu:", cpu[0])
if cuda[0] != cpu[0] or len(cuda) != len(cpu):
    sys.exit("the CUDA build's ingest or searches differ in outcome from the CPU's")
worst = 0.0
for c, g in zip(cpu[1:], cuda[1:]):
    c, g = json.loads(c), json.loads(g)
    cs, gs = dict(c["results"]), dict(g["results"])
    common = cs.keys() & gs.keys()
    diff = max(abs(cs[i] - gs[i]) for i in common)
    worst = max(worst, diff)
    same = [a[0] for a in c["results"]] == [b[0] for b in g["results"]]
    print(f"{g['query']:>16}: top 10 {'in the same order' if same else 'reordered'}, "
          f"{len(common)} of 10 shared, largest score difference {diff:.1e}, "
          f"top 1 {g['results'][0][0]} (cpu {c['results'][0][0]})")
    if g["results"][0][0] != c["results"][0][0] or len(common) < 8:
        sys.exit(f"{g['query']}: the CUDA build ranks differently")
if worst > 5e-3:
    sys.exit(f"scores differ by {worst:.1e} (> 5e-3)")
EOF
fi
exit "$failed"
