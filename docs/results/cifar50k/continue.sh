#!/usr/bin/env bash
# Continue the CIFAR-scale experiments in the background, niced, from wherever they stopped:
#   bash docs/results/cifar50k/continue.sh            # start or resume
#   bash docs/results/cifar50k/continue.sh --pack     # write in-progress.tar.gz here (to commit)
# Two experiments, one after the other, each with its own pinned binary (pins.sh: the code that
# started it; a resumed run must see the same batches), built once into ~/locolab-long/bin
# outside the clone:
#   cifar50k       SimCLR, GIM, LoCo x 3 seeds (commit 2658862; its command: COMMAND.txt there)
#   cifar50k-gim2  the control, GIM with two-stage modules x 3 seeds (commit a5b1cfb,
#                  experiments/cifar50k-gim2.toml)
# Run directories live in ~/locolab-long/<name>; on a fresh machine they are restored from the
# committed in-progress.tar.gz (newest checkpoint of each unfinished run, logs, finished results).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
LONG=${LOCOLAB_LONG:-$HOME/locolab-long}
DATA=$REPO/../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz
NAMES=(cifar50k cifar50k-gim2)
# shellcheck source=pins.sh
. "$HERE/pins.sh"
declare -A START=([cifar50k-gim2]="--config $REPO/experiments/cifar50k-gim2.toml")

if [ "${1:-}" = "--pack" ]; then
  # Finished runs: result + monitor + final weights; unfinished: the newest checkpoint and logs.
  cd "$LONG"
  files=()
  for name in "${NAMES[@]}"; do
    [ -f "$name/experiment.json" ] || continue
    files+=("$name/experiment.json" "$name/data.json")
    [ -f "$name/experiment.toml" ] && files+=("$name/experiment.toml")
    for d in "$name"/*/seed-*; do
      [ -d "$d" ] || continue
      if [ -f "$d/result.json" ]; then
        # random-init has a result only (no training, no monitor, no weights).
        for f in result.json monitor.jsonl metrics.jsonl final; do [ -e "$d/$f" ] && files+=("$d/$f"); done
      else
        newest=$(ls -d "$d"/checkpoints/step-* 2>/dev/null | tail -1 || true)
        [ -n "$newest" ] && files+=("$newest")
        for f in metrics.jsonl monitor.jsonl time.json; do [ -f "$d/$f" ] && files+=("$d/$f"); done
      fi
    done
  done
  tar czf "$HERE/in-progress.tar.gz" "${files[@]}"
  ls -la "$HERE/in-progress.tar.gz"
  exit 0
fi

if pgrep -f "locolab-long/driver.sh" >/dev/null; then echo "already running (tail -f $LONG/*.log)"; exit 0; fi
mkdir -p "$LONG/bin"
for name in "${NAMES[@]}"; do
  bin=$LONG/bin/locolab-${COMMIT[$name]:0:7}
  if [ ! -x "$bin" ]; then
    src=$(mktemp -d)
    git -C "$REPO" worktree add --detach "$src/tree" "${COMMIT[$name]}" >/dev/null
    (cd "$src/tree" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}" cargo build --release --bin locolab)
    cp "${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab" "$bin"
    git -C "$REPO" worktree remove --force "$src/tree"
    # The shared target dir now holds the pinned commit's binary: rebuild the clone's before use.
  fi
done
if [ ! -f "$LONG/cifar50k/experiment.json" ] && [ -f "$HERE/in-progress.tar.gz" ]; then
  tar xzf "$HERE/in-progress.tar.gz" -C "$LONG"
  echo "restored from in-progress.tar.gz"
fi

# The driver: each experiment in turn, resumed if it exists (a run still going from an older
# driver is waited for first). It lives outside the clone so a checkout cannot change it.
{
  echo '#!/usr/bin/env bash'
  echo "cd '$REPO'"
  for name in "${NAMES[@]}"; do
    exp=$LONG/$name
    echo "while pgrep -f -- '--out $exp\$' >/dev/null; do sleep 60; done"
    echo "if [ -f '$exp/experiment.json' ]; then args=--resume; else args='${START[$name]:-}'; fi"
    echo "nice -n 19 '$LONG/bin/locolab-${COMMIT[$name]:0:7}' compare --data '$DATA' \$args --out '$exp' >> '$LONG/$name.log' 2>&1 || exit 1"
  done
} > "$LONG/driver.sh"
nohup bash "$LONG/driver.sh" > "$LONG/driver.log" 2>&1 &
echo "running (pid $!): tail -f $LONG/cifar50k.log $LONG/cifar50k-gim2.log"
