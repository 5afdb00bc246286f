#!/usr/bin/env bash
# Prepares everything a lent GPU machine needs for bench/gpu/run.sh, here (it has no Rust
# toolchain and no internet), into the ignored folder .gpu-carry/ (under the device tool's 64 MiB
# carry limit), and prints the one `run` call to make:
#
#   bash bench/gpu/prepare.sh            # builds two binaries (about 20 minutes cold), packs
#   DRY=1 bash bench/gpu/prepare.sh      # ... then runs run.sh here on lavapipe for 6 minutes
#
# .gpu-carry/
#   locolab.xz        --features wgpu,fusion,persistence: burn's default kernels, no autotuning.
#                     Its first step takes seconds (lavapipe: 3.8 s for presnet-tiny, against
#                     316 s with autotune and a cold cache: docs/BENCHMARKS.md "Autotune and its
#                     cache"), so run.sh's correctness check and first figures always finish.
#   locolab-tuned.xz  --features wgpu,fusion,autotune,persistence: autotuned kernels, the tuning
#                     results kept on disk (cubecl's environment database) and brought back in
#                     $OUT/cubecl-environment.tgz for the next lease (KERNEL_CACHE=...).
#   cifar10-small/    600 train / 200 test images of the CIFAR-10 binary split (bench, check)
#   cifar10-jpeg.tar.xz  the 50k JPEG archive for the CIFAR-scale comparison (phase 3)
#   libvulkan1.deb    Debian's Vulkan loader (the GPU image has NVIDIA's driver, not the loader)
#   kernel-cache.tgz  (if KERNEL_CACHE names one an earlier lease brought back)
# TUNED=0 skips the tuned binary (saves 17 MB of carry and the second build).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}
C=.gpu-carry
rm -rf "$C" && mkdir -p "$C"
pack() { # features, name
  cargo build --release --features "$1"
  strip -o "$C/$2" "$CARGO_TARGET_DIR/release/locolab"
  xz -9 -T0 "$C/$2"
}
# Both share cubecl's crates (the persistence feature changes them), so the second build only
# recompiles burn's GPU crates and ours (about 4 minutes here after the first's 15).
pack wgpu,fusion,persistence locolab
[ "${TUNED:-1}" = 0 ] || pack wgpu,fusion,autotune,persistence locolab-tuned
mkdir -p "$C/cifar10-small"
head -c $((600 * 3073)) ../shared/data/cifar10/train_5k.bin >"$C/cifar10-small/data_batch_1.bin"
head -c $((200 * 3073)) ../shared/data/cifar10/test_1k.bin >"$C/cifar10-small/test_batch.bin"
cp ../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz "$C/"
(cd "$C" && apt-get download libvulkan1 >/dev/null 2>&1 && mv libvulkan1_*.deb libvulkan1.deb) \
  || echo "note: could not download libvulkan1 (apt-get update first); run.sh needs a Vulkan loader on the GPU machine"
[ -f "${KERNEL_CACHE:-}" ] && cp "$KERNEL_CACHE" "$C/kernel-cache.tgz"
du -sh "$C"/*
total=$(du -sb "$C" | cut -f1)
echo "carry: $((total / 1048576)) MiB of the device tool's 64 MiB"
[ "$total" -lt $((64 * 1048576)) ] || { echo "error: .gpu-carry is over 64 MiB: TUNED=0, or leave the JPEG archive out"; exit 1; }
cat <<'EOF'
The device call (carry [".gpu-carry"], timeout_s 600; run.sh keeps 25 s for packing):
  PACK=$OUT/gpu.tgz bash bench/gpu/run.sh .gpu-carry/locolab.xz .gpu-carry/cifar10-small /tmp/gpu 560
Then: record the figures in docs/BENCHMARKS.md, keep $OUT/gpu.tgz's cubecl-environment.tgz (the
tuning results) and experiment.tgz (the comparison) for the next lease: KERNEL_CACHE=... and
RESUME_FROM=... (run.sh's header).
EOF
if [ -n "${DRY:-}" ]; then
  # Here: no NVIDIA GPU and no CUDA torch; lavapipe (mesa-vulkan-drivers) stands in for Vulkan,
  # so every phase runs and says what it could not do.
  echo "dry run on this machine (lavapipe), 360 s:"
  BENCH=${BENCH:-presnet-tiny:8} bash bench/gpu/run.sh .gpu-carry/locolab.xz .gpu-carry/cifar10-small /tmp/gpu-dry 360
fi
