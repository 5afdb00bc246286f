#!/usr/bin/env bash
# The input pipeline side by side: locolab's loader (decoding from the files at every read,
# --stream) and torchvision's DataLoader, same folder, same worker count, same recipe; prints
# both and the ratio. Needs `pip install -r bench/pytorch/requirements.txt torchvision`.
#   bash bench/loader/run.sh DIR INPUT BATCH WORKERS BATCHES
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:?image-folder tree}; INPUT=${2:-224}; BATCH=${3:-64}; WORKERS=${4:-1}; BATCHES=${5:-20}
BIN=${LOCOLAB:-${CARGO_TARGET_DIR:-$HOME/.cache/locolab-target}/release/locolab}
ours=$("$BIN" bench --loader-only --stream --data "$DATA" --input "$INPUT" --batch "$BATCH" --workers "$WORKERS" --steps "$BATCHES" --json 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_sec"])')
theirs=$(python3 bench/loader/torch_loader.py --data "$DATA" --input "$INPUT" --batch "$BATCH" --workers "$WORKERS" --batches "$BATCHES" --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["images_per_sec"])')
python3 - "$DATA" "$INPUT" "$BATCH" "$WORKERS" "$ours" "$theirs" <<'PY'
import sys
data, inp, batch, workers, ours, theirs = sys.argv[1:]
print(f"| data | input | batch | workers | ours images/s | torchvision images/s | ours / torchvision |")
print(f"|---|---|---|---|---|---|---|")
print(f"| {data} | {inp} | {batch} | {workers} | {float(ours):.1f} | {float(theirs):.1f} | {float(ours)/float(theirs):.2f} |")
PY
