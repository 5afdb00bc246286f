"""Ours against PyTorch on the same training step, in one run on one machine.

    python bench/pytorch/compare.py [--arch presnet-cifar] [--batch 32] [--steps 5] [--threads N]

Runs `locolab bench --memory rss --json` and `locolab_ref.py --json` one after the other with the
same architecture, batch, methods and thread count, and prints, per method, images/s and step
peak memory (peak resident set above the level before the step, read the same way for both)
with the ours/PyTorch ratios. Each side runs twice: a timing pass with the default allocator,
and a memory pass with glibc's mmap threshold pinned (MALLOC_MMAP_THRESHOLD_) so that large
freed buffers go back to the system at once and the resident set tracks live memory. The
pinned threshold makes every large buffer a fresh mmap, which costs burn (it allocates a new
buffer per op) far more time than PyTorch, so no timing is read from that pass.
Needs the release binary (`cargo build --release`) and `pip install -r bench/pytorch/requirements.txt`.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, env):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser(description="ours vs PyTorch, same step, one run")
    p.add_argument("--arch", default="presnet-cifar")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--methods", default="simclr,gim,loco")
    p.add_argument("--decoder", default="conv-mlp")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "cifar10"))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    p.add_argument("--locolab", default=os.path.join(target, "release", "locolab"))
    p.add_argument("--python", default=sys.executable)
    args = p.parse_args()
    if not os.path.exists(args.locolab):
        raise SystemExit(f"{args.locolab} not found: run `cargo build --release` (or pass --locolab)")
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    mem_env = dict(env, MALLOC_MMAP_THRESHOLD_="65536")
    common = ["--arch", args.arch, "--batch", str(args.batch), "--methods", args.methods, "--decoder", args.decoder, "--data", args.data, "--json"]
    ours_cmd = [args.locolab, "bench", "--memory", "rss", *common]
    ref_cmd = [args.python, os.path.join(HERE, "locolab_ref.py"), "--threads", str(args.threads), *common]
    timing = ["--steps", str(args.steps)]
    memory = ["--steps", "2"]
    ours = run(ours_cmd + timing, env)
    ref = run(ref_cmd + timing, env)
    ours_mem = {r["method"]: r["step_peak_bytes"] for r in run(ours_cmd + memory, mem_env)}
    torch_mem = {r["method"]: r["step_peak_bytes"] for r in run(ref_cmd + memory, mem_env)["rows"]}
    for r in ours:
        r["step_peak_bytes"] = ours_mem[r["method"]]
    torch_rows = {r["method"]: dict(r, step_peak_bytes=torch_mem[r["method"]]) for r in ref["rows"]}
    mib = lambda b: b / 2**20
    print(f"\n{args.arch} at 32x32, batch {args.batch} (2 views), {args.threads} threads, median of {args.steps} steps; "
          f"burn flex vs torch {ref['torch']} (CPU)\n")
    print("| method | ours images/s | PyTorch images/s | ours / PyTorch speed | ours peak MiB | PyTorch peak MiB | ours / PyTorch memory |")
    print("|---|---|---|---|---|---|---|")
    for r in ours:
        name = r["method"].split("(")[0]
        t = torch_rows[name]
        print(f"| {r['method']} | {r['images_per_sec']:.1f} | {t['images_per_sec']:.1f} | {r['images_per_sec'] / t['images_per_sec']:.2f} | "
              f"{mib(r['step_peak_bytes']):.1f} | {mib(t['step_peak_bytes']):.1f} | {r['step_peak_bytes'] / max(t['step_peak_bytes'], 1):.2f} |")


if __name__ == "__main__":
    main()
