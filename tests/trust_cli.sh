#!/usr/bin/env bash
# The trust issue's kinds, from the command line (each check failed before its fix):
#  outputs never lose data (no write over an input, no deletion of a user's files, a lock per
#  --out, a bad --out refused before training, every checkpoint field under the checksum); job
#  files exact; divergence and overflow caught; signals from the first instant; defaults that run
#  on every built-in target; messages a user can act on.
# Usage: trust_cli.sh <scorematch> <workdir>
set -euo pipefail
bin=$1 root=$2
rm -rf "$root" && mkdir -p "$root" && cd "$root"
fail() { echo "FAIL: $*"; exit 1; }
export OMP_NUM_THREADS=1
# expect STATUS PATTERN ARGS...: the command exits with STATUS and prints PATTERN.
expect() {
  local want=$1 pattern=$2
  shift 2
  set +e
  msg=$("$bin" "$@" 2>&1)
  status=$?
  set -e
  [ "$status" -eq "$want" ] || fail "expected exit $want, got $status: $* -> $msg"
  echo "$msg" | grep -q -- "$pattern" || fail "message lacks '$pattern': $* -> $msg"
}

"$bin" gen --dist gmm --n 300 --dim 2 --seed 1 --out data.npy >/dev/null
"$bin" fit --data data.npy --model gaussian --out model >/dev/null
sum_model() { find model -type f -exec md5sum {} + | sort | md5sum; }
before=$(sum_model)

# 3. No command writes over its own inputs.
expect 2 "would overwrite --model" eval --model model --data data.npy --out model
expect 2 "would overwrite --model" sample --model model --chains 4 --steps 10 --out model
expect 2 "would overwrite --model" map --model model --obs data.npy --sigma-y 0.5 --out model
expect 2 "would overwrite --data" eval --model model --data data.npy --out data.npy
expect 2 "would overwrite --samples" diag --samples data.npy --chains 1 --out data.npy
[ "$(sum_model)" = "$before" ] || fail "the model directory changed"
echo "outputs onto inputs are refused; the model is untouched"

# A user's own file in an existing output directory is never deleted.
mkdir -p mine && echo "notes" > mine/notes.txt
expect 1 "holds 'notes.txt', which scorematch did not write" eval --model model --data data.npy --out mine
[ -f mine/notes.txt ] || fail "notes.txt was deleted"
"$bin" eval --model model --data data.npy --out ev >/dev/null
"$bin" eval --model model --data data.npy --out ev >/dev/null  # a previous output is replaced
echo "foreign files are kept; previous outputs are replaced"

# Two runs with the same --out: the second is refused, naming the holder.
"$bin" sample --target gmm --dim 2 --chains 64 --steps 200000 --quiet --no-diag --out busy &
holder=$!
for _ in $(seq 50); do [ -e busy.lock ] && break; sleep 0.1; done
expect 1 "in use by another run (held by pid $holder" sample --target gmm --dim 2 --chains 4 \
  --steps 10 --out busy
kill -TERM $holder; wait $holder || true
echo "a second run on the same --out is refused naming the holder"

# A bad --out of a neural fit is reported before any training.
touch afile
expect 1 "cannot use --out" fit --data data.npy --model mlp-energy --hidden 8 --steps 5 \
  --out afile/sub
echo "$msg" | grep -q "training" && fail "the bad --out was reported after training"
echo "a bad --out is refused before training"

# Every field of a sampler checkpoint is under the checksum (an edited step is refused).
common=(sample --target gmm --dim 2 --sampler mala --chains 8 --steps 60 --warmup 20 --quiet --no-diag)
SCOREMATCH_TEST_SIGTERM_AT_STEP=30 "$bin" "${common[@]}" --out ck >/dev/null 2>&1 || true
[ -f ck.ckpt/checkpoint.json ] || fail "no sampler checkpoint"
sed -i 's/"step": \([0-9]*\)/"step": 5\1/' ck.ckpt/checkpoint.json
expect 1 "was edited or is corrupted" "${common[@]}" --out ck --resume ck.ckpt
echo "an edited sampler checkpoint is refused"

# Checkpoint directories hold only checkpoints; a foreign <out>.lock is never taken over; the job
# file is an input; --checkpoint-dir inside --out is refused before any work.
mkdir -p own.ckpt && echo mine > own.ckpt/notes.txt
expect 1 "not a scorematch checkpoint file" fit --data data.npy --model mlp-energy --hidden 4 \
  --steps 5 --out own
[ -f own.ckpt/notes.txt ] || fail "a checkpoint directory lost the user's file"
echo precious > lk.lock
expect 1 "exists and was not written by scorematch" eval --model model --data data.npy --out lk
grep -q precious lk.lock || fail "a foreign lock file was taken over"
printf '[diag]\nsamples = "data.npy"\nchains = 1\n' > d.toml
expect 2 "would overwrite --config" diag --config d.toml --out d.toml
expect 2 "overlap" sample --target gmm --dim 2 --chains 3 --steps 10 --checkpoint-every 5 \
  --checkpoint-dir s3/ck --out s3
[ ! -e s3 ] || fail "an overlapping checkpoint directory left output behind"
echo "checkpoint dirs, foreign lock files, job files and overlapping outputs are safe"

# Impossible settings are refused up front, not discovered as NaN or an empty file.
expect 2 "keeps no draw" sample --target gmm --dim 2 --chains 3 --steps 5 --thin 10 --out thin
expect 2 "pc needs more than" sample --target gaussian --dim 2 --sampler pc --steps 10 --out pc10
printf 'a,b\n1,2\n3,5\n' > two.csv
expect 1 "n <= d rows is singular" fit --data two.csv --model gaussian --out two
echo "impossible settings are refused up front"

# A stop before the first step still leaves a checkpoint to resume from (exit 75 by default).
set +e
SCOREMATCH_TEST_SIGNAL_AT_START=1 "$bin" fit --data data.npy --model mlp-energy --hidden 4 \
  --steps 10 --out early >/dev/null 2>&1
s0=$?
set -e
[ $s0 -eq 75 ] || fail "a stopped fit exited $s0, expected the default preemption status 75"
"$bin" fit --data data.npy --model mlp-energy --hidden 4 --steps 10 --out early \
  --resume early.ckpt >/dev/null || fail "no resume after a stop before the first step"
echo "a stop before the first step exits 75 and resumes"

# 5. Job files are exact: TOML values equal the same flags, bit for bit.
printf '[fit]\nmodel = "mlp-energy"\nhidden = [8, 8]\nsteps = 3\nlr = 0.00123456789\nseed = 12345678901\n' >job.toml
"$bin" fit --config job.toml --data data.npy --out viajob >/dev/null
"$bin" fit --data data.npy --model mlp-energy --hidden 8,8 --steps 3 --lr 0.00123456789 \
  --seed 12345678901 --out viaflags >/dev/null
grep -q '"lr": 0.00123456789' viajob/meta.json || fail "lr from the job file is not exact"
for f in W0 W1 W2 b0 b1 b2; do cmp viajob/$f.npy viaflags/$f.npy || fail "$f differs between job file and flags"; done
echo "job-file values are exact (lr 0.00123456789, seed 12345678901; weights bitwise equal to flags)"

# 6. Divergence is caught, naming the step and no checkpoint that does not exist.
expect 1 "training diverged at step 1: the parameter norm exploded" fit --data data.npy \
  --model mlp-energy --hidden 8 --steps 50 --lr 1e6 --out diverged
echo "$msg" | grep -q "no checkpoint was written before it" || fail "divergence names a checkpoint: $msg"
[ ! -e diverged ] || fail "a diverged fit wrote its output"
[ ! -e diverged.ckpt ] || fail "a fit diverged before its first log line left diverged.ckpt/"
echo "Adam at lr 1e6 stops at step 1 with a clear message"

# Data near 1e300: standardisation is exact (no inf), overflow is reported as such.
printf 'a,b\n1e300,2e300\n-1e300,1.5e300\n3e299,-1e300\n5e299,7e299\n' >huge.csv
"$bin" fit --data huge.csv --model mlp-energy --hidden 4 --steps 2 --out hugefit >/dev/null
/usr/bin/python3 - <<'EOF' || fail "scale.npy of data near 1e300 is not finite"
import struct, math
raw = open("hugefit/scale.npy", "rb").read()
hl = struct.unpack("<H", raw[8:10])[0]
vals = struct.unpack("<2d", raw[10 + hl:10 + hl + 16])
assert all(math.isfinite(v) and v > 1e299 for v in vals), vals
EOF
"$bin" fit --data huge.csv --model poly:2 --out hugepoly >/dev/null || fail "poly:2 on data near 1e300"
expect 1 "'a' of 'huge.csv': its variance overflows float64" fit --data huge.csv --model gaussian --out hg
"$bin" eval --model hugepoly --data huge.csv --out hugeeval >/dev/null
grep -qi "inf\|nan" hugeeval/metrics.json && fail "eval wrote a non-finite metric"
"$bin" diag --samples huge.csv --chains 1 --model hugepoly --reference huge.csv --out hd.json >/dev/null
grep -q '"ksd"' hd.json && ! grep -q '"value": 0' hd.json && grep -q "overflow: squared distances" hd.json ||
  fail "diag on draws near 1e300 reports a KSD/energy distance instead of the overflow"
echo "data near 1e300: finite standardisation, overflow reported (fit, diag)"

# 7. A stop signal during start-up gives the preemption status, in fit and in sample.
set +e
SCOREMATCH_TEST_SIGNAL_AT_START=1 "$bin" sample --target gmm --dim 2 --chains 4 --steps 10 \
  --out sig1 >/dev/null 2>&1
s1=$?
SCOREMATCH_TEST_SIGNAL_AT_START=1 "$bin" fit --data data.npy --model mlp-energy --hidden 4 \
  --steps 10 --preempt-exit-code 75 --out sig2 >/dev/null 2>&1
s2=$?
SCOREMATCH_TEST_SIGNAL_AT_START=1 "$bin" eval --model model --data data.npy --out sig3 >/dev/null 2>&1
s3=$?
SCOREMATCH_TEST_SIGNAL_AT_START=1 "$bin" fit --model gaussian --data data.npy --out sig4 >/dev/null 2>&1
s4=$?
set -e
[ $s1 -eq 75 ] && [ $s2 -eq 75 ] || fail "start-up signal: sample $s1, fit $s2 (expected 75)"
[ $s3 -eq 138 ] && [ $s4 -eq 138 ] ||
  fail "start-up signal to eval / closed-form fit: exit $s3 / $s4 (expected the default action, 138)"
echo "signals during start-up: fit and sample exit 75; other commands take the default action"

# An interrupted command without checkpoints ends by the signal's default action and leaves
# nothing behind: SIGTERM to logz left lz.lock and lz.tmp-<pid>/ for good. A run killed outright
# (SIGKILL, a crash) cannot clean up; the next run on the same output removes its staging.
"$bin" fit --data data.npy --model poly:4 --out poly >/dev/null
"$bin" logz --model poly --chains 16 --temps 20 --steps-per-temp 100000000 --out lz >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do [ -e "lz.tmp-$pid" ] && break; sleep 0.1; done
[ -e "lz.tmp-$pid" ] && [ -e lz.lock ] || fail "logz staged nothing within 10 s"
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
[ "$status" -eq 143 ] || fail "SIGTERM to logz: exit $status (expected 143)"
[ ! -e lz.lock ] && ! compgen -G 'lz.tmp-*' >/dev/null && [ ! -e lz ] ||
  fail "SIGTERM to logz left: $(ls -d lz*)"
sleep 0 &
dead=$!
wait "$dead"
mkdir -p "ev.tmp-$dead" "ev.tmp-$$" "ev.tmp-0$dead" && touch "ev.tmp-$dead/partial.npy"
"$bin" eval --model model --data data.npy --out ev >/dev/null
[ ! -e "ev.tmp-$dead" ] || fail "a dead run's staging ev.tmp-$dead/ was not removed"
[ -d "ev.tmp-$$" ] || fail "the staging of a live process (ev.tmp-$$) was removed"
[ -d "ev.tmp-0$dead" ] || fail "ev.tmp-0$dead, a name scorematch never makes, was removed"
rmdir "ev.tmp-$$" "ev.tmp-0$dead"
# A killed rank stays a zombie until it is reaped (slowly, by some containers' PID 1): dead too.
bash -c 'sleep 0.05 & echo $! > zombie.pid; exec sleep 5' &
holder=$!
sleep 0.5
zombie=$(cat zombie.pid)
mkdir -p "ev.tmp-$zombie"
"$bin" eval --model model --data data.npy --out ev >/dev/null
[ ! -e "ev.tmp-$zombie" ] || fail "the staging of a zombie process (ev.tmp-$zombie) was kept"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
# plot stops its gnuplot and removes its staging, whatever phase the signal finds it in.
"$bin" gen --dist gmm --n 2000000 --dim 2 --seed 2 --out big.npy >/dev/null
"$bin" plot --samples big.npy --chains 4 --max-lag 100000 --out p.png >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
sleep 0.2
[ "$status" -eq 143 ] || fail "SIGTERM to plot: exit $status (expected 143)"
left=$(ls -a | grep '^p\.png\|^\.gnuplot' || true)
[ -z "$left" ] || fail "SIGTERM to plot left: $left"
# gnuplot runs in the staging directory: a live process whose cwd is it would be the orphan.
for cwd in /proc/[0-9]*/cwd; do
  if [[ $(readlink "$cwd" 2>/dev/null) == *"p.png.tmp-$pid"* ]]; then
    state=$(awk '{print $3}' "${cwd%/cwd}/stat" 2>/dev/null || echo gone)
    [[ $state == Z || $state == gone ]] || fail "SIGTERM to plot left gnuplot running (${cwd%/cwd})"
  fi
done
rm -f big.npy
echo "SIGTERM ends logz with 143 and no leftovers; a dead run's staging is removed by the next run"

# 2. Undefined is not zero: one probe cannot estimate its spread.
"$bin" loglik --target gmm --data data.npy --probes 1 --steps 20 --out ll1 >/dev/null
grep -q '"mean_loglik_se_from_probes": null' ll1/metrics.json && grep -q "one probe per row" ll1/metrics.json ||
  fail "loglik --probes 1 invents a standard error"
[ ! -e ll1/loglik_se.npy ] || fail "loglik --probes 1 wrote per-row standard errors"
"$bin" sample --target gmm --dim 2 --chains 4 --steps 3 --out short >/dev/null
grep -q '"ess_bulk": null' short/report.json && ! grep -q '"verdict": "converged' short/report.json ||
  fail "3 draws per chain: ESS must be null and the verdict not 'converged'"
echo "undefined statistics are null with a reason (one probe, three draws)"

# 8. Every sampler's defaults run on every built-in target it applies to.
for target in gaussian gmm banana rings; do
  for s in ula mala; do
    "$bin" sample --target $target --dim 2 --sampler $s --chains 8 --quiet --no-diag \
      --out "d-$target-$s" >/dev/null || fail "$s defaults on $target"
  done
done
for target in gaussian gmm; do
  for s in annealed sde ode pc; do
    "$bin" sample --target $target --dim 2 --sampler $s --chains 8 --quiet --no-diag \
      --out "d-$target-$s" >/dev/null || fail "$s defaults on $target"
  done
done
# ... and on every fitted model kind (closed-form gaussian and poly, energy and score networks, a
# sigma-conditioned and a time-conditioned network).
"$bin" fit --data data.npy --model poly:4 --out poly >/dev/null
"$bin" fit --data data.npy --model mlp-energy --hidden 16 --steps 100 --out menergy >/dev/null
"$bin" fit --data data.npy --model mlp-score --objective dsm --noise single --hidden 16 --steps 100 \
  --out mscore >/dev/null
# The ladder network trains 2000 steps: after 100 its (EMA) score is still nearly the random init's,
# no density's score, and annealed chains on it run off to 1e73 (refused: "diverged").
"$bin" fit --data data.npy --model mlp-score --objective dsm --noise ladder --hidden 16 --steps 2000 \
  --out mladder >/dev/null
"$bin" fit --data data.npy --model mlp-score --objective dsm --noise vpsde --hidden 16 --steps 100 \
  --out mvpsde >/dev/null
for m in model poly menergy mscore; do
  for s in ula mala; do
    [ $m = mscore ] && [ $s = mala ] && continue  # MALA needs an energy
    "$bin" sample --model $m --sampler $s --chains 8 --quiet --no-diag --out "f-$m-$s" >/dev/null ||
      fail "$s defaults on the fitted $m"
  done
done
"$bin" sample --model mladder --sampler annealed --chains 8 --quiet --no-diag --out f-ladder >/dev/null ||
  fail "annealed defaults on a sigma-conditioned network"
for s in sde ode pc; do
  "$bin" sample --model mvpsde --sampler $s --chains 8 --quiet --no-diag --out "f-vpsde-$s" >/dev/null ||
    fail "$s defaults on a time-conditioned network"
done
echo "default settings of every sampler run on every built-in target and fitted model kind"

# map: every method with a built-in target and with a model directory.
"$bin" gen --dist gaussian --n 20 --dim 2 --seed 3 --out obs.npy >/dev/null
for m in auto exact adam lbfgs tweedie; do
  "$bin" map --target gaussian --obs obs.npy --sigma-y 0.3 --method $m --out "m-g-$m" >/dev/null ||
    fail "map --target gaussian --method $m"
done
for m in adam lbfgs tweedie; do
  "$bin" map --target gmm --obs obs.npy --sigma-y 0.3 --method $m --out "m-m-$m" >/dev/null ||
    fail "map --target gmm --method $m"
done
for m in auto exact adam lbfgs; do
  "$bin" map --model model --obs obs.npy --sigma-y 0.3 --method $m --out "m-d-$m" >/dev/null ||
    fail "map --model (gaussian) --method $m"
done
cmp m-g-exact/x_map.npy m-g-auto/x_map.npy || fail "map auto != exact for a gaussian target"
echo "map: every method works with built-in targets and a model directory"

# 9. Messages a user can act on.
expect 2 "unknown subcommand 'smaple'; did you mean 'sample'" smaple --target gmm
"$bin" eval --target gmm --data data.npy --out th --threads 1 >/dev/null || fail "--threads after the subcommand"
expect 2 "scorematch: error: --steps: must be >= 1, got 0" fit --data data.npy --model mlp-energy --steps 0 --out s0
[ ${#msg} -lt 200 ] || fail "--steps 0 message is ${#msg} characters long"
expect 2 "--hidden (4e+11 parameters, with their EMA and the optimiser state) needs at least" fit --data data.npy --model mlp-energy --hidden 100000000000 --out hh
mkdir -p adir.csv
expect 1 "is a directory, expected a data file" eval --target gmm --data adir.csv --out dd
printf '\xef\xbb\xbf"x 1","y,2"\n1,"2"\n3,4\n5,7\n' >bom.csv
printf 'a,b\n1,1e999\n2,3\n3,4\n' >range.csv
expect 1 "line 2, column 2 'b': value '1e999' is outside the float64 range" fit --data range.csv \
  --model gaussian --out rangefit
"$bin" fit --data bom.csv --model gaussian --out bomfit >/dev/null
grep -q '"x 1"' bomfit/meta.json && grep -q '"y,2"' bomfit/meta.json || fail "BOM/quoted header kept"
"$bin" fit --data data.npy --model mlp-energy --hidden 4 --steps 6 --checkpoint-every 3 --out done >/dev/null
again=$("$bin" fit --data data.npy --model mlp-energy --hidden 4 --steps 6 --checkpoint-every 3 \
  --out done --resume done.ckpt 2>&1)
echo "$again" | grep -q "final loss -\?[0-9]" || fail "resuming a finished run: $again"
grep -q '"final_loss": null' done/meta.json && fail "resuming a finished run nulled the loss"
echo "messages: subcommand suggestion, --threads anywhere, short bounds, sizes, directories, BOM, finished resume"

echo "trust_cli: all checks passed"
