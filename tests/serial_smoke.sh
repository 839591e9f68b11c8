#!/usr/bin/env bash
# The serial build (-DSCOREMATCH_MPI=OFF) against the MPI build on one process: the same commands
# must write byte-identical results (only the collectives differ, and on one rank they are the
# identity). Usage: tests/serial_smoke.sh SERIAL_BIN MPI_BIN DATA_CSV
set -euo pipefail
serial=$1 mpi=$2 data=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
run() {  # run BIN DIR args...: one job in DIR
  local bin=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  (cd "$dir" && "$bin" "$@" >/dev/null 2>"$dir/stderr.log") || {
    cat "$dir/stderr.log" >&2
    exit 1
  }
}
for side in serial mpi; do
  bin=$serial
  [ "$side" = mpi ] && bin=$mpi
  d="$root/$side"
  run "$bin" "$d" gen --dist gmm --n 500 --dim 2 --seed 3 --out gmm.npy
  run "$bin" "$d" fit --model poly:4 --data "$data" --out poly4
  run "$bin" "$d" fit --model mlp-energy --hidden 8,8 --steps 30 --batch 64 --data "$data" --out mlp
  run "$bin" "$d" sample --model poly4 --sampler mala --data "$data" --chains 8 --steps 50 \
    --warmup 50 --quiet --out mala
  run "$bin" "$d" sample --target gmm --dim 2 --sampler annealed --chains 8 --steps 5 --quiet \
    --no-diag --out annealed
  run "$bin" "$d" eval --model mlp --data gmm.npy --out eval
done
for f in gmm.npy poly4/theta.npy mlp/W0.npy mlp/W2.npy mala/samples.npy annealed/samples.npy \
  eval/energy.npy eval/score.npy; do
  if ! cmp -s "$root/serial/$f" "$root/mpi/$f"; then
    echo "FAIL: $f differs between the serial and the MPI build" >&2
    exit 1
  fi
done
echo "serial build: byte-identical to the MPI build on one process (gen, fit poly/mlp, sample, eval)"
