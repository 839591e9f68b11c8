#!/usr/bin/env bash
# Any number of chains or rows on any number of ranks (ranks that own nothing included): every
# command that shards chains or rows runs for N in {1, 4, 63, 64, 65, 130} on 2, 3 and 4 ranks and
# writes output byte-identical to 1 rank (64-chain/row blocks: 1 and 4 leave ranks empty, 63/64/65
# straddle one block, 130 gives a partial third block).
# Closed-form fits (gaussian, poly) sum their statistics exactly (long accumulators), so they are
# bitwise too.
# Usage: shard_grid.sh <scorematch> <make_decoder> <npy_compare> <mpiexec> <workdir> <command>
#   command: fit-resume | fit-poly | sample | sample-metric | sample-obs | sample-obs-wide |
#            sample-vepc | latent | map |
#            diag | loglik | eval | fit | gen
set -euo pipefail
bin=$1 make=$2 compare=$3 mpiexec=$4 root=$5 cmd=$6
root="$root/$cmd"
rm -rf "$root" && mkdir -p "$root"
fail() { echo "FAIL: $*"; exit 1; }
sizes=(1 4 63 64 65 130)
# Closed-form fits shard whole blocks of 4096 rows: sizes around and across block boundaries.
[[ $cmd == fit* ]] && sizes=(4 130 4096 4097 10000)

# run NP OUT -- ARGS: one run on NP ranks (NP = 1 runs without mpirun) writing --out OUT.
run() {
  local np=$1 out=$2
  shift 2
  if [ "$np" -eq 1 ]; then
    OMP_NUM_THREADS=1 "$bin" "$@" --out "$out" >"$out.log" 2>&1 || { cat "$out.log"; fail "$*"; }
  else
    OMP_NUM_THREADS=1 "$mpiexec" -n "$np" --bind-to none "$bin" "$@" --out "$out" >"$out.log" 2>&1 ||
      { cat "$out.log"; fail "np=$np: $*"; }
  fi
}

# same FILES...: every file in the 1-rank output equals the np-rank output.
check() {
  local n=$1 np=$2
  shift 2
  for f in "$@"; do
    # JSON reports name their own output path, wall times and rank counts: compare the rest.
    if [[ $f == *.json ]]; then
      local skip='"(samples|[a-z_]*seconds|ranks)":'
      diff <(grep -Ev "$skip" "$root/n$n-np1/$f") <(grep -Ev "$skip" "$root/n$n-np$np/$f") >/dev/null ||
        fail "$cmd: $f differs for N=$n on $np ranks"
    else
      cmp "$root/n$n-np1/$f" "$root/n$n-np$np/$f" || fail "$cmd: $f differs for N=$n on $np ranks"
    fi
  done
}

data() {  # data N: N rows of 2-D GMM data (written once per N)
  local n=$1 f="$root/data$1.npy"
  [ -e "$f" ] || OMP_NUM_THREADS=1 "$bin" gen --dist gmm --n "$n" --dim 2 --seed 3 --out "$f" >/dev/null
  echo "$f"
}

# A neural fit stopped on 2 ranks resumes on 3 and on 1 (its standardisation is bitwise the same).
if [ "$cmd" = fit-resume ]; then
  args=(fit --data "$(data 130)" --model mlp-energy --hidden 8 --steps 60 --checkpoint-every 20
        --seed 3)
  SCOREMATCH_TEST_SIGTERM_AT_STEP=30 run 2 "$root/r" "${args[@]}" --preempt-exit-code 0
  grep -q "stop signal received" "$root/r.log" || fail "fit was not stopped"
  cp -r "$root/r.ckpt" "$root/r1.ckpt"
  run 3 "$root/r" "${args[@]}" --resume "$root/r.ckpt"
  grep -q "^resuming" "$root/r.log" || fail "no resume on 3 ranks"
  run 1 "$root/r1" "${args[@]}" --resume "$root/r1.ckpt" --checkpoint-dir "$root/r1.ckpt"
  echo "fit-resume: stopped on 2 ranks, resumed on 3 and on 1"
  exit 0
fi

for n in "${sizes[@]}"; do
  case $cmd in
    sample) args=(sample --target gmm --dim 2 --sampler mala --chains "$n" --steps 40 --warmup 20
                  --seed 5 --quiet); files=(samples.npy report.json) ;;
    sample-metric) args=(sample --target gmm --dim 2 --sampler mala --chains "$n" --steps 30 --warmup 10
                         --metric data --data "$(data 130)" --seed 5 --quiet --no-diag)
                   files=(samples.npy) ;;
    sample-obs) args=(sample --target gaussian --dim 2 --sampler mala --steps 30 --warmup 10
                      --obs "$(data "$n")" --operator identity --sigma-y 0.5 --chains-per-obs 2
                      --seed 5 --quiet); files=(samples.npy posterior_mean.npy) ;;
    # 96 chains per observation: ranks own whole groups of lcm(64, 96) = 192 chains, and the
    # 64-chain blocks straddle observations (block 1 holds the last 32 chains of observation 0
    # and the first 32 of observation 1).
    sample-obs-wide) args=(sample --target gaussian --dim 2 --sampler mala --steps 10 --warmup 5
                           --obs "$(data "$n")" --operator identity --sigma-y 0.5
                           --chains-per-obs 96 --seed 5 --quiet)
                     files=(samples.npy posterior_mean.npy) ;;
    sample-vepc) printf 'x0,x1\n1,0\n' >"$root/mask.csv"  # ve-pc imputes the observed x0
                 args=(sample --target gaussian --dim 2 --sampler ve-pc --steps 20 --corrector-steps 1
                       --obs "$(data "$n")" --operator mask --mask "$root/mask.csv" --sigma-y 0.3
                       --chains-per-obs 2 --seed 5 --quiet); files=(samples.npy posterior_mean.npy) ;;
    latent) [ -e "$root/fix$n" ] || "$make" "$root/fix$n" 2 4 "$n" 7 >/dev/null
            args=(latent --decoder "$root/fix$n/linear" --data "$root/fix$n/x_linear.npy" --sample
                  --sampler mala --chains-per-row 4 --warmup 20 --steps 20 --seed 4)
            files=(z_map.npy reconstruction.npy z_samples.npy z_mean.npy latent.json) ;;
    map) args=(map --target gaussian --obs "$(data "$n")" --operator identity --sigma-y 0.5
               --method adam --steps 30); files=(x_map.npy) ;;
    diag) [ -e "$root/s$n" ] || OMP_NUM_THREADS=1 "$bin" sample --target gmm --dim 2 --chains "$n" \
            --steps 40 --warmup 10 --no-diag --quiet --out "$root/s$n" >/dev/null
          args=(diag --samples "$root/s$n/samples.npy" --chains "$n" --target gmm --reference
                "$(data 50)"); files=(.) ;;
    loglik) args=(loglik --target gmm --data "$(data "$n")" --steps 20)
            files=(loglik.npy loglik_se.npy) ;;
    eval) args=(eval --target gmm --data "$(data "$n")"); files=(score.npy laplacian.npy) ;;
    fit) [ "$n" -ge 4 ] || continue
         args=(fit --model gaussian --data "$(data "$n")" --se on)
         files=(mean.npy precision.npy mean_se.npy precision_se.npy)
         # 4 rows for the 5 parameters of a 2-D gaussian: the sandwich SEs are undefined (not
         # written on any rank count; meta.json says why: checked below).
         [ "$n" -gt 5 ] || files=(mean.npy precision.npy) ;;
    fit-poly) [ "$n" -ge 100 ] || continue  # 9 monomials need more than a few rows
              args=(fit --model poly:3 --data "$(data "$n")" --se on)
              files=(theta.npy theta_se.npy theta_cov.npy shift.npy scale.npy) ;;
    gen) args=(gen --dist rings --n "$n" --dim 2 --seed 11); files=(.) ;;
    *) fail "unknown command $cmd" ;;
  esac
  for np in 1 2 3 4; do
    out="$root/n$n-np$np"
    [ "$cmd" = gen ] && out="$out.npy"
    [ "$cmd" = diag ] && out="$out.json"
    run "$np" "$out" "${args[@]}"
  done
  for np in 2 3 4; do
    if [ "${files[0]}" = . ]; then
      ext=npy; [ "$cmd" = diag ] && ext=json
      cmp "$root/n$n-np1.$ext" "$root/n$n-np$np.$ext" || fail "$cmd: output differs for N=$n on $np ranks"
    else
      check "$n" "$np" "${files[@]}"
    fi
    if [ "$cmd" = fit ] && [ "$n" -le 5 ]; then
      [ ! -e "$root/n$n-np$np/mean_se.npy" ] || fail "fit: SEs written for N=$n on $np ranks"
      grep -q "undefined: $n rows for 5 parameters" "$root/n$n-np$np/meta.json" ||
        fail "fit: meta.json does not say why the SEs are undefined for N=$n on $np ranks"
    fi
  done
done
echo "$cmd: N in {${sizes[*]}} on 1-4 ranks, output identical to 1 rank"
