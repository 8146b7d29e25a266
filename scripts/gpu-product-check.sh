#!/usr/bin/env bash
# The product path on whatever backend WAVE_BIN was built for: ingests a corpus split's text and
# WAV items (no ffmpeg needed) into a fresh store with models/wave-tiny, then runs four searches
# that embed their query (text -> audio, text -> text, audio -> all, a question as the prompt of
# an audio query). Prints the ingest summary, then one JSON line per search: the query and its
# top 10 as [id, vector score]. scripts/gpu-bundle.sh records it with the CPU build and
# scripts/gpu-bundle-run.sh compares the CUDA build's lines with those.
#
# Usage: scripts/gpu-product-check.sh WAVE_BIN SPLIT_DIR STORE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 3 ]]; then
  echo "usage: $0 WAVE_BIN SPLIT_DIR STORE_DIR" >&2
  exit 2
fi
wave="$1"
split="$2"
store="$3"
rm -rf "$store"
grep -v '\.mp4"' "$split/manifest.jsonl" >"$split/product.jsonl"
"$wave" ingest --db "$store" --model models/wave-tiny "$split/product.jsonl" --json 2>/dev/null \
  | python3 -c 'import json, sys; r = json.load(sys.stdin); print("ingested", r["ingested"], "failed", len(r["failed"]))'

audio="$split/media/$(ls "$split/media" | grep '\.a\.wav$' | head -1)"
search() {
  local label="$1"
  shift
  "$wave" search --db "$store" --model models/wave-tiny --bm25 false --top-k 10 --json "$@" \
    | python3 -c '
import json, sys
r = json.load(sys.stdin)
hits = [[h["id"], h["stages"]["vector_score"]] for h in r["results"]]
print(json.dumps({"query": sys.argv[1], "results": hits}))' "$label"
}
search "text -> audio" --text "a high organ playing two notes" --modality audio
search "text -> text" --text "a blue cross circles around" --modality text
search "audio -> all" --audio "$audio"
search "audio + question" --audio "$audio" --prompt "Which instrument is playing?" --modality text
