# The commit each CIFAR-scale experiment runs on (sourced by continue.sh and publish.sh): a
# resumed run must see the same batches, so every experiment keeps the binary that started it.
#   cifar50k       SimCLR, GIM, LoCo x 3 seeds (its command: COMMAND.txt)
#   cifar50k-gim2  the control, GIM with two-stage modules x 3 seeds (experiments/cifar50k-gim2.toml)
# Both binaries predate `experiment.json`'s `commit` field: publish.sh stamps it from here.
declare -A COMMIT=([cifar50k]=2658862ca3082d51b85aa89c24a6c0d15a4baa44 [cifar50k-gim2]=a5b1cfb4ac702110b55fdaaf8d613b84e1639dcf)
