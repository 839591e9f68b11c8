#!/usr/bin/env bash
# One case of the distributed-fit consistency test: fit faithful (gaussian and poly:4, with
# standard errors) on NP ranks x THREADS threads and compare every array with the 1-rank,
# 1-thread reference (written by the case "1 1"): estimates to 1e-12 relative; the sandwich
# standard errors (H^-1 C H^-1, rounding amplified by cond(H) ~ 1e3 for poly:4) to 1e-10.
set -euo pipefail
bin=$1 mpiexec=$2 np=$3 threads=$4 root=$5 compare=$6 data=$7
mkdir -p "$root"
for model in gaussian poly:4; do
  name=${model/:/}
  out=$root/np${np}_t${threads}_$name
  OMP_NUM_THREADS=$threads "$mpiexec" -n "$np" --bind-to none "$bin" fit --data "$data" \
    --model "$model" --se on --out "$out" >/dev/null
  if [ "$np" != 1 ] || [ "$threads" != 1 ]; then
    "$compare" "$root/np1_t1_$name" "$out" 1e-12 1e-10
  fi
done
