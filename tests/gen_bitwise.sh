#!/usr/bin/env bash
# gen is bitwise reproducible: the same file for 1, 2, 3 ranks and 1 or 2 threads, NPY and CSV.
set -euo pipefail
bin=$1 mpiexec=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
for dist in gaussian gmm banana rings; do
  for ext in npy csv; do
    OMP_NUM_THREADS=1 "$bin" gen --dist $dist --n 5003 --dim 3 --seed 17 --out "$root/ref.$ext" >/dev/null
    for np in 2 3; do
      for threads in 1 2; do
        OMP_NUM_THREADS=$threads "$mpiexec" -n $np --bind-to none "$bin" gen --dist $dist --n 5003 \
          --dim 3 --seed 17 --out "$root/np$np.$ext" >/dev/null
        cmp "$root/ref.$ext" "$root/np$np.$ext" || { echo "$dist.$ext differs at np=$np threads=$threads"; exit 1; }
      done
    done
  done
done
echo "gen output identical for 1-3 ranks x 1-2 threads"
