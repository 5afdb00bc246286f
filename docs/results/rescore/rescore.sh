#!/usr/bin/env bash
# Score final checkpoints with the converged probe and kNN at k = 20 beside the published
# scorers, keeping every test image's prediction (for the bootstrap over test images), then
# write the tables (summary.py):
#   bash docs/results/rescore/rescore.sh [SET] [LOCOLAB]
# SET cifar50k (default): the CIFAR-scale comparison's 12 trained checkpoints (cifar50k: SimCLR,
#   GIM, LoCo x 3 seeds; cifar50k-gim2: two-stage GIM x 3 seeds), from
#   docs/results/cifar50k/in-progress.tar.gz; scores here (issue 35, step 1).
# SET cifar50k-b2: the finished runs of the 2-block experiment and its control, from their run
#   directories (~/locolab-long/cifar50k-b2*, continue.sh); scores in docs/results/cifar50k-b2/scores/,
#   and the tables evaluate PLAN.md's outcomes.
# Each evaluation writes <exp>/<method>/seed-<s>.json (the accuracies) and
# seed-<s>.predictions.json; a checkpoint already scored is not evaluated again.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
SET=${1:-cifar50k}
BIN=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab}
LONG=${LOCOLAB_LONG:-$HOME/locolab-long}
DATA=$REPO/../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz
case "$SET" in
  cifar50k)
    WORK=$LONG/rescore
    OUT=$HERE
    EXPS=(cifar50k cifar50k-gim2)
    mkdir -p "$WORK"
    if [ ! -d "$WORK/cifar50k/loco/seed-2/final" ]; then
      tar xzf "$REPO/docs/results/cifar50k/in-progress.tar.gz" -C "$WORK" --wildcards '*/final/*'
    fi ;;
  cifar50k-b2)
    WORK=$LONG
    OUT=$REPO/docs/results/cifar50k-b2/scores
    EXPS=(cifar50k-b2 cifar50k-b2-gim2) ;;
  *) echo "rescore.sh: unknown set '$SET' (cifar50k or cifar50k-b2)" >&2; exit 2 ;;
esac
for exp in "${EXPS[@]}"; do
  for ckpt in "$WORK/$exp"/*/seed-*/final; do
    [ -d "$ckpt" ] || continue
    # A run still training has no final weights yet; a final without its result.json is a run
    # killed while writing them (the pack of cifar50k keeps finals only: they are all finished).
    [ "$SET" = cifar50k ] || [ -f "$(dirname "$ckpt")/result.json" ] || continue
    rel=${ckpt#"$WORK"/}; rel=${rel%/final}            # cifar50k/loco/seed-0
    out=$OUT/$rel.json
    [ -f "$out" ] && continue
    mkdir -p "$(dirname "$out")"
    echo "== $rel"
    "$BIN" eval --checkpoint "$ckpt" --data "$DATA" --probe converged --predictions "$OUT/$rel.predictions.json" --json > "$out.tmp"
    mv "$out.tmp" "$out"
  done
done
python3 "$HERE/summary.py" "$SET"
