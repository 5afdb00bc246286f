#!/usr/bin/env bash
# Continue the CIFAR-scale comparison in the background, niced, from wherever it stopped:
#   bash docs/results/cifar50k/continue.sh            # start or resume
#   bash docs/results/cifar50k/continue.sh --pack     # write in-progress.tar.gz here (to commit)
# The binary is built once from the pinned commit (the code that started the experiment: a
# resumed run must see the same batches) into ~/locolab-long/bin, outside the clone. The run
# directory is ~/locolab-long/cifar50k; on a fresh machine it is restored from the committed
# in-progress.tar.gz (newest checkpoint of each unfinished run, logs, finished results).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
COMMIT=2658862
LONG=${LOCOLAB_LONG:-$HOME/locolab-long}
EXP=$LONG/cifar50k
BIN=$LONG/bin/locolab-$COMMIT
DATA=$REPO/../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz

if [ "${1:-}" = "--pack" ]; then
  # Finished runs: result + monitor + final weights; unfinished: the newest checkpoint and logs.
  cd "$LONG"
  files=(cifar50k/experiment.json cifar50k/data.json)
  for d in cifar50k/*/seed-*; do
    [ -d "$d" ] || continue
    if [ -f "$d/result.json" ]; then
      files+=("$d/result.json" "$d/monitor.jsonl" "$d/metrics.jsonl" "$d/final")
    else
      newest=$(ls -d "$d"/checkpoints/step-* 2>/dev/null | tail -1 || true)
      [ -n "$newest" ] && files+=("$newest")
      for f in metrics.jsonl monitor.jsonl time.json; do [ -f "$d/$f" ] && files+=("$d/$f"); done
    fi
  done
  tar czf "$HERE/in-progress.tar.gz" "${files[@]}"
  ls -la "$HERE/in-progress.tar.gz"
  exit 0
fi

if pgrep -f -- "--out $EXP\$" >/dev/null; then echo "already running in $EXP"; exit 0; fi
if [ ! -x "$BIN" ]; then
  mkdir -p "$LONG/bin"
  src=$(mktemp -d)
  git -C "$REPO" worktree add --detach "$src/tree" "$COMMIT" >/dev/null
  (cd "$src/tree" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}" cargo build --release --bin locolab)
  cp "${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab" "$BIN"
  git -C "$REPO" worktree remove --force "$src/tree"
  # The shared target dir now holds the pinned commit's binary: rebuild the clone's before use.
fi
if [ ! -f "$EXP/experiment.json" ]; then
  mkdir -p "$LONG"
  tar xzf "$HERE/in-progress.tar.gz" -C "$LONG"
  echo "restored $EXP from in-progress.tar.gz"
fi
cd "$REPO"
nohup nice -n 19 "$BIN" compare --data "$DATA" --resume --out "$EXP" >> "$LONG/cifar50k.log" 2>&1 &
echo "running (pid $!): tail -f $LONG/cifar50k.log"
