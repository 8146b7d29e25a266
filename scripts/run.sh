#!/usr/bin/env bash
# The main job on the embedded defaults: generate a small audio-visual library, ingest it,
# serve it over gRPC, and search it by text, by a sound and by a stored clip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -p wave-cli
wave=target/release/wave
work="${WAVE_WORK:-target/demo}"
model="${WAVE_MODEL:-models/wave-tiny}"
if [ ! -d "$model" ]; then
  # The trained default model is not shipped yet: fall back to the architecture-exact tiny model
  # with random weights from the golden set, so the whole path runs (rankings are not meaningful).
  model="${WAVE_GOLDEN_DIR:-$(cd .. && pwd)/shared/golden/wave-tiny-ref}"
  echo "run: models/wave-tiny is not trained yet; using the random-weight reference model $model"
fi

rm -rf "$work" && mkdir -p "$work"
echo "== generating a demo library"
"$wave" synth --seed 1 --count 24 --out "$work/library"
echo "== ingesting it"
"$wave" ingest "$work/library/train/manifest.jsonl" --db "$work/store" --model "$model"
"$wave" store stats --db "$work/store"

echo "== serving it"
"$wave" serve --db "$work/store" --model "$model" --addr 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  addr=$(sed -n 's/^listening on //p' "$work/serve.log")
  [ -n "$addr" ] && break
  kill -0 $server 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
url="http://$addr"
echo "== searching $url"
"$wave" search --server "$url" --text "a red circle bouncing" --top-k 5
probe=$(ls "$work"/library/test/media/*.a.wav 2>/dev/null | head -1 || true)
if [ -n "$probe" ]; then
  "$wave" search --server "$url" --audio "$probe" --top-k 5
fi
first=$("$wave" search --server "$url" --text "circle" --top-k 1 --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["results"][0]["id"] if r.get("results") else "")')
if [ -n "$first" ]; then
  "$wave" search --server "$url" --item "$first" --top-k 5
fi
