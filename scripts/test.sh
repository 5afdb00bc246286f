#!/usr/bin/env bash
# Every test: native (cargo), wasm in headless Chromium (wasm-bindgen-test-runner), and the page end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}"
bash scripts/setup.sh

echo "== import floors (scripts/imports.py --check: no circle, no upward import) =="
python3 scripts/imports.py --check

echo "== native tests (cargo test --release) =="
cargo test --release
echo "== the wasm matrix-kernel experiment's kernel against a reference (bench/wasm-matmul) =="
cargo test --release -p locolab-wasm-matmul

echo "== wasm tests in headless Chromium (wasm-bindgen-test-runner) =="
bash scripts/wasm-test.sh

echo "== page end to end (playwright-core + Debian chromium) =="
bash scripts/build-web.sh
node --test tests/e2e/
