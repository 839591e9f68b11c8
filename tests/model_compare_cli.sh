#!/usr/bin/env bash
# Model comparison end to end (issue: which model is better):
#  - fit poly:4 --objective nce: theta.npy and logz.json bitwise on 1-3 ranks x 1-2 threads;
#  - compare: the report is bitwise on 1 and 3 ranks, NCE beats the score-matching poly:4 fit,
#    a model without log Z gets a null log-likelihood with its reason;
#  - diag --ksd-test: bitwise on 1 and 3 ranks x 2 threads; rejects draws of another density;
#  - refusals: one line, exit 1, no output.
# Usage: model_compare_cli.sh <scorematch> <mpiexec> <workdir> <source dir>
set -euo pipefail
bin=$1 mpiexec=$2 root=$3 src=$4
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
py() { /usr/bin/python3 -c "$@"; }
data=$src/data/faithful.csv
head -n 205 "$data" >"$root/train.csv"
{ head -n 1 "$data"; tail -n 68 "$data"; } >"$root/test.csv"

# 9000 rows: whole 4096-row blocks per rank, so 2 and 3 ranks really split the rows.
"$bin" gen --dist gmm --dim 2 --n 9000 --seed 3 --out "$root/big.npy" >/dev/null
"$bin" --threads 1 fit --data "$root/big.npy" --model poly:4 --objective nce --noise-ratio 4 \
  --out "$root/bignce" >/dev/null
for case in "2 1" "3 2"; do
  set -- $case
  "$mpiexec" --bind-to none -np "$1" "$bin" --threads "$2" fit --data "$root/big.npy" \
    --model poly:4 --objective nce --noise-ratio 4 --out "$root/bignce$1$2" >/dev/null
  for f in theta.npy theta_cov.npy logz.json; do
    cmp "$root/bignce/$f" "$root/bignce$1$2/$f" || fail "nce $f differs on $1 ranks x $2 threads"
  done
done
echo "nce fit bitwise on 1-3 ranks x 1-2 threads"
"$bin" fit --data "$root/train.csv" --model poly:4 --objective nce --out "$root/nce" >/dev/null

"$bin" fit --data "$root/train.csv" --model gaussian --out "$root/g" >/dev/null
"$bin" fit --data "$root/train.csv" --model poly:4 --out "$root/sm" >/dev/null
"$bin" logz --model "$root/sm" --temps 2000 --out "$root/sm-z" >/dev/null
models="$root/g,$root/sm,$root/nce"
"$bin" compare --models "$models" --logz "auto,$root/sm-z/logz.json,auto" --data "$root/test.csv" \
  --out "$root/c1.json" >"$root/c1.txt"
"$mpiexec" -np 3 "$bin" compare --models "$models" --logz "auto,$root/sm-z/logz.json,auto" \
  --data "$root/test.csv" --out "$root/c3.json" >/dev/null
cmp "$root/c1.json" "$root/c3.json" || fail "compare report differs on 3 ranks"
py "
import json, sys
r = json.load(open('$root/c1.json'))
order = [m['model'].split('/')[-1] for m in r['models']]
ll = {m['model'].split('/')[-1]: m['mean_loglik'] for m in r['models']}
print('ranking', order, ll)
sys.exit(0 if ll['nce'] > ll['sm'] and order[-1] == 'sm' and len(r['comparisons']) == 2 else 1)
" || fail "compare: NCE does not beat the score-matching fit"
grep -q "beats" "$root/c1.txt" || fail "compare prints no plain-words verdict"
"$bin" compare --models "$root/g,$root/sm" --data "$root/test.csv" --out "$root/c0.json" >/dev/null
py "
import json, sys
r = json.load(open('$root/c0.json'))
sm = [m for m in r['models'] if m['model'].endswith('/sm')][0]
sys.exit(0 if sm['mean_loglik'] is None and 'logz' in sm['undefined']['mean_loglik'] else 1)
" || fail "compare: a model without log Z is not reported as null with a reason"
echo "compare: bitwise on 1 and 3 ranks; NCE > score matching; no log Z -> null with reason"

"$bin" gen --dist gmm --dim 2 --n 300 --seed 4 --out "$root/gmm.npy" >/dev/null
"$bin" --threads 1 diag --samples "$root/gmm.npy" --chains 1 --target gmm --ksd-test --bootstrap 300 \
  --out "$root/k1.json" >/dev/null
"$mpiexec" --bind-to none -np 3 "$bin" --threads 2 diag --samples "$root/gmm.npy" --chains 1 \
  --target gmm --ksd-test --bootstrap 300 --out "$root/k3.json" >/dev/null
py "
import json, sys
a, b = json.load(open('$root/k1.json'))['ksd_test'], json.load(open('$root/k3.json'))['ksd_test']
print('ksd_test under the null:', a['statistic'], a['p_value'])
sys.exit(0 if a == b else 1)" || fail "ksd_test differs on 3 ranks x 2 threads"
"$bin" diag --samples "$root/gmm.npy" --chains 1 --target gaussian --ksd-test --bootstrap 300 \
  --out "$root/kwrong.json" >/dev/null
py "
import json, sys
t = json.load(open('$root/kwrong.json'))['ksd_test']
print('ksd_test against the wrong model: p =', t['p_value'])
sys.exit(0 if t['p_value'] < 0.01 else 1)" || fail "ksd_test does not reject the wrong model"

refuse() {
  local out=$1; shift
  if "$@" >"$root/msg" 2>&1; then fail "accepted: $*"; fi
  [ "$(wc -l <"$root/msg")" -le 2 ] || fail "long message for: $*"
  [ ! -e "$out" ] || fail "left output $out for: $*"
}
refuse "$root/r1.json" "$bin" diag --samples "$root/gmm.npy" --chains 1 --bootstrap 10 --out "$root/r1.json"
refuse "$root/r2.json" "$bin" diag --samples "$root/gmm.npy" --chains 1 --ksd-test --out "$root/r2.json"
refuse "$root/r3.json" "$bin" compare --models "$models" --logz auto --data "$root/test.csv" --out "$root/r3.json"
refuse "$root/r4" "$bin" fit --data "$root/train.csv" --model mlp-score --objective nce --out "$root/r4"
refuse "$root/r5" "$bin" fit --data "$root/train.csv" --model poly:4 --objective nce --noise ladder --out "$root/r5"
refuse "$root/r6" "$bin" fit --data "$root/train.csv" --model poly:4 --objective nce --sigma 0.1 --out "$root/r6"
# A non-normalisable fit has no log Z: logz refuses, NCE writes a null one.
"$bin" fit --data "$root/train.csv" --model poly:3 --out "$root/p3" >/dev/null 2>&1
refuse "$root/r7" "$bin" logz --model "$root/p3" --out "$root/r7"
grep -q "infinite" "$root/msg" || fail "logz of a non-normalisable fit does not say why"
refuse "$root/r7b" "$bin" loglik --model "$root/p3" --data "$root/test.csv" --out "$root/r7b"
grep -q "no log-likelihood (log Z is infinite)" "$root/msg" || fail "loglik of a non-normalisable fit: $(cat "$root/msg")"
# compare names why the fit has no log-likelihood instead of suggesting logz (which refuses it).
"$bin" compare --models "$root/p3" --data "$root/test.csv" --out "$root/p3.json" >"$root/p3.txt"
grep -q "log Z is infinite" "$root/p3.txt" && ! grep -q "run .scorematch logz" "$root/p3.txt" ||
  fail "compare of a non-normalisable fit: $(cat "$root/p3.txt")"
refuse "$root/r8.json" "$bin" compare --models "$root/g,$root/sm" --logz "$root/sm-z,auto" --data "$root/test.csv" --out "$root/r8.json"
refuse "$root/r9.json" "$bin" compare --models "$root/g,$root/g" --data "$root/test.csv" --out "$root/r9.json"
refuse "$root/r10" "$bin" logz --model "$root/g" --temps 100 --out "$root/r10"
# AIS settings a run never reads: MALA moves with one temperature, a schedule with two.
refuse "$root/r11" "$bin" logz --model "$root/sm" --temps 1 --steps-per-temp 7 --out "$root/r11"
grep -q -- "--steps-per-temp sets the MALA moves between temperatures, of which --temps 1 has none" \
  "$root/msg" || fail "logz --temps 1 --steps-per-temp: $(cat "$root/msg")"
refuse "$root/r12" "$bin" logz --model "$root/sm" --temps 2 --schedule linear --out "$root/r12"
grep -q -- "--schedule spaces the intermediate temperatures, of which --temps 2 has at most one" \
  "$root/msg" || fail "logz --temps 2 --schedule: $(cat "$root/msg")"
echo "refusals: --bootstrap without --ksd-test, --ksd-test without a model, --logz count, nce for a score network, bad nce noise, dsm setting with nce"

# A neural energy trained by NCE is self-normalised (log Z by AIS near 0) and beats the Gaussian
# on the held-out rows.
"$bin" fit --data "$root/train.csv" --model mlp-energy --objective nce --hidden 32,32 --steps 3000 \
  --batch 128 --lr 3e-3 --val-fraction 0.2 --out "$root/mlpnce" >/dev/null
# Its normalisation is approximate: no logz.json is written; AIS measures it.
[ ! -e "$root/mlpnce/logz.json" ] || fail "nce network: a logz.json claims an exact log Z"
"$bin" logz --model "$root/mlpnce" --temps 2000 --out "$root/mlpnce-z" >/dev/null
"$bin" compare --models "$root/g,$root/mlpnce" --logz "auto,$root/mlpnce-z" --data "$root/test.csv" \
  --out "$root/cn.json" >/dev/null
py "
import json, sys
z = json.load(open('$root/mlpnce-z/logz.json'))
r = {m['model'].split('/')[-1]: m['mean_loglik'] for m in json.load(open('$root/cn.json'))['models']}
print(f\"nce network: AIS log Z {z['log_z']:.4f} +- {z['se']:.4f}; held-out loglik {r['mlpnce']:.4f} vs gaussian {r['g']:.4f}\")
sys.exit(0 if abs(z['log_z']) < 0.1 and r['mlpnce'] > r['g'] else 1)
" || fail "nce network is not self-normalised or does not beat the gaussian"
