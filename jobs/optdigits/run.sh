#!/usr/bin/env bash
# The optdigits inverse-problem study (docs/OPTDIGITS.md): 3000 training digits, 300 held-out test
# digits, pixels scaled to [0, 1]. Two tasks on the test digits: inpainting with 50% of the pixels
# missing at random (observation noise sigma_y = 0.02) and denoising with sigma_y = 0.2. For each,
# four estimates: the observation itself (zero-filled), the Gaussian-prior posterior mean (exact,
# ridge 1e-3), the learned prior's MAP (Adam on the posterior score, prior evaluated at
# sigma = 0.1) and the learned prior's posterior mean: annealed Langevin on the posterior (16
# chains per digit) and, for denoising, Tweedie's formula y + sigma_y^2 s(y; sigma_y), which is the
# exact posterior mean under the learned noised prior. Prints and writes OUT/table.md (MSE and PSNR per estimate).
#   bash jobs/optdigits/run.sh [OUT]     (default out/optdigits; RANKS=2, SCOREMATCH_BIN=build/scorematch)
# About 10 minutes on 2 cores, most of it training the prior.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi-env.sh
bin=${SCOREMATCH_BIN:-build/scorematch} out=${1:-out/optdigits} ranks=${RANKS:-2}
run() { mpirun -np "$ranks" --bind-to none "$bin" "$@"; }
mkdir -p "$out"
/usr/bin/python3 jobs/optdigits/study.py prepare data/optdigits-train.csv "$out" \
  --train 3000 --test 300 --seed 2026 --sigma-y 0.2 --missing 0.5
"$bin" fit --data "$out/train.csv" --model gaussian --ridge 1e-3 --out "$out/gaussian" >/dev/null
[[ -d $out/prior ]] || run fit --config jobs/optdigits/prior.toml --data "$out/train.csv" \
  --out "$out/prior" | tail -2

declare -A op=([inpaint]="--operator mask --mask $out/mask.csv --sigma-y 0.02"
  [denoise]="--operator identity --sigma-y 0.2")
for task in inpaint denoise; do
  y=$out/y_$task.csv
  # shellcheck disable=SC2086
  "$bin" map --model "$out/gaussian" --obs "$y" ${op[$task]} --method exact \
    --out "$out/$task-gaussian" >/dev/null
  # shellcheck disable=SC2086
  run map --model "$out/prior" --prior-level 0.1 --obs "$y" ${op[$task]} --steps 2000 --lr 0.01 \
    --out "$out/$task-map" >/dev/null
  # Denoising: the posterior mean under the learned noised prior is exactly Tweedie's formula.
  # shellcheck disable=SC2086
  [[ $task == denoise ]] && "$bin" map --model "$out/prior" --obs "$y" ${op[$task]} \
    --method tweedie --out "$out/$task-tweedie" >/dev/null
  # shellcheck disable=SC2086
  run sample --model "$out/prior" --sampler annealed --obs "$y" ${op[$task]} --chains-per-obs 16 \
    --sigma-max 2 --sigma-min 0.02 --levels 12 --steps 100 --step-size 2e-5 --seed 1 --quiet \
    --out "$out/$task-posterior" >/dev/null
done

{
  for task in inpaint denoise; do
    echo "### ${task} (sigma_y ${op[$task]##*--sigma-y })"
    echo
    est=("observation (zero-filled)=$out/y_$task.csv"
      "Gaussian prior, posterior mean (exact)=$out/$task-gaussian/x_map.npy"
      "learned prior, MAP (Adam, prior at sigma 0.1)=$out/$task-map/x_map.npy"
      "learned prior, posterior mean (annealed Langevin, 16 chains)=$out/$task-posterior/posterior_mean.npy")
    [[ $task == denoise ]] &&
      est+=("learned prior, posterior mean (Tweedie, exact)=$out/denoise-tweedie/x_map.npy")
    /usr/bin/python3 jobs/optdigits/study.py metrics "$out/test.csv" "${est[@]}"
    echo
  done
} | tee "$out/table.md"
