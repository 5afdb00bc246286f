#!/usr/bin/env bash
# The GPU check, as one script for a lent NVIDIA machine (no Rust toolchain, no internet there):
# checks that a step on burn's wgpu/Vulkan backend (and CUDA, if the binary has it) matches the
# CPU step, then times the same step as bench/pytorch/locolab_ref.py on PyTorch CUDA, side by
# side, in one run.
#
#   bench/gpu/run.sh BIN DATA OUTDIR [DEADLINE_SECONDS]
#
# BIN: a `locolab` built with `--features wgpu,fusion,autotune` (release; add `cuda` where its build can
# download LLVM, see README "GPU"); DATA: a CIFAR-10 binary directory; JPEG (env): the 50k
# CIFAR-10 JPEG archive for the comparison. The device machine gets the working tree, not
# ../shared: copy both into an ignored folder (e.g. .gpu-carry/) and name it in `carry`.
# Vulkan needs the loader (README "GPU"): unpack libvulkan1 before calling.
# With a DEADLINE it then runs the long comparison (docs/results) on the GPU until DEADLINE - 30 s
# after the script started, resumable: OUTDIR/experiment.tgz carries it back, checkpoints of
# unfinished runs included, for `locolab compare --resume` anywhere. COMPARE_ONLY=1 skips 1 and 2.
set -uo pipefail
BIN=$1 DATA=$2 OUT=$3 DEADLINE=${4:-0}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
# The GPU backends this binary has (its error for an unknown backend lists them).
GPUS=$("$BIN" --backend nosuch --data "$DATA" eval --checkpoint /nonexistent 2>&1 | grep -o 'this build has: .*' | sed 's/this build has: //; s/,//g; s/flex//')
echo "GPU backends in $BIN: $GPUS" | tee -a "$OUT/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$OUT/gpu.txt"

if [ -z "${COMPARE_ONLY:-}" ]; then
# 1. Correctness: 3 LoCo steps from the same seed on flex (CPU), cuda and wgpu; losses must agree.
for b in flex $GPUS; do
  timeout 90 "$BIN" --backend $b --data "$DATA" train --preset browser --method loco --batch 32 --steps 3 \
    --no-eval --checkpoint-every 100 --out "/tmp/check-$b" >"$OUT/check-$b.log" 2>&1 || echo "check $b failed: $(tail -3 "$OUT/check-$b.log")"
done
python3 - "$OUT" <<'PY' | tee "$OUT/check.txt"
import json, sys
rows = {}
for b in ["flex", "cuda", "wgpu"]:
    try:
        rows[b] = [json.loads(l)["losses"] for l in open(f"/tmp/check-{b}/metrics.jsonl")]
    except Exception as e:
        print(f"{b}: no metrics ({e})")
for b in ["cuda", "wgpu"]:
    if b in rows and "flex" in rows:
        d = max(abs(x - y) for a, c in zip(rows["flex"], rows[b]) for x, y in zip(a, c))
        print(f"{b} vs flex: max |loss difference| over 3 LoCo steps = {d:.2e}")
for b, r in rows.items():
    print(b, "step 1 losses", [round(x, 5) for x in r[0]])
PY

# 2. Speed and memory: one training step, ours (cuda, wgpu) and PyTorch CUDA, same nets; PResNet-50
#    at 224 (the paper's network) first, then the CIFAR-size nets.
for cfg in "presnet50 32" "presnet-tiny 256" "presnet-cifar 128"; do
  set -- $cfg
  for b in $GPUS; do
    timeout 150 "$BIN" --backend $b --data "$DATA" bench --arch $1 --batch $2 --steps 5 --json \
      >"$OUT/ours-$b-$1-$2.json" 2>"$OUT/ours-$b-$1-$2.err" || echo "ours $b $1 $2 failed: $(tail -2 "$OUT/ours-$b-$1-$2.err")"
  done
  timeout 120 python3 bench/pytorch/locolab_ref.py --device cuda --arch $1 --batch $2 --steps 5 --data "$DATA" --json \
    >"$OUT/torch-$1-$2.json" 2>"$OUT/torch-$1-$2.err" || echo "torch $1 $2 failed: $(tail -2 "$OUT/torch-$1-$2.err")"
done
python3 - "$OUT" <<'PY' | tee "$OUT/table.md"
import json, os, sys
out = sys.argv[1]
print("| network | batch | method | burn cuda img/s | burn wgpu img/s | PyTorch CUDA img/s | cuda / PyTorch | burn pool MiB (cuda / wgpu) | PyTorch step peak MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for arch, batch in [("presnet50", 32), ("presnet-tiny", 256), ("presnet-cifar", 128)]:
    def rows(name):
        try:
            d = json.load(open(os.path.join(out, name)))
            return {r["method"].split("(")[0]: r for r in (d["rows"] if isinstance(d, dict) else d)}
        except Exception:
            return {}
    cu, wg, pt = rows(f"ours-cuda-{arch}-{batch}.json"), rows(f"ours-wgpu-{arch}-{batch}.json"), rows(f"torch-{arch}-{batch}.json")
    for m in ["simclr", "gim", "loco"]:
        f = lambda d, k="images_per_sec": (d[m].get(k) or float("nan")) if m in d else float("nan")
        mib = lambda d, k: f(d, k) / 2**20
        print(f"| {arch} | {batch} | {m} | {f(cu):.0f} | {f(wg):.0f} | {f(pt):.0f} | {f(cu) / f(pt):.2f} | "
              f"{mib(cu, 'device_reserved_bytes'):.0f} / {mib(wg, 'device_reserved_bytes'):.0f} | {mib(pt, 'step_peak_bytes'):.0f} |")
PY

# 3. The CIFAR-scale comparison (README "Results", issue 24) at the paper's budget: all 50,000
#    CIFAR-10 training images (the JPEG archive, $JPEG), presnet-tiny, 100 epochs, 3 seeds, every
#    run at once. Kernels are warm from 1 and 2 (same process cache only for the first run).
fi  # COMPARE_ONLY

JPEG=${JPEG:-../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz}
COMPARE_SECONDS=$((DEADLINE - SECONDS - 30))
echo "checks and benchmarks took ${SECONDS}s; comparison gets ${COMPARE_SECONDS}s" | tee "$OUT/timing.txt"
if [ "$DEADLINE" -gt 0 ] && [ "$COMPARE_SECONDS" -gt 30 ]; then
  EXP=/tmp/experiment
  if [ -f "$EXP/experiment.json" ]; then RESUME=--resume; else RESUME="--preset browser --batch 256 --epochs 100 --seeds 3 --eval-every 392 --checkpoint-every 196 --monitor-train 10000 --monitor-test 2000"; fi
  LOCOLAB_CACHE=/tmp/locolab-data timeout "$COMPARE_SECONDS" "$BIN" --backend ${GPU:-wgpu} --data "$JPEG" --workers 4 compare \
    --jobs 9 --out "$EXP" $RESUME >"$OUT/compare.log" 2>&1
  echo "compare exit $?" | tee -a "$OUT/compare.log"
  # Finished runs keep their result and final weights; unfinished ones their newest checkpoint.
  for d in "$EXP"/*/seed-*; do
    if [ -f "$d/result.json" ]; then rm -rf "$d/checkpoints"; else ls -d "$d"/checkpoints/step-* 2>/dev/null | head -n -1 | xargs -r rm -rf; fi
  done
  tar czf "$OUT/experiment.tgz" -C /tmp experiment
  ls -la "$OUT"
fi
