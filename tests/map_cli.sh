#!/usr/bin/env bash
# scorematch map end to end: with a fitted Gaussian prior, the Adam MAP equals the exact posterior
# mean (to 1e-6 relative) for the identity, mask, blur and dense operators; the exact solution is
# bitwise identical on 1 and 3 ranks; bad inputs stop with a clear message and no output.
# Usage: map_cli.sh <scorematch> <npy_compare> <mpiexec> <workdir>
set -euo pipefail
bin=$1 compare=$2 mpiexec=$3 root=$4
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
"$bin" gen --dist gaussian --dim 4 --n 3000 --seed 1 --out "$root/train.npy" >/dev/null
"$bin" fit --data "$root/train.npy" --model gaussian --out "$root/prior" >/dev/null
"$bin" gen --dist gaussian --dim 4 --n 40 --seed 2 --out "$root/y.csv" >/dev/null
{ echo "a,b,c,d"; for i in $(seq 40); do echo "$((i % 2)),1,$(((i / 2) % 2)),0"; done; } >"$root/mask.csv"
printf 'k1,k2,k3\n0.1,0.2,0.1\n0.2,0.4,0.2\n0,0.1,0\n' >"$root/kernel.csv"
printf 'a,b,c,d\n1,0.5,0,-1\n0,1,2,0.3\n' >"$root/matrix.csv"
"$bin" gen --dist gaussian --dim 2 --n 40 --seed 3 --out "$root/y2.csv" >/dev/null

declare -A extra=(
  [identity]="--operator identity --obs $root/y.csv"
  [mask]="--operator mask --mask $root/mask.csv --obs $root/y.csv"
  [blur]="--operator blur --kernel $root/kernel.csv --image 2x2 --boundary reflect --obs $root/y.csv"
  [dense]="--operator dense --matrix $root/matrix.csv --obs $root/y2.csv"
)
for op in identity mask blur dense; do
  # shellcheck disable=SC2086
  "$bin" map --model "$root/prior" ${extra[$op]} --sigma-y 0.3 --method exact \
    --out "$root/$op-exact" >/dev/null
  # shellcheck disable=SC2086
  "$mpiexec" -np 3 "$bin" map --model "$root/prior" ${extra[$op]} --sigma-y 0.3 --method exact \
    --out "$root/$op-exact3" >/dev/null
  cmp "$root/$op-exact/x_map.npy" "$root/$op-exact3/x_map.npy" || fail "$op: exact differs on 3 ranks"
  # shellcheck disable=SC2086
  "$mpiexec" -np 2 "$bin" map --model "$root/prior" ${extra[$op]} --sigma-y 0.3 --method adam \
    --steps 20000 --lr 0.05 --out "$root/$op-adam" >/dev/null
  "$compare" "$root/$op-exact" "$root/$op-adam" 1e-6 >/dev/null ||
    fail "$op: Adam MAP differs from the exact posterior mean"
  echo "$op: Adam MAP (2 ranks) == exact posterior mean to 1e-6; exact bitwise on 1 and 3 ranks"
done

# L-BFGS on the posterior energy (energy priors) equals the exact posterior mean on 2 ranks.
"$mpiexec" -np 2 "$bin" map --model "$root/prior" --operator mask --mask "$root/mask.csv" \
  --obs "$root/y.csv" --sigma-y 0.3 --method lbfgs --out "$root/mask-lbfgs" >/dev/null
"$compare" "$root/mask-exact" "$root/mask-lbfgs" 1e-8 >/dev/null ||
  fail "L-BFGS MAP differs from the exact posterior mean"
echo "mask: L-BFGS MAP (2 ranks) == exact posterior mean to 1e-8"

# Posterior sampling (sample --obs): MALA, 16 chains per observation, bitwise identical on 1 and 3
# ranks; its posterior mean near the exact one. The rigorous MCSE-based check is the unit test
# Posterior.MalaPosteriorMeanMatchesTheClosedForm. Here the unobserved coordinates mix slowly (prior
# scale, no preconditioner), so the bound is a loose smoke test of the CLI plumbing: 0.05 x
# max|mean| (measured: 0.028).
post=(sample --model "$root/prior" --sampler mala --obs "$root/y.csv" --operator mask
  --mask "$root/mask.csv" --sigma-y 0.3 --chains-per-obs 16 --warmup 500 --steps 2000 --thin 2
  --quiet)
"$bin" "${post[@]}" --out "$root/post1" >/dev/null
"$mpiexec" -np 3 "$bin" "${post[@]}" --out "$root/post3" >/dev/null
cmp "$root/post1/samples.npy" "$root/post3/samples.npy" || fail "posterior samples differ on 3 ranks"
cmp "$root/post1/posterior_mean.npy" "$root/post3/posterior_mean.npy" ||
  fail "posterior means differ on 3 ranks"
mkdir -p "$root/post-mean"
cp "$root/post1/posterior_mean.npy" "$root/post-mean/x_map.npy"
"$compare" "$root/mask-exact" "$root/post-mean" 0.05 >/dev/null ||
  fail "MALA posterior mean far from the exact posterior mean"
echo "sample --obs (MALA, mask): bitwise on 1 and 3 ranks; posterior mean near the exact one"
# Annealed posterior sampling: needs a noised prior (a poly:2 fit has none: clear error); with
# the gaussian target's closed-form noised score it runs, bitwise on 1 and 3 ranks. Step: α_i·c_i <
# 2 at every level, c_i ≤ 1/(1 + σ_i²) + 1/(σ_y² + σ_i²) the posterior curvature, α_i = ε σ_i²/σ_L²,
# needs ε < σ_L²; 0.01 diverged (its draws reached 1e67; now refused by the divergence bound).
"$bin" fit --data "$root/train.npy" --model poly:2 --out "$root/poly" >/dev/null
if msg=$("$bin" sample --model "$root/poly" --sampler annealed --obs "$root/y.csv" \
  --sigma-y 0.3 --out "$root/bad" 2>&1); then fail "annealed posterior without noised prior accepted"; fi
grep -q "needs the prior's score at every noise level" <<<"$msg" || fail "unexpected: $msg"
[[ ! -e $root/bad ]] || fail "refused annealed run left an output"
if msg=$("$bin" sample --model "$root/prior" --sampler sde --obs "$root/y.csv" \
  --sigma-y 0.3 --out "$root/bad" 2>&1); then fail "sde posterior accepted"; fi
grep -q "runs ula, mala, annealed, hmc or ve-pc" <<<"$msg" || fail "unexpected: $msg"
ann=(sample --target gaussian --dim 4 --sampler annealed --obs "$root/y.csv" --operator mask
  --mask "$root/mask.csv" --sigma-y 0.3 --chains-per-obs 8 --sigma-max 2 --sigma-min 0.05
  --levels 5 --steps 40 --step-size 0.002 --quiet)
"$bin" "${ann[@]}" --out "$root/ann1" >/dev/null
"$mpiexec" -np 3 "$bin" "${ann[@]}" --out "$root/ann3" >/dev/null
cmp "$root/ann1/posterior_mean.npy" "$root/ann3/posterior_mean.npy" ||
  fail "annealed posterior means differ on 3 ranks"
echo "sample --obs (annealed, gaussian target): bitwise on 1 and 3 ranks; refusals are clear"

# ve-pc on pigdm guidance (the likelihood of Tweedie's denoised estimate): a mask and a dense
# operator, bitwise on 1 and 3 ranks; the settings it cannot use are refused with the option's name
# and no output. Exactness is the unit tests' (PosteriorNoised.*Pigdm*).
pig=(sample --target gaussian --dim 4 --sampler ve-pc --guidance pigdm --sigma-data 1
  --sigma-max 3 --sigma-min 0.01 --steps 30 --corrector-steps 1 --chains-per-obs 8 --quiet)
for op in mask dense; do
  # shellcheck disable=SC2086
  "$bin" "${pig[@]}" ${extra[$op]} --sigma-y 0.3 --out "$root/pig1-$op" >/dev/null
  # shellcheck disable=SC2086
  "$mpiexec" -np 3 "$bin" "${pig[@]}" ${extra[$op]} --sigma-y 0.3 --out "$root/pig3-$op" >/dev/null
  cmp "$root/pig1-$op/posterior_mean.npy" "$root/pig3-$op/posterior_mean.npy" ||
    fail "pigdm ($op) posterior means differ on 3 ranks"
done
# A Gaussian prior supplies sigma_data = sqrt(tr C / d): 1 for this target (unit variances).
nosd=() skip=0
for a in "${pig[@]}"; do
  if ((skip)); then skip=0; elif [[ $a == --sigma-data ]]; then skip=1; else nosd+=("$a"); fi
done
# shellcheck disable=SC2086
"$bin" "${nosd[@]}" ${extra[mask]} --sigma-y 0.3 --out "$root/pig1-mask-default" >/dev/null
cmp "$root/pig1-mask/posterior_mean.npy" "$root/pig1-mask-default/posterior_mean.npy" ||
  fail "pigdm on a Gaussian prior without --sigma-data is not its sigma_data sqrt(tr C / d) = 1"
grep -q '"sigma_data": 1.0' "$root/pig1-mask-default/sampler.json" ||
  fail "pigdm's default sigma_data not in sampler.json"
expect_sample_error() {
  local pattern=$1 rc=0 msg
  shift
  msg=$("$bin" sample "$@" --quiet --out "$root/bad" 2>&1) || rc=$?
  [[ $rc != 0 ]] || fail "accepted: $*"
  grep -q -- "$pattern" <<<"$msg" || fail "no '$pattern' in: $msg"
  [[ ! -e $root/bad ]] || fail "output written for: $*"
  echo "refused: $msg"
}
mask_obs=(--target gaussian --dim 4 --obs "$root/y.csv" --operator mask --mask "$root/mask.csv"
  --sigma-y 0.3 --chains-per-obs 8)
expect_sample_error "needs --sigma-data" --target gmm --dim 4 --obs "$root/y.csv" --operator mask \
  --mask "$root/mask.csv" --sigma-y 0.3 --chains-per-obs 8 --sampler ve-pc --guidance pigdm
expect_sample_error "imputation applies to ve-pc, not annealed" "${mask_obs[@]}" \
  --sampler annealed --guidance imputation
expect_sample_error "guidance imputation needs --operator identity or mask" --target gaussian \
  --dim 4 ${extra[dense]} --sigma-y 0.3 --chains-per-obs 8 --sampler ve-pc --guidance imputation
expect_sample_error "guidance applies to the noised samplers" "${mask_obs[@]}" --sampler mala \
  --guidance pigdm
expect_sample_error "sigma-data applies to --guidance pigdm" "${mask_obs[@]}" --sampler ve-pc \
  --sigma-data 0.5
expect_sample_error "unknown guidance 'dps'" "${mask_obs[@]}" --sampler ve-pc --guidance dps
expect_sample_error "sigma-data must be positive" "${mask_obs[@]}" --sampler ve-pc \
  --guidance pigdm --sigma-data -1
expect_sample_error "applies to posterior sampling" --target gaussian --dim 4 --sampler ve-pc \
  --guidance pigdm
expect_sample_error "sigma-data must be positive and finite" "${mask_obs[@]}" --sampler ve-pc \
  --guidance pigdm --sigma-data 0
expect_sample_error "guidance applies to the noised samplers" "${mask_obs[@]}" --sampler mala \
  --guidance auto
"$bin" fit --data "$root/train.npy" --model mlp-energy --objective dsm --noise ladder \
  --sigma-min 0.05 --sigma-max 1 --levels 4 --hidden 8 --steps 5 --no-standardize \
  --out "$root/energy" >/dev/null
expect_sample_error "pigdm needs the Jacobian of the prior's score" --model "$root/energy" \
  --obs "$root/y.csv" --operator mask --mask "$root/mask.csv" --sigma-y 0.3 --chains-per-obs 8 \
  --sampler ve-pc --guidance pigdm --sigma-data 1
# sampler.json says which guidance ran, also when auto chose it.
grep -q '"guidance": "pigdm"' "$root/pig1-mask/sampler.json" || fail "pigdm not in sampler.json"
grep -q '"guidance": "widened"' "$root/ann1/sampler.json" || fail "widened not in sampler.json"
echo "sample --guidance pigdm (ve-pc; mask, dense): bitwise on 1 and 3 ranks; refusals are clear"

# Bad input (exit 1) or a bad setting (exit 2): one message, no output directory.
expect_error() {
  local code=$1 pattern=$2 rc=0 msg
  shift 2
  msg=$("$bin" map --model "$root/prior" "$@" --out "$root/bad" 2>&1) || rc=$?
  [[ $rc == "$code" ]] || fail "exit $rc (expected $code) for: $* ($msg)"
  grep -q -- "$pattern" <<<"$msg" || fail "no '$pattern' in: $msg"
  [[ ! -e $root/bad ]] || fail "output written for: $*"
  echo "refused: $msg"
}
expect_error 2 "sigma-y: must be > 0, got 0" --obs "$root/y.csv" --sigma-y 0
expect_error 1 "observations have 2 values per row but the identity operator produces 4" \
  --obs "$root/y2.csv" --sigma-y 0.3
printf 'a,b,c,d\n1,0,1,0\n0,1,1,0\n' >"$root/mask2.csv"
expect_error 1 "2 mask rows for 40 observations" --operator mask --mask "$root/mask2.csv" \
  --obs "$root/y.csv" --sigma-y 0.3
printf 'a,b,c,d\n1,2,3,4\n5,nan,7,8\n' >"$root/ynan.csv"
expect_error 1 "ynan.csv' line 3" --obs "$root/ynan.csv" --sigma-y 0.3
echo "PASS: map"

# --method tweedie (denoising posterior mean under a sigma-conditioned prior): equals
# y + sigma_y^2 s(y; sigma_y), with the score taken from `eval` of the same network at sigma_y.
"$bin" fit --data "$root/train.npy" --model mlp-score --objective dsm --noise ladder --sigma-min 0.05 \
  --sigma-max 1 --levels 4 --hidden 16 --steps 50 --no-standardize --out "$root/ladder" >/dev/null
"$bin" map --model "$root/ladder" --obs "$root/y.csv" --operator identity --sigma-y 0.3 \
  --method tweedie --out "$root/tweedie" >/dev/null
cp -r "$root/ladder" "$root/ladder-at-0.3"
sed -i 's/"noise_level": [0-9.e+-]*/"noise_level": 0.3/' "$root/ladder-at-0.3/meta.json"
"$bin" eval --model "$root/ladder-at-0.3" --data "$root/y.csv" --out "$root/eval-0.3" >/dev/null
/usr/bin/python3 - "$root" "$(dirname "$0")/../jobs/optdigits" <<'PY' || fail "tweedie != y + sigma_y^2 s(y)"
import sys
sys.path.insert(0, sys.argv[2])
import study
root = sys.argv[1]
y = study.read_csv(root + "/y.csv")[1]
s = study.read_npy(root + "/eval-0.3/score.npy")
x = study.read_npy(root + "/tweedie/x_map.npy")
err = max(abs(xi - (yi + 0.09 * si)) for xr, yr, sr in zip(x, y, s) for xi, yi, si in zip(xr, yr, sr))
sys.exit(0 if err < 1e-12 else 1)
PY
if msg=$("$bin" map --model "$root/poly" --obs "$root/y.csv" --sigma-y 0.3 --method tweedie \
  --out "$root/bad" 2>&1); then fail "tweedie with a poly:2 prior accepted"; fi
grep -q "needs a sigma-conditioned prior" <<<"$msg" || fail "unexpected: $msg"
# Settings tweedie never reads, and a sigma_y outside the levels the network was trained on
# ([0.05, 1]: the score there is an extrapolation), are refused, with no output.
tweedie_refused() {
  local pattern=$1
  shift
  if msg=$("$bin" map --model "$root/ladder" --obs "$root/y.csv" --operator identity \
    --method tweedie --out "$root/bad" "$@" 2>&1); then fail "tweedie accepted $*"; fi
  grep -qF -- "$pattern" <<<"$msg" || fail "message lacks '$pattern': $msg"
  [[ ! -e $root/bad ]] || fail "refused tweedie left an output"
}
tweedie_refused "--lr does not apply to --method tweedie (it is read by --method adam)" \
  --sigma-y 0.3 --lr 0.7
tweedie_refused "--prior-level does not apply to --method tweedie (it is read by --method adam or lbfgs)" \
  --sigma-y 0.3 --prior-level 0.3
tweedie_refused "--sigma-y 5 is outside the noise levels the model was trained on, [0.05, 1]" \
  --sigma-y 5
tweedie_refused "--sigma-y 0.01 is outside" --sigma-y 0.01
if msg=$("$bin" map --model "$root/ladder" --obs "$root/y.csv" --sigma-y 0.3 --prior-level 3 \
  --out "$root/bad" 2>&1); then fail "--prior-level 3 accepted"; fi
grep -qF -- "--prior-level 3 is outside the noise levels" <<<"$msg" || fail "unexpected: $msg"
echo "map --method tweedie == y + sigma_y^2 s(y; sigma_y); refused for a prior without noise levels, with settings it does not read and outside the trained levels"

# A fitted Gaussian prior N(mu, C) has closed-form noised laws N(mu, C + sigma^2 I)
# (app/score_source.hpp): Tweedie's formula on it is the exact Gaussian posterior mean of
# denoising (to rounding), and ve-pc's reverse process from y averages to it. Every step's
# conditional mean x + (s^2 - s'^2) grad log p_s(x) is exact for the VE process, so the chains'
# average is unbiased on any grid; its Monte Carlo error is at most sigma_y / sqrt(K) per value
# (the posterior sd is below sigma_y), and 4.5 of those bound all 160 values (probability of a
# false alarm < 160 * 7e-6).
"$bin" map --model "$root/prior" --obs "$root/y.csv" --operator identity --sigma-y 0.3 \
  --method tweedie --out "$root/gauss-tweedie" >/dev/null
"$compare" "$root/identity-exact" "$root/gauss-tweedie" 1e-12 >/dev/null ||
  fail "Tweedie on a Gaussian prior differs from its exact posterior mean"
vepc=(sample --model "$root/prior" --sampler ve-pc --obs "$root/y.csv" --operator identity
  --sigma-y 0.3 --chains-per-obs 64 --steps 40 --sigma-max 3 --sigma-min 0.01 --quiet)
"$bin" "${vepc[@]}" --out "$root/gauss-vepc1" >/dev/null
"$mpiexec" -np 3 "$bin" "${vepc[@]}" --out "$root/gauss-vepc3" >/dev/null
cmp "$root/gauss-vepc1/posterior_mean.npy" "$root/gauss-vepc3/posterior_mean.npy" ||
  fail "ve-pc on a Gaussian prior differs on 3 ranks"
/usr/bin/python3 - "$root" "$(dirname "$0")/../jobs/optdigits" <<'PY' || fail "ve-pc mean != exact"
import sys
sys.path.insert(0, sys.argv[2])
import study
a = study.read_npy(sys.argv[1] + "/gauss-vepc1/posterior_mean.npy")
b = study.read_npy(sys.argv[1] + "/identity-exact/x_map.npy")
err = max(abs(u - v) for ra, rb in zip(a, b) for u, v in zip(ra, rb))
bound = 4.5 * 0.3 / 64 ** 0.5
print(f"ve-pc (Gaussian prior, 64 chains) vs exact posterior mean: max |difference| {err:.4f} "
      f"(bound {bound:.4f})")
sys.exit(0 if err < bound else 1)
PY
echo "Gaussian prior: Tweedie == exact posterior mean; ve-pc's mean within its Monte Carlo error, bitwise on 1 and 3 ranks"
# Prior sampling by ve-pc from a fitted Gaussian far from the origin (mean ~50, sd ~20): the noised
# law is centred at the prior's mean and sigma_max defaults to 10 sqrt(lambda_max(C)), so the
# draws' mean and variance match the fit's within 4.5 standard errors (n = 4000 draws: SE of a
# mean sqrt(var / n), of a variance var sqrt(2 / n)). Starting at N(0, 10^2 I), as targets do,
# would leave about 80% of the 50 offset (the reverse process shrinks it by (400 + s_min^2) /
# (400 + 10^2)).
"$bin" gen --dist gaussian --dim 2 --n 4000 --seed 4 --out "$root/g2.csv" >/dev/null
awk -F, 'NR == 1 { print; next } { print 50 + 20 * $1 "," 50 + 20 * $2 }' "$root/g2.csv" >"$root/far.csv"
"$bin" fit --data "$root/far.csv" --model gaussian --out "$root/far" >/dev/null
"$bin" sample --model "$root/far" --sampler ve-pc --chains 4000 --steps 100 --seed 3 --quiet \
  --out "$root/far-vepc" >/dev/null
/usr/bin/python3 - "$root" "$(dirname "$0")/../jobs/optdigits" <<'PY' || fail "ve-pc prior draws of a far Gaussian"
import sys
sys.path.insert(0, sys.argv[2])
import study
root = sys.argv[1]
x = study.read_npy(root + "/far-vepc/samples.npy")
data = study.read_csv(root + "/far.csv")[1]
n = len(x)
for j in range(2):
    m = sum(r[j] for r in x) / n
    v = sum((r[j] - m) ** 2 for r in x) / (n - 1)
    md = sum(r[j] for r in data) / len(data)
    vd = sum((r[j] - md) ** 2 for r in data) / (len(data) - 1)
    ok = abs(m - md) < 4.5 * (vd / n) ** 0.5 and abs(v / vd - 1) < 4.5 * (2 / n) ** 0.5
    print(f"column {j}: draws mean {m:.2f} var {v:.1f}; fit mean {md:.2f} var {vd:.1f}")
    if not ok:
        sys.exit(1)
PY
echo "ve-pc prior draws of a far Gaussian (mean 50, sd 20): mean and variance of the fit"
# Imputation couples y with the process at sigma_y: a grid that stops above it, or starts below
# it, is refused with both values; the VP samplers (N(0, I) start) do not run on a Gaussian fit.
expect_sample_error "sigma-min 0.5 must not exceed sigma_y 0.3" --model "$root/prior" \
  --sampler ve-pc --obs "$root/y.csv" --operator identity --sigma-y 0.3 --chains-per-obs 4 \
  --sigma-min 0.5
expect_sample_error "sigma-max 0.2 must exceed sigma_y 0.3" --model "$root/prior" \
  --sampler ve-pc --obs "$root/y.csv" --operator identity --sigma-y 0.3 --chains-per-obs 4 \
  --sigma-max 0.2
expect_sample_error "time" --model "$root/prior" --sampler sde --chains 4

# MAP by continuation (--anneal-from): on the small sigma-conditioned network above (a smooth,
# nearly Gaussian noised prior) continuation from sigma 1 ends where plain Adam at the last level
# does (2000 Adam steps per stage: both to ~1e-10); a prior without noise levels is refused.
for mode in plain cont; do
  anneal=(); [[ $mode == cont ]] && anneal=(--anneal-from 1 --anneal-stages 4)
  "$bin" map --model "$root/ladder" --prior-level 0.1 "${anneal[@]}" --obs "$root/y.csv" \
    --operator identity --sigma-y 0.3 --steps 8000 --lr 0.01 --out "$root/$mode" >/dev/null ||
    fail "map ${anneal[*]}"
done
/usr/bin/python3 - "$root" "$(dirname "$0")/../jobs/optdigits" <<'PY' || fail "continuation != plain MAP"
import sys
sys.path.insert(0, sys.argv[2])
import study
a = study.read_npy(sys.argv[1] + "/plain/x_map.npy")
b = study.read_npy(sys.argv[1] + "/cont/x_map.npy")
err = max(abs(u - v) for ra, rb in zip(a, b) for u, v in zip(ra, rb))
print(f"continuation vs plain MAP: max |difference| {err:.2e}")
sys.exit(0 if err < 1e-8 else 1)
PY
if msg=$("$bin" map --model "$root/prior" --obs "$root/y.csv" --sigma-y 0.3 --anneal-from 1 \
  --out "$root/bad" 2>&1); then fail "--anneal-from with a Gaussian prior accepted"; fi
grep -q "anneal-from" <<<"$msg" || fail "unexpected: $msg"
echo "map --anneal-from: continuation reaches the plain MAP of a smooth noised prior; refused without levels"
if msg=$("$bin" map --model "$root/ladder" --obs "$root/y.csv" --sigma-y 0.3 --method lbfgs \
  --out "$root/bad" 2>&1); then fail "lbfgs with a score-only prior accepted"; fi
grep -q "needs a prior with an energy" <<<"$msg" || fail "unexpected: $msg"
[[ ! -e $root/bad ]] || fail "refused lbfgs run left an output"
echo "map --method lbfgs refused for a score-only prior"

# --init file: Adam started at given points (here another task's estimates, the identity
# operator's posterior means) ends at the Gaussian posterior's unique mode, on 2 ranks; a missing
# or misplaced --init-file, a file of the wrong shape and a method that takes no start are
# refused naming the option.
"$mpiexec" -np 2 "$bin" map --model "$root/prior" ${extra[mask]} --sigma-y 0.3 --method adam \
  --steps 20000 --lr 0.05 --init file --init-file "$root/identity-exact/x_map.npy" \
  --out "$root/mask-from-file" >/dev/null
"$compare" "$root/mask-exact" "$root/mask-from-file" 1e-6 >/dev/null ||
  fail "--init file: Adam MAP differs from the exact posterior mean"
grep -q '"init_file": ".*identity-exact/x_map.npy"' "$root/mask-from-file/map.json" ||
  fail "map.json does not record --init-file"
head -3 "$root/y.csv" >"$root/short.csv"
refused() {  # refused PATTERN ARGS...: map exits nonzero naming PATTERN and writes nothing
  local pattern=$1 msg
  shift
  if msg=$("$bin" map --model "$root/prior" ${extra[mask]} --sigma-y 0.3 "$@" --out "$root/bad" 2>&1)
  then fail "accepted: $*"; fi
  grep -q -- "$pattern" <<<"$msg" || fail "message lacks '$pattern': $msg"
  [[ ! -e $root/bad ]] || fail "refused map left an output"
}
refused "--init file needs --init-file" --init file
refused "--init-file applies to --init file" --init-file "$root/short.csv"
refused "--init-file '$root/short.csv' is 2 x 4; expected one starting point per observation: 40 x 4" \
  --method adam --init file --init-file "$root/short.csv"
refused "--init does not apply to --method exact (it is read by --method adam or lbfgs)" --method exact --init file \
  --init-file "$root/identity-exact/x_map.npy"
# --method auto on a Gaussian prior is exact: a typed Adam setting would go unread, so it is
# refused; the same setting from a job file (which may serve other priors) is not.
refused "--lr does not apply to --method exact, which --method auto chose for this prior (it is read by --method adam)" \
  --lr 0.1
printf '[map]\nlr = 0.1\ninit = "file"\ninit-file = "%s"\nanneal-from = 1\n' "$root/short.csv" >"$root/auto.toml"
"$bin" map --config "$root/auto.toml" --model "$root/prior" ${extra[mask]} --sigma-y 0.3 \
  --out "$root/auto-job" >/dev/null || fail "--method auto refused a job file's lr"
echo "map --init file: Adam from given points reaches the exact MAP; bad start files refused"
