#!/usr/bin/env bash
# Installs what wave needs on a fresh Debian 12 machine: system packages and the Python
# clients the tests drive. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  libclang-dev      # bindgen for librocksdb-sys
  librocksdb-dev    # RocksDB 7.8 from Debian, linked instead of compiling it (see .cargo/config.toml)
  ffmpeg            # video decoding through ffmpeg-sidecar (never downloaded)
  sox espeak-ng     # test media and the synthetic corpus
  chromium          # the demo page's browser test (headless, driven by playwright-core)
  openssl           # self-signed certificates for the gRPC TLS test (query/tests/python/e2e.py)
)
missing=()
for p in "${apt_packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python test clients (gRPC end-to-end tests), if the query crate lists any.
for req in query/tests/python/requirements.txt; do
  if [ -f "$req" ]; then
    python3 -m pip install -q --disable-pip-version-check -r "$req"
  fi
done

# The demo page's browser test: playwright-core (no browser download; it drives Debian's chromium).
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
(cd demo/tests/browser && npm ci --no-audit --no-fund --loglevel=error)
