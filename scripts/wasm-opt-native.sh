#!/usr/bin/env bash
# A native `wasm-opt` for scripts/build-web.sh, set up once in $LOCOLAB_TOOLS (default
# ~/.cache/locolab-tools); prints the path of the command to run, or nothing (and says why on
# stderr) where it cannot be had, and build-web.sh then uses npm's binaryen.
#   bash scripts/wasm-opt-native.sh          set up if needed; print the command
#   bash scripts/wasm-opt-native.sh --path   print the command only if it is already set up
#
# Why: npm's binaryen is binaryen compiled to JavaScript/wasm, one thread: 7 minutes of one core
# for the WebGPU module's `-Oz` on a 2-core machine. Native binaryen 120 does the same in about
# 2 minutes on both cores (docs/BENCHMARKS.md, "A native wasm-opt from Debian"). The registries
# reachable here have no native binaryen that reads our modules: this machine's Debian
# (bookworm) has binaryen 108, which breaks wasm-bindgen's reference types; crates.io's
# `wasm-opt` crate is binaryen 116, which stops at an instruction rustc now emits. Debian's
# current stable (trixie) has binaryen 120, built against a newer C library than bookworm's: so
# its package is unpacked with trixie's C and C++ runtime into a directory of its own (apt-get
# with a private package list, `dpkg-deb -x`: the system's packages are not touched) and run
# through that runtime's own loader.
set -euo pipefail
TOOLS=${LOCOLAB_TOOLS:-$HOME/.cache/locolab-tools}
SUITE=${LOCOLAB_BINARYEN_SUITE:-trixie}
MIN_VERSION=120
dir=$TOOLS/binaryen-$SUITE
cmd=$dir/wasm-opt

works() { [ -x "$cmd" ] && v=$("$cmd" --version 2>/dev/null) && [ "$(awk '{print $3}' <<<"$v")" -ge "$MIN_VERSION" ] 2>/dev/null; }
if works; then echo "$cmd"; exit 0; fi
[ "${1:-}" = --path ] && exit 0
no() { echo "wasm-opt-native: $1; using npm's binaryen (slower)" >&2; exit 0; }

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || no "no apt-get/dpkg-deb on this machine"
arch=$(dpkg --print-architecture)
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/lists/partial" "$dir.tmp/cache/archives/partial" "$dir.tmp/debs"
echo "deb http://deb.debian.org/debian $SUITE main" > "$dir.tmp/sources.list"
apt=(-o "Dir::Etc::sourcelist=$dir.tmp/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir.tmp/lists"
  -o "Dir::Cache=$dir.tmp/cache" -o APT::Sandbox::User=root -o Acquire::Languages=none
  -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false)
echo "setup: native wasm-opt: binaryen from Debian $SUITE into $dir"
apt-get "${apt[@]}" -qq update >/dev/null 2>"$dir.tmp/err" || no "apt-get update of Debian $SUITE failed ($(tail -1 "$dir.tmp/err"))"
(cd "$dir.tmp/debs" && apt-get "${apt[@]}" -qq download binaryen libc6 libstdc++6 libgcc-s1 >/dev/null 2>"$dir.tmp/err") ||
  no "apt-get download from Debian $SUITE failed ($(tail -1 "$dir.tmp/err"))"
for deb in "$dir.tmp"/debs/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
loader=$(find "$dir.tmp/root" -name 'ld-linux*.so*' | head -1)
bin=$dir.tmp/root/usr/bin/wasm-opt
[ -n "$loader" ] && [ -x "$bin" ] || no "the $arch packages have no loader or wasm-opt"
lib=$(dirname "$(find "$dir.tmp/root" -name libc.so.6 | head -1)")
rm -rf "$dir.tmp/lists" "$dir.tmp/cache" "$dir.tmp/debs" "$dir.tmp/err" "$dir.tmp/sources.list"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
cat > "$cmd" <<EOF
#!/bin/sh
# binaryen's wasm-opt from Debian $SUITE, on that release's own C runtime (scripts/wasm-opt-native.sh).
exec "${loader/$dir.tmp/$dir}" --library-path "${lib/$dir.tmp/$dir}" "$dir/root/usr/bin/wasm-opt" "\$@"
EOF
chmod +x "$cmd"
works || no "$cmd does not run or is older than binaryen $MIN_VERSION"
echo "$cmd"
