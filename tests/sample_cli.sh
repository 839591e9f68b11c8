#!/usr/bin/env bash
# sample from the command line:
#  1. bitwise-identical samples.npy for 1, 2, 3 ranks x 1, 2 threads (ula, mala, annealed, pc);
#  2. a run stopped by SIGTERM mid-run (checkpoint, exit 75) and resumed — on a different number of
#     ranks — ends with samples.npy byte-identical to an uninterrupted run;
#     its draw files hold each kept draw once (checkpoints add only new ones) and the layout
#     before draw files still resumes;
#  3. a corrupted or mismatched checkpoint is refused; bad model path, dimension mismatch and a
#     diverging (NaN) run stop with one clear message, exit 1 and no output directory;
#  4. diag on the written samples reproduces the report sample wrote, identically on 1 and 3 ranks;
#  5. trained noise-conditioned networks drive annealed (sigma ladder) and sde/ode/pc/loglik (VP-SDE)
#     end to end, closer to the GMM data than a wrong law (energy distance of N(μ, Σ) draws: 0.76).
set -euo pipefail
bin=$1 mpiexec=$2 data=$3 root=$4
rm -rf "$root" && mkdir -p "$root"
run() {  # run NP THREADS ARGS...
  local np=$1 threads=$2
  shift 2
  OMP_NUM_THREADS=$threads "$mpiexec" -n "$np" --bind-to none "$bin" "$@"
}

# 1. decomposition independence (200 chains: blocks of 64 split unevenly over 3 ranks)
cases=("--target gmm --dim 3 --sampler ula --steps 60 --warmup 20 --step-size 0.05"
       "--target banana --dim 2 --sampler mala --steps 60 --warmup 30 --step-size 0.1"
       "--target gmm --dim 2 --sampler annealed --steps 10 --levels 4 --sigma-max 5 --sigma-min 0.1 --step-size 0.01"
       "--target gmm --dim 2 --sampler pc --steps 40")
for i in "${!cases[@]}"; do
  read -r -a args <<< "${cases[$i]}"
  OMP_NUM_THREADS=1 "$bin" sample "${args[@]}" --chains 200 --seed 9 --quiet --no-diag \
    --out "$root/ref$i" >/dev/null
  for np in 1 2 3; do
    for threads in 1 2; do
      run $np $threads sample "${args[@]}" --chains 200 --seed 9 --quiet --no-diag \
        --out "$root/c$i-$np-$threads" >/dev/null
      cmp "$root/ref$i/samples.npy" "$root/c$i-$np-$threads/samples.npy" ||
        { echo "case $i differs at np=$np threads=$threads"; exit 1; }
    done
  done
done
echo "samples identical for 1-3 ranks x 1-2 threads"

# 2. SIGTERM mid-run, resume on another rank count
common=(sample --target banana --dim 2 --sampler mala --chains 150 --steps 200 --warmup 100
        --step-size 0.1 --seed 4 --quiet --no-diag)
run 2 1 "${common[@]}" --out "$root/full" >/dev/null
msg=$(SCOREMATCH_TEST_SIGTERM_AT_STEP=120 run 2 1 "${common[@]}" --out "$root/term" 2>&1) &&
  { echo "a stopped run exited 0 (expected the preemption status 75)"; exit 1; }
echo "$msg" | grep -q "stop signal: checkpoint at step" || { echo "$msg"; exit 1; }
[ ! -e "$root/term" ] || { echo "stopped run wrote output"; exit 1; }
run 3 2 "${common[@]}" --out "$root/term" --resume "$root/term.ckpt" >/dev/null
cmp "$root/full/samples.npy" "$root/term/samples.npy" || { echo "resumed run differs"; exit 1; }
echo "SIGTERM + resume (2 -> 3 ranks) is bitwise identical"

expect_fail() {  # expect_fail PATTERN OUTDIR ARGS...: a bad input, exit 1 (EXIT=2: a bad setting)
  local pattern=$1 out=$2 code=${EXIT:-1}
  shift 2
  set +e
  msg=$("$@" 2>&1)
  status=$?
  set -e
  [ "$status" -eq "$code" ] || { echo "expected exit $code, got $status: $msg"; exit 1; }
  echo "$msg" | grep -q -- "$pattern" || { echo "message lacks '$pattern': $msg"; exit 1; }
  [ ! -e "$out" ] || { echo "failed run left $out"; exit 1; }
}
# 2b. A checkpoint holds the draws kept so far, each written once (draws-<from>-<to>.npy), not the
# whole --steps buffer: --checkpoint-every 20 and a stop at step 180 (80 of 200 draws kept) leave
# draws 0-20, ..., 60-80; a resume in the same directory adds only new draws (80-100, ..., 140-160
# by the stop at 260); a resume into another --checkpoint-dir writes them all there; a
# checkpoint in the layout before draw files still resumes. Every path ends byte-identical to the
# uninterrupted run.
stopped() {  # stopped STEP NP ARGS...: the run is stopped at STEP and exits 75
  local step=$1 np=$2 status=0
  shift 2
  SCOREMATCH_TEST_SIGTERM_AT_STEP=$step run "$np" 1 "${common[@]}" "$@" >/dev/null 2>&1 || status=$?
  [ "$status" -eq 75 ] || { echo "stop at $step: exit $status, expected 75"; exit 1; }
}
expect_files() {  # expect_files DIR "NAME ...": DIR holds exactly these files
  local have want
  have=$(ls "$1" | LC_ALL=C sort | tr '\n' ' ')
  want=$(printf '%s\n' $2 | LC_ALL=C sort | tr '\n' ' ')
  [ "$have" = "$want" ] || { echo "$1 holds '$have', expected '$want'"; exit 1; }
}
stopped 180 2 --checkpoint-every 20 --out "$root/inc"
expect_files "$root/inc.ckpt" \
  "checkpoint.json draws-0-20.npy draws-20-40.npy draws-40-60.npy draws-60-80.npy state-180.npy"
# 150 chains x 20 draws x d = 2: the file holds the new draws only (128-byte header)
[ "$(stat -c %s "$root/inc.ckpt/draws-60-80.npy")" -eq $((128 + 150 * 20 * 2 * 8)) ] ||
  { echo "draws-60-80.npy has the wrong size"; exit 1; }
cp -r "$root/inc.ckpt" "$root/inc180.ckpt"
/usr/bin/python3 "$(dirname "$0")/legacy_sample_checkpoint.py" "$root/inc.ckpt" "$root/legacy.ckpt" 200
stopped 260 1 --checkpoint-every 20 --out "$root/inc" --resume "$root/inc.ckpt"
expect_files "$root/inc.ckpt" "checkpoint.json state-260.npy $(for a in 0 20 40 60 80 100 120 140; do
  echo "draws-$a-$((a + 20)).npy"; done)"
stopped 270 3 --checkpoint-every 10 --out "$root/inc" --resume "$root/inc.ckpt" \
  --checkpoint-dir "$root/other.ckpt"
expect_files "$root/other.ckpt" "checkpoint.json draws-0-170.npy state-270.npy"
for from in inc other legacy inc180; do
  run 2 2 "${common[@]}" --out "$root/from-$from" --resume "$root/$from.ckpt" >/dev/null
  cmp "$root/full/samples.npy" "$root/from-$from/samples.npy" ||
    { echo "run resumed from $from.ckpt differs"; exit 1; }
done
rm "$root/inc180.ckpt/draws-40-60.npy"
expect_fail "draws-40-60.npy' is missing" "$root/no-draws" \
  "$bin" "${common[@]}" --out "$root/no-draws" --resume "$root/inc180.ckpt"
printf '\x01' | dd of="$root/inc180.ckpt/draws-0-20.npy" bs=1 seek=300 conv=notrunc status=none
expect_fail "checksum mismatch in '$root/inc180.ckpt/draws-0-20.npy'" "$root/bad-draws" \
  "$bin" "${common[@]}" --out "$root/bad-draws" --resume "$root/inc180.ckpt"
echo "checkpoints add only new draws; resumed from them, from another dir or the old layout: identical"

# 3. refusals and clear errors
EXIT=2 expect_fail "different run configuration (--target-accept was 0.574, now 0.7)" "$root/mismatch" \
  "$bin" "${common[@]}" --target-accept 0.7 --out "$root/mismatch" --resume "$root/term.ckpt"
state=$(ls "$root"/term.ckpt/state-*.npy)
printf '\x01' | dd of="$state" bs=1 seek=200 conv=notrunc status=none
expect_fail "checksum mismatch" "$root/corrupt" \
  "$bin" "${common[@]}" --out "$root/corrupt" --resume "$root/term.ckpt"
expect_fail "no-such-model" "$root/bad1" \
  "$bin" sample --model "$root/no-such-model" --out "$root/bad1" --quiet
expect_fail "dimension mismatch" "$root/bad2" \
  "$bin" sample --target gmm --dim 3 --sampler ula --init data --data "$data" --out "$root/bad2" --quiet
expect_fail "became NaN/Inf at step" "$root/bad3" \
  "$bin" sample --target gaussian --dim 2 --sampler ula --step-size 100 --out "$root/bad3" --quiet
# Memory is checked per node: kept draws of 0.6 x this node's memory per rank fit one rank but not
# the 2 ranks mpirun puts on this node (refused before anything is allocated).
memory=$(($(getconf _PHYS_PAGES) * $(getconf PAGE_SIZE)))
steps=$((memory * 6 / 10 / (2 * 64 * 2 * 8)))  # 2 x 64 chains x steps x d = 2 doubles per rank
msg=$(run 2 1 sample --target gaussian --dim 2 --sampler ula --chains 128 --steps "$steps" \
  --quiet --no-diag --out "$root/node-memory" 2>&1) && { echo "2 x 0.6 of the node accepted"; exit 1; }
echo "$msg" | grep -q "for the 2 ranks on this node, more than its" || { echo "$msg"; exit 1; }
[ ! -e "$root/node-memory" ] || { echo "refused run left output"; exit 1; }
echo "bad inputs refused"

# 4. diag reproduces sample's own report
"$bin" sample --target gmm --dim 2 --sampler mala --chains 8 --steps 400 --warmup 200 \
  --step-size 0.2 --seed 3 --quiet --out "$root/withdiag" >/dev/null
"$bin" diag --samples "$root/withdiag/samples.npy" --target gmm --out "$root/report.json" >/dev/null
grep -q '"worst_rhat"' "$root/report.json"
# ... and the same report on 3 ranks (dimensions and KSD pair blocks split over ranks).
run 3 1 diag --samples "$root/withdiag/samples.npy" --target gmm --out "$root/report3.json" >/dev/null
cmp "$root/report.json" "$root/report3.json" || { echo "diag differs on 3 ranks"; exit 1; }
/usr/bin/python3 - "$root/withdiag/report.json" "$root/report.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for key in ("worst_rhat", "min_ess_bulk", "min_ess_tail"):
    assert a[key] == b[key], (key, a[key], b[key])
assert a["ksd"]["value"] == b["ksd"]["value"]
PY
echo "diag matches sample's report"

# 5. networks trained by DSM (sigma ladder; VP-SDE) drive the noise-conditioned samplers
"$bin" gen --dist gmm --n 4000 --dim 2 --seed 3 --out "$root/gmm.npy" >/dev/null
train=(fit --data "$root/gmm.npy" --model mlp-score --objective dsm --hidden 64,64 --lr 3e-3 --seed 2)
"$bin" "${train[@]}" --noise ladder --sigma-min 0.05 --sigma-max 3 --steps 3000 --batch 512 \
  --out "$root/ladder" >/dev/null 2>&1
"$bin" "${train[@]}" --noise vpsde --steps 1500 --batch 256 --out "$root/vp" >/dev/null 2>&1
check_energy() {  # check_energy DIR: energy distance to the data below 0.4
  /usr/bin/python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['reference']['energy_distance']; \
print(sys.argv[1], 'energy distance', e); sys.exit(0 if e < 0.4 else 1)" "$1/report.json"
}
"$bin" sample --model "$root/ladder" --sampler annealed --chains 1000 --steps 100 --step-size 0.005 \
  --reference "$root/gmm.npy" --quiet --out "$root/annealed" >/dev/null
check_energy "$root/annealed"
for s in sde ode pc; do
  "$bin" sample --model "$root/vp" --sampler $s --chains 1000 --steps 300 \
    --reference "$root/gmm.npy" --quiet --out "$root/$s" >/dev/null
  check_energy "$root/$s"
done
"$bin" sample --model "$root/vp" --sampler ode --dtype float32 --chains 1000 --steps 300 \
  --reference "$root/gmm.npy" --quiet --out "$root/ode32" >/dev/null
check_energy "$root/ode32"
EXIT=2 expect_fail "conditioned on the other noise scheme" "$root/wrong" \
  "$bin" sample --model "$root/vp" --sampler annealed --out "$root/wrong" --quiet
"$bin" loglik --model "$root/vp" --data "$root/gmm.npy" --out "$root/ll" --steps 100 >/dev/null
"$bin" loglik --model "$root/vp" --data "$root/gmm.npy" --out "$root/llh" --steps 100 --probes 4 >/dev/null
"$bin" sample --target gmm --sampler annealed --chains 64 --steps 5 --quiet --out "$root/ladder-defaults" >/dev/null
# --data that nothing reads (a noised sampler starts from its prior) is refused, not recorded.
EXIT=2 expect_fail "--data is not read by this run: annealed reads it for --init data, and starts here from prior" \
  "$root/unread-data" "$bin" sample --target gmm --sampler annealed --data "$root/gmm.npy" \
  --chains 8 --steps 5 --quiet --out "$root/unread-data"
echo "noise-conditioned networks sample end to end"
