#!/usr/bin/python3
"""How far do ve-pc's posterior guidances fall from the exact posterior mean when the prior's
noised score is exact? (docs/OPTDIGITS.md, round 4; numpy only, not part of the product.)

  exact_score.py SPLITDIR GUIDANCE [--k 20] [--chains 16] [--digits 100] [--corrector 2]
                 [--snr 0.24] [--sigma-data 0.271] [--steps 200] [--rows test|val] [--seed 1]

The prior is sklearn's GaussianMixture(K, full covariances, reg_covar 1e-3, random_state 0) fitted
to SPLITDIR/train.csv, as in gmm.py. Its noised law at σ is the mixture with covariances
Σ_k + σ²I, so its score s(x; σ) and the Jacobian-vector product ∇s(x; σ)v are closed-form:
  s = Σ_k r_k s_k,  s_k = −(Σ_k + σ²I)⁻¹(x − μ_k),  ∇s v = Σ_k r_k (−(Σ_k + σ²I)⁻¹v + s_k (s_k·v)) − s (s·v).
The script runs ve-pc on the inpainting task (σ_y 0.02) the way src/sampling/ve_predictor_corrector.cpp
does (geometric grid from σ 5 to 0.01 with σ_y inserted, reverse-diffusion predictor, Langevin
corrector with step 2 (snr ‖ξ‖/‖g‖)² from root-mean-square norms over all chains (the product:
over each 64-chain block), Tweedie's last step), with
  imputation  the predictor on the prior's score, observed pixels replaced by y + √(σ² − σ_y²)ξ at
              each level σ ≥ σ_y; below σ_y the corrector adds the bridge term Aᵀ(y − Ax)/(σ_y² − σ²);
  pigdm       no replacement; score s + J_D (r² AᵀA + σ_y²I)⁻¹Aᵀ(y − A D), D = x + σ²s, J_D = I + σ²∇s,
              r² = σ²σ_d²/(σ² + σ_d²) (inverse/posterior_noised.hpp);
and prints the PSNR of the chains' mean, the same with the Monte Carlo error of a finite chain
count removed (E‖x̄ − x‖² = ‖E x̄ − x‖² + tr Var/n, the variance estimated from the chains), and the
PSNR of the GMM's exact posterior mean (gmm.py) on the same digits.
"""
import sys
import time

import numpy as np
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from gmm import load, posterior_mean  # noqa: E402

SIGMA_Y, SIGMA_MAX, SIGMA_MIN = 0.02, 5.0, 0.01


class NoisedMixture:
    """The exact noised score of a full-covariance Gaussian mixture."""

    def __init__(self, gmm):
        self.lam, self.vecs = np.linalg.eigh(gmm.covariances_)
        self.mu, self.logpi = gmm.means_, np.log(gmm.weights_)

    def _parts(self, x, sigma):
        logr, comps = [], []
        for k in range(len(self.mu)):
            v = self.lam[k] + sigma * sigma
            w = (x - self.mu[k]) @ self.vecs[k]
            logr.append(self.logpi[k] - 0.5 * (w * w / v).sum(1) - 0.5 * np.log(v).sum())
            comps.append(-(w / v) @ self.vecs[k].T)
        logr = np.array(logr)
        return np.exp(logr - logsumexp(logr, axis=0)), comps

    def score(self, x, sigma):
        r, comps = self._parts(x, sigma)
        return sum(r[k][:, None] * c for k, c in enumerate(comps))

    def score_and_jvp(self, x, sigma, v):
        r, comps = self._parts(x, sigma)
        s = sum(r[k][:, None] * c for k, c in enumerate(comps))
        jv = -s * (s * v).sum(1, keepdims=True)
        for k, c in enumerate(comps):
            inv = ((v @ self.vecs[k]) / (self.lam[k] + sigma * sigma)) @ self.vecs[k].T
            jv += r[k][:, None] * (-inv + c * (c * v).sum(1, keepdims=True))
        return s, jv


def run(prior, y, mask, opts, rng):
    n_obs, d = y.shape
    chains = opts["chains"]
    Y, M = np.repeat(y, chains, 0), np.repeat(mask, chains, 0).astype(float)
    grid = list(SIGMA_MAX * (SIGMA_MIN / SIGMA_MAX) ** (np.arange(opts["steps"]) / (opts["steps"] - 1)))
    impute = opts["guidance"] == "imputation"
    if impute and SIGMA_Y not in grid:
        grid = sorted(grid + [SIGMA_Y], reverse=True)
    sd2 = opts["sigma_data"] ** 2

    def guided(x, sigma):
        if impute:
            s = prior.score(x, sigma)
            return s + M * (Y - x) / (SIGMA_Y**2 - sigma**2) if sigma < SIGMA_Y else s
        s = prior.score(x, sigma)
        r2 = sigma**2 * sd2 / (sigma**2 + sd2)
        u = M * (Y - (x + sigma**2 * s)) / (SIGMA_Y**2 + r2)
        _, jv = prior.score_and_jvp(x, sigma, u)
        return s + u + sigma**2 * jv

    def replace(x, sigma):
        if impute and sigma >= SIGMA_Y:
            noised = Y + np.sqrt(sigma**2 - SIGMA_Y**2) * rng.standard_normal(x.shape)
            x[M > 0] = noised[M > 0]

    x = SIGMA_MAX * rng.standard_normal((n_obs * chains, d))
    replace(x, grid[0])
    for s_i, s_next in zip(grid[:-1], grid[1:]):
        for _ in range(opts["corrector"]):
            g, xi = guided(x, s_i), rng.standard_normal(x.shape)
            eps = 2 * (opts["snr"] * np.sqrt((xi**2).sum(1).mean() / (g**2).sum(1).mean())) ** 2
            x = x + eps * g + np.sqrt(2 * eps) * xi
            replace(x, s_i)
        dv = s_i**2 - s_next**2
        drift = prior.score(x, s_i) if impute else guided(x, s_i)  # the predictor never sees y
        x = x + dv * drift + np.sqrt(dv) * rng.standard_normal(x.shape)
        replace(x, s_next)
    last = prior.score(x, SIGMA_MIN) if impute else guided(x, SIGMA_MIN)  # Tweedie
    return (x + SIGMA_MIN**2 * last).reshape(n_obs, chains, d)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    opts = {"k": 20, "chains": 16, "digits": 100, "corrector": 2, "snr": 0.24,
            "sigma_data": 0.271, "steps": 200, "rows": "test", "seed": 1}
    for i in range(2, len(argv), 2):
        key = argv[i].lstrip("-").replace("-", "_")
        if key not in opts or i + 1 >= len(argv):
            raise SystemExit(__doc__)
        opts[key] = type(opts[key])(argv[i + 1])
    split, opts["guidance"] = argv[0], argv[1]
    if opts["guidance"] not in ("imputation", "pigdm"):
        raise SystemExit(__doc__)
    pre = "" if opts["rows"] == "test" else "val_"
    truth = load(f"{split}/{'test' if opts['rows'] == 'test' else 'val'}.csv")[:opts["digits"]]
    mask = (load(f"{split}/{pre}mask.csv") > 0.5)[:opts["digits"]]
    y = load(f"{split}/{pre}y_inpaint.csv")[:opts["digits"]]
    gmm = GaussianMixture(opts["k"], covariance_type="full", reg_covar=1e-3, max_iter=500,
                          random_state=0).fit(load(f"{split}/train.csv"))
    exact = np.array([posterior_mean(gmm, yi, oi, SIGMA_Y) for yi, oi in zip(y, mask)])
    start = time.perf_counter()
    draws = run(NoisedMixture(gmm), y, mask, opts, np.random.default_rng(opts["seed"]))
    mean = draws.mean(1)
    mse = np.mean((mean - truth) ** 2)
    mc = draws.var(1, ddof=1).sum(1).mean() / opts["chains"] / truth.shape[1]
    psnr = lambda e: 10 * np.log10(1 / e)  # noqa: E731
    print(f"GMM-{opts['k']}, {opts['guidance']}, {opts['chains']} chains, corrector "
          f"{opts['corrector']}/{opts['snr']}, sigma_data {opts['sigma_data']}: PSNR {psnr(mse):.2f}, "
          f"without the Monte Carlo error {psnr(mse - mc):.2f}; exact posterior mean "
          f"{psnr(np.mean((exact - truth) ** 2)):.2f} ({opts['digits']} {opts['rows']} digits, "
          f"{time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
