#!/usr/bin/env bash
# Writes the page as a self-contained static site into DIR: index.html, the page's modules, the
# three wasm builds, the CIFAR-10 subset the page trains on, the long runs' results and seed-0
# weights (the long-run panel), and the service worker that isolates the page on a host that
# sends no COOP/COEP headers (sw.js). Every path in it is relative, so the folder works from any
# static host and any sub-path (https://host/course/locolab/), e.g.
#   bash scripts/dist.sh site && (cd site && python3 -m http.server 8000)
# Usage: bash scripts/dist.sh DIR [DATA_DIR]   (DATA_DIR as scripts/build-web.sh: the CIFAR-10
#        binary files the page trains on, default ../shared/data/cifar10)
# Builds what is missing first (scripts/setup.sh, scripts/build-web.sh: both skip what is there).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/dist.sh DIR [DATA_DIR]}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}"
if [ -z "${LOCOLAB_DIST_NO_BUILD:-}" ]; then
  bash scripts/setup.sh page
  bash scripts/setup.sh threads
  bash scripts/build-web.sh "${2:-../shared/data/cifar10}"
fi
for need in pkg-cpu/locolab_bg.wasm pkg-mt/locolab_bg.wasm pkg/locolab_bg.wasm www/vendor/uPlot.iife.min.js; do
  [ -f "$need" ] || { echo "dist.sh: $need is missing (scripts/build-web.sh builds it)" >&2; exit 1; }
done
compgen -G "data/*.bin" >/dev/null || compgen -G "data/*.tar.gz" >/dev/null || { echo "dist.sh: no CIFAR-10 files in data/ (give DATA_DIR)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
cp index.html sw.js "$out/"
cp -r www "$out/"
# The wasm builds: their JavaScript glue, the module, and wasm-bindgen's snippets (the threaded
# build's worker helpers); not the build stamps or type declarations.
for pkg in pkg-cpu pkg-mt pkg; do
  mkdir -p "$out/$pkg"
  tar -C "$pkg" -cf - --exclude=.stamp --exclude='*.d.ts' --exclude=.gitignore --exclude=package.json --exclude=README.md . | tar -C "$out/$pkg" -xf -
done
mkdir -p "$out/data"
cp -L data/*.bin data/*.tar.gz "$out/data/" 2>/dev/null || true
# What the long-run panel reads (www/longrun.js): each experiment's results.json, its page-check
# and the seed-0 weights of every method.
long_runs="docs/results/cifar50k docs/results/cifar50k-b2"
for exp in $long_runs docs/results; do
  mkdir -p "$out/$exp"
  cp "$exp/results.json" "$out/$exp/"
  [ -f "$exp/page-check.json" ] && cp "$exp/page-check.json" "$out/$exp/"
done
for final in $(for exp in $long_runs; do echo "$exp"/*/seed-0/final; done) docs/results/presnet-tiny/*; do
  [ -d "$final" ] && mkdir -p "$out/$final" && cp -r "$final/." "$out/$final/"
done
echo "wrote $out: $(du -sh "$out" | cut -f1), $(find "$out" -type f | wc -l) files; serve it with any static server, e.g. (cd $out && python3 -m http.server)"
