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
declare -A COMMIT=([cifar50k-b2-gim2]=44e0dcc [cifar50k-b2]=ee0b2fa)
