#!/usr/bin/env bash
# `fit --stream` (each step reads its minibatch rows from the NPY file) gives the same model, bitwise,
# as the in-memory fit on the same number of ranks (1 and 3); on a CSV it is refused with the reason; --timings reports
# the peak resident memory.
# Usage: stream_fit.sh <scorematch> <mpiexec> <workdir>
set -euo pipefail
bin=$1 mpiexec=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
"$bin" gen --dist gmm --n 5000 --dim 3 --seed 4 --out "$root/data.npy" >/dev/null
common=(fit --data "$root/data.npy" --model mlp-energy --hidden 16,16 --steps 60 --batch 96
  --val-fraction 0.2 --val-every 20 --seed 5)
# Same rank count (the allreduce sums in rank order, so 1 vs 3 ranks agree to rounding only).
for ranks in 1 3; do
  "$mpiexec" -np $ranks "$bin" "${common[@]}" --out "$root/memory$ranks" >/dev/null 2>&1 ||
    fail "in-memory fit failed"
  "$mpiexec" -np $ranks "$bin" "${common[@]}" --stream --timings --out "$root/stream$ranks" \
    >"$root/log" 2>&1 || { cat "$root/log"; fail "streaming fit failed"; }
  for f in "$root/memory$ranks"/*.npy; do
    cmp -s "$f" "$root/stream$ranks/$(basename "$f")" ||
      fail "$(basename "$f"): --stream on $ranks rank(s) differs from the in-memory fit"
  done
done
grep -q "peak resident memory (MiB; max / mean over ranks)" "$root/log" || fail "no peak RSS line"
echo "--stream == in-memory, bitwise, on 1 and on 3 ranks"

"$bin" gen --dist gmm --n 100 --dim 3 --seed 4 --out "$root/data.csv" >/dev/null
if msg=$("$bin" fit --data "$root/data.csv" --model mlp-energy --stream --out "$root/csv" 2>&1); then
  fail "--stream on a CSV was accepted"
fi
grep -q "stream needs an .npy data file" <<<"$msg" || fail "unexpected message: $msg"
[[ ! -e $root/csv ]] || fail "output written"
echo "--stream on a CSV refused: $msg"
