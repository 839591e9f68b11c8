#!/usr/bin/env bash
# fit --early-stopping saves the EMA weights of the validation with the lowest loss:
#  - meta.json's best_step / best_val_loss are the argmin / min of the logged validation losses
#    (an interior step here, so the test means something);
#  - the saved arrays are byte-identical to a run of best_step steps (constant learning rate, so
#    the two trajectories agree up to there);
#  - a run killed after a later checkpoint and resumed keeps the best weights it had (they are in
#    the checkpoint) and ends byte-identical;
#  - without validation rows the flag is refused.
set -euo pipefail
bin=$1 data=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
common=(fit --data "$data" --model mlp-score --objective dsm --noise vesde --sigma-min 0.05
        --sigma-max 2 --batch 64 --hidden 32,32 --lr 1e-2 --schedule constant --warmup 0
        --ema 0.5 --val-every 4 --checkpoint-every 10 --seed 3)
val=(--val-fraction 0.3)

"$bin" "${common[@]}" "${val[@]}" --steps 60 --early-stopping --out "$root/es" >/dev/null 2>&1
best=$(/usr/bin/python3 - "$root/es" <<'PY'
import json, sys
d = sys.argv[1]
fit = json.load(open(d + "/meta.json"))["fit"]
vals = [(r["step"], r["val_loss"]) for r in map(json.loads, open(d + "/metrics.jsonl"))
        if "val_loss" in r]
step, val = min(vals, key=lambda sv: sv[1])
assert fit["best_step"] == step and fit["best_val_loss"] == val, (fit, step, val)
assert 0 < step < 60, f"best step {step} is not interior: the test would prove nothing"
assert "lowest validation loss" in fit["weights"], fit["weights"]
print(step)
PY
)
"$bin" "${common[@]}" "${val[@]}" --steps "$best" --out "$root/short" >/dev/null 2>&1
for f in "$root"/es/*.npy; do
  cmp "$f" "$root/short/$(basename "$f")" || { echo "early-stopped $(basename "$f") differs"; exit 1; }
done

# Killed after step 45 (newest checkpoint: 40, after the best step), then resumed.
set +e
SCOREMATCH_TEST_KILL_AFTER_STEP=45 "$bin" "${common[@]}" "${val[@]}" --steps 60 --early-stopping \
  --out "$root/killed" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq 137 ] || { echo "expected death by SIGKILL (137), got $status"; exit 1; }
(( best < 40 )) || { echo "best step $best is not before the checkpoint"; exit 1; }
"$bin" "${common[@]}" "${val[@]}" --steps 60 --early-stopping --out "$root/killed" \
  --resume "$root/killed.ckpt" >/dev/null 2>&1
for f in "$root"/es/*.npy; do
  cmp "$f" "$root/killed/$(basename "$f")" || { echo "resumed $(basename "$f") differs"; exit 1; }
done

set +e
out=$("$bin" "${common[@]}" --steps 10 --early-stopping --val-fraction 0 --out "$root/x" 2>&1)
status=$?
set -e
[ "$status" -eq 2 ] && echo "$out" | grep -q -- "--early-stopping needs validation rows" ||
  { echo "early stopping without validation rows not refused: $out"; exit 1; }
[ ! -e "$root/x" ] || { echo "refused fit wrote output"; exit 1; }
echo "early stopping: best step $best; short run and resumed run byte-identical"
