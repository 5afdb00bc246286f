#!/usr/bin/env bash
# Installs what a fresh machine lacks for the demo and the tests; skips what is already there.
# Usage: scripts/setup.sh            everything (the tests)
#        scripts/setup.sh page       only what the page's first module needs (scripts/demo.sh
#                                    serves the page after this, then runs `setup.sh threads`
#                                    and builds the other modules in the background)
#        scripts/setup.sh threads    the pinned nightly for the threaded module
set -euo pipefail
cd "$(dirname "$0")/.."

# The page's threaded CPU build (scripts/build-web.sh, pkg-mt/) needs a nightly compiler: wasm
# threads need std rebuilt with atomics (-Z build-std, from rust-src). Pinned: this date's
# nightly is rustc 1.97.0-nightly (e50aa6fba 2026-05-19). The rest of the project uses stable.
NIGHTLY=${LOCOLAB_NIGHTLY:-nightly-2026-05-20}
if [ "${1:-}" = "--nightly-name" ]; then echo "$NIGHTLY"; exit 0; fi
part=${1:-all}
case "$part" in all|page|threads) ;; *) echo "setup.sh: unknown part '$part' (all, page or threads)" >&2; exit 2 ;; esac
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }

# Must equal the wasm-bindgen crate version in Cargo.lock (the CLI refuses a module built
# against another version of the crate).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3}' Cargo.lock)

need=()
# Chromium is for the tests only: the demo never waits for it.
if want all; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v chromedriver >/dev/null || need+=(chromium-driver)
fi
command -v node >/dev/null || need+=(nodejs npm)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  echo "setup: apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if want threads && ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "setup: rustup toolchain install $NIGHTLY (rust-src, wasm32: the threaded page build)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi

[ "$part" = threads ] && exit 0

# wasm-bindgen-cli: `wasm-bindgen` for the page's modules (scripts/build-web.sh) and
# `wasm-bindgen-test-runner` for the wasm tests (scripts/test.sh); chromedriver comes from apt.
# (No wasm-pack: it only calls these, and would download them at run time, which this machine,
# with no internet beyond package registries, cannot.)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # Not --locked: its lockfile pins a webpki-roots version the registry no longer serves.
  # opt-level 1: its install is on the cold demo's path to the first page, 2 min 3 s against
  # 2 min 49 s at the release profile's 3, and it then takes 6.5 s instead of 4.9 s for the
  # WebGPU module, the same bytes (docs/BENCHMARKS.md, "A native wasm-opt from Debian").
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm brings playwright-core (the e2e driver), uPlot (vendored into the page) and binaryen's
# wasm-opt compiled to JavaScript (the fallback of the native one below).
[ -d node_modules/binaryen ] && [ -d node_modules/playwright-core ] && [ -d node_modules/uplot ] || npm ci --no-audit --no-fund --loglevel=error
# A native wasm-opt (binaryen 120 from Debian trixie, in ~/.cache/locolab-tools): seconds to set
# up, minutes faster for every module (scripts/wasm-opt-native.sh says how and why).
bash scripts/wasm-opt-native.sh >/dev/null || echo "setup: no native wasm-opt (above): build-web.sh uses npm's binaryen" >&2
