#!/usr/bin/env bash
# Refactoring check: runs one fixed set of jobs (every command, every sampler, every objective and
# noise process, posterior sampling, MAP methods) with two scorematch binaries and compares what
# they write: every .npy and .csv byte for byte, every .json after dropping the fields that hold
# timings or the machine (seconds, rates, threads, backend). Both binaries must be built for the
# same instruction set (GEMM kernels round differently on AVX2 and AVX-512).
# Usage: tools/compare-outputs.sh OLD_BIN NEW_BIN [DATA_CSV]
# COMPARE_NEW_KEYS=REGEX: JSON keys that only the new binary writes (an intended format addition).
set -euo pipefail
old=$(realpath "$1") new=$(realpath "$2") data=${3:-$(cd "$(dirname "$0")/.." && pwd)/data/faithful.csv}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
jobs() {  # the job list; $1 = binary, run in the current directory
  local bin=$1
  b() { "$bin" "$@" || { echo "job failed: $*" >&2; return 1; }; }
  b gen --dist gmm --n 600 --dim 2 --seed 3 --out gmm.npy
  b gen --dist gaussian --n 400 --dim 4 --seed 1 --out g4.npy
  b gen --dist gaussian --n 20 --dim 4 --seed 2 --out y4.csv
  b fit --model gaussian --data "$data" --out gauss
  b fit --model poly:4 --data "$data" --se on --out poly4
  b fit --model gaussian --data g4.npy --out prior4
  b fit --model mlp-energy --hidden 8,8 --steps 40 --batch 64 --data "$data" --out ism
  b fit --model mlp-score --objective ssm --hidden 8 --steps 20 --batch 32 --data gmm.npy --out ssm
  b fit --model mlp-score --objective dsm --noise ladder --sigma-min 0.05 --sigma-max 2 \
    --levels 5 --hidden 8,8 --steps 40 --batch 64 --data gmm.npy --out ladder
  b fit --model mlp-score --objective dsm --noise vpsde --hidden 8,8 --steps 40 --batch 64 \
    --data gmm.npy --out vp
  b fit --model mlp-energy --objective esm --target gmm --hidden 8 --steps 20 --batch 32 \
    --data gmm.npy --out esm
  local s=(--chains 70 --quiet)
  b sample --model poly4 --sampler mala --data "$data" --steps 100 --warmup 100 "${s[@]}" --out mala
  b sample --model ism --sampler ula --steps 50 "${s[@]}" --out ula
  b sample --model ladder --sampler annealed --steps 5 --levels 5 "${s[@]}" --out annealed
  b sample --model vp --sampler sde --steps 30 "${s[@]}" --out sde
  b sample --model vp --sampler ode --steps 30 "${s[@]}" --out ode
  b sample --target gmm --dim 2 --sampler pc --steps 30 "${s[@]}" --out pc
  b sample --model prior4 --sampler mala --obs y4.csv --sigma-y 0.3 --chains-per-obs 4 \
    --steps 50 --warmup 50 --quiet --out post
  b eval --model ism --data gmm.npy --out eval
  b loglik --model vp --data gmm.npy --steps 20 --out loglik
  b diag --samples mala/samples.npy --chains 70 --model poly4 --out diag.json
  b map --model prior4 --obs y4.csv --sigma-y 0.3 --method exact --out map-exact
  b map --model prior4 --obs y4.csv --sigma-y 0.3 --method adam --steps 200 --out map-adam
  b map --model prior4 --obs y4.csv --sigma-y 0.3 --method lbfgs --steps 50 --out map-lbfgs
  b field --model poly4 --grid 16 --out field
}
for side in old new; do
  bin=$old
  [ "$side" = new ] && bin=$new
  mkdir -p "$root/$side"
  (cd "$root/$side" && jobs "$bin" >"$root/$side.log" 2>&1 && ! grep -q "job failed" "$root/$side.log") ||
    { echo "FAIL: the $side binary failed a job:" >&2; tail -5 "$root/$side.log" >&2; exit 1; }
done
differ=0 files=0
while IFS= read -r f; do
  files=$((files + 1))
  a="$root/old/$f" b="$root/new/$f"
  [ -e "$b" ] || { echo "missing in new: $f"; differ=1; continue; }
  case $f in
  *.json)
    /usr/bin/python3 - "$a" "$b" <<'PY' || { echo "differs: $f"; differ=1; }
import json, os, re, sys
volatile = re.compile(r"seconds|per_s|per_second|threads|backend|wall|ranks")
allowed = os.environ.get("COMPARE_NEW_KEYS")  # regex: keys only the new binary may write
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if not volatile.search(k)}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                if not (allowed and re.search(allowed, k)):
                    out.append(f"{path}/{k}: only in new")
            elif k not in b:
                out.append(f"{path}/{k}: only in old")
            else:
                out += diff(a[k], b[k], f"{path}/{k}")
        return out
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]
a, b = (clean(json.load(open(p))) for p in sys.argv[1:3])
lines = diff(a, b)
for line in lines[:10]:
    print("   ", line)
sys.exit(1 if lines else 0)
PY
    ;;
  *.npy | *.csv) cmp -s "$a" "$b" || { echo "differs: $f"; differ=1; } ;;
  esac
done < <(cd "$root/old" && find . -type f \( -name '*.npy' -o -name '*.csv' -o -name '*.json' \) | sort)
[ "$differ" = 0 ] || exit 1
echo "identical: $files output files of $(grep -c '^  b ' "$0") jobs (npy/csv bytes, json without timings)"
