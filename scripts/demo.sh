#!/usr/bin/env bash
# The main job: set up, build the wasm, and serve the demo on http://127.0.0.1:${PORT:-8080}/
# Usage: scripts/demo.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what the first module needs (not Chromium, which is for the tests, nor the nightly).
bash scripts/setup.sh page
data="${1:-../shared/data/cifar10}"
# The page answers as soon as its single-thread CPU module is built; the threaded and WebGPU
# modules build in the background, and the page uses each once it is there (it says which).
LOCOLAB_BUILDS=cpu bash scripts/build-web.sh "$data"
log="${TMPDIR:-/tmp}/locolab-build-web.log"
( { bash scripts/setup.sh threads && bash scripts/build-web.sh "$data"; } > "$log" 2>&1 && echo "demo: every module is built (reload the page to use them)" \
  || echo "demo: a background build failed; see $log" ) &
PORT="${PORT:-8080}"
echo "LoCo Lab demo: http://127.0.0.1:$PORT/ (the threaded and WebGPU modules are building: $log)"
# Cross-origin isolated (COOP/COEP headers): the page may load its threaded build.
exec python3 scripts/serve.py "$PORT"
