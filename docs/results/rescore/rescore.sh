#!/usr/bin/env bash
# Re-score the CIFAR-scale comparison's 15 final checkpoints (cifar50k: SimCLR, GIM, LoCo x 3
# seeds; cifar50k-gim2: two-stage GIM x 3 seeds) with the converged probe and kNN at k = 20
# beside the published scorers (issue 35, step 1), keeping every test image's prediction:
#   bash docs/results/rescore/rescore.sh [LOCOLAB]
# The checkpoints come from docs/results/cifar50k/in-progress.tar.gz (seed 0's are also
# committed beside their results); each evaluation writes <exp>/<method>/seed-<s>.json (the
# accuracies) and seed-<s>.predictions.json (every test image's label and predicted class, for
# the bootstrap over test images). A finished checkpoint is not evaluated again. Then
# summary.py writes the tables (tables.md here).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BIN=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab}
WORK=${LOCOLAB_LONG:-$HOME/locolab-long}/rescore
DATA=$REPO/../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz
mkdir -p "$WORK"
if [ ! -d "$WORK/cifar50k/loco/seed-2/final" ]; then
  tar xzf "$REPO/docs/results/cifar50k/in-progress.tar.gz" -C "$WORK" --wildcards '*/final/*'
fi
for exp in cifar50k cifar50k-gim2; do
  for ckpt in "$WORK/$exp"/*/seed-*/final; do
    rel=${ckpt#"$WORK"/}; rel=${rel%/final}            # cifar50k/loco/seed-0
    out=$HERE/$rel.json
    [ -f "$out" ] && continue
    mkdir -p "$(dirname "$out")"
    echo "== $rel"
    "$BIN" eval --checkpoint "$ckpt" --data "$DATA" --probe converged --predictions "$HERE/$rel.predictions.json" --json > "$out.tmp"
    mv "$out.tmp" "$out"
  done
done
python3 "$HERE/summary.py"
