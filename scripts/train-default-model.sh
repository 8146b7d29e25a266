#!/usr/bin/env bash
# Reproduces models/wave-tiny: the synthetic corpus, the training run, its evaluation on the
# test split, and the small regenerable check that train/tests/shipped_model.rs replays.
# About 15 minutes of corpus generation and encoding plus ~30 minutes of training on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${WAVE_WORK:-target/train-default}"
out="${1:-models/wave-tiny}"
cargo build --release -p wave-cli
wave=target/release/wave
mkdir -p "$work"

[ -f "$work/corpus/corpus.json" ] || "$wave" synth --seed 1 --size full --out "$work/corpus"
"$wave" train --data "$work/corpus" --out "$work/run" \
  --steps 480 --batch 24 --lr 5e-4 --warmup-ratio 0.05 --checkpoint-every 40 --seed 0

mkdir -p "$out"
for f in config.json beats_cfg.json tokenizer.json model.safetensors preprocessor_config.json \
  preprocessor_runtime.json chat_template.json loss.svg; do
  cp "$work/run/$f" "$out/"
done
# The run's options and per-step losses (not named trainer_state.json: without the optimizer
# moments this directory is a model, not a checkpoint to resume).
cp "$work/run/trainer_state.json" "$out/training-log.json"
"$wave" eval --model "$out" --data "$work/corpus/test" --json > "$out/eval.json"
"$wave" eval --model "$out" --data "$work/corpus/test" > "$out/eval.md"

# A corpus small enough for a test to regenerate, and the numbers it must reproduce.
[ -f "$work/check/corpus.json" ] || "$wave" synth --seed 2 --count 60 --out "$work/check"
"$wave" eval --model "$out" --data "$work/check/test" --json |
  python3 -c 'import json,sys; r=json.load(sys.stdin); r["data"]="synth --seed 2 --count 60, test split"; print(json.dumps({"corpus": {"seed": 2, "count": 60}, "report": r}, indent=2))' \
  > "$out/eval-check.json"
echo "wrote $out"
