#!/usr/bin/env bash
# The README's first command: install dependencies, build, and fit Old Faithful by closed-form
# score matching on 2 MPI ranks (Gaussian and degree-4 polynomial family), evaluate the fit, then
# train a small neural energy by exact implicit score matching on 2 ranks and evaluate it too;
# sample both fits with MALA on 2 ranks and print the convergence diagnostics; finally draw their
# density and score fields (PNG, gnuplot).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target scorematch
source tools/mpi-env.sh
echo "== Gaussian score matching (= MLE) on data/faithful.csv, 2 ranks =="
mpirun -np 2 build/scorematch fit --config jobs/faithful-gaussian.toml
echo "== Degree-4 polynomial exponential family, 2 ranks =="
mpirun -np 2 build/scorematch fit --config jobs/faithful-poly4.toml
echo "== Evaluate the polynomial fit (score, energy, Laplacian, ISM objective) =="
mpirun -np 2 build/scorematch eval --model out/faithful-poly4 --data data/faithful.csv --out out/faithful-poly4-eval
echo "== Neural energy (2x32 softplus MLP) by exact ISM (forward-jet Laplacian), 2 ranks =="
mpirun -np 2 build/scorematch fit --config jobs/faithful-mlp-energy.toml
echo "== Evaluate the neural energy =="
mpirun -np 2 build/scorematch eval --model out/faithful-mlp-energy --data data/faithful.csv --out out/faithful-mlp-energy-eval
echo "== Sample both fits with MALA on 2 ranks (256 chains from data rows), with diagnostics =="
for model in faithful-poly4 faithful-mlp-energy; do
  # The neural fit is bimodal and its chains cross between the modes rarely: 10x the steps,
  # thinned to the same 1000 draws per chain, for R-hat < 1.01 (1.06 with 5000 steps); ~3 s.
  extra=()
  [[ $model == faithful-mlp-energy ]] && extra=(--steps 50000 --thin 50)
  mpirun -np 2 build/scorematch sample --config jobs/faithful-mala.toml --model out/$model \
    --out out/$model-mala "${extra[@]}"
done
echo "== The bimodal neural fit again, by parallel tempering (4 replicas, 1 500 steps), 2 ranks =="
mpirun -np 2 build/scorematch sample --model out/faithful-mlp-energy --sampler pt --replicas 4 \
  --warmup 500 --steps 1000 --chains 256 --data data/faithful.csv --reference data/faithful.csv \
  --seed 1 --out out/faithful-mlp-energy-pt
/usr/bin/python3 - <<'PY'
import json
for name in ("mala", "pt"):
    s = json.load(open(f"out/faithful-mlp-energy-{name}/sampler.json"))
    r = json.load(open(f"out/faithful-mlp-energy-{name}/report.json"))
    evals = s.get("evaluations_mean", s["transitions"] + 1)
    print(f"{name:5s} energy+score evaluations per chain {evals:8.0f}   worst R-hat {r['worst_rhat']:.4f}"
          f"   min ESS-bulk {r['min_ess_bulk']:.0f}")
PY
echo "== Score-field pictures of both fits (gnuplot): out/<model>-field/field.png =="
for model in faithful-poly4 faithful-mlp-energy; do
  build/scorematch field --model out/$model --data data/faithful.csv --png --out out/$model-field
done
echo "== Which model is better? Fit on 204 rows, compare on the 68 held out =="
mkdir -p out
head -n 205 data/faithful.csv >out/faithful-train.csv
{ head -n 1 data/faithful.csv; tail -n 68 data/faithful.csv; } >out/faithful-test.csv
mpirun -np 2 build/scorematch fit --data out/faithful-train.csv --model gaussian --out out/cmp-gaussian >/dev/null
mpirun -np 2 build/scorematch fit --data out/faithful-train.csv --model poly:4 --out out/cmp-poly4-sm >/dev/null
mpirun -np 2 build/scorematch fit --data out/faithful-train.csv --model poly:4 --objective nce \
  --out out/cmp-poly4-nce >/dev/null
mpirun -np 2 build/scorematch fit --config jobs/faithful-mlp-energy.toml --data out/faithful-train.csv \
  --out out/cmp-mlp-energy >/dev/null
mpirun -np 2 build/scorematch fit --config jobs/faithful-mlp-energy.toml --data out/faithful-train.csv \
  --objective nce --steps 3000 --out out/cmp-mlp-energy-nce >/dev/null
# log Z of the unnormalised fits by annealed importance sampling (chains sharded over the ranks);
# the NCE fits estimate it themselves, AIS checks them with a smaller SE.
for model in poly4-sm poly4-nce mlp-energy mlp-energy-nce; do
  mpirun -np 2 build/scorematch logz --model out/cmp-$model --temps 5000 --out out/cmp-$model-logz
done
mpirun -np 2 build/scorematch compare \
  --models out/cmp-gaussian,out/cmp-poly4-sm,out/cmp-poly4-nce,out/cmp-mlp-energy,out/cmp-mlp-energy-nce \
  --logz auto,out/cmp-poly4-sm-logz,out/cmp-poly4-nce-logz,out/cmp-mlp-energy-logz,out/cmp-mlp-energy-nce-logz \
  --data out/faithful-test.csv --out out/compare.json
