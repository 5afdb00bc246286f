# The commit the 2-block experiments run on (sourced by continue.sh): a resumed run must see
# the same batches and the same code, so every experiment keeps the binary that started it. A
# newer binary may take over only where the tests show it computes the same (issue 35).
#   cifar50k-b2-gim2  the control, GIM with two-stage modules x 3 seeds (runs first: cheap)
#   cifar50k-b2       SimCLR, GIM, LoCo x 3 seeds, random init
declare -A COMMIT=([cifar50k-b2-gim2]=44e0dcc [cifar50k-b2]=44e0dcc)
