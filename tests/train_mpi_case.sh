#!/usr/bin/env bash
# Data-parallel training is independent of the number of ranks and threads: the loss curve of 50
# steps on NP ranks x THREADS threads matches the 1-rank, 1-thread curve to 1e-9 relative
# (only the order of the gradient sums differs).
set -euo pipefail
bin=$1 mpiexec=$2 np=$3 threads=$4 root=$5 data=$6 objective=$7
mkdir -p "$root"
out=$root/${objective}_np${np}_t${threads}
extra=()
[ "$objective" = dsm ] && extra=(--noise ladder --sigma-min 0.05 --sigma-max 1 --levels 5)
OMP_NUM_THREADS=$threads "$mpiexec" -n "$np" --bind-to none "$bin" fit --data "$data" \
  --model mlp-energy --objective "$objective" "${extra[@]}" --steps 50 --batch 96 \
  --hidden 16,16 --lr 3e-3 --log-every 1 --seed 11 --out "$out" >/dev/null 2>&1
ref=$root/${objective}_np1_t1
[ "$np" = 1 ] && [ "$threads" = 1 ] && exit 0
/usr/bin/python3 - "$ref/metrics.jsonl" "$out/metrics.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 50, (len(a), len(b))
worst = max(abs(x["loss"] - y["loss"]) / max(1e-300, abs(x["loss"])) for x, y in zip(a, b))
print(f"max relative loss difference over 50 steps: {worst:.3e}")
sys.exit(0 if worst <= 1e-9 else 1)
PY
