#!/usr/bin/python3
"""Data preparation and scoring for the optdigits inverse-problem study (jobs/optdigits/run.sh).
Standard library only (runs with Debian's /usr/bin/python3, no numpy).

  study.py prepare SRC OUTDIR [--train N] [--test M] [--seed S] [--sigma-y 0.2] [--missing 0.5]
      Pixels are scaled from counts 0..16 to [0, 1] (x / 16). The first N rows of SRC are the
      training set, the next M rows the held-out test set (the label column is dropped). Writes
      train.csv, test.csv, and for the test rows: mask.csv (1 = observed; each pixel missing with
      probability --missing, independently per image), y_inpaint.csv (mask * x, missing pixels 0),
      y_denoise.csv (x + sigma_y * N(0, 1)). Random draws: random.Random(seed), Mersenne Twister.
  study.py metrics TRUTH.csv NAME=FILE [NAME=FILE ...]
      MSE over all test pixels and PSNR = 10 log10(1 / MSE) (peak 1), plus the mean per-image
      PSNR, for each estimate (.npy <f8 C-order 2-D, or .csv with a header); one markdown row each.
"""
import ast
import math
import random
import struct
import sys


def read_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    return header, rows


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(v) for v in r) + "\n")


def read_npy(path):
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise SystemExit(f"{path}: not an NPY file")
        major = f.read(2)[0]
        hlen = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = ast.literal_eval(f.read(hlen).decode("latin1"))
        if header["descr"] != "<f8" or header["fortran_order"] or len(header["shape"]) != 2:
            raise SystemExit(f"{path}: expected a 2-D <f8 C-order array")
        rows, cols = header["shape"]
        data = struct.unpack(f"<{rows * cols}d", f.read(8 * rows * cols))
    return [list(data[i * cols:(i + 1) * cols]) for i in range(rows)]


def read_any(path):
    return read_npy(path) if path.endswith(".npy") else read_csv(path)[1]


def prepare(args):
    src, out = args[0], args[1]
    opts = {"--train": "3000", "--test": "300", "--seed": "2026", "--sigma-y": "0.2",
            "--missing": "0.5"}
    rest = args[2:]
    for i in range(0, len(rest), 2):
        if rest[i] not in opts:
            raise SystemExit(f"prepare: unknown option {rest[i]}")
        opts[rest[i]] = rest[i + 1]
    n_train, n_test = int(opts["--train"]), int(opts["--test"])
    sigma_y, missing = float(opts["--sigma-y"]), float(opts["--missing"])
    header, rows = read_csv(src)
    if header[-1] != "label" or len(header) != 65:
        raise SystemExit(f"{src}: expected 64 pixel columns and a label column")
    if n_train + n_test > len(rows):
        raise SystemExit(f"{src}: only {len(rows)} rows for {n_train} + {n_test}")
    pix = header[:-1]
    scaled = [[v / 16.0 for v in r[:-1]] for r in rows]
    train, test = scaled[:n_train], scaled[n_train:n_train + n_test]
    rng = random.Random(int(opts["--seed"]))
    mask = [[0.0 if rng.random() < missing else 1.0 for _ in pix] for _ in test]
    noisy = [[v + sigma_y * rng.gauss(0.0, 1.0) for v in r] for r in test]
    write_csv(f"{out}/train.csv", pix, train)
    write_csv(f"{out}/test.csv", pix, test)
    write_csv(f"{out}/mask.csv", pix, mask)
    write_csv(f"{out}/y_inpaint.csv", pix, [[m * v for m, v in zip(mr, r)] for mr, r in zip(mask, test)])
    write_csv(f"{out}/y_denoise.csv", pix, noisy)
    observed = sum(map(sum, mask)) / (len(mask) * len(pix))
    print(f"prepared {n_train} training and {n_test} test digits in [0, 1]; "
          f"{100 * (1 - observed):.1f}% of test pixels missing; sigma_y {sigma_y}")


def metrics(args):
    truth = read_any(args[0])
    print("| estimate | MSE | PSNR (dB) | mean per-image PSNR (dB) |")
    print("|---|---|---|---|")
    for spec in args[1:]:
        name, path = spec.split("=", 1)
        est = read_any(path)
        if len(est) != len(truth) or any(len(a) != len(b) for a, b in zip(est, truth)):
            raise SystemExit(f"{path}: shape differs from {args[0]}")
        per = [sum((a - b) ** 2 for a, b in zip(e, t)) / len(t) for e, t in zip(est, truth)]
        mse = sum(per) / len(per)
        psnr = 10 * math.log10(1 / mse)
        mean_psnr = sum(10 * math.log10(1 / max(p, 1e-300)) for p in per) / len(per)
        print(f"| {name} | {mse:.5f} | {psnr:.2f} | {mean_psnr:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("prepare", "metrics"):
        raise SystemExit(__doc__)
    (prepare if sys.argv[1] == "prepare" else metrics)(sys.argv[2:])
