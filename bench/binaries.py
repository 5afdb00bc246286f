#!/usr/bin/env python3
"""Two (or more) locolab binaries side by side on the same `locolab bench` arguments.

    python3 bench/binaries.py [--rounds R] BIN_A BIN_B ... -- BENCH ARGS

Runs `BIN bench BENCH ARGS --json` for every binary, R rounds, the order reversed every other
round (A B, B A, ...) so that a drift of the machine falls on both, and prints one table: per
method and binary, the median seconds a step of every round, the step relative to the first
binary's in the same round, the step relative to SimCLR's in the same invocation, and the peak
step memory. The binaries must read the same data (`--data`, as `locolab bench` takes it).

What a speed change is worth is the "vs first" column over every round; the VM drifts by 10%
between minutes, so one round says little.
"""
import json
import subprocess
import sys


def run(binary, args):
    out = subprocess.run([binary, "bench", *args, "--json"], check=True, capture_output=True, text=True).stdout
    return {r["method"]: r for r in json.loads(out)}


def main(argv):
    rounds = 2
    if argv[:1] == ["--rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    if "--" not in argv:
        sys.exit(__doc__)
    cut = argv.index("--")
    binaries, args = argv[:cut], argv[cut + 1 :]
    if not binaries:
        sys.exit("bench/binaries.py: name at least one binary before `--`")
    results = {b: [] for b in binaries}
    for r in range(rounds):
        order = binaries if r % 2 == 0 else list(reversed(binaries))
        for b in order:
            print(f"round {r + 1}: {b}", file=sys.stderr, flush=True)
            results[b].append(run(b, args))
    methods = list(results[binaries[0]][0])
    print(f"`locolab bench {' '.join(args)}`, {rounds} rounds, orders alternating\n")
    print("| method | binary | s/step per round | vs first binary | vs SimCLR | peak MiB |")
    print("|---|---|---|---|---|---|")
    for m in methods:
        for b in binaries:
            steps = [res[m]["median_step_seconds"] for res in results[b]]
            first = [res[m]["median_step_seconds"] for res in results[binaries[0]]]
            rel = [s / f for s, f in zip(steps, first)]
            simclr = [res.get("simclr", {}).get("median_step_seconds") for res in results[b]]
            vs = " / ".join(f"{s / c:.2f}x" for s, c in zip(steps, simclr) if c) or "-"
            peak = results[b][0][m]["step_peak_bytes"] / 2**20
            print(
                f"| {m} | {b.split('/')[-1]} | {' / '.join(f'{s:.3f}' for s in steps)} | "
                f"{' / '.join(f'{x:.3f}' for x in rel)} | {vs} | {peak:.2f} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
