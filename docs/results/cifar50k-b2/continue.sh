#!/usr/bin/env bash
# Continue the 2-block experiments (PLAN.md) in the background, niced, from wherever they stopped:
#   bash docs/results/cifar50k-b2/continue.sh            # start or resume
#   bash docs/results/cifar50k-b2/continue.sh --pack     # write in-progress.tar.gz here (to commit)
#   bash docs/results/cifar50k-b2/continue.sh --stop     # stop the job (resumes from its checkpoints)
#   bash docs/results/cifar50k-b2/continue.sh --status   # what is finished, what is running
# Two experiments, one after the other, each with its pinned binary (pins.sh), built once into
# ~/locolab-long/bin outside the clone:
#   cifar50k-b2-gim2  the control (experiments/cifar50k-b2-gim2.toml), first: it is the cheaper
#   cifar50k-b2       SimCLR, GIM, LoCo x 3 seeds and random init (experiments/cifar50k-b2.toml)
# Run directories live in ~/locolab-long/<name> ($LOCOLAB_LONG); on a fresh machine they are
# restored from the committed in-progress.tar.gz (newest checkpoint of each unfinished run,
# logs, finished results with their final weights).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
LONG=${LOCOLAB_LONG:-$HOME/locolab-long}
DATA=$REPO/../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz
NAMES=(cifar50k-b2-gim2 cifar50k-b2)
DRIVER=$LONG/driver-b2.sh
# shellcheck source=pins.sh
. "$HERE/pins.sh"

running() { pgrep -f "$DRIVER" >/dev/null; }

case "${1:-}" in
  --pack)
    cd "$LONG"
    files=()
    for name in "${NAMES[@]}"; do
      [ -f "$name/experiment.json" ] || continue
      files+=("$name/experiment.json" "$name/data.json")
      [ -f "$name/experiment.toml" ] && files+=("$name/experiment.toml")
      for d in "$name"/*/seed-*; do
        [ -d "$d" ] || continue
        if [ -f "$d/result.json" ]; then
          for f in result.json monitor.jsonl metrics.jsonl final; do [ -e "$d/$f" ] && files+=("$d/$f"); done
        else
          newest=$(ls -d "$d"/checkpoints/step-* 2>/dev/null | sort -t- -k2 -n | tail -1 || true)
          [ -n "$newest" ] && files+=("$newest")
          for f in metrics.jsonl monitor.jsonl time.json; do [ -f "$d/$f" ] && files+=("$d/$f"); done
        fi
      done
    done
    ((${#files[@]})) || { echo "nothing to pack in $LONG"; exit 1; }
    tar czf "$HERE/in-progress.tar.gz" "${files[@]}"
    ls -la "$HERE/in-progress.tar.gz"
    exit 0 ;;
  --stop)
    pkill -f "$DRIVER" || true
    for name in "${NAMES[@]}"; do pkill -f -- "--out $LONG/$name\$" || true; done
    echo "stopped; bash $0 resumes from the newest checkpoints"
    exit 0 ;;
  --status)
    running && echo "running" || echo "not running"
    for name in "${NAMES[@]}"; do
      for d in "$LONG/$name"/*/seed-*; do
        [ -d "$d" ] || continue
        if [ -f "$d/result.json" ]; then echo "finished  ${d#"$LONG"/}"
        else echo "partial   ${d#"$LONG"/}: $(ls -d "$d"/checkpoints/step-* 2>/dev/null | sort -t- -k2 -n | tail -1 | sed 's/.*step-/step /')"; fi
      done
    done
    exit 0 ;;
  "") ;;
  *) echo "continue.sh: unknown option '$1' (--pack, --stop, --status)" >&2; exit 2 ;;
esac

if running; then echo "already running (tail -f $LONG/cifar50k-b2*.log)"; exit 0; fi
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
if [ ! -f "$LONG/cifar50k-b2-gim2/experiment.json" ] && [ -f "$HERE/in-progress.tar.gz" ]; then
  tar xzf "$HERE/in-progress.tar.gz" -C "$LONG"
  echo "restored from in-progress.tar.gz"
fi

# The driver: each experiment in turn, resumed if it exists. It lives outside the clone so a
# checkout cannot change it.
{
  echo '#!/usr/bin/env bash'
  echo "cd '$REPO'"
  for name in "${NAMES[@]}"; do
    exp=$LONG/$name
    echo "while pgrep -f -- '--out $exp\$' >/dev/null; do sleep 60; done"
    echo "if [ -f '$exp/experiment.json' ]; then args=--resume; else args='--config $REPO/experiments/$name.toml'; fi"
    echo "nice -n 19 '$LONG/bin/locolab-${COMMIT[$name]:0:7}' compare --data '$DATA' \$args --out '$exp' >> '$LONG/$name.log' 2>&1 || exit 1"
  done
} > "$DRIVER"
nohup bash "$DRIVER" > "$LONG/driver-b2.log" 2>&1 &
echo "running (pid $!): tail -f $LONG/cifar50k-b2-gim2.log $LONG/cifar50k-b2.log"
