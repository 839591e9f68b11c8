#!/usr/bin/env bash
# Nested R-hat end to end: `sample --superchains K` starts each superchain's chains at one point
# and reports nested R-hat; the same on 1 and 3 ranks (x 2 threads); `diag` alone takes the
# design from sampler.json; bad superchain counts are refused with one line and no output.
# Usage: nested_rhat_cli.sh <scorematch> <mpiexec> <workdir>
set -euo pipefail
bin=$1 mpiexec=$2 root=$3
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
args=(sample --target gmm --dim 2 --sampler mala --chains 128 --superchains 8 --steps 200 --warmup 200)
"$bin" --threads 1 "${args[@]}" --out "$root/s1" >/dev/null
"$mpiexec" --bind-to none -np 3 "$bin" --threads 2 "${args[@]}" --out "$root/s3" >/dev/null
cmp "$root/s1/samples.npy" "$root/s3/samples.npy" || fail "samples differ on 3 ranks"
/usr/bin/python3 -c "
import json, struct, sys
r1 = json.load(open('$root/s1/report.json'))['nested_rhat']
r3 = json.load(open('$root/s3/report.json'))['nested_rhat']
assert r1 == r3, 'nested R-hat differs on 3 ranks'
assert r1['superchains'] == 8 and r1['chains_per_superchain'] == 16
assert r1['worst'] is not None and r1['worst'] >= 1.0
print('nested R-hat worst', r1['worst'], 'converged', r1['converged'])
" || fail "nested R-hat report"
# diag alone on the samples takes the design from sampler.json and reproduces the report.
"$bin" diag --samples "$root/s1/samples.npy" --out "$root/d.json" >/dev/null
/usr/bin/python3 -c "
import json
a = json.load(open('$root/d.json'))['nested_rhat']; b = json.load(open('$root/s1/report.json'))['nested_rhat']
assert a == b, (a, b)" || fail "diag does not take the superchains from sampler.json"
refuse() {
  local out=$1; shift
  if "$@" >"$root/msg" 2>&1; then fail "accepted: $*"; fi
  [ "$(wc -l <"$root/msg")" -le 2 ] || fail "long message for: $*"
  [ ! -e "$out" ] || fail "left output $out for: $*"
}
refuse "$root/r1" "$bin" sample --target gmm --dim 2 --sampler mala --chains 64 --superchains 3 --steps 10 --out "$root/r1"
cp "$root/s1/samples.npy" "$root/bare.npy"  # no sampler.json next to it: no superchains
refuse "$root/r2.json" "$bin" diag --samples "$root/bare.npy" --chains 128 --nested-threshold 1.05 --out "$root/r2.json"
refuse "$root/r3.json" "$bin" diag --samples "$root/bare.npy" --chains 128 --superchains 3 --out "$root/r3.json"
echo "nested R-hat: bitwise on 1 and 3 ranks, diag reads the design, refusals"
