# Sourced by the jobs/slurm/*.sbatch scripts: paths, threads, launcher, and the preemption protocol.
#
# Variables (all optional; set them in the environment of `sbatch`, which exports it to the job):
#   SCOREMATCH_BIN      the binary                       (default: $SCOREMATCH_HOME/build/scorematch)
#   SCOREMATCH_HOME     the repository (for common.sh)   (default: the directory sbatch was run from)
#   SCOREMATCH_OUT      where per-job run directories go (default: $SCOREMATCH_HOME/out/slurm)
#   SCOREMATCH_LAUNCHER srun | mpirun                    (default: srun)
#
# Preemption protocol: `#SBATCH --signal=B:USR1@T` sends USR1 to this batch shell T seconds (give or
# take ~30 s) before the time limit, and a preempting scheduler sends TERM. The shell forwards either as
# USR1 to the launcher, which passes it on to every rank; scorematch finishes its current step, writes
# a checkpoint and exits with --preempt-exit-code ($SM_PREEMPT_CODE). The script then asks SLURM to
# requeue the job (`#SBATCH --requeue --open-mode=append`); the rerun finds the checkpoint in its run
# directory and continues with --resume, bitwise as if it had never stopped.
: "${SCOREMATCH_HOME:=${SLURM_SUBMIT_DIR:-$PWD}}"
: "${SCOREMATCH_BIN:=$SCOREMATCH_HOME/build/scorematch}"
: "${SCOREMATCH_OUT:=$SCOREMATCH_HOME/out/slurm}"
: "${SCOREMATCH_LAUNCHER:=srun}"
SM_PREEMPT_CODE=75 # EX_TEMPFAIL: "stopped on request, checkpoint written"

# From the moment this file is sourced, a USR1/TERM to the batch shell is recorded (and passed on
# to the launcher once there is one) instead of killing the shell during start-up.
sm_stopping=0 sm_child=
sm_on_stop() {
  echo "[$(date +%T)] signal received: asking scorematch to checkpoint"
  sm_stopping=1
  if [[ -n $sm_child ]]; then kill -USR1 "$sm_child" 2>/dev/null || true; fi
}
trap sm_on_stop USR1 TERM

# One thread per allocated CPU of the task. Threads are pinned (OMP_PROC_BIND) only where the launcher
# has bound each rank to its own cores: with an unbound rank (e.g. TaskPlugin=task/none) every rank
# would pin its main thread to the node's first core, and the ranks would share one core.
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}

# Run directory of this job: stable across requeues (same job id), one per array task.
sm_run_dir() {
  local tag=${SLURM_JOB_ID:-local}
  [[ -n ${SLURM_ARRAY_JOB_ID:-} ]] && tag=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
  local dir="$SCOREMATCH_OUT/$1-$tag"
  mkdir -p "$dir"
  echo "$dir"
}

# Start the ranks (called in a background subshell, which it replaces by exec so that the shell's
# $! is the launcher itself and a forwarded signal reaches it): srun with PMIx (Debian's Open MPI speaks it; pmi2 and none do not), or mpirun,
# which takes the allocation's slots from SLURM. Each rank gets --cpus-per-task cores for its threads.
sm_launch() {
  case $SCOREMATCH_LAUNCHER in
  srun)
    # Since SLURM 22.05 srun does not inherit sbatch's --cpus-per-task: pass it on explicitly.
    # --cpu-bind=cores takes effect where the cluster's TaskPlugin binds (task/affinity, task/cgroup).
    exec srun --mpi=pmix --cpus-per-task="$OMP_NUM_THREADS" --cpu-bind=cores "$SCOREMATCH_BIN" "$@"
    ;;
  mpirun)
    if [[ $(id -u) == 0 ]]; then
      export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
    export OMP_PROC_BIND=close OMP_PLACES=cores # mpirun binds each rank to its PE cores
    # Jobs sharing a node would share Open MPI 4's session directory /tmp/ompi.<host>.<uid>, which
    # an ending mpirun removes under a starting one ("A call to mkdir was unable to create the
    # desired directory", open-mpi/ompi#8510): one of this job's own, unless the user set one.
    # mpirun removes what it creates inside it; the empty directory stays.
    export OMPI_MCA_orte_tmpdir_base=${OMPI_MCA_orte_tmpdir_base:-${TMPDIR:-/tmp}/scorematch-ompi.${SLURM_JOB_ID:-$$}}
    exec mpirun -np "${SLURM_NTASKS:-1}" --map-by "slot:PE=$OMP_NUM_THREADS" --bind-to core \
      "$SCOREMATCH_BIN" "$@"
    ;;
  *)
    echo "SCOREMATCH_LAUNCHER must be srun or mpirun, not '$SCOREMATCH_LAUNCHER'" >&2
    return 2
    ;;
  esac
}

# Run scorematch preemptibly. Bash runs traps only between commands, so the launcher runs in the
# background and the shell waits for it; a USR1/TERM reaching the shell is forwarded as USR1 (mpirun
# would answer TERM by killing the ranks; USR1 it passes on). Exit status 75 means "checkpointed on
# request": requeue and exit 0; any other status is the job's.
# A signal that reaches the launcher before it has started the ranks would be lost (mpirun forwards
# USR1 only to running processes), so once asked to stop, the shell repeats USR1 every 2 s until
# the launcher exits; scorematch records a repeated signal once.
sm_run_preemptible() {
  local rc
  sm_launch "$@" &
  sm_child=$!
  while true; do
    rc=0
    if [[ $sm_stopping == 1 ]]; then
      kill -USR1 "$sm_child" 2>/dev/null || true
      sleep 2
      kill -0 "$sm_child" 2>/dev/null || { wait "$sm_child" || rc=$?; break; }
      continue
    fi
    wait "$sm_child" || rc=$?
    kill -0 "$sm_child" 2>/dev/null || break # a trap interrupted wait: the child still runs
  done
  trap - USR1 TERM
  # Asked to stop, the launcher may also end by the repeated signal itself (mpirun tearing down
  # after the ranks exited 75, or before it started them): that is a stop too. Checkpoints are
  # written atomically, so the rerun resumes from the newest complete one, or starts afresh.
  if [[ $sm_stopping == 1 && ($rc == 138 || $rc == 143) ]]; then rc=$SM_PREEMPT_CODE; fi
  if [[ $rc == "$SM_PREEMPT_CODE" ]]; then
    if [[ -n ${SLURM_JOB_ID:-} ]]; then
      echo "[$(date +%T)] stopped on request; requeueing job $SLURM_JOB_ID (restart $((${SLURM_RESTART_COUNT:-0} + 1)))"
      scontrol requeue "$SLURM_JOB_ID"
    fi
    exit 0
  fi
  return "$rc"
}
