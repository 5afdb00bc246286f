#!/usr/bin/env bash
# Publish every finished (method, seed) of a CIFAR-scale experiment and re-render its report:
#   bash docs/results/cifar50k/publish.sh [NAME] [LOCOLAB]
# NAME: cifar50k (default), cifar50k-gim2, cifar50k-b2 or cifar50k-b2-gim2, the run directory
# ~/locolab-long/NAME (continue.sh of cifar50k or cifar50k-b2);
# LOCOLAB: the binary that renders the report (default: the clone's release build).
# Copies each finished run's result.json and monitor.jsonl (and a seed-0 run's final weights)
# into docs/results/NAME/<method>/seed-<s>/, then `locolab report` over exactly those results
# writes results.json, results.md and the figures there (for a control, also a report of its runs
# beside cifar50k's, paired seed for seed: with-cifar50k/), and experiment.json stamped with the
# commit that trained it (pins.sh) where the run's own file predates that field. Training is not
# touched.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NAME=${1:-cifar50k}
BIN=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab}
RUN=${LOCOLAB_LONG:-$HOME/locolab-long}/$NAME
OUT=$HERE/../$NAME
[ -f "$RUN/experiment.json" ] || { echo "publish.sh: no experiment in $RUN (run continue.sh first)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "publish.sh: no locolab binary at $BIN (cargo build --release, or pass one)" >&2; exit 1; }
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=pins.sh
. "$HERE/pins.sh"
cp "$RUN/data.json" "$tmp/"
python3 - "$RUN/experiment.json" "$tmp/experiment.json" "${COMMIT[$NAME]:-}" <<'PY'
import json, sys
text = open(sys.argv[1]).read().rstrip()
if "commit" not in json.loads(text) and sys.argv[3]:
    # Appended as text: the rest of the file stays byte for byte as locolab wrote it.
    text = text[:-1].rstrip() + ',\n  "commit": "%s"\n}' % sys.argv[3]
    json.loads(text)
open(sys.argv[2], "w").write(text)
PY
n=0
for d in "$RUN"/*/seed-*; do
  [ -f "$d/result.json" ] || continue
  rel=${d#"$RUN"/}
  mkdir -p "$OUT/$rel" "$tmp/$rel"
  cp "$d/result.json" "$OUT/$rel/"
  cp "$d/result.json" "$tmp/$rel/"
  [ -f "$d/monitor.jsonl" ] && cp "$d/monitor.jsonl" "$OUT/$rel/"
  if [ "${rel##*/}" = seed-0 ] && [ -d "$d/final" ] && [ ! -d "$OUT/$rel/final" ]; then cp -r "$d/final" "$OUT/$rel/"; fi
  n=$((n + 1))
done
"$BIN" report --results "$tmp" > /dev/null
cp "$tmp/experiment.json" "$tmp/results.json" "$tmp/results.md" "$tmp"/*.svg "$OUT/"
echo "published $n finished runs of $NAME into ${OUT#"$HERE/../"}: $(cd "$tmp" && ls results.* *.svg | tr '\n' ' ')"
# An experiment the page's long-run panel shows (www/longrun.js) keeps its page check current:
# the seed-0 weights published so far, evaluated natively on the page's images.
if [ -f "$OUT/page-check.json" ]; then LOCOLAB=$BIN bash "$HERE/page-check.sh" "$NAME"; fi
# A control: its runs beside its main comparison's, paired seed for seed, in one report
# (cifar50k-gim2 beside cifar50k; cifar50k-b2-gim2 beside cifar50k-b2, once that has results).
case "$NAME" in
  *-gim2)
    MAIN=${NAME%-gim2}
    if [ -f "$HERE/../$MAIN/results.json" ]; then
      "$BIN" report --results "$HERE/../$MAIN/results.json" --beside "$tmp" --out "$OUT/with-$MAIN" > /dev/null
      echo "and beside $MAIN's runs into ${OUT#"$HERE/../"}/with-$MAIN"
    fi ;;
esac
