#!/usr/bin/env bash
# The main job: set up, build the wasm, and serve the demo on http://127.0.0.1:${PORT:-8080}/
# Usage: scripts/demo.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-web.sh "${1:-../shared/data/cifar10}"
PORT="${PORT:-8080}"
echo "LoCo Lab demo: http://127.0.0.1:$PORT/"
# Cross-origin isolated (COOP/COEP headers): the page may load its threaded build.
exec python3 scripts/serve.py "$PORT"
