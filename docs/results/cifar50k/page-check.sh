#!/usr/bin/env bash
# The seed-0 checkpoints of a CIFAR-scale comparison, evaluated natively on the page's CIFAR-10
# subset (../shared/data/cifar10: 5,000 train / 1,000 test, every stage, kNN k=200 and linear):
# the page's long-run panel evaluates the same weights on the same images in the browser and
# sets its numbers beside these (the published ones use the 50,000-image bank and 8,000 test
# images, which the page does not load).
#   bash docs/results/cifar50k/page-check.sh [NAME]   # writes docs/results/NAME/page-check.json
# NAME: cifar50k (default) or cifar50k-b2: every method whose seed-0 final weights are published
# (publish.sh) so far; run it again after each publish that adds one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
NAME=${1:-cifar50k}
EXP=$REPO/docs/results/$NAME
BIN=${LOCOLAB:-${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab}
DATA=$REPO/../shared/data/cifar10
[ -d "$EXP" ] || { echo "page-check.sh: no experiment at docs/results/$NAME" >&2; exit 1; }
[ -x "$BIN" ] || { echo "page-check.sh: no locolab binary at $BIN (cargo build --release, or set LOCOLAB)" >&2; exit 1; }
out=$EXP/page-check.json
{
  echo "{"
  echo "  \"what\": \"locolab eval --checkpoint docs/results/$NAME/<method>/seed-0/final --data ../shared/data/cifar10 --every-stage --json\","
  echo "  \"commit\": \"$(git -C "$REPO" rev-parse --short HEAD)\","
  echo "  \"runs\": {"
  first=1
  for m in simclr gim loco; do
    [ -d "$EXP/$m/seed-0/final" ] || continue
    [ $first = 1 ] || echo ","
    first=0
    echo "    \"$m\": $("$BIN" eval --checkpoint "$EXP/$m/seed-0/final" --data "$DATA" --every-stage --json 2>/dev/null | tr -d ' \n')"
  done
  echo "  }"
  echo "}"
} > "$out.tmp"
python3 -m json.tool "$out.tmp" > "$out"
rm "$out.tmp"
echo "wrote $out"
