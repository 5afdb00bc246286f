#!/usr/bin/env bash
# The wasm tests (tests/web.rs) in headless Chromium: cargo builds them for wasm32 and runs each
# through wasm-bindgen-test-runner (from wasm-bindgen-cli, scripts/setup.sh), which drives Debian's
# chromedriver. What `wasm-pack test --headless --chrome` does, without wasm-pack.
# Usage: scripts/wasm-test.sh [CARGO_TEST_ARGS...]   (default: the WebGPU build's features, tests/web.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}"
args=("$@")
((${#args[@]})) || args=(--no-default-features --features flex,webgpu,fusion --test web)
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
WASM_BINDGEN_TEST_ONLY_WEB=1 \
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}" \
  cargo test --release --target wasm32-unknown-unknown "${args[@]}"
