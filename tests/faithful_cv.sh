#!/usr/bin/env bash
# Honest comparison on Old Faithful: 5-fold cross-validated held-out ISM objective (data units,
# computed by `eval` on rows the fit never saw) of the closed-form poly:4 fit and of the demo
# neural energy (jobs/faithful-mlp-energy.toml), the latter averaged over seeds 0, 1, 2.
# The neural model must reach a lower held-out ISM loss. Prints both numbers.
set -euo pipefail
bin=$1 data=$2 job=$3 root=$4
rm -rf "$root" && mkdir -p "$root" && cd "$root"
for k in 0 1 2 3 4; do
  awk -v k=$k 'NR == 1 { print > "train" k ".csv"; print > "test" k ".csv"; next }
               { if ((NR - 2) % 5 == k) print > "test" k ".csv"; else print > "train" k ".csv" }' "$data"
done
ism() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ism_objective'])" "$1"; }
heldout() {  # heldout NAME FIT-ARGS...: mean held-out ISM over the 5 folds
  local name=$1 total=0 v
  shift
  for k in 0 1 2 3 4; do
    "$bin" fit "$@" --data "train$k.csv" --out "$name$k" >/dev/null 2>&1
    "$bin" eval --model "$name$k" --data "test$k.csv" --out "$name${k}_eval" >/dev/null
    v=$(ism "$name${k}_eval/metrics.json")
    total=$(/usr/bin/python3 -c "print($total + $v)")
  done
  /usr/bin/python3 -c "print($total / 5)"
}
poly=$(heldout poly --model poly:4)
sum=0
for seed in 0 1 2; do
  v=$(heldout "mlp_s$seed" --config "$job" --val-fraction 0 --seed $seed)
  echo "mlp-energy seed $seed: held-out ISM $v"
  sum=$(/usr/bin/python3 -c "print($sum + $v)")
done
mlp=$(/usr/bin/python3 -c "print($sum / 3)")
echo "5-fold held-out ISM objective: poly:4 $poly, mlp-energy (mean of 3 seeds) $mlp"
/usr/bin/python3 -c "import sys; sys.exit(0 if $mlp < $poly else 1)"
