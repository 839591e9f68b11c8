#!/usr/bin/env bash
# A rank that fails ends the whole job promptly with a non-zero status and a message naming the rank
# and the cause; never a hang, never a model written. Three failures on 3 ranks, mid-training:
#   1. rank 1 hits a local I/O error (not agreed with the others) -> MPI_Abort;
#   2. rank 2 is killed by SIGKILL -> mpirun tears the job down;
#   3. a bad value in the last rank's rows of a CSV, and a truncated NPY -> agreed error, exit 1.
# Usage: rank_failure.sh <scorematch> <mpiexec> <workdir>
set -euo pipefail
bin=$1 mpiexec=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
"$bin" gen --dist gmm --n 3000 --dim 2 --seed 3 --out "$root/data.npy" >/dev/null
common=(fit --data "$root/data.npy" --model mlp-energy --hidden 16 --steps 400 --batch 64
  --checkpoint-every 1000)

# expect_failure NAME PATTERN [ENV=VALUE]: runs 3 ranks, checks status, time, message and output.
expect_failure() {
  local name=$1 pattern=$2 rc=0 start=$SECONDS
  shift 2
  env "$@" timeout 60 "$mpiexec" -np 3 "$bin" "${common[@]}" --out "$root/$name" \
    >"$root/$name.log" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  [[ $rc != 0 ]] || fail "$name: the job exited 0"
  [[ $rc != 124 ]] || fail "$name: the job hung (killed by timeout after 60 s)"
  ((took <= 20)) || fail "$name: took $took s to end"
  grep -q -E "$pattern" "$root/$name.log" || {
    cat "$root/$name.log"
    fail "$name: no message matching '$pattern'"
  }
  [[ ! -e $root/$name ]] || fail "$name: an output directory was written"
  echo "$name: exit $rc after $took s: $(grep -m1 -E "$pattern" "$root/$name.log")"
}

expect_failure io-error "rank 1 of 3: fatal: injected I/O error at step 5" SCOREMATCH_TEST_FAIL=1:5:error
expect_failure killed "(killed|signal 9|exited on signal)" SCOREMATCH_TEST_FAIL=2:5:kill

# A malformed value in the last rank's rows of a CSV: only rank 2 sees it; the ranks agree on the
# failure and the one that saw it reports the line.
{ echo "x,y"; for i in $(seq 299); do echo "$i.5,-$i.25"; done; echo "1.0,bad"; } >"$root/bad.csv"
common[2]="$root/bad.csv"
expect_failure bad-shard "bad.csv' line 301.*\(rank 2 of 3\)" SCOREMATCH_NONE=1
# A truncated NPY: every rank checks the size the header promises before reading its range.
size=$(stat -c %s "$root/data.npy")
truncate -s $((size - 200)) "$root/data.npy"
common[2]="$root/data.npy"
expect_failure truncated "data.npy': truncated" SCOREMATCH_NONE=1
echo "PASS: failing ranks end the job promptly"
