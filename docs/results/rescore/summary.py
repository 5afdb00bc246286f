#!/usr/bin/env python3
"""Tables of re-scored final checkpoints (rescore.sh): every scorer per run, and the paired
differences by seed with an interval that includes the test set's own sampling noise.

    python3 docs/results/rescore/summary.py [SET]     # SET: cifar50k (default) or cifar50k-b2

Writes tables.md beside the scores (docs/results/rescore/ for cifar50k,
docs/results/cifar50k-b2/scores/ for cifar50k-b2). Standard library only. For each comparison
A - B and scorer:
  D_s          the paired difference of seed s (same initial encoder and batches)
  SE_seeds     sd(D_s) / sqrt(n)
  SE_test      the sd of mean_s(D_s) over 2,000 bootstrap resamples of the 8,000 test images,
               one resample shared by both methods and every seed (paired by image), from the
               kept predictions
  interval     mean +- t(n - 1) x sqrt(SE_seeds^2 + SE_test^2), t two-sided 5%
(as docs/results/cifar50k-b2/PLAN.md defines it). For cifar50k-b2 it also evaluates PLAN.md's
four outcomes on the primary measure (res7, the converged probe), written down before any run
of that experiment finished.
"""
import json
import math
import os
import random
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.dirname(HERE)
# Per set: where the scores are, and its rows (experiment, method folder, title).
SETS = {
    "cifar50k": (HERE, [("cifar50k", "simclr", "SimCLR"), ("cifar50k", "gim", "GIM"), ("cifar50k", "loco", "LoCo"), ("cifar50k-gim2", "gim", "GIM 2-stage")]),
    "cifar50k-b2": (os.path.join(RESULTS, "cifar50k-b2", "scores"), [("cifar50k-b2", "simclr", "SimCLR"), ("cifar50k-b2", "gim", "GIM"), ("cifar50k-b2", "loco", "LoCo"), ("cifar50k-b2-gim2", "gim", "GIM 2-stage")]),
}
SET = sys.argv[1] if len(sys.argv) > 1 else "cifar50k"
if SET not in SETS:
    sys.exit(f"summary.py: unknown set '{SET}' (one of: {', '.join(SETS)})")
SCORES, ROWS = SETS[SET]
SCORERS = [
    ("converged", "converged probe (L-BFGS, L2 on validation)"),
    ("linear", "300-step Adam probe (published)"),
    ("knn", "kNN k=200 (published)"),
    ("knn20", "kNN k=20"),
]
PAIRS = [("GIM", "SimCLR"), ("LoCo", "SimCLR"), ("LoCo", "GIM"), ("GIM 2-stage", "SimCLR"), ("LoCo", "GIM 2-stage"), ("GIM 2-stage", "GIM")]
T_CRIT = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
RESAMPLES = 2000


def load():
    runs = {}
    for exp, method, title in ROWS:
        for seed in range(3):
            base = os.path.join(SCORES, exp, method, f"seed-{seed}")
            if not (os.path.exists(base + ".json") and os.path.exists(base + ".predictions.json")):
                continue
            acc = json.load(open(base + ".json"))[-1]
            pred = json.load(open(base + ".predictions.json"))
            stage = pred["stages"][-1]
            assert stage["stage"] == acc["stage"], base
            result = os.path.join(RESULTS, exp, method, f"seed-{seed}", "result.json")
            published = json.load(open(result))["accuracy"][-1] if os.path.exists(result) else {"knn": acc["knn"], "linear": acc["linear"]}
            labels = pred["labels"]
            correct = {k: [int(p == l) for p, l in zip(stage["predictions"][k], labels)] for k, _ in SCORERS}
            runs[(title, seed)] = {
                "stage": acc["stage"],
                "scores": {"converged": acc["converged"]["top1"], "linear": acc["linear"], "knn": acc["knn"], "knn20": acc["knn20"]},
                "l2": acc["converged"]["l2"],
                "converged": acc["converged"]["converged"],
                "published": (published["knn"], published["linear"]),
                "correct": correct,
            }
    return runs


def fmt(v, signed=False):
    return f"{v:+.2f}" if signed else f"{v:.2f}"


def verdict(intervals, which):
    """PLAN.md's four outcomes (docs/results/cifar50k-b2/PLAN.md, committed before any run of
    the experiment finished), on the primary measure: res7, the converged probe, 3 seeds; with
    the primary interval (`which` = "": seeds and test images) or the secondary one of PLAN.md's
    amendment ("seeds": the seeds alone, as the published tables)."""
    need = [("LoCo", "SimCLR"), ("LoCo", "GIM 2-stage"), ("GIM 2-stage", "SimCLR")]
    got = {p: intervals.get((*p, "converged", which) if which else (*p, "converged")) for p in need}
    kind = "the primary interval (seeds and test images)" if not which else "the secondary interval (seeds alone)"
    title = f"## PLAN.md's verdict with {kind} (res7, the converged probe)"
    if SET != "cifar50k-b2":
        title = f"## PLAN.md's rule with {kind}, applied to this one-block comparison for reference"
    lines = [title, ""]
    if any(v is None or v[3] < 3 for v in got.values()):
        have = ", ".join(f"{a} − {b}: {v[3] if v else 0} seeds" for (a, b), v in got.items())
        return lines + [f"Not yet: the verdict needs all three seeds of every row ({have}); no reading before then.", ""]
    ls, lg2, g2s = got[("LoCo", "SimCLR")], got[("LoCo", "GIM 2-stage")], got[("GIM 2-stage", "SimCLR")]
    show = lambda name, v: f"{name} {v[0]:+.2f} [{v[1]:+.2f}, {v[2]:+.2f}]"
    lines.append("; ".join([show("LoCo − SimCLR", ls), show("LoCo − GIM 2-stage", lg2), show("GIM 2-stage − SimCLR", g2s)]))
    lines.append("")
    if ls[1] > -1.0 and lg2[1] > 0 and lg2[0] >= 1.0:
        lines.append("**Outcome 1: the paper's claim is supported at this depth** (LoCo − SimCLR above −1.0, LoCo − GIM 2-stage above 0 with a mean of at least +1.0).")
    elif lg2[1] <= 0 <= lg2[2] and ls[2] < 0 and g2s[2] < 0:
        lines.append("**Outcome 2: refuted at this depth**: LoCo is level with two-stage GIM and both trail SimCLR.")
    elif lg2[1] > 0 and ls[2] < -1.0:
        lines.append("**Outcome 3: the overlap helps but does not close the gap** (LoCo above two-stage GIM, more than a point below SimCLR).")
    else:
        lines.append("**Outcome 4: inconclusive**: the intervals are too wide to choose between the outcomes.")
    return lines + [""]


def main():
    runs = load()
    titles = [t for _, _, t in ROWS]
    out = [f"# {SET}: the final checkpoints under four scorers", ""]
    out.append(f"{len(runs)} of the 12 trained checkpoints scored (random init has none: it is each seed's untrained encoder, scored only by the published scorers).")
    out.append("res7, the 8,000 test images; the 50k training images as the kNN bank and the probes' data (the converged probe chooses its L2 strength on 5,000 of them held out).")
    out.append("")
    same = all(abs(r["scores"]["knn"] - r["published"][0]) < 1e-9 and abs(r["scores"]["linear"] - r["published"][1]) < 1e-9 for r in runs.values())
    out.append("Published kNN k=200 and 300-step-probe numbers " + ("reproduced exactly by every re-evaluation." if same else "NOT all reproduced: see the per-seed table."))
    out.append("")
    out.append("## Per method: mean ± sd over seeds (per-seed values)")
    out.append("")
    out.append("| method | " + " | ".join(name for _, name in SCORERS) + " | L2 chosen |")
    out.append("|---|" + "---|" * (len(SCORERS) + 1))
    for t in titles:
        seeds = sorted(s for (tt, s) in runs if tt == t)
        if not seeds:
            continue
        cells = []
        for k, _ in SCORERS:
            vals = [runs[(t, s)]["scores"][k] for s in seeds]
            sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
            cells.append(f"{statistics.mean(vals):.2f} ± {sd:.2f} ({', '.join(fmt(v) for v in vals)})")
        l2 = ", ".join(f"{runs[(t, s)]['l2']:g}" + ("" if runs[(t, s)]["converged"] else " (not converged)") for s in seeds)
        out.append(f"| {t} | " + " | ".join(cells) + f" | {l2} |")
    out.append("")
    out.append("## Paired by seed: A − B (points), 95% interval with the test set's sampling noise")
    out.append("")
    out.append("mean [interval] (per-seed range; SE over seeds, SE over test images; t over seeds alone, 2 df: |t| > 4.30 at 5%)")
    out.append("")
    out.append("| A − B | " + " | ".join(name for _, name in SCORERS) + " |")
    out.append("|---|" + "---|" * len(SCORERS))
    rng = random.Random(20261207)
    n_test = len(next(iter(runs.values()))["correct"]["knn"]) if runs else 0
    resamples = [[rng.randrange(n_test) for _ in range(n_test)] for _ in range(RESAMPLES)] if runs else []
    intervals = {}  # (a, b, scorer) -> (mean, lo, hi, n)
    for a, b in PAIRS:
        seeds = sorted(s for (t, s) in runs if t == a and (b, s) in runs)
        if not seeds:
            continue
        cells = []
        for k, _ in SCORERS:
            d = [runs[(a, s)]["scores"][k] - runs[(b, s)]["scores"][k] for s in seeds]
            mean = statistics.mean(d)
            n = len(d)
            se_seeds = statistics.stdev(d) / math.sqrt(n) if n > 1 else float("nan")
            # Per image: the seed-averaged difference of correctness, in points.
            per_image = [100.0 * sum(runs[(a, s)]["correct"][k][i] - runs[(b, s)]["correct"][k][i] for s in seeds) / n for i in range(n_test)]
            boots = [sum(per_image[i] for i in idx) / n_test for idx in resamples]
            se_test = statistics.stdev(boots)
            if n > 1:
                se = math.sqrt(se_seeds**2 + se_test**2)
                t = mean / se_seeds if se_seeds > 0 else float("inf")
                half = T_CRIT[n - 1] * se
                intervals[(a, b, k)] = (mean, mean - half, mean + half, n)
                seeds_half = T_CRIT[n - 1] * se_seeds
                intervals[(a, b, k, "seeds")] = (mean, mean - seeds_half, mean + seeds_half, n)
                cells.append(
                    f"{fmt(mean, True)} [{fmt(mean - half, True)}, {fmt(mean + half, True)}] ({fmt(min(d), True)} to {fmt(max(d), True)}; SE {se_seeds:.2f}, {se_test:.2f}; t {t:+.1f})"
                )
            else:
                cells.append(f"{fmt(mean, True)} (one seed; SE over test images {se_test:.2f})")
        out.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
    out.append("")
    out += verdict(intervals, "")
    out += verdict(intervals, "seeds")
    out.append("")
    # The share of GIM's deficit LoCo recovers, per seed.
    shares = []
    for s in range(3):
        if all((t, s) in runs for t in ("SimCLR", "GIM", "LoCo")):
            sc = {t: runs[(t, s)]["scores"] for t in ("SimCLR", "GIM", "LoCo")}
            shares.append((s, {k: (sc["LoCo"][k] - sc["GIM"][k]) / (sc["SimCLR"][k] - sc["GIM"][k]) for k, _ in SCORERS if sc["SimCLR"][k] != sc["GIM"][k]}))
    if shares:
        out.append("## Share of GIM's deficit to SimCLR that LoCo recovers, (LoCo − GIM) / (SimCLR − GIM), per seed")
        out.append("")
        for k, name in SCORERS:
            vals = [sh[k] for _, sh in shares if k in sh]
            out.append(f"- {name}: " + ", ".join(f"{100 * v:.0f}%" for v in vals) + f" (range {100 * min(vals):.0f}-{100 * max(vals):.0f}%)")
        out.append("")
    os.makedirs(SCORES, exist_ok=True)
    with open(os.path.join(SCORES, "tables.md"), "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
