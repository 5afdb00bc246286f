#!/usr/bin/env bash
# Builds the page's two wasm modules (wasm-pack --target web) and links the CIFAR-10 data in data/:
#   pkg-cpu/  features `flex`          the CPU path: what every page loads first
#   pkg/      features `flex,webgpu,fusion`   loaded by the worker only when it trains on WebGPU
#             (burn's kernel fusion; not autotune: see Cargo.toml)
# Two builds, not one: the CPU-only module is a fraction of the size, and in it burn's default
# device is the CPU (burn-optim 0.22.1 restores optimizer state on `Device::default()`, which in
# a WebGPU build is the GPU: restoring a CPU trainer there panics).
# Usage: scripts/build-web.sh [DATA_DIR]   (default ../shared/data/cifar10)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}"
# wasm-opt from npm's binaryen (v132): Debian's binaryen 108 breaks wasm-bindgen 0.2.130's
# reference-types output ("WebAssembly.Table.set(): Argument 1 is invalid for table").
export PATH="$PWD/node_modules/.bin:$PATH"

# wasm-pack (and its wasm-opt pass, minutes on a small machine) runs only when something it
# reads changed: the stamp is a hash of the crate's sources, manifests, cargo config and features.
build() {
  local out=$1 features=$2 stamp
  stamp=$( { echo "$features"; find src .cargo Cargo.toml Cargo.lock build.rs -type f -print0 2>/dev/null | sort -z | xargs -0 cat; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out/locolab_bg.wasm" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$out/ is up to date (stamp $stamp)"
    return
  fi
  rm -f "$out/.stamp"
  # Cargo judges freshness by mtimes: a build of another checkout of this crate into the same
  # target dir (CI's clean clone, a worktree) can look newer than these sources' edits.
  touch src/lib.rs
  wasm-pack build --target web --release --out-dir "$out" --no-pack -- --no-default-features --features "$features"
  echo "$stamp" > "$out/.stamp"
}
build pkg-cpu flex
build pkg flex,webgpu,fusion

mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css www/vendor/
data="${1:-../shared/data/cifar10}"
mkdir -p data
if [ -d "$data" ]; then
  for f in "$data"/*.bin "$data"/*.tar.gz; do
    [ -e "$f" ] && ln -sf "$(realpath "$f")" data/
  done
fi
compgen -G "data/*.bin" >/dev/null || compgen -G "data/*.tar.gz" >/dev/null || echo "warning: no CIFAR-10 files in data/; the page will ask for them" >&2
ls -l pkg-cpu/*.wasm pkg/*.wasm
