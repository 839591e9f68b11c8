#!/usr/bin/env bash
# The jobs/slurm/ scripts on a real single-node SLURM (started here, stopped at the end):
#   1. closed-form fit (srun) equals the same fit under plain mpirun, bitwise;
#   2. neural fit signalled mid-run (USR1 to the batch shell, as `#SBATCH --signal=B:USR1@T` does),
#      checkpointed, requeued, resumed: the model is bitwise identical to an uninterrupted run
#      (the uninterrupted one launched through the mpirun variant of the scripts);
#   3. fit -> sample chained with --dependency=afterok, and a sampling job signalled mid-run,
#      requeued and resumed: samples.npy bitwise identical to an uninterrupted sampling job;
#   4. a job array sweep (3 tasks, distinct seeds / learning rates) writes one model per task;
#   5. a job with bad input ends FAILED with scorematch's error message in its log;
#   6. fit -> map (denoising under the fitted Gaussian prior) chained with afterok, equal to mpirun;
#   7. a USR1 during start-up (mpirun launcher) gives the requeue status, not a lost signal or a
#      killed job: the job is requeued once and completes.
# Usage: bash tests/slurm/slurm_jobs.sh [path/to/scorematch]   (run from anywhere; needs root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${1:-$repo/build/scorematch}")
[[ -x $bin ]] || { echo "FAIL: no scorematch binary at $bin (build first)"; exit 1; }
root=$(mktemp -d /tmp/scorematch-slurm.XXXXXX)
cleanup() {
  local rc=$?
  if [[ -n ${SLURM_CONF:-} ]]; then scancel --user=root 2>/dev/null || true; fi
  bash "$repo/tools/slurm-local.sh" stop "$root/slurm" || true
  if [[ $rc != 0 ]]; then
    echo "---- job logs ----"
    tail -n 30 "$root"/logs/*.out 2>/dev/null || true
    echo "---- slurmctld ----"
    tail -n 20 "$root/slurm/log/slurmctld.log" 2>/dev/null || true
  fi
  rm -rf "$root"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

eval "$(bash "$repo/tools/slurm-local.sh" start "$root/slurm")"
echo "SLURM is up: $(sinfo -h -o '%P %T %c CPUs')"
export SCOREMATCH_BIN=$bin SCOREMATCH_HOME=$repo SCOREMATCH_OUT=$root/out
mkdir -p "$root/logs"
cd "$repo"

submit() { sbatch --parsable --output="$root/logs/%x-%j.out" "$@"; }
log_of() { echo "$root/logs/$1-$2.out"; }
# wait_for FILE REGEX SECONDS: until the file has a matching line.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -q -E "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "no line matching '$2' in $1 after $3 s"
    sleep 0.5
  done
}
# wait_done JOB SECONDS: until the job has left the queue; prints "STATE EXITCODE RESTARTS".
wait_done() {
  local deadline=$((SECONDS + $2))
  while [[ -n $(squeue -h -j "$1" -o %T 2>/dev/null) ]]; do
    ((SECONDS < deadline)) || fail "job $1 still queued after $2 s"
    sleep 1
  done
  local info
  info=$(scontrol show job "$1" | tr ' ' '\n')
  echo "$(sed -n 's/^JobState=//p' <<<"$info") $(sed -n 's/^ExitCode=//p' <<<"$info")" \
    "$(sed -n 's/^Restarts=//p' <<<"$info")"
}
same_models() { # bitwise equality of every array of two model directories
  local f
  for f in "$1"/*.npy; do cmp -s "$f" "$2/$(basename "$f")" || fail "$(basename "$f") differs: $1 vs $2"; done
}
# Preempt a running job the way `#SBATCH --signal=B:USR1@T` does: USR1 to the batch shell only.
preempt() {
  local job=$1 log=$2 started=$3
  wait_for "$log" "$started" 120
  sleep 2
  scancel --batch --signal=USR1 "$job"
  wait_for "$log" "requeueing job $job" 60
  wait_for "$log" "resuming from" 120
}

echo "== 1. closed-form fit: sbatch + srun vs plain mpirun =="
j=$(submit --wait jobs/slurm/fit.sbatch jobs/faithful-poly4.toml) || fail "fit job failed"
source tools/mpi-env.sh
mpirun -np 2 "$bin" fit --config jobs/faithful-poly4.toml --out "$root/poly4-mpirun" >/dev/null
same_models "$root/out/fit-$j/model" "$root/poly4-mpirun"
echo "   job $j: theta.npy bitwise equal to mpirun -np 2"

echo "== 2. neural fit: preempted + requeued + resumed == uninterrupted (mpirun variant) =="
# Long enough (~10 s) that the signal, sent 2 s after the start, lands mid-run.
fit_args=(jobs/faithful-mlp-energy.toml --steps 20000 --hidden 64,64,64 --checkpoint-every 100000)
ref=$(SCOREMATCH_LAUNCHER=mpirun submit jobs/slurm/fit.sbatch "${fit_args[@]}")
pre=$(submit jobs/slurm/fit.sbatch "${fit_args[@]}")
preempt "$pre" "$(log_of scorematch-fit "$pre")" "^training mlp-energy"
stopped=$(sed -n 's/.*finished step \([0-9]*\).*/\1/p' "$(log_of scorematch-fit "$pre")")
((stopped > 0 && stopped < 20000)) || fail "the fit was not stopped mid-run (step '$stopped')"
read -r state code restarts <<<"$(wait_done "$pre" 300)"
[[ $state == COMPLETED && $code == 0:0 && $restarts == 1 ]] ||
  fail "preempted fit ended $state $code after $restarts restart(s)"
read -r state code _ <<<"$(wait_done "$ref" 300)"
[[ $state == COMPLETED ]] || fail "reference fit ended $state $code"
same_models "$root/out/fit-$pre/model" "$root/out/fit-$ref/model"
echo "   stopped at step $stopped of 20000, requeued once, resumed: weights bitwise equal to job $ref"

echo "== 3. fit -> sample (afterok); sampling preempted + resumed == uninterrupted =="
fit=$(submit jobs/slurm/fit.sbatch jobs/faithful-poly4.toml)
sample_args=(jobs/faithful-mala.toml --model "$root/out/fit-$fit/model" --warmup 1000 --steps 30000
  --chains 128 --no-diag)
ref=$(submit --dependency=afterok:"$fit" jobs/slurm/sample.sbatch "${sample_args[@]}")
pre=$(submit --dependency=afterok:"$ref" jobs/slurm/sample.sbatch "${sample_args[@]}")
preempt "$pre" "$(log_of scorematch-sample "$pre")" "^sampling with mala"
stopped=$(sed -n 's/.*checkpoint at step \([0-9]*\).*/\1/p' "$(log_of scorematch-sample "$pre")")
((stopped > 0 && stopped < 31000)) || fail "the sampling was not stopped mid-run (step '$stopped')"
read -r state code restarts <<<"$(wait_done "$pre" 300)"
[[ $state == COMPLETED && $code == 0:0 && $restarts == 1 ]] ||
  fail "preempted sampling ended $state $code after $restarts restart(s)"
cmp "$root/out/sample-$pre/samples/samples.npy" "$root/out/sample-$ref/samples/samples.npy" ||
  fail "resumed samples differ from the uninterrupted job's"
echo "   stopped at step $stopped of 31000, resumed: samples.npy bitwise equal to job $ref's"

echo "== 4. job array sweep =="
arr=$(submit --wait --array=0-2 --output="$root/logs/%x-%A_%a.out" jobs/slurm/sweep.sbatch \
  jobs/faithful-mlp-energy.toml jobs/sweeps/faithful-mlp-seeds.txt --steps 200) ||
  fail "sweep array failed"
for t in 0 1 2; do
  [[ -f $root/out/sweep-${arr}_$t/model/meta.json && -f $root/out/sweep-${arr}_$t/sweep.json ]] ||
    fail "array task $t wrote no model"
done
! cmp -s "$root/out/sweep-${arr}_0/model/W0.npy" "$root/out/sweep-${arr}_1/model/W0.npy" ||
  fail "array tasks 0 and 1 (different seeds) gave the same weights"
echo "   3 tasks, 3 distinct models"

echo "== 5. bad input: the job fails with the message in its log =="
printf 'a,b\n1,2\n3,oops\n' >"$root/bad.csv"
if bad=$(submit --wait jobs/slurm/fit.sbatch jobs/faithful-poly4.toml --data "$root/bad.csv"); then
  fail "a fit on a malformed CSV succeeded"
fi
bad=$(squeue -h -t all -n scorematch-fit -o %i | sort -n | tail -1)
grep -q "bad.csv" "$(log_of scorematch-fit "$bad")" || fail "the error message does not name the file"
echo "   job $bad failed with: $(grep -m1 'error' "$(log_of scorematch-fit "$bad")")"
echo "== 6. fit (Gaussian prior) -> map (denoising), chained with afterok =="
fit=$(submit jobs/slurm/fit.sbatch jobs/faithful-gaussian.toml)
map=$(submit --wait --dependency=afterok:"$fit" jobs/slurm/map.sbatch jobs/faithful-denoise.toml \
  --model "$root/out/fit-$fit/model") || fail "map job failed"
mpirun -np 2 "$bin" fit --config jobs/faithful-gaussian.toml --out "$root/gauss-mpirun" >/dev/null
mpirun -np 2 "$bin" map --config jobs/faithful-denoise.toml --model "$root/gauss-mpirun" \
  --out "$root/map-mpirun" >/dev/null
cmp "$root/out/map-$map/map/x_map.npy" "$root/map-mpirun/x_map.npy" ||
  fail "the map job's x_map.npy differs from plain mpirun's"
echo "   job $map: x_map.npy bitwise equal to mpirun -np 2"
echo "== 7. a signal during start-up (mpirun launcher) is not lost: requeued, then completed =="
# USR1 the moment the batch shell starts, before or while mpirun starts the ranks.
# (a run of ~10 s, so that the job is still there when the signal arrives half a second after the
# shell announces the launch, while mpirun is still starting the ranks)
early=$(SCOREMATCH_LAUNCHER=mpirun submit jobs/slurm/fit.sbatch "${fit_args[@]}")
wait_for "$(log_of scorematch-fit "$early")" "^\[.*\] job " 120
scancel --batch --signal=USR1 "$early"
read -r state code restarts <<<"$(wait_done "$early" 300)"
[[ $state == COMPLETED && $code == 0:0 && $restarts == 1 ]] ||
  fail "a job signalled during start-up ended $state $code after $restarts restart(s)"
grep -q "requeueing job $early" "$(log_of scorematch-fit "$early")" ||
  fail "the start-up signal did not lead to a requeue"
echo "   job $early: signalled during start-up, requeued once, completed"
echo "PASS: SLURM jobs (fit, neural fit + requeue, sample + requeue, array, failure, map, start-up signal)"
