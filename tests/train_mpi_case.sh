#!/usr/bin/env bash
# Data-parallel training is independent of the number of ranks and threads: the loss curve of 50
# steps on NP ranks x THREADS threads matches the 1-rank, 1-thread curve to 1e-9 relative
# (only the order of the gradient sums differs).
set -euo pipefail
bin=$1 mpiexec=$2 np=$3 threads=$4 root=$5 data=$6 objective=$7
mkdir -p "$root"
label=$objective
out=$root/${label}_np${np}_t${threads}
model=mlp-energy extra=()
[ "$objective" = dsm ] && extra=(--noise ladder --sigma-min 0.05 --sigma-max 1 --levels 5)
# A score network on the VE SDE (lognormal sigma) with an embedding, edm preconditioning and
# dropout: sigma_data is measured on the data over the ranks and the noise levels and dropout
# masks are keyed by each row's global slot, so none may depend on the decomposition.
[ "$objective" = dsm-edm ] && model=mlp-score objective=dsm extra=(--noise vesde --sigma-min 0.05
  --sigma-max 2 --embedding 2 --precondition edm --dropout 0.2 --no-standardize
  --sigma-density lognormal --p-mean -1 --p-std 1 --consistency 0.5 --consistency-steps 2)
OMP_NUM_THREADS=$threads "$mpiexec" -n "$np" --bind-to none "$bin" fit --data "$data" \
  --model $model --objective "$objective" "${extra[@]}" --steps 50 --batch 96 \
  --hidden 16,16 --lr 3e-3 --log-every 1 --seed 11 --out "$out" >/dev/null 2>&1
ref=$root/${label}_np1_t1
[ "$np" = 1 ] && [ "$threads" = 1 ] && exit 0
/usr/bin/python3 - "$ref" "$out" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
b = [json.loads(l) for l in open(sys.argv[2] + "/metrics.jsonl")]
ma, mb = (json.load(open(d + "/meta.json")).get("mlp", {}) for d in sys.argv[1:3])
assert ma.get("sigma_data") == mb.get("sigma_data"), (ma.get("sigma_data"), mb.get("sigma_data"))
assert len(a) == len(b) == 50, (len(a), len(b))
worst = max(abs(x["loss"] - y["loss"]) / max(1e-300, abs(x["loss"])) for x, y in zip(a, b))
print(f"max relative loss difference over 50 steps: {worst:.3e}")
sys.exit(0 if worst <= 1e-9 else 1)
PY
