#!/usr/bin/env bash
# The optdigits inverse-problem study (docs/OPTDIGITS.md), on two splits of data/optdigits-train.csv
# (3823 digits, pixels scaled to [0, 1]):
#   A  the study's own split: test digits = rows 3000..3299, validation = rows 3300..3499, the
#      other 3323 rows train; observation seed 2026;
#   B  a random permutation (--split-seed 7) split alike; observation seed 2027, training seed 1.
# Two tasks on the 300 test digits: inpainting with 50% of the pixels missing at random (sigma_y
# 0.02) and denoising with sigma_y 0.2. Estimates: zero-filled observation; Gaussian prior (exact
# posterior mean); GMM-K priors, K in {1, 5, 10, 20, 40} (sklearn, exact posterior mean,
# jobs/optdigits/gmm.py); the learned score prior's MAP, its posterior mean by ve-pc (predictor-
# corrector with imputation, 64 chains per digit), for inpainting also by ve-pc on pigdm guidance
# (the likelihood of Tweedie's denoised estimate, round 4), by annealed Langevin (16 chains, the
# study's first sampler), and for denoising Tweedie's exact posterior mean y + sigma_y^2 s(y; sigma_y).
# The MAP levels and ve-pc's sigma_min were chosen on the validation digits of split A, ve-pc's
# inpainting corrector (2 steps, snr 0.24) on those of split B (docs/OPTDIGITS.md).
# Writes OUT/<split>/table.md and OUT/table.md (both splits); OUT/figure.png (gnuplot, last split).
#   bash jobs/optdigits/run.sh [OUT] [SPLITS]   (default out/optdigits "A B"; RANKS=2,
#   SCOREMATCH_BIN=build/scorematch, PRIOR=jobs/optdigits/prior.toml, INPAINT_CORRECTOR="2 0.24";
#   round 1 of docs/OPTDIGITS.md: PRIOR=jobs/optdigits/prior-ncsn.toml INPAINT_CORRECTOR="1 0.16").
# About 50 minutes per split on 2 cores, 15 of them training and 15 the pigdm row.
# Resumable: a step whose output exists is skipped (its wall time is kept in OUT/<split>/times.txt);
# delete an output to redo that step.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi-env.sh
bin=${SCOREMATCH_BIN:-build/scorematch} root=${1:-out/optdigits} splits=${2:-A B}
ranks=${RANKS:-2} prior_config=${PRIOR:-jobs/optdigits/prior.toml}
run() { mpirun -np "$ranks" --bind-to none "$bin" "$@"; }
command -v gnuplot >/dev/null && /usr/bin/python3 -c 'import sklearn' 2>/dev/null ||
  apt-get install -y -q gnuplot-nox python3-sklearn >/dev/null

# timed NAME OUTPUT CMD...: unless OUTPUT exists, runs CMD and appends "NAME seconds" to
# $out/times.txt.
timed() {
  local name=$1 t0 t1
  [[ -e $2 ]] && return 0
  shift 2
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s %.2f\n", n, b - a }' >>"$out/times.txt"
}
seconds() { awk -v n="$1" '$1 == n { print $2 }' "$out/times.txt" | tail -1; }

declare -A prepare_args=([A]="--seed 2026" [B]="--split-seed 7 --seed 2027")
declare -A train_seed=([A]=0 [B]=1)

study_split() {
  local split=$1
  out=$root/$split
  mkdir -p "$out"
  touch "$out/times.txt"
  # shellcheck disable=SC2086
  /usr/bin/python3 jobs/optdigits/study.py prepare data/optdigits-train.csv "$out" \
    ${prepare_args[$split]} --sigma-y 0.2 --missing 0.5
  timed gaussian "$out/gaussian" "$bin" fit --data "$out/train.csv" --model gaussian \
    --ridge 1e-3 --out "$out/gaussian"
  [[ -e $out/gmm-times.json ]] ||
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 jobs/optdigits/gmm.py "$out"
  if [[ ! -d $out/prior ]]; then
    timed prior "$out/prior" run fit --config "$prior_config" --data "$out/train.csv" \
      --seed "${train_seed[$split]}" --out "$out/prior"
    seconds prior >"$out/prior.seconds"
  fi

  declare -A op=([inpaint]="--operator mask --mask $out/mask.csv --sigma-y 0.02"
    [denoise]="--operator identity --sigma-y 0.2")
  # Chosen on validation digits (docs/OPTDIGITS.md): MAP prior level (split A; inpainting by
  # continuation from sigma 1), ve-pc corrector steps and signal-to-noise ratio (split B, edm
  # prior) and its last level sigma_min (split A; the final Tweedie step keeps the mean exact).
  local -a inpaint_corrector  # corrector steps, snr
  read -r -a inpaint_corrector <<<"${INPAINT_CORRECTOR:-2 0.24}"
  declare -A level=([inpaint]=0.2 [denoise]=0.1)
  declare -A correct=([inpaint]=${inpaint_corrector[0]} [denoise]=0)
  declare -A snr=([inpaint]=${inpaint_corrector[1]} [denoise]=0.16)
  declare -A anneal=([inpaint]="--anneal-from 1" [denoise]="")
  declare -A last=([inpaint]=0.01 [denoise]=0.1)
  for task in inpaint denoise; do
    local y=$out/y_$task.csv
    # shellcheck disable=SC2086
    timed $task-gaussian "$out/$task-gaussian" "$bin" map --model "$out/gaussian" --obs "$y" \
      ${op[$task]} --method exact --out "$out/$task-gaussian"
    # shellcheck disable=SC2086
    timed $task-map "$out/$task-map" run map --model "$out/prior" --prior-level ${level[$task]} \
      ${anneal[$task]} --obs "$y" ${op[$task]} --steps 2000 --lr 0.01 --out "$out/$task-map"
    # shellcheck disable=SC2086
    [[ $task == denoise ]] && timed $task-tweedie "$out/$task-tweedie" "$bin" map \
      --model "$out/prior" --obs "$y" ${op[$task]} --method tweedie --out "$out/$task-tweedie"
    # shellcheck disable=SC2086
    timed $task-vepc "$out/$task-vepc" run sample --model "$out/prior" --sampler ve-pc \
      --obs "$y" ${op[$task]} --chains-per-obs 64 --steps 200 --sigma-min ${last[$task]} \
      --corrector-steps ${correct[$task]} --snr ${snr[$task]} --seed 1 --quiet \
      --out "$out/$task-vepc"
    # Inpainting: ve-pc on pigdm guidance (the likelihood of Tweedie's denoised estimate) instead
    # of imputation; sigma_data 0.12 and the corrector chosen on split B's validation digits.
    # shellcheck disable=SC2086
    [[ $task == inpaint ]] && timed $task-pigdm "$out/$task-pigdm" run sample \
      --model "$out/prior" --sampler ve-pc --obs "$y" ${op[$task]} --guidance pigdm \
      --sigma-data 0.12 --chains-per-obs 64 --steps 200 --sigma-min 0.01 --corrector-steps 2 \
      --snr 0.24 --seed 1 --quiet --out "$out/$task-pigdm"
    # Denoising: the full reverse process to sigma 0.01 as well (the network's consistency).
    # shellcheck disable=SC2086
    [[ $task == denoise ]] && timed $task-vepc-full "$out/$task-vepc-full" run sample \
      --model "$out/prior" --sampler ve-pc --obs "$y" ${op[$task]} --chains-per-obs 64 \
      --steps 200 --corrector-steps 0 --seed 1 --quiet --out "$out/$task-vepc-full"
    # shellcheck disable=SC2086
    timed $task-annealed "$out/$task-annealed" run sample --model "$out/prior" --sampler annealed --obs "$y" \
      ${op[$task]} --chains-per-obs 16 --sigma-max 2 --sigma-min 0.02 --levels 12 --steps 100 \
      --step-size 2e-5 --seed 1 --quiet --out "$out/$task-annealed"
  done

  {
    echo "Priors (wall time of the fit, 2 cores): Gaussian $(seconds gaussian) s;" \
      "GMM-K $(/usr/bin/python3 -c "import json; t = json.load(open('$out/gmm-times.json'));
print(', '.join(f'K={k}: {v:.1f} s' for k, v in t.items()))");" \
      "learned score $(cat "$out/prior.seconds") s."
    echo
    for task in inpaint denoise; do
      echo "#### split $split, $task (sigma_y ${op[$task]##*--sigma-y })"
      echo
      local est=("observation (zero-filled)=$out/y_$task.csv"
        "Gaussian prior, posterior mean (exact)=$out/$task-gaussian/x_map.npy@$(seconds $task-gaussian)")
      for k in 1 5 10 20 40; do est+=("GMM-$k prior, posterior mean (exact)=$out/$task-gmm-$k.npy"); done
      est+=("learned prior, MAP (Adam, prior at sigma ${level[$task]}${anneal[$task]:+, from sigma 1})=$out/$task-map/x_map.npy@$(seconds $task-map)"
        "learned prior, posterior mean (ve-pc to sigma ${last[$task]}, ${correct[$task]} corrector steps, 64 chains)=$out/$task-vepc/posterior_mean.npy@$(seconds $task-vepc)"
        "learned prior, posterior mean (annealed Langevin, 16 chains)=$out/$task-annealed/posterior_mean.npy@$(seconds $task-annealed)")
      [[ $task == inpaint ]] &&
        est+=("learned prior, posterior mean (ve-pc with pigdm guidance, sigma_data 0.12, 2 corrector steps, 64 chains)=$out/inpaint-pigdm/posterior_mean.npy@$(seconds inpaint-pigdm)")
      [[ $task == denoise ]] &&
        est+=("learned prior, posterior mean (ve-pc to sigma 0.01, 64 chains)=$out/denoise-vepc-full/posterior_mean.npy@$(seconds denoise-vepc-full)"
          "learned prior, posterior mean (Tweedie, exact)=$out/denoise-tweedie/x_map.npy@$(seconds denoise-tweedie)")
      /usr/bin/python3 jobs/optdigits/study.py metrics "$out/test.csv" "${est[@]}"
      echo
    done
  } >"$out/table.md"
}

for split in $splits; do study_split "$split"; done
for split in $splits; do cat "$root/$split/table.md"; done | tee "$root/table.md"
# The figure shows the last split (B by default: a random draw of all ten digits; split A's test
# rows are 239 eights and 61 sevens).
fig=${splits##* }
/usr/bin/python3 jobs/optdigits/study.py figure "$root/$fig" "$root/figure.dat" &&
  gnuplot -e "datafile='$root/figure.dat'; outfile='$root/figure.png'" jobs/optdigits/figure.gp &&
  echo "wrote $root/figure.png"
