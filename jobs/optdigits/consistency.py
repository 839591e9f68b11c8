#!/usr/bin/python3
"""Is a σ-conditioned score prior one family of noised densities where the denoising task reads it?

  consistency.py SPLITDIR PRIOR [PRIOR ...] [--train-rows 300] [--chains 64] [--seed 11]

For the denoising task y = x + 0.2 ε of run.sh, compares two posterior means of the same network:
Tweedie's y + σ_y² s(y; σ_y) (`map --method tweedie`), which reads the score at σ_y only, and the
average of ve-pc's reverse process started at x_σy = y (run.sh's denoising settings: 200 grid
points from σ 5, σ_min 0.1, no corrector, seed 1), which reads the scores at σ_y down to σ_min. For
a score that is one family of noised densities the two agree up to Monte Carlo error (the tower
property; ve-pc is exact on closed-form priors, tests/test_inverse.cpp), so the difference of
their PSNRs measures the network's inconsistency. It is measured on two sets of digits: the
split's validation digits (val_y_denoise.csv, never used in a fit) and the first --train-rows
rows of SPLITDIR/train.csv, which the prior was fitted to (observations drawn here with
random.Random(--seed)). Prints one markdown row per prior and set: Tweedie's PSNR, ve-pc's, and
ve-pc − Tweedie (dB). The Monte Carlo error of the chains' average lowers ve-pc's PSNR by about
10 log10(1 + 1/chains) at most (docs/OPTDIGITS.md, Limits). Standard library only; ve-pc runs on
$RANKS MPI ranks (default 2) of $SCOREMATCH_BIN (default build/scorematch).
"""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from study import psnr, read_any, read_csv, write_csv  # noqa: E402

SIGMA_Y = 0.2


def estimates(binary, ranks, prior, obs, chains, tmp):
    """(Tweedie's mean, ve-pc's mean) of the denoising observations in obs."""
    run = tempfile.mkdtemp(dir=tmp)  # scorematch never writes over an existing output
    tweedie, vepc = f"{run}/tweedie", f"{run}/vepc"
    subprocess.run([binary, "map", "--model", prior, "--obs", obs, "--operator", "identity",
                    "--sigma-y", str(SIGMA_Y), "--method", "tweedie", "--out", tweedie],
                   check=True, capture_output=True)
    subprocess.run(["mpirun", "-np", str(ranks), "--bind-to", "none", binary, "sample", "--model",
                    prior, "--sampler", "ve-pc", "--obs", obs, "--operator", "identity",
                    "--sigma-y", str(SIGMA_Y), "--chains-per-obs", str(chains), "--steps", "200",
                    "--sigma-min", "0.1", "--corrector-steps", "0", "--seed", "1", "--quiet",
                    "--out", vepc], check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return read_any(f"{tweedie}/x_map.npy"), read_any(f"{vepc}/posterior_mean.npy")


def main(argv):
    opts = {"--train-rows": "300", "--chains": "64", "--seed": "11"}
    positional = []
    i = 0
    while i < len(argv):
        if argv[i] in opts:
            if i + 1 >= len(argv):
                raise SystemExit(f"consistency.py: {argv[i]} needs a value")
            opts[argv[i]] = argv[i + 1]
            i += 2
        elif argv[i].startswith("--"):
            raise SystemExit(f"consistency.py: unknown option {argv[i]}")
        else:
            positional.append(argv[i])
            i += 1
    if len(positional) < 2:
        raise SystemExit(__doc__)
    split, priors = positional[0], positional[1:]
    binary = os.environ.get("SCOREMATCH_BIN", "build/scorematch")
    ranks = int(os.environ.get("RANKS", "2"))
    header, train = read_csv(f"{split}/train.csv")
    train = train[:int(opts["--train-rows"])]
    rng = random.Random(int(opts["--seed"]))
    noisy = [[v + SIGMA_Y * rng.gauss(0.0, 1.0) for v in r] for r in train]
    print("| prior | digits | Tweedie | ve-pc to σ 0.1 | ve-pc − Tweedie |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(f"{tmp}/y_train.csv", header, noisy)
        sets = [(f"validation ({len(read_any(f'{split}/val.csv'))})", f"{split}/val.csv",
                 f"{split}/val_y_denoise.csv"),
                (f"training ({len(train)})", None, f"{tmp}/y_train.csv")]
        for prior in priors:
            for name, truth_file, obs in sets:
                truth = read_any(truth_file) if truth_file else train
                tw, vp = estimates(binary, ranks, prior, obs, opts["--chains"], tmp)
                a, b = psnr(tw, truth), psnr(vp, truth)
                print(f"| {prior} | {name} | {a:.2f} | {b:.2f} | {b - a:+.2f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
