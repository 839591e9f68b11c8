#!/usr/bin/python3
"""Denoising error of a σ-conditioned score prior against GMM-K priors, level by level.

  per_sigma.py SPLITDIR PRIOR [--sigmas 0.05,0.1,0.2,0.4,0.8,1.6] [--k 1,40] [--seed 5]

For each σ, the validation digits of SPLITDIR (val.csv, never used in a fit) get noise
y = x + σ ε; the prior's exact posterior mean is Tweedie's y + σ² s(y; σ) (`scorematch map
--method tweedie`), the GMM-K's the exact mixture posterior mean (gmm.py, fitted to
SPLITDIR/train.csv). Prints the mean squared error per pixel of each. Tweedie's MSE at σ is the
prior's denoising score-matching loss at σ up to the constant factor d/σ² and an additive
constant, so this shows at which noise levels a network is weaker than the classical baseline
(docs/OPTDIGITS.md). The binary is $SCOREMATCH_BIN (default build/scorematch).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gmm import load, posterior_mean  # noqa: E402


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    split, prior = argv[0], argv[1]
    opts = {"--sigmas": "0.05,0.1,0.2,0.4,0.8,1.6", "--k": "1,40", "--seed": "5"}
    for i in range(2, len(argv), 2):
        if argv[i] not in opts or i + 1 >= len(argv):
            raise SystemExit(__doc__)
        opts[argv[i]] = argv[i + 1]
    binary = os.environ.get("SCOREMATCH_BIN", "build/scorematch")
    train, val = load(f"{split}/train.csv"), load(f"{split}/val.csv")
    gmms = {k: GaussianMixture(k, covariance_type="full", reg_covar=1e-3, random_state=0).fit(train)
            for k in map(int, opts["--k"].split(","))}
    rng = np.random.default_rng(int(opts["--seed"]))
    header = ",".join(f"p{i}" for i in range(val.shape[1]))
    print("| σ | learned prior (Tweedie) | " + " | ".join(f"GMM-{k}" for k in gmms) + " |")
    print("|---" * (2 + len(gmms)) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for sigma in map(float, opts["--sigmas"].split(",")):
            y = val + sigma * rng.standard_normal(val.shape)
            np.savetxt(f"{tmp}/y.csv", y, delimiter=",", header=header, comments="")
            out = f"{tmp}/tweedie-{sigma}"
            subprocess.run([binary, "map", "--model", prior, "--obs", f"{tmp}/y.csv",
                            "--sigma-y", str(sigma), "--method", "tweedie", "--out", out],
                           check=True, capture_output=True)
            row = [np.mean((np.load(f"{out}/x_map.npy") - val) ** 2)]
            for g in gmms.values():
                mean = np.array([posterior_mean(g, yy, np.ones(val.shape[1], bool), sigma)
                                 for yy in y])
                row.append(np.mean((mean - val) ** 2))
            print(f"| {sigma:g} | " + " | ".join(f"{v:.5f}" for v in row) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
