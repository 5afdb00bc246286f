# The commit the 2-block experiments run on (sourced by continue.sh): a resumed run must see
# the same batches and the same code, so every experiment keeps the binary that started it. A
# newer binary may take over only where the tests show it computes the same (issue 35).
#   cifar50k-b2-gim2  the control, GIM with two-stage modules x 3 seeds (runs first: cheap)
#   cifar50k-b2       SimCLR, GIM, LoCo x 3 seeds, random init
#   cifar50k-b2 moved from 44e0dcc to ee0b2fa before its first run started (session 17): LoCo's
#   shared stage replayed instead of computed twice, bit for bit the same step
#   (tests/replay.rs; `locolab train --preset cifar-scale --blocks 2 --method loco --batch 32
#   --steps 4` with both binaries: the same losses at every step and the same kNN and linear
#   accuracy), about 10% less time per LoCo step; SimCLR and GIM compute as before.
#   cifar50k-b2 moved from ee0b2fa to 85fa59c on 2026-12-07 at about 22:56 UTC (session 19), with
#   LoCo seed 0 finished and GIM seed 0 at step 1,100 or so: im2col's taps worked out once per
#   call and its copies as memcpy, bit for bit the same step (only copies change place):
#   `locolab train --config experiments/cifar50k-b2.toml --data ../shared/data/cifar10 --method M
#   --seed 0 --steps 30`, M = simclr, gim, loco, with both binaries: the same loss of every unit
#   at every step and the same kNN and linear accuracy, top-1 and top-5; tests/recipe.rs (the
#   published first steps), tests/replay.rs and tests/cpu_ops.rs pass. 5-12% less time a step
#   (docs/BENCHMARKS.md, "im2col's taps worked out once"). Each run's result.json names the
#   binary that finished it.
#   cifar50k-b2 moved from 85fa59c to 9b7377a on 2026-12-08 at about 01:42 UTC (session 20), with
#   LoCo and GIM seed 0 finished and SimCLR seed 0 not yet started: the step runs on the first
#   thread of rayon's pool and glibc keeps freed memory (the same arithmetic on another thread),
#   checked the same way: the 30-step `train --config` runs above, M = simclr, gim, loco, under
#   85fa59c and 9b7377a give the same losses of every unit at every step (metrics.jsonl, full
#   precision) and the same accuracy.json; tests/recipe.rs, tests/replay.rs and tests/parallel.rs
#   pass. 5-9% less time a step on this network, median of 10 rounds (docs/BENCHMARKS.md,
#   "The step on the pool's first thread, taken").
#   cifar50k-b2 moved from 9b7377a to cab121c on 2026-12-08 at about 02:33 UTC (session 20), SimCLR
#   seed 0 resumed from its step-1,900 checkpoint: im2col's padding stored in place instead of
#   through memset (the same values written; about 4% of a step's CPU samples), and a cfg that
#   only the wasm builds see. The same 30-step check, 9b7377a against cab121c's code: identical
#   losses at full precision and accuracy.json for simclr, gim and loco.
declare -A COMMIT=([cifar50k-b2-gim2]=44e0dcc [cifar50k-b2]=cab121c)
