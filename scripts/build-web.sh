#!/usr/bin/env bash
# Builds the page's three wasm modules and links the CIFAR-10 data in data/. Each module is
# `cargo build` for wasm32, `wasm-bindgen --target web` and `wasm-opt -Oz`, called directly (what
# `wasm-pack build --target web --release --no-pack` runs, without installing wasm-pack: 3 minutes
# of a cold demo, docs/BENCHMARKS.md "The cold demo's tool installs"):
#   pkg-cpu/  features `flex`          the CPU path on one thread: what every page loads first
#   pkg-mt/   features `flex,web-threads`   the CPU path on rayon's pool of Web Workers (shared
#             memory): loaded by a cross-origin-isolated page that asks for more than one thread
#   pkg/      features `flex,webgpu,fusion`   loaded by the worker only when it trains on WebGPU
#             (burn's kernel fusion; not autotune: see Cargo.toml)
# Separate builds: the CPU-only module is a fraction of the size, and in it burn's default
# device is the CPU (burn-optim 0.22.1 restores optimizer state on `Device::default()`, which in
# a WebGPU build is the GPU: restoring a CPU trainer there panics). The threaded one needs a
# nightly compiler that rebuilds std with atomics (-Z build-std), and a shared memory, which a
# page without cross-origin isolation cannot instantiate.
# Usage: scripts/build-web.sh [DATA_DIR]   (default ../shared/data/cifar10)
#        LOCOLAB_BUILDS=cpu scripts/build-web.sh   builds only the modules named (cpu, mt, webgpu)
#        LOCOLAB_WASM_OPT="-O -g" scripts/build-web.sh   other wasm-opt flags (a profiling build,
#                                    function names kept: bench/browser-profile.mjs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}"
# wasm-opt: binaryen 120, native, from Debian trixie (scripts/wasm-opt-native.sh, set up by
# scripts/setup.sh), else npm's binaryen (v132, compiled to JavaScript: 2-4x the time, one core);
# $LOCOLAB_WASM_OPT_BIN names another. Not Debian bookworm's binaryen 108: it breaks wasm-bindgen
# 0.2.130's reference-types output ("WebAssembly.Table.set(): Argument 1 is invalid for table").
export PATH="$PWD/node_modules/.bin:$PATH"
WASM_OPT=${LOCOLAB_WASM_OPT_BIN:-$(bash scripts/wasm-opt-native.sh --path)}
WASM_OPT=${WASM_OPT:-wasm-opt}
WASM_OPT_VERSION=$("$WASM_OPT" --version)
echo "wasm-opt: $WASM_OPT ($WASM_OPT_VERSION)"

# A module is rebuilt (and its wasm-opt pass, minutes on a small machine, run) only when something
# it reads changed: the stamp is a hash of the crate's sources, manifests, cargo config, features
# and wasm-opt flags and version.
WASM_OPT_FLAGS=${LOCOLAB_WASM_OPT:--Oz}
# Usage: build OUT FEATURES [TOOLCHAIN RUSTFLAGS CARGO_ARGS...]
build() {
  local out=$1 features=$2 toolchain=${3:-} flags=${4:-} stamp
  shift 2; shift $(( $# > 2 ? 2 : $# ))
  # (The CLI's files, src/main.rs and src/cli/, are not in any module.)
  stamp=$( { echo "$features $toolchain $flags $* $WASM_OPT_FLAGS $WASM_OPT_VERSION"; find src .cargo Cargo.toml Cargo.lock build.rs -type f ! -path src/main.rs ! -path 'src/cli/*' -print0 2>/dev/null | sort -z | xargs -0 cat; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out/locolab_bg.wasm" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$out/ is up to date (stamp $stamp)"
    node scripts/check-wasm.mjs "$out/locolab_bg.wasm"
    return
  fi
  rm -f "$out/.stamp"
  # Cargo judges freshness by mtimes: a build of another checkout of this crate into the same
  # target dir (CI's clean clone, a worktree) can look newer than these sources' edits.
  touch src/lib.rs
  local cargo=(cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features "$features")
  if [ -n "$toolchain" ]; then
    # RUSTFLAGS replaces .cargo/config.toml's target rustflags, so it repeats +simd128.
    RUSTFLAGS="$flags" rustup run "$toolchain" "${cargo[@]}" "$@"
  else
    "${cargo[@]}"
  fi
  rm -rf "$out"
  wasm-bindgen "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/locolab.wasm" --out-dir "$out" --typescript --target web
  # wasm-opt (on a 2-core machine, native: about 1 and 2 minutes for a CPU and the WebGPU
  # module; npm's JavaScript build: 1 and 7 minutes of one core) runs beside the next module's
  # cargo build; the script waits for it at the end, and a module is stamped only once it is
  # optimised and checked.
  optimise "$out" "$stamp" &
  pending+=("$!")
}
optimise() {
  local out=$1 stamp=$2
  # shellcheck disable=SC2086 # the flags are words
  "$WASM_OPT" "$out/locolab_bg.wasm" -o "$out/locolab_bg.wasm-opt.wasm" $WASM_OPT_FLAGS
  mv "$out/locolab_bg.wasm-opt.wasm" "$out/locolab_bg.wasm"
  # Every page module must load in Safari: no relaxed-SIMD instruction (scripts/check-wasm.mjs).
  node scripts/check-wasm.mjs "$out/locolab_bg.wasm"
  echo "$stamp" > "$out/.stamp"
}
pending=()
wanted() { [[ ",${LOCOLAB_BUILDS:-cpu,mt,webgpu}," == *",$1,"* ]]; }
wanted cpu && build pkg-cpu flex
# The WebGPU module before the threaded one: its long wasm-opt pass then runs beside the threaded
# build (cold, on 2 cores: the three modules 5 minutes sooner, docs/BENCHMARKS.md).
wanted webgpu && build pkg flex,webgpu,fusion
# Threads: atomics and bulk memory in every crate (std included, hence build-std), and a shared,
# imported memory of at most 4 GiB; nightlies from October 2025 on need the shared-memory and
# TLS exports spelt out for the linker (rust-lang/rust#147225). The nightly is pinned in
# scripts/setup.sh (LOCOLAB_NIGHTLY).
wanted mt && build pkg-mt flex,web-threads "$(bash scripts/setup.sh --nightly-name)" \
  "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 -C link-arg=--shared-memory -C link-arg=--max-memory=4294967296 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base" \
  -Z build-std=panic_abort,std
failed=0
for p in "${pending[@]}"; do wait "$p" || failed=1; done
((failed == 0)) || { echo "build-web: a wasm-opt pass or its check failed (above)" >&2; exit 1; }

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
ls -l pkg-cpu/*.wasm pkg-mt/*.wasm pkg/*.wasm 2>/dev/null || true
