#!/usr/bin/env bash
# The optdigits inverse-problem study (docs/OPTDIGITS.md), on two splits of data/optdigits-train.csv
# (3823 digits, pixels scaled to [0, 1]):
#   A  the study's own split: test digits = rows 3000..3299, validation = rows 3300..3499, the
#      other 3323 rows train; observation seed 2026;
#   B  a random permutation (--split-seed 7) split alike; observation seed 2027, training seed 1.
# Two tasks on the 300 test digits: inpainting with 50% of the pixels missing at random (sigma_y
# 0.02) and denoising with sigma_y 0.2. Estimates: zero-filled observation; Gaussian prior (exact
# posterior mean); GMM-K priors, K in {1, 5, 10, 20, 40} (sklearn, exact posterior mean,
# jobs/optdigits/gmm.py); a learned score prior's MAP and posterior means: by ve-pc (predictor-
# corrector with imputation, 64 chains per digit), for inpainting also by ve-pc on pigdm guidance
# (the likelihood of Tweedie's denoised estimate), by annealed Langevin (16 chains, the study's
# first sampler), and for denoising Tweedie's exact posterior mean y + sigma_y^2 s(y; sigma_y).
#
# Model selection on the validation digits (round 5): every candidate prior configuration in
# PRIORS is trained on the split; on the split's 200 validation digits each candidate's
# posterior-mean estimators are scored: inpainting by ve-pc with imputation and with pigdm
# guidance (16 chains), denoising by Tweedie and by ve-pc (64 chains, as on the test digits). Per
# split and task, the (prior, estimator) pair of the highest validation PSNR is chosen (study.py
# select) among the coherent priors (session 45): for denoising, where Tweedie's mean is the
# prior's exact posterior mean, a prior is eligible only if its ve-pc mean is within 0.1 dB of it
# on the validation digits (every prior when none is). The test digits then get every learned
# row from the chosen prior, the chosen estimator marked. The MAP is chosen alike (round 8): per
# split and task the (prior, prior level) pair of the highest validation PSNR of the MAP, the levels
# in map_levels. The test digits never enter a choice.
#
# Writes OUT/<split>/table.md (validation table, then one table per task) and OUT/table.md (both
# splits); OUT/figure.png (gnuplot, last split).
#   bash jobs/optdigits/run.sh [OUT] [SPLITS]   (default out/optdigits "A B"; RANKS=2,
#   SCOREMATCH_BIN=build/scorematch,
#   PRIORS="edm ncsn edm-long edm-lognormal edm-consistent ncsn-dropout edm-narrow
#   edm-narrow-shift").
# A candidate in PRIORS is a name from the table below or NAME=CONFIG.toml,STEPS,SNR (its ve-pc
# inpainting corrector). Round 3/4 of docs/OPTDIGITS.md: PRIORS=edm; round 1: PRIORS=ncsn.
# About 90 minutes per split alone on 2 cores (split B, round 8): training 10 (edm) + 8 (ncsn) +
# 18 (edm-long) + 9 (edm-lognormal) + 3 (edm-consistent, fine-tuned from edm-lognormal) + 9
# (ncsn-dropout) minutes, validation 13, test estimates 17; session 41 adds edm-narrow (9 minutes
# of training, about 5 more of estimates), session 42 edm-narrow-shift (as much again).
# Resumable: a step whose output exists is skipped (its wall time is kept in OUT/<split>/times.txt);
# delete an output to redo that step.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/mpi-env.sh
bin=${SCOREMATCH_BIN:-build/scorematch} root=${1:-out/optdigits} splits=${2:-A B}
ranks=${RANKS:-2}
run() { mpirun -np "$ranks" --bind-to none "$bin" "$@" </dev/null; }  # mpirun reads stdin
command -v gnuplot >/dev/null && /usr/bin/python3 -c 'import sklearn' 2>/dev/null ||
  apt-get install -y -q gnuplot-nox python3-sklearn >/dev/null

# Candidate priors: the fit configuration and the ve-pc inpainting corrector (steps snr) chosen for
# it on validation digits in its round (docs/OPTDIGITS.md): edm = rounds 3-4 (edm preconditioning,
# early stopping, dropout 0.1), ncsn = round 1 (NCSN output, last weights), edm-long = edm with a
# 60 000-step schedule (round 5), edm-lognormal = edm with Karras et al.'s lognormal training density
# of sigma (round 6; its corrector is edm's, not re-tuned), ncsn-dropout = ncsn with dropout 0.1 and
# early stopping (round 8; ncsn's corrector), edm-narrow = edm-lognormal with the density narrowed
# to the denoising task's levels (session 41; edm's corrector), edm-narrow-shift = edm-narrow
# trained on the training digits and their one-pixel shifts (session 42, study.py augment).
declare -A prior_toml=([edm]=jobs/optdigits/prior.toml [ncsn]=jobs/optdigits/prior-ncsn.toml
  [edm-long]=jobs/optdigits/prior-long.toml [edm-lognormal]=jobs/optdigits/prior-lognormal.toml
  [edm-consistent]=jobs/optdigits/prior-consistent.toml
  [ncsn-dropout]=jobs/optdigits/prior-ncsn-dropout.toml
  [edm-narrow]=jobs/optdigits/prior-narrow.toml [edm-narrow-shift]=jobs/optdigits/prior-narrow.toml)
declare -A corrector=([edm]="2 0.24" [ncsn]="1 0.16" [edm-long]="2 0.24" [edm-lognormal]="2 0.24"
  [edm-consistent]="2 0.24" [ncsn-dropout]="1 0.16" [edm-narrow]="2 0.24"
  [edm-narrow-shift]="2 0.24")
# A candidate trained on other rows than train.csv: train-shift.csv = train.csv's digits and their
# one-pixel shifts (study.py augment; the validation and test digits are never augmented).
declare -A train_rows=([edm-narrow-shift]=train-shift.csv)
# A candidate fine-tuned from another one's prior (fit --init-from; round 7): edm-consistent is
# edm-lognormal's prior trained further with the consistency term (prior-consistent.toml).
declare -A base_prior=([edm-consistent]=edm-lognormal)
candidates=()
for spec in ${PRIORS:-edm ncsn edm-long edm-lognormal edm-consistent ncsn-dropout edm-narrow edm-narrow-shift}; do
  name=${spec%%=*}
  if [[ $spec == *=* ]]; then
    IFS=, read -r file steps snr <<<"${spec#*=}"
    prior_toml[$name]=$file corrector[$name]="$steps $snr"
  fi
  [[ -n ${prior_toml[$name]:-} && -n ${corrector[$name]:-} ]] ||
    { echo "run.sh: PRIORS: unknown candidate '$spec' (expected edm, ncsn, edm-long, edm-lognormal, edm-consistent, ncsn-dropout, edm-narrow, edm-narrow-shift or NAME=CONFIG.toml,STEPS,SNR)" >&2; exit 2; }
  candidates+=("$name")
done

# timed NAME OUTPUT CMD...: unless OUTPUT exists, runs CMD and appends "NAME seconds" to
# $out/times.txt.
timed() {
  local name=$1 t0 t1
  [[ -e $2 ]] && return 0
  shift 2
  t0=$(date +%s.%N)
  "$@" >/dev/null || return  # explicit: errexit is off where attempt tests timed
  t1=$(date +%s.%N)
  awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s %.2f\n", n, b - a }' >>"$out/times.txt"
}
# attempt NAME OUTPUT CMD...: as timed, but a failing CMD (a sampler whose chains diverge) is a
# result, not the end of the study: its last error line goes to OUTPUT.failed, which the tables
# print instead of a number.
attempt() {
  local name=$1 dest=$2 err
  [[ -e $dest || -e $dest.failed ]] && return 0
  shift 2
  err=$(mktemp)
  if ! timed "$name" "$dest" "$@" 2>"$err"; then
    { grep -m1 'error:' "$err" || grep -v '^\s*$' "$err" | tail -1; } >"$dest.failed"
    echo "run.sh: $name failed: $(cat "$dest.failed")" >&2
  fi
  rm -f "$err"
}
seconds() { awk -v n="$1" '$1 == n { print $2 }' "$out/times.txt" | tail -1; }

declare -A prepare_args=([A]="--seed 2026" [B]="--split-seed 7 --seed 2027")
declare -A train_seed=([A]=0 [B]=1)
# Settings shared by every candidate, chosen on validation digits (docs/OPTDIGITS.md): ve-pc's last
# level sigma_min (split A; the final Tweedie step keeps the mean exact), pigdm's sigma_data (split
# B), the MAP's continuation (inpainting from sigma 1, split A). The MAP's prior level is chosen per
# split and task with its prior (round 8): the levels tried on the validation digits.
declare -A map_levels=([inpaint]="0.2 0.1" [denoise]="0.1 0.2")
declare -A anneal=([inpaint]="--anneal-from 1" [denoise]="")
declare -A last=([inpaint]=0.01 [denoise]=0.1)
pigdm_sigma_data=0.12

# ve_pc CAND TASK OBS OPERATOR CHAINS OUT [ARGS...]: ve-pc posterior sampling with CAND's prior
# (inpainting with CAND's corrector, denoising without one).
ve_pc() {
  local cand=$1 task=$2 y=$3 chains=$5 dest=$6 steps snr operator
  read -r -a operator <<<"$4"
  shift 6
  read -r steps snr <<<"${corrector[$cand]}"
  [[ $task == denoise ]] && steps=0
  local -a corr=(--corrector-steps "$steps")
  ((steps > 0)) && corr+=(--snr "$snr")  # no corrector, no snr (sample refuses an unread one)
  run sample --model "$out/$cand/prior" --sampler ve-pc --obs "$y" "${operator[@]}" \
    --chains-per-obs "$chains" --steps 200 --sigma-min "${last[$task]}" "${corr[@]}" \
    --seed 1 --quiet --out "$dest" "$@"
}

# operator_of PREFIX TASK: the observation model of TASK's test (PREFIX "") or validation (val_)
# digits, as options of map and sample.
operator_of() {
  if [[ $2 == inpaint ]]; then
    echo "--operator mask --mask $out/${1}mask.csv --sigma-y 0.02"
  else
    echo "--operator identity --sigma-y 0.2"
  fi
}

# map_estimate CAND TASK LEVEL Y OPERATOR OUT: the MAP of TASK's observations Y with CAND's prior
# evaluated at LEVEL (Adam, 2000 steps; inpainting by continuation from sigma 1).
map_estimate() {
  local cand=$1 task=$2 lv=$3 y=$4 dest=$6
  local -a operator anneal_args
  read -r -a operator <<<"$5"
  read -r -a anneal_args <<<"${anneal[$task]}"
  run map --model "$out/$cand/prior" --prior-level "$lv" "${anneal_args[@]}" --obs "$y" \
    "${operator[@]}" --steps 2000 --lr 0.01 --out "$dest"
}

# validate CAND: the candidate's posterior-mean estimators and MAPs on the validation digits.
validate() {
  local cand=$1 d=$out/$1
  local mask_op
  mask_op=$(operator_of val_ inpaint)
  attempt "$cand-val-inpaint-imputation" "$d/val-inpaint-imputation" ve_pc "$cand" inpaint \
    "$out/val_y_inpaint.csv" "$mask_op" 16 "$d/val-inpaint-imputation"
  attempt "$cand-val-inpaint-pigdm" "$d/val-inpaint-pigdm" ve_pc "$cand" inpaint \
    "$out/val_y_inpaint.csv" "$mask_op" 16 "$d/val-inpaint-pigdm" --guidance pigdm \
    --sigma-data $pigdm_sigma_data
  timed "$cand-val-denoise-tweedie" "$d/val-denoise-tweedie" "$bin" map --model "$d/prior" \
    --obs "$out/val_y_denoise.csv" --operator identity --sigma-y 0.2 --method tweedie \
    --out "$d/val-denoise-tweedie"
  attempt "$cand-val-denoise-vepc" "$d/val-denoise-vepc" ve_pc "$cand" denoise \
    "$out/val_y_denoise.csv" "--operator identity --sigma-y 0.2" 64 "$d/val-denoise-vepc"
  local task lv
  for task in inpaint denoise; do
    for lv in ${map_levels[$task]}; do
      attempt "$cand-val-$task-map-$lv" "$d/val-$task-map-$lv" map_estimate "$cand" "$task" "$lv" \
        "$out/val_y_$task.csv" "$(operator_of val_ "$task")" "$d/val-$task-map-$lv"
    done
  done
}

# estimate_map CAND TASK LEVEL: the MAP of TASK's test digits with CAND's prior at LEVEL.
estimate_map() {
  local dest=$out/$1/$2-map-$3
  attempt "$1-$2-map-$3" "$dest" map_estimate "$1" "$2" "$3" "$out/y_$2.csv" "$(operator_of "" "$2")" \
    "$dest"
}

# estimate CAND TASK: every learned posterior-mean estimate of TASK on the test digits with CAND's
# prior.
estimate() {
  local cand=$1 task=$2 d=$out/$1 y=$out/y_$2.csv op
  op=$(operator_of "" "$task")
  local -a opa
  read -r -a opa <<<"$op"
  if [[ $task == inpaint ]]; then
    # An estimator whose chains diverged on the validation digits is not rerun on the test digits.
    local g
    for g in imputation pigdm; do
      if [[ -e $d/val-inpaint-$g.failed && ! -e $d/inpaint-$g ]]; then
        echo "not run: failed on the validation digits ($(cat "$d/val-inpaint-$g.failed"))" \
          >"$d/inpaint-$g.failed"
      fi
    done
    attempt "$cand-inpaint-imputation" "$d/inpaint-imputation" ve_pc "$cand" inpaint "$y" "$op" 64 \
      "$d/inpaint-imputation"
    attempt "$cand-inpaint-pigdm" "$d/inpaint-pigdm" ve_pc "$cand" inpaint "$y" "$op" 64 \
      "$d/inpaint-pigdm" --guidance pigdm --sigma-data $pigdm_sigma_data
  else
    timed "$cand-denoise-tweedie" "$d/denoise-tweedie" "$bin" map --model "$d/prior" --obs "$y" \
      "${opa[@]}" --method tweedie --out "$d/denoise-tweedie"
    attempt "$cand-denoise-vepc" "$d/denoise-vepc" ve_pc "$cand" denoise "$y" "$op" 64 \
      "$d/denoise-vepc"
    # The full reverse process to sigma 0.01 as well (the network's consistency).
    attempt "$cand-denoise-vepc-full" "$d/denoise-vepc-full" run sample --model "$d/prior" \
      --sampler ve-pc --obs "$y" "${opa[@]}" --chains-per-obs 64 --steps 200 --corrector-steps 0 --seed 1 \
      --quiet --out "$d/denoise-vepc-full"
  fi
  attempt "$cand-$task-annealed" "$d/$task-annealed" run sample --model "$d/prior" \
    --sampler annealed --obs "$y" "${opa[@]}" --chains-per-obs 16 --sigma-max 2 --sigma-min 0.02 \
    --levels 12 --steps 100 --step-size 2e-5 --seed 1 --quiet --out "$d/$task-annealed"
}

# row_spec NAME FILE OUTPUT TIMENAME: study.py's NAME=FILE@SECONDS, or NAME=OUTPUT.failed.
row_spec() {
  if [[ -e $3.failed ]]; then echo "$1=$3.failed"; else echo "$1=$2@$(seconds "$4")"; fi
}

# table CAND TASK ESTIMATOR MAP_CAND MAP_LEVEL: the markdown table of TASK (baselines, the MAP of
# MAP_CAND's prior at MAP_LEVEL and CAND's posterior means).
table() {
  local cand=$1 task=$2 chosen=$3 d=$out/$1 map_cand=$4 map_level=$5 steps snr
  read -r steps snr <<<"${corrector[$cand]}"
  declare -A sigma_y=([inpaint]=0.02 [denoise]=0.2)
  declare -A label=(
    [inpaint-imputation]="posterior mean (ve-pc to sigma 0.01, imputation, corrector: $steps steps at snr $snr, 64 chains)=$d/inpaint-imputation/posterior_mean.npy"
    [inpaint-pigdm]="posterior mean (ve-pc to sigma 0.01, pigdm guidance with sigma_data $pigdm_sigma_data, corrector: $steps steps at snr $snr, 64 chains)=$d/inpaint-pigdm/posterior_mean.npy"
    [denoise-vepc]="posterior mean (ve-pc to sigma 0.1, 64 chains)=$d/denoise-vepc/posterior_mean.npy"
    [denoise-vepc-full]="posterior mean (ve-pc to sigma 0.01, 64 chains)=$d/denoise-vepc-full/posterior_mean.npy"
    [denoise-tweedie]="posterior mean (Tweedie, exact)=$d/denoise-tweedie/x_map.npy")
  echo "#### split $split, $task (sigma_y ${sigma_y[$task]}), learned prior: $cand"
  echo
  local est=("observation (zero-filled)=$out/y_$task.csv"
    "Gaussian prior, posterior mean (exact)=$out/$task-gaussian/x_map.npy@$(seconds "$task-gaussian")")
  [[ $task == denoise ]] && est+=("Gaussian prior, posterior mean (ve-pc to sigma 0.1, 64 chains: the sampler on a prior whose noised scores are one family)=$out/denoise-gaussian-vepc/posterior_mean.npy@$(seconds denoise-gaussian-vepc)")
  for k in 1 5 10 20 40; do est+=("GMM-$k prior, posterior mean (exact)=$out/$task-gmm-$k.npy"); done
  local map_dir=$out/$map_cand/$task-map-$map_level
  est+=("$(row_spec "learned prior ($map_cand), MAP (Adam, prior at sigma $map_level${anneal[$task]:+, from sigma 1}) **chosen on validation MAP**" \
    "$map_dir/x_map.npy" "$map_dir" "$map_cand-$task-map-$map_level")")
  local rows=(inpaint-imputation inpaint-pigdm) row mark
  [[ $task == denoise ]] && rows=(denoise-vepc denoise-vepc-full denoise-tweedie)
  for row in "${rows[@]}"; do
    mark=""
    [[ $row == "$task-$chosen" ]] && mark=" **chosen on validation**"
    est+=("$(row_spec "learned prior ($cand), ${label[$row]%%=*}$mark" "${label[$row]#*=}" "$d/$row" "$cand-$row")")
  done
  est+=("$(row_spec "learned prior ($cand), posterior mean (annealed Langevin, 16 chains)" \
    "$d/$task-annealed/posterior_mean.npy" "$d/$task-annealed" "$cand-$task-annealed")")
  /usr/bin/python3 jobs/optdigits/study.py metrics "$out/test.csv" "${est[@]}"
  echo
}

# train_prior CAND: CAND's prior on the split's training digits (first its base prior, if any).
train_prior() {
  local cand=$1 base=${base_prior[$1]:-}
  local -a init=()
  if [[ -n $base ]]; then
    train_prior "$base"
    init=(--init-from "$out/$base/prior")
  fi
  local rows=$out/${train_rows[$cand]:-train.csv}
  [[ -e $rows ]] || /usr/bin/python3 jobs/optdigits/study.py augment "$out/train.csv" "$rows"
  mkdir -p "$out/$cand"
  timed "$cand-prior" "$out/$cand/prior" run fit --config "${prior_toml[$cand]}" "${init[@]}" \
    --data "$rows" --seed "${train_seed[$split]}" --out "$out/$cand/prior"
}

study_split() {
  split=$1
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
  for task in inpaint denoise; do
    local -a op=(--operator mask --mask "$out/mask.csv" --sigma-y 0.02)
    [[ $task == denoise ]] && op=(--operator identity --sigma-y 0.2)
    timed $task-gaussian "$out/$task-gaussian" "$bin" map --model "$out/gaussian" \
      --obs "$out/y_$task.csv" "${op[@]}" --method exact --out "$out/$task-gaussian"
  done
  # The sampler check on real digits: ve-pc with the denoising settings of the learned priors on
  # the Gaussian prior, whose noised laws N(mu, C + sigma^2 I) are one family by construction, so
  # its average must reach the exact posterior mean above (up to its Monte Carlo error).
  timed denoise-gaussian-vepc "$out/denoise-gaussian-vepc" run sample --model "$out/gaussian" \
    --sampler ve-pc --obs "$out/y_denoise.csv" --operator identity --sigma-y 0.2 \
    --chains-per-obs 64 --steps 200 --sigma-max 5 --sigma-min "${last[denoise]}" \
    --corrector-steps 0 --seed 1 --quiet --out "$out/denoise-gaussian-vepc"

  local cand
  for cand in "${candidates[@]}"; do
    train_prior "$cand"
    validate "$cand"
  done
  # chosen.txt: "TASK CANDIDATE ESTIMATOR" per task, by validation PSNR of the posterior means;
  # chosen-map.txt: "TASK CANDIDATE LEVEL" per task, by validation PSNR of the MAPs.
  /usr/bin/python3 jobs/optdigits/study.py select "$out" --map-levels "inpaint=${map_levels[inpaint]// /,}" \
    --map-levels "denoise=${map_levels[denoise]// /,}" "${candidates[@]}" >"$out/validation.md"
  local -A chosen_prior chosen_estimator map_prior map_level
  local task prior estimator lv
  while read -r task prior estimator; do
    chosen_prior[$task]=$prior chosen_estimator[$task]=$estimator
  done <"$out/chosen.txt"
  while read -r task prior lv; do
    map_prior[$task]=$prior map_level[$task]=$lv
  done <"$out/chosen-map.txt"
  for task in inpaint denoise; do
    estimate_map "${map_prior[$task]}" "$task" "${map_level[$task]}"
    estimate "${chosen_prior[$task]}" "$task"
  done
  # The figure's learned panels: the chosen estimates.
  ln -sfn "${chosen_prior[inpaint]}/inpaint-${chosen_estimator[inpaint]}" "$out/inpaint-learned"
  ln -sfn "${chosen_prior[denoise]}/denoise-${chosen_estimator[denoise]}" "$out/denoise-learned"

  {
    echo "Priors (wall time of the fit, 2 cores): Gaussian $(seconds gaussian) s;" \
      "GMM-K $(/usr/bin/python3 -c "import json; t = json.load(open('$out/gmm-times.json'));
print(', '.join(f'K={k}: {v:.1f} s' for k, v in t.items()))");" \
      "learned score: $(for c in "${candidates[@]}"; do printf '%s %s s, ' "$c" "$(seconds "$c-prior")"; done | sed 's/, $/./')"
    echo
    echo "#### split $split, choice on the validation digits (PSNR dB; posterior means by 16 chains, denoising ve-pc by 64)"
    echo
    cat "$out/validation.md"
    echo
    for task in inpaint denoise; do
      table "${chosen_prior[$task]}" "$task" "${chosen_estimator[$task]}" "${map_prior[$task]}" \
        "${map_level[$task]}"
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
