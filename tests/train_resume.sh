#!/usr/bin/env bash
# Training is resumable bitwise: a run killed by SIGKILL after step 35 and resumed from its last
# checkpoint (step 30), and a run stopped by SIGTERM at step 23 (checkpoint, exit 75) and resumed,
# both end with model arrays byte-identical to an uninterrupted 60-step run. A corrupted or
# mismatched checkpoint is refused with exit code 1 and a message naming the problem; a diverging
# run stops at the first non-finite loss without writing a model.
set -euo pipefail
bin=$1 data=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
common=(fit --data "$data" --model mlp-energy --objective ssm --variance-reduced --projections 2
        --steps 60 --batch 64 --hidden 16,16 --lr 3e-3 --ema 0.9 --checkpoint-every 10
        --keep 2 --seed 5)

"$bin" "${common[@]}" --out "$root/full" >/dev/null 2>&1

# SIGKILL after step 35: no cleanup at all; the newest checkpoint is step 30.
set +e
SCOREMATCH_TEST_KILL_AFTER_STEP=35 "$bin" "${common[@]}" --out "$root/killed" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq 137 ] || { echo "expected death by SIGKILL (137), got $status"; exit 1; }
[ ! -e "$root/killed" ] || { echo "killed run left a model directory"; exit 1; }
ls "$root/killed.ckpt"/ckpt-00000030.bin >/dev/null
"$bin" "${common[@]}" --out "$root/killed" --resume "$root/killed.ckpt" >/dev/null 2>&1

# SIGTERM at step 23: finish the step, checkpoint, exit 75 (the default --preempt-exit-code).
set +e
msg=$(SCOREMATCH_TEST_SIGTERM_AT_STEP=23 "$bin" "${common[@]}" --out "$root/term" 2>&1)
status=$?
set -e
[ "$status" -eq 75 ] || { echo "a stopped fit exited $status (expected 75): $msg"; exit 1; }
echo "$msg" | grep -q "stop signal received: finished step 23" || { echo "$msg"; exit 1; }
[ ! -e "$root/term" ] || { echo "stopped run wrote a model"; exit 1; }
# Resumed with the data file spelled another way (absolute, with a ./): the same file, so the same
# setup (a job requeued from another directory).
alt="$(cd "$(dirname "$data")" && pwd)/./$(basename "$data")"
"$bin" "${common[@]/#"$data"/"$alt"}" --out "$root/term" --resume "$root/term.ckpt" >/dev/null 2>&1 ||
  { echo "resume with the data spelled '$alt' was refused"; exit 1; }

# Stopped in one working directory with a relative data path and resumed from another with its own
# relative path (a job requeued elsewhere): the checkpoint names the file canonically, so the
# saved path is not read against the new directory.
mkdir -p "$root/cwd/sub"
ext=${data##*.}
cp "$data" "$root/cwd/d.$ext"
set +e
(cd "$root/cwd" && SCOREMATCH_TEST_SIGTERM_AT_STEP=23 "$bin" "${common[@]/#"$data"/"d.$ext"}" \
  --out ../rel >/dev/null 2>&1)
status=$?
set -e
[ "$status" -eq 75 ] || { echo "the relative-path fit exited $status (expected 75)"; exit 1; }
(cd "$root/cwd/sub" && "$bin" "${common[@]/#"$data"/"../d.$ext"}" --out ../../rel \
  --resume ../../rel.ckpt >/dev/null 2>&1) ||
  { echo "resume from another directory with the data as '../d.$ext' was refused"; exit 1; }

for run in killed term rel; do
  for f in "$root"/full/*.npy; do
    cmp "$f" "$root/$run/$(basename "$f")" || { echo "$run: $(basename "$f") differs"; exit 1; }
  done
done
# Metrics of the resumed run have one line per logged step (no duplicated history).
n_full=$(wc -l < "$root/full/metrics.jsonl")
n_killed=$(wc -l < "$root/killed/metrics.jsonl")
[ "$n_full" -eq "$n_killed" ] || { echo "metrics lines $n_full vs $n_killed"; exit 1; }

# Mismatched setup: a different weight decay is refused, naming the option as the user gives it.
set +e
out=$("$bin" "${common[@]}" --weight-decay 0.01 --out "$root/x" --resume "$root/full.ckpt" 2>&1)
status=$?
set -e
[ "$status" -eq 2 ] && echo "$out" | grep -qF -- "--weight-decay was 0.0, now 0.01" || { echo "mismatch not refused: $out"; exit 1; }
# Corrupted checkpoint: flip one payload byte.
ck=$(ls "$root"/full.ckpt/ckpt-*.bin | tail -1)
printf '\x01' | dd of="$ck" bs=1 seek=$(( $(stat -c %s "$ck") - 5 )) conv=notrunc status=none
set +e
out=$("$bin" "${common[@]}" --out "$root/x" --resume "$ck" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] && echo "$out" | grep -q "checksum" || { echo "corruption not refused: $out"; exit 1; }
[ ! -e "$root/x" ] || { echo "refused resume wrote output"; exit 1; }
# A diverging run (SGD, lr 1e30) stops at the first non-finite step with exit 1 and writes no model.
set +e
out=$("$bin" fit --data "$data" --model mlp-energy --objective ism --steps 50 --batch 64 --hidden 8 \
  --optimizer sgd --lr 1e30 --out "$root/nan" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] && echo "$out" | grep -q "training diverged at step" ||
  { echo "divergence not stopped: $out"; exit 1; }
[ ! -e "$root/nan" ] || { echo "diverged run wrote a model"; exit 1; }
# A fixed consistency teacher (--consistency-teacher init) is the --init-from model, read again on
# --resume: a distillation stopped at step 13 and resumed ends byte-identical to an uninterrupted one.
score=(fit --data "$data" --model mlp-score --objective dsm --noise vesde --sigma-min 0.05
       --sigma-max 2 --precondition edm --hidden 16,16 --batch 64 --seed 5)
"$bin" "${score[@]}" --steps 20 --out "$root/base" >/dev/null 2>&1
distil=("${score[@]}" --steps 30 --consistency 2 --consistency-steps 2 --consistency-teacher init
        --init-from "$root/base" --checkpoint-every 10)
"$bin" "${distil[@]}" --out "$root/distil-full" >/dev/null 2>&1
set +e
SCOREMATCH_TEST_SIGTERM_AT_STEP=13 "$bin" "${distil[@]}" --out "$root/distil-term" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq 75 ] || { echo "a stopped distillation exited $status (expected 75)"; exit 1; }
"$bin" "${distil[@]}" --out "$root/distil-term" --resume "$root/distil-term.ckpt" >/dev/null 2>&1
for f in "$root"/distil-full/*.npy; do
  cmp "$f" "$root/distil-term/$(basename "$f")" || { echo "distil: $(basename "$f") differs"; exit 1; }
done
# ... and the teacher is part of the run: resuming it with the EMA teacher is refused.
set +e
out=$("$bin" "${score[@]}" --steps 30 --consistency 2 --consistency-steps 2 --init-from "$root/base" \
  --checkpoint-every 10 --out "$root/y" --resume "$root/distil-full.ckpt" 2>&1)
status=$?
set -e
[ "$status" -eq 2 ] && echo "$out" | grep -qF -- '--consistency-teacher was "init", now not set (the default)' ||
  { echo "teacher mismatch not refused: $out"; exit 1; }
echo "resume tests passed"
