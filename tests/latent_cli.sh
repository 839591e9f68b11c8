#!/usr/bin/env bash
# scorematch latent end to end: MAP codes of an MLP decoder meet the stationarity criterion
# |J^T S^-1 r| / (|J| |r|) < 1e-8 (flat prior) and are bitwise identical on 1 and 3 ranks; a linear
# decoder (noise from its noise_sd.npy) is sampled with MALA, and its MAP codes, draws and draw
# means are bitwise identical on 1 rank x 1 thread and 2 ranks x 2 threads (the statistical checks
# of the draws and of the linear MAP are unit tests, Latent.*); bad inputs stop with one clear
# message and no output.
# Usage: latent_cli.sh <scorematch> <make_decoder> <mpiexec> <workdir>
set -euo pipefail
bin=$1 make=$2 mpiexec=$3 root=$4
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
json() { sed -n "s/.*\"$2\": \([^,]*\),*$/\1/p" "$1" | head -1; }
"$make" "$root/fix" 2 6 150 7

# MLP decoder, flat prior: stationarity at the MAP, bitwise across ranks.
args=(latent --decoder "$root/fix/mlp" --data "$root/fix/x.npy" --sigma 0.05 --prior flat)
"$bin" "${args[@]}" --out "$root/mlp1" >/dev/null
"$mpiexec" -np 3 "$bin" "${args[@]}" --out "$root/mlp3" >/dev/null
cmp "$root/mlp1/z_map.npy" "$root/mlp3/z_map.npy" || fail "MLP MAP codes differ on 3 ranks"
orth=$(json "$root/mlp1/latent.json" max_orthogonality)
conv=$(json "$root/mlp1/latent.json" converged_rows)
awk -v o="$orth" 'BEGIN { exit !(o < 1e-8) }' || fail "max orthogonality $orth >= 1e-8"
[[ ${conv%.*} == 150 ]] || fail "only $conv of 150 rows converged"
echo "mlp decoder: MAP stationarity max $orth < 1e-8, all rows converged, bitwise on 1 and 3 ranks"

# Linear decoder (noise_sd.npy in the directory), N(0, I) prior: MALA draws, bitwise over ranks x
# threads.
largs=(latent --decoder "$root/fix/linear" --data "$root/fix/x_linear.npy" --sample
  --sampler mala --chains-per-row 16 --warmup 300 --steps 600 --seed 4)
"$bin" --threads 1 "${largs[@]}" --out "$root/lin1" >/dev/null
"$mpiexec" -np 2 --bind-to none "$bin" --threads 2 "${largs[@]}" --out "$root/lin2" >/dev/null
for f in z_map z_samples z_mean; do
  cmp "$root/lin1/$f.npy" "$root/lin2/$f.npy" || fail "$f differs between 1x1 and 2x2"
done
echo "linear decoder: z_map, z_samples, z_mean bitwise on 1 rank x 1 thread and 2 ranks x 2 threads"

# Undefined is not zero: a step size that overflows has no mean (it ended the run with "exact sum
# of a non-finite value"); latent.json says null and why, as sample's sampler.json does.
"$bin" --threads 1 latent --decoder "$root/fix/linear" --data "$root/fix/x_linear.npy" --sample \
  --sampler mala --chains-per-row 2 --warmup 10 --steps 20 --step-size 1e308 --seed 4 \
  --out "$root/linhuge" >/dev/null
grep -q '"step_size_mean": null' "$root/linhuge/latent.json" &&
  grep -q '"step_size_undefined": "not finite in some chains' "$root/linhuge/latent.json" ||
  fail "a non-finite step size is not reported as null with its reason"
echo "step size 1e308: step_size_mean null with its reason"

# Bad inputs: one message, exit 1, no output directory.
bad() { # NAME EXPECTED-TEXT ARGS...
  local name=$1 want=$2
  shift 2
  local msg
  if msg=$("$bin" "$@" --out "$root/bad-$name" 2>&1); then fail "$name accepted"; fi
  grep -q "$want" <<<"$msg" || fail "$name: unexpected message: $msg"
  [[ ! -e $root/bad-$name ]] || fail "$name left an output"
  echo "bad input ($name): $(grep -m1 "$want" <<<"$msg")"
}
printf 'a,b,c\n1,2,3\n' >"$root/three.csv"
bad width "dimension mismatch" latent --decoder "$root/fix/mlp" --data "$root/three.csv" --sigma 0.1
bad sigma "sigma: must be > 0" latent --decoder "$root/fix/mlp" --data "$root/fix/x.npy" --sigma -1
bad nonoise "needs the decoder's noise" latent --decoder "$root/fix/mlp" --data "$root/fix/x.npy"
bad nodir "does not exist" latent --decoder "$root/nowhere" --data "$root/fix/x.npy" --sigma 1
bad chains "chains-per-row must be >= 1" latent --decoder "$root/fix/linear" \
  --data "$root/fix/x_linear.npy" --sample --chains-per-row 0
bad asmodel "is a decoder" sample --model "$root/fix/mlp" --sampler ula
