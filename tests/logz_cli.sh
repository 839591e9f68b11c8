#!/usr/bin/env bash
# scorematch logz / loglik end to end:
#  - AIS log Z of the faithful poly:4 score-matching fit agrees with 2-D quadrature
#    (tests/reference/faithful_poly4_quadrature.json, made by tests/reference/poly_quadrature.py)
#    within 3 SE, with SE <= 0.01; loglik through that log Z agrees with the quadrature's mean
#    log-likelihood within its SE;
#  - log_weights.npy is bitwise identical on 1-4 ranks x 1-2 threads, including more ranks than
#    blocks of chains;
#  - gaussian fits are exact (log Z = 0), and AIS on them gives 0 within 3 SE;
#  - an unnormalised model without log Z, a score-only model and bad settings stop with one line,
#    exit code 1 (2 for a bad setting) and no output; a log Z is refused for another model.
# Usage: logz_cli.sh <scorematch> <mpiexec> <workdir> <source dir>
set -euo pipefail
bin=$1 mpiexec=$2 root=$3 src=$4
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
json() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
data=$src/data/faithful.csv ref=$src/tests/reference/faithful_poly4_quadrature.json
"$bin" fit --data "$data" --model poly:4 --out "$root/p4" >/dev/null
"$bin" fit --data "$data" --model gaussian --out "$root/g" >/dev/null

# Accuracy against quadrature.
"$bin" logz --model "$root/p4" --temps 5000 --out "$root/z" >/dev/null
/usr/bin/python3 - "$root/z/logz.json" "$ref" <<'PY' || fail "AIS log Z disagrees with quadrature"
import json, sys
z, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
err = z["log_z"] - ref["log_z"]
print(f"AIS log Z {z['log_z']:.5f} +- {z['se']:.4f}, quadrature {ref['log_z']:.5f}: {err / z['se']:+.2f} SE")
sys.exit(0 if abs(err) < 3 * z["se"] and z["se"] <= 0.01 else 1)
PY
"$bin" loglik --model "$root/p4" --logz "$root/z/logz.json" --data "$data" --out "$root/ll" >/dev/null
/usr/bin/python3 - "$root/ll/metrics.json" "$ref" <<'PY' || fail "loglik through AIS log Z disagrees"
import json, sys
m, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
err = m["mean_loglik"] - ref["mean_loglik"]
# The quadrature mean uses the same rows: only the log Z error separates them.
print(f"mean loglik {m['mean_loglik']:.5f} (SE {m['mean_loglik_se']:.3f}), quadrature {ref['mean_loglik']:.5f}")
sys.exit(0 if abs(err) < 3 * m["log_z_se"] and m["mean_loglik_se"] > m["mean_loglik_se_over_rows"] else 1)
PY

# Bitwise over ranks x threads (200 chains = 4 blocks; 4 ranks with 64 chains: more ranks than blocks).
for chains in 200 64; do
  "$bin" --threads 1 logz --model "$root/p4" --chains $chains --temps 100 --tune-chains 100 \
    --out "$root/w1-$chains" >/dev/null
  for case in "2 1" "3 2" "4 1"; do
    set -- $case
    "$mpiexec" --bind-to none -np "$1" "$bin" --threads "$2" logz --model "$root/p4" \
      --chains $chains --temps 100 --tune-chains 100 --out "$root/w$1$2-$chains" >/dev/null
    cmp "$root/w1-$chains/log_weights.npy" "$root/w$1$2-$chains/log_weights.npy" ||
      fail "$chains chains: log weights differ on $1 ranks x $2 threads"
  done
done
echo "log_weights.npy bitwise on 1-4 ranks x 1-2 threads (200 and 64 chains)"

# A job file gives the same run as the flags.
printf '[logz]\nmodel = "%s"\nchains = 200\ntemps = 100\ntune-chains = 100\nout = "%s"\n' \
  "$root/p4" "$root/wcfg" >"$root/job.toml"
"$bin" --threads 1 logz --config "$root/job.toml" >/dev/null
cmp "$root/w1-200/log_weights.npy" "$root/wcfg/log_weights.npy" || fail "job file != flags"
echo "logz --config job.toml == flags"
# Under --method auto a job file's AIS settings are not read where log Z is exact (like map's
# --method auto): the gaussian fit's log Z is exact with them; typed, or under --method exact,
# they are refused, named as the job file's.
printf '[logz]\nchains = 200\ntemps = 100\n' >"$root/ais.toml"
"$bin" logz --config "$root/ais.toml" --model "$root/g" --out "$root/zgcfg" >/dev/null
[ "$(json "$root/zgcfg/logz.json" '["method"]')" = exact ] || fail "job-file AIS keys: not exact"
if "$bin" logz --config "$root/ais.toml" --model "$root/g" --method exact --out "$root/zgx" \
  >"$root/msg" 2>&1; then fail "--method exact accepted the job file's AIS settings"; fi
grep -q -- "--chains (set in job file '$root/ais.toml') applies to AIS" "$root/msg" ||
  fail "--method exact with job-file AIS keys: $(cat "$root/msg")"
echo "job-file AIS settings: unread under --method auto for an exact log Z, refused under exact"

# Gaussian fits: exact, and AIS agrees.
"$bin" logz --model "$root/g" --out "$root/zg" >/dev/null
[ "$(json "$root/zg/logz.json" '["method"]')" = exact ] || fail "gaussian log Z is not exact"
"$bin" logz --model "$root/g" --method ais --out "$root/zga" >/dev/null
/usr/bin/python3 -c "
import json,sys; z=json.load(open('$root/zga/logz.json'))
sys.exit(0 if abs(z['log_z']) < 3*z['se'] else 1)" || fail "AIS on a gaussian fit is not 0 within 3 SE"

# Refusals: one line, exit 1, no output.
refuse() {
  local out=$1; shift
  if "$@" >"$root/msg" 2>&1; then fail "accepted: $*"; fi
  [ "$(wc -l <"$root/msg")" -le 2 ] || fail "long message for: $*"
  [ ! -e "$out" ] || fail "left output $out for: $*"
  grep -q "error" "$root/msg" || fail "no error line for: $*"
}
refuse "$root/r1" "$bin" loglik --model "$root/p4" --data "$data" --out "$root/r1"
grep -q "scorematch logz" "$root/msg" || fail "loglik without log Z does not say how to get it"
refuse "$root/r2" "$bin" logz --model "$root/p4" --schedule cosine --out "$root/r2"
refuse "$root/r3" "$bin" logz --model "$root/p4" --method exact --out "$root/r3"
refuse "$root/r4" "$bin" logz --model "$root/p4" --out "$root/p4"
echo "refusals: loglik without log Z, bad schedule, exact for poly, output over the model"

# A log Z belongs to one model: logz.json records the model's fingerprint (its contents), and
# loglik refuses it for another model of the same kind and dimension; a copy of the model keeps it.
"$bin" fit --data "$data" --model poly:4 --ridge 0.1 --out "$root/p4b" >/dev/null
refuse "$root/r5" "$bin" loglik --model "$root/p4b" --logz "$root/z/logz.json" --data "$data" \
  --out "$root/r5"
grep -q "fingerprints differ" "$root/msg" || fail "a log Z of another model was not named as such"
cp -r "$root/p4" "$root/p4copy"
"$bin" loglik --model "$root/p4copy" --logz "$root/z/logz.json" --data "$data" \
  --out "$root/r6" >/dev/null || fail "the log Z of a copied model was refused"
echo "refusals: the log Z of another model (fingerprint); a copy of the model is accepted"
# A hand-edited logz.json field of another type is named with what was expected.
sed 's/"dim": 2/"dim": "2"/' "$root/z/logz.json" >"$root/zbad.json"
refuse "$root/r7" "$bin" loglik --model "$root/p4" --logz "$root/zbad.json" --data "$data" \
  --out "$root/r7"
grep -qF "zbad.json': dim must be an integer, got \"2\"" "$root/msg" ||
  fail "an edited logz.json field was not named: $(cat "$root/msg")"
# Other hand edits: a dimension below 1, a standard error given as a string, and a source whose
# fingerprint was deleted (loglik could no longer tell whose log Z it is) are refused, named.
edited() {  # edited NAME PYTHON-EDIT PATTERN: loglik refuses logz.json after the edit, naming PATTERN
  /usr/bin/python3 - "$root/z/logz.json" "$root/$1.json" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(j, open(sys.argv[2], "w"))
PY
  refuse "$root/r-$1" "$bin" loglik --model "$root/p4" --logz "$root/$1.json" --data "$data" \
    --out "$root/r-$1"
  grep -qF -- "$3" "$root/msg" || fail "edited logz.json ($1) not named: $(cat "$root/msg")"
}
edited dim0 'j["dim"] = 0' "dim0.json': dim must be a positive integer, got 0"
edited sestr 'j["se"] = str(j["se"])' "sestr.json': se must be a number, got \""
edited nofp 'del j["source"]["fingerprint"]' "nofp.json': source.fingerprint is missing"
edited srcstr 'j["source"] = "p4"' "srcstr.json': source must be an object"
echo "refusals: hand-edited logz.json fields are named"
