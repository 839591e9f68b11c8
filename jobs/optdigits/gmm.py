#!/usr/bin/python3
"""GMM-K prior baselines for the optdigits inverse-problem study (jobs/optdigits/run.sh).

  gmm.py OUTDIR [--k 1,5,10,20,40] [--reg 1e-3] [--seed 0]

Fits sklearn.mixture.GaussianMixture (full covariances, EM, covariance regularisation --reg added
to the diagonal, k-means initialisation, random_state --seed) to OUTDIR/train.csv for each K and
writes the exact posterior mean of each task's test observations under that prior:
OUTDIR/inpaint-gmm-K.npy and OUTDIR/denoise-gmm-K.npy (<f8, test rows × 64), plus
OUTDIR/gmm-times.json with each fit's wall time in seconds.

Posterior mean (Bishop 2006, §2.3.3; mixtures: each component's posterior weighted by its
evidence). For y = A x + η, η ~ N(0, σ_y² I), and the prior Σ_k π_k N(μ_k, Σ_k):
  S_k = A Σ_k Aᵀ + σ_y² I,  w_k ∝ π_k N(y; A μ_k, S_k),
  E[x | y] = Σ_k w_k (μ_k + Σ_k Aᵀ S_k⁻¹ (y − A μ_k)).
Inpainting: A selects the observed pixels of each image (mask.csv), σ_y = 0.02; denoising: A = I,
σ_y = 0.2 (the values run.sh passes to scorematch). Validation of the K that is best is left to the
reader of the table: every K is reported on the test digits (which favours the GMM baseline).
"""
import json
import sys
import time

import numpy as np
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture


def load(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def posterior_mean(gmm, y, observed, sigma_y):
    """E[x | y] under the fitted mixture; observed: boolean mask of the pixels A keeps."""
    idx = np.flatnonzero(observed)
    yo = y[idx]
    logw, means = [], []
    for pi, mu, cov in zip(gmm.weights_, gmm.means_, gmm.covariances_):
        s = cov[np.ix_(idx, idx)] + sigma_y**2 * np.eye(len(idx))
        chol = np.linalg.cholesky(s)
        r = yo - mu[idx]
        z = np.linalg.solve(chol, r)
        logw.append(np.log(pi) - 0.5 * z @ z - np.log(np.diag(chol)).sum())
        alpha = np.linalg.solve(chol.T, z)  # S⁻¹ r
        means.append(mu + cov[:, idx] @ alpha)
    logw = np.array(logw)
    w = np.exp(logw - logsumexp(logw))
    return w @ np.array(means)


def main(argv):
    out = argv[0]
    opts = {"--k": "1,5,10,20,40", "--reg": "1e-3", "--seed": "0"}
    for i in range(1, len(argv), 2):
        if argv[i] not in opts or i + 1 >= len(argv):
            raise SystemExit(__doc__)
        opts[argv[i]] = argv[i + 1]
    train, mask = load(f"{out}/train.csv"), load(f"{out}/mask.csv") > 0.5
    tasks = {"inpaint": (load(f"{out}/y_inpaint.csv"), mask, 0.02),
             "denoise": (load(f"{out}/y_denoise.csv"), np.ones_like(mask), 0.2)}
    times = {}
    for k in (int(v) for v in opts["--k"].split(",")):
        start = time.perf_counter()
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=float(opts["--reg"]),
                              max_iter=500, n_init=1, random_state=int(opts["--seed"]))
        gmm.fit(train)
        times[k] = time.perf_counter() - start
        for task, (y, obs, sigma_y) in tasks.items():
            est = np.array([posterior_mean(gmm, yi, oi, sigma_y) for yi, oi in zip(y, obs)])
            np.save(f"{out}/{task}-gmm-{k}.npy", est)
        print(f"GMM-{k}: fitted in {times[k]:.1f} s ({gmm.n_iter_} EM iterations)")
    with open(f"{out}/gmm-times.json", "w") as f:
        json.dump(times, f)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
