#!/usr/bin/python3
"""Data preparation and scoring for the optdigits inverse-problem study (jobs/optdigits/run.sh).
Standard library only (runs with Debian's /usr/bin/python3, no numpy).

  study.py prepare SRC OUTDIR [--test-start 3000] [--test 300] [--val 200] [--split-seed S]
                              [--seed S] [--sigma-y 0.2] [--missing 0.5]
      Pixels are scaled from counts 0..16 to [0, 1] (x / 16); the label column is dropped. Row
      order: SRC's own, or a random permutation by random.Random(--split-seed). In that order, rows
      [test-start, test-start + test) are the held-out test digits, the next --val rows the
      validation digits (for tuning the inverse-problem settings), and all other rows train.
      Writes train.csv, val.csv, test.csv, and for the validation and test rows the observations:
      mask.csv (1 = observed; each pixel missing with probability --missing, independently per
      image), y_inpaint.csv (mask * x, missing pixels 0), y_denoise.csv (x + sigma_y * N(0, 1)), and
      val_mask.csv, val_y_inpaint.csv, val_y_denoise.csv alike. Random draws: random.Random(seed)
      (Mersenne Twister), the test observations first, so they do not depend on --val.
  study.py augment TRAIN.csv OUT.csv
      Data augmentation by translation (a lever of the issue: "simple augmentation only where it
      keeps the task honest"): TRAIN's 8x8 digits, then for each digit in order its one-pixel
      shifts down, up, right and left, each kept only when the row or column it pushes out of
      the frame is all zero, so no ink is lost and every added image is a digit as the
      scanner could have framed it. Only training digits are augmented; validation and test digits
      and their observations are untouched.
  study.py metrics TRUTH.csv NAME=FILE[@SECONDS] [NAME=FILE[@SECONDS] ...]
      MSE over all test pixels and PSNR = 10 log10(1 / MSE) (peak 1), plus the mean per-image
      PSNR, for each estimate (.npy <f8 C-order 2-D, or .csv with a header); one markdown row each,
      with the estimate's wall time when given. FILE.failed (an estimate whose run failed, its
      reason inside) prints a row without numbers.
  study.py select SPLITDIR [--map-levels TASK=L1,L2,...]... CANDIDATE [CANDIDATE ...]
      Model selection on the validation digits: reads each candidate's validation estimates
      (SPLITDIR/CANDIDATE/val-inpaint-{imputation,pigdm}/posterior_mean.npy,
      val-denoise-tweedie/x_map.npy, val-denoise-vepc/posterior_mean.npy), prints their PSNR
      against val.csv as a markdown table (the chosen ones in bold; a run that failed, OUTPUT.failed,
      is "failed", with its reason below the table, and never chosen) and writes SPLITDIR/chosen.txt:
      per task "TASK CANDIDATE ESTIMATOR", the pair of the highest validation PSNR (ties: the
      first candidate) among the coherent candidates: for denoising, those whose ve-pc mean is
      within 0.1 dB of their Tweedie mean on the validation digits (the table's last column; every
      candidate when none is; see COHERENCE below). With --map-levels, the MAPs alike: SPLITDIR/CANDIDATE/val-TASK-map-L/x_map.npy
      for each listed prior level L, a second table, and SPLITDIR/chosen-map.txt: per task "TASK
      CANDIDATE LEVEL" of the highest validation PSNR (ties: the first candidate, then level).
  study.py paired TRUTH.csv A B [--resamples 4000] [--seed 0]
      How much estimate A beats estimate B: the PSNR difference 10 log10(MSE_B / MSE_A) over all
      images, and its standard error by a paired bootstrap over the images (Efron & Tibshirani
      1993, ch. 6: the images are resampled with replacement, the same resample for A and B;
      random.Random(--seed)). One line, e.g. "+0.41 +- 0.04 dB (paired bootstrap, 300 images,
      4000 resamples)".
  study.py figure SPLITDIR OUT.dat
      Six test digits of SPLITDIR (rows 0, 50, …, 250) as a gnuplot image file ("x y value" rows): per digit the truth,
      then for inpainting the observation, the Gaussian, the best GMM-K and the learned (ve-pc)
      posterior means, then for denoising the same four; "learned" is the estimate chosen on the
      validation digits (SPLITDIR/inpaint-learned, denoise-learned, written by run.sh). Read by
      figure.gp.
"""
import ast
import math
import os
import random
import struct
import sys


def read_csv(path):
    rows = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        for line_no, line in enumerate(f, start=2):
            if line.strip():
                try:
                    rows.append([float(v) for v in line.split(",")])
                except ValueError:
                    raise SystemExit(f"{path}: line {line_no}: expected comma-separated numbers")
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
        raw = f.read(8 * rows * cols)
        if len(raw) != 8 * rows * cols:
            raise SystemExit(f"{path}: truncated: expected {rows}x{cols} doubles")
        data = struct.unpack(f"<{rows * cols}d", raw)
    return [list(data[i * cols:(i + 1) * cols]) for i in range(rows)]


def read_any(path):
    return read_npy(path) if path.endswith(".npy") else read_csv(path)[1]


def prepare(args):
    src, out = args[0], args[1]
    opts = {"--test-start": "3000", "--test": "300", "--val": "200", "--split-seed": "",
            "--seed": "2026", "--sigma-y": "0.2", "--missing": "0.5"}
    rest = args[2:]
    for i in range(0, len(rest), 2):
        if rest[i] not in opts:
            raise SystemExit(f"prepare: unknown option {rest[i]}")
        opts[rest[i]] = rest[i + 1]
    start, n_test, n_val = int(opts["--test-start"]), int(opts["--test"]), int(opts["--val"])
    sigma_y, missing = float(opts["--sigma-y"]), float(opts["--missing"])
    header, rows = read_csv(src)
    if header[-1] != "label" or len(header) != 65:
        raise SystemExit(f"{src}: expected 64 pixel columns and a label column")
    if start < 0 or min(n_test, n_val) < 1 or start + n_test + n_val > len(rows):
        raise SystemExit(f"{src}: only {len(rows)} rows for test rows [{start}, "
                         f"{start + n_test}) and {n_val} validation rows after them")
    pix = header[:-1]
    order = list(range(len(rows)))
    if opts["--split-seed"]:
        random.Random(int(opts["--split-seed"])).shuffle(order)
    scaled = [[v / 16.0 for v in rows[i][:-1]] for i in order]
    test = scaled[start:start + n_test]
    val = scaled[start + n_test:start + n_test + n_val]
    train = scaled[:start] + scaled[start + n_test + n_val:]
    rng = random.Random(int(opts["--seed"]))
    write_csv(f"{out}/train.csv", pix, train)
    for prefix, digits in (("", test), ("val_", val)):
        mask = [[0.0 if rng.random() < missing else 1.0 for _ in pix] for _ in digits]
        noisy = [[v + sigma_y * rng.gauss(0.0, 1.0) for v in r] for r in digits]
        write_csv(f"{out}/{'val' if prefix else 'test'}.csv", pix, digits)
        write_csv(f"{out}/{prefix}mask.csv", pix, mask)
        write_csv(f"{out}/{prefix}y_inpaint.csv", pix,
                  [[m * v for m, v in zip(mr, r)] for mr, r in zip(mask, digits)])
        write_csv(f"{out}/{prefix}y_denoise.csv", pix, noisy)
        if not prefix:
            observed = sum(map(sum, mask)) / (len(mask) * len(pix))
    print(f"prepared {len(train)} training, {n_val} validation and {n_test} test digits in "
          f"[0, 1]; {100 * (1 - observed):.1f}% of test pixels missing; sigma_y {sigma_y}")


SIDE = 8  # optdigits images are 8 x 8, row-major


def shifted(image, di, dj):
    """image (SIDE * SIDE values, row-major) moved di rows down and dj columns right, zero-filled,
    or None when that pushes a nonzero pixel out of the frame."""
    out = [0.0] * (SIDE * SIDE)
    for i in range(SIDE):
        for j in range(SIDE):
            v = image[SIDE * i + j]
            a, b = i + di, j + dj
            if 0 <= a < SIDE and 0 <= b < SIDE:
                out[SIDE * a + b] = v
            elif v != 0.0:
                return None
    return out


def augment(args):
    if len(args) != 2:
        raise SystemExit("study.py augment TRAIN.csv OUT.csv")
    header, rows = read_csv(args[0])
    if len(header) != SIDE * SIDE:
        raise SystemExit(f"study.py augment: {args[0]}: expected {SIDE * SIDE} pixel columns, "
                         f"got {len(header)}")
    out = list(rows)
    for r in rows:
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            moved = shifted(r, di, dj)
            if moved is not None:
                out.append(moved)
    write_csv(args[1], header, out)
    print(f"study.py augment: {len(rows)} digits -> {len(out)} rows")


def metrics(args):
    truth = read_any(args[0])
    print("| estimate | MSE | PSNR (dB) | mean per-image PSNR (dB) | wall time (s) |")
    print("|---|---|---|---|---|")
    for spec in args[1:]:
        name, path = spec.split("=", 1)
        path, _, seconds = path.partition("@")
        if path.endswith(".failed"):  # undefined, with the reason (run.sh's attempt)
            with open(path) as f:
                print(f"| {name} | – | – | – | failed: {f.read().strip()} |")
            continue
        est = read_any(path)
        if len(est) != len(truth) or any(len(a) != len(b) for a, b in zip(est, truth)):
            raise SystemExit(f"{path}: shape differs from {args[0]}")
        per = [sum((a - b) ** 2 for a, b in zip(e, t)) / len(t) for e, t in zip(est, truth)]
        mse = sum(per) / len(per)
        psnr = 10 * math.log10(1 / mse)
        mean_psnr = sum(10 * math.log10(1 / max(p, 1e-300)) for p in per) / len(per)
        wall = f"{float(seconds):.1f}" if seconds else ""
        print(f"| {name} | {mse:.5f} | {psnr:.2f} | {mean_psnr:.2f} | {wall} |")


def psnr(est, truth):
    mse = sum((a - b) ** 2 for e, t in zip(est, truth) for a, b in zip(e, t)) / (len(truth) * len(truth[0]))
    return 10 * math.log10(1 / mse)


# Coherence (session 45): where a task's exact posterior mean of a prior is known, the sampled
# posterior mean of the same prior must reach it. For denoising, Tweedie's y + sigma_y^2 s(y; sigma_y)
# is E[x | y] exactly for the network's own noised prior, and ve-pc's reverse process from x_sigma_y
# = y has the same mean when the network's noised scores are one family (the tower property;
# docs/OPTDIGITS.md, session 40). A prior whose two means differ by more than COHERENCE_DB on the
# validation digits is not one density where the task reads it, so its posterior draws (the reason
# to sample at all) are not draws of its posterior: such a prior is not eligible for the task while
# a coherent candidate is. Task -> (sampled estimator, exact estimator).
COHERENCE = {"denoise": ("vepc", "tweedie")}
COHERENCE_DB = 0.1

# The validation estimates of each task: estimator name -> file under SPLITDIR/CANDIDATE.
VALIDATION = {"inpaint": {"imputation": "val-inpaint-imputation/posterior_mean.npy",
                          "pigdm": "val-inpaint-pigdm/posterior_mean.npy"},
              "denoise": {"tweedie": "val-denoise-tweedie/x_map.npy",
                          "vepc": "val-denoise-vepc/posterior_mean.npy"}}


def map_validation(options):
    """--map-levels TASK=L1,L2 options -> {task: {"map L": "val-TASK-map-L/x_map.npy"}}."""
    table = {}
    for option in options:
        task, _, levels = option.partition("=")
        if task not in VALIDATION or not levels:
            raise SystemExit(f"study.py select: --map-levels: expected TASK=L1,L2,... with TASK one of "
                             f"{', '.join(VALIDATION)}, got '{option}'")
        table[task] = {f"map {lv}": f"val-{task}-map-{lv}/x_map.npy" for lv in levels.split(",")}
    return table


def select(args):
    split, rest = args[0], args[1:]
    options = []
    while len(rest) >= 2 and rest[0] == "--map-levels":
        options.append(rest[1])
        rest = rest[2:]
    candidates, maps = rest, map_validation(options)
    truth = read_any(f"{split}/val.csv")
    choose(split, candidates, truth, VALIDATION, "chosen.txt", lambda e: e, COHERENCE)
    if maps:
        print()
        choose(split, candidates, truth, maps, "chosen-map.txt", lambda e: e.split(" ")[1], {})


def choose(split, candidates, truth, validation, out, word, coherence):
    """Per task the (candidate, estimator) of the highest validation PSNR among validation's
    estimators: a markdown table on stdout and "TASK CANDIDATE word(ESTIMATOR)" lines in
    SPLITDIR/out. For a task in coherence (task -> (sampled, exact) estimators), only the
    candidates whose sampled and exact PSNRs are within COHERENCE_DB are eligible, unless none is;
    the table gets a column of the difference (sampled - exact), "not coherent" past the limit."""
    def failed(c, path):  # SPLITDIR/CANDIDATE/OUTPUT.failed: the run failed (run.sh's attempt)
        return f"{split}/{c}/{path.split('/')[0]}.failed"

    def score(c, path):  # None when the run failed
        return None if os.path.exists(failed(c, path)) else psnr(read_any(f"{split}/{c}/{path}"), truth)

    scores = {(c, task, e): score(c, path)
              for c in candidates for task, files in validation.items() for e, path in files.items()}
    def gap(c, task):  # sampled - exact PSNR (dB); None when either run failed
        sampled, exact = (scores[(c, task, e)] for e in coherence[task])
        return None if sampled is None or exact is None else sampled - exact

    def coherent(c, task):
        return task not in coherence or (gap(c, task) is not None and abs(gap(c, task)) <= COHERENCE_DB)

    chosen, notes = {}, []
    for task, files in validation.items():
        ok = [(c, e) for c in candidates for e in files if scores[(c, task, e)] is not None]
        if not ok:
            raise SystemExit(f"{split}: every {task} estimator failed on the validation digits")
        if task in coherence:
            eligible = [(c, e) for c, e in ok if coherent(c, task)]
            if eligible:
                ok = eligible
            else:
                notes.append(f"{task}: no candidate is coherent (|{' - '.join(coherence[task])}| <= "
                             f"{COHERENCE_DB} dB), so every candidate was eligible")
        chosen[task] = max(ok, key=lambda ce: (scores[(ce[0], task, ce[1])], -candidates.index(ce[0]),
                                               -list(files).index(ce[1])))
    columns = [(task, e) for task, files in validation.items() for e in files]
    print("| prior | " + " | ".join(f"{task}: {e}" for task, e in columns) +
          "".join(f" | {task}: {' - '.join(pair)}" for task, pair in coherence.items()) + " |")
    print("|---" * (len(columns) + len(coherence) + 1) + "|")
    for c in candidates:
        cells = ["failed" if scores[(c, t, e)] is None else
                 f"**{scores[(c, t, e)]:.2f}**" if chosen[t] == (c, e) else f"{scores[(c, t, e)]:.2f}"
                 for t, e in columns]
        cells += ["–" if gap(c, t) is None else
                  f"{gap(c, t):+.2f}" + ("" if coherent(c, t) else " (not coherent)") for t in coherence]
        print(f"| {c} | " + " | ".join(cells) + " |")
    for note in notes:
        print(f"\n{note}")
    for c in candidates:
        for task, files in validation.items():
            for e, path in files.items():
                if scores[(c, task, e)] is None:
                    with open(failed(c, path)) as f:
                        print(f"\n{c}, {task}: {e} failed: {f.read().strip()}")
    with open(f"{split}/{out}", "w") as f:
        for task, (c, e) in chosen.items():
            f.write(f"{task} {c} {word(e)}\n")


def paired(args):
    options = {"--resamples": "4000", "--seed": "0"}
    files = []
    while args:
        if args[0] in options and len(args) >= 2:
            options[args[0]], args = args[1], args[2:]
        elif args[0].startswith("--"):
            raise SystemExit(f"study.py paired: unknown option or missing value '{args[0]}'")
        else:
            files, args = files + [args[0]], args[1:]
    if len(files) != 3:
        raise SystemExit("study.py paired: expected TRUTH.csv A B")
    try:
        resamples, seed = int(options["--resamples"]), int(options["--seed"])
    except ValueError:
        raise SystemExit("study.py paired: --resamples and --seed: expected integers, got "
                         f"'{options['--resamples']}' and '{options['--seed']}'")
    if resamples < 2:
        raise SystemExit(f"study.py paired: --resamples: expected an integer >= 2, got {resamples}")
    truth = read_any(files[0])
    per = []  # per-image squared error of A and of B
    for path in files[1:]:
        est = read_any(path)
        if len(est) != len(truth) or any(len(a) != len(b) for a, b in zip(est, truth)):
            raise SystemExit(f"{path}: shape differs from {files[0]}")
        per.append([sum((a - b) ** 2 for a, b in zip(e, t)) for e, t in zip(est, truth)])
    n = len(truth)

    def gain(rows):
        a, b = sum(per[0][i] for i in rows), sum(per[1][i] for i in rows)
        return 10 * math.log10(b / a) if a > 0 and b > 0 else None

    d = gain(range(n))
    if d is None:
        raise SystemExit("study.py paired: an estimate equals the truth: the PSNR difference is undefined")
    rng = random.Random(seed)
    boot = [g for g in (gain([rng.randrange(n) for _ in range(n)]) for _ in range(resamples)) if g is not None]
    mean = sum(boot) / len(boot)
    se = math.sqrt(sum((g - mean) ** 2 for g in boot) / (len(boot) - 1))
    print(f"{d:+.2f} +- {se:.2f} dB (paired bootstrap, {n} images, {len(boot)} resamples)")


def learned(split, task):
    """The estimate chosen on validation (run.sh links SPLITDIR/TASK-learned to it)."""
    for name in ("posterior_mean.npy", "x_map.npy"):
        try:
            return read_any(f"{split}/{task}-learned/{name}")
        except FileNotFoundError:
            pass
    raise SystemExit(f"{split}/{task}-learned: no posterior_mean.npy or x_map.npy")


def best_gmm(split, task, truth):
    """The GMM-K posterior mean with the smallest test MSE (the baseline's best case)."""
    best = None
    for k in (1, 5, 10, 20, 40):
        est = read_any(f"{split}/{task}-gmm-{k}.npy")
        mse = sum((a - b) ** 2 for e, t in zip(est, truth) for a, b in zip(e, t))
        if best is None or mse < best[0]:
            best = (mse, est)
    return best[1]


def figure(args):
    split, out = args
    truth = read_any(f"{split}/test.csv")
    mask = read_any(f"{split}/mask.csv")
    panels = [truth,
              [[v if m else 0.5 for v, m in zip(r, mr)] for r, mr in
               zip(read_any(f"{split}/y_inpaint.csv"), mask)],  # missing pixels grey
              read_any(f"{split}/inpaint-gaussian/x_map.npy"),
              best_gmm(split, "inpaint", truth),
              learned(split, "inpaint"),
              read_any(f"{split}/y_denoise.csv"),
              read_any(f"{split}/denoise-gaussian/x_map.npy"),
              best_gmm(split, "denoise", truth),
              learned(split, "denoise")]
    digits = [0, 50, 100, 150, 200, 250]
    with open(out, "w") as f:
        # Image rows top to bottom: digit r occupies y in [9 r, 9 r + 8), panel c x in [9 c, 9 c + 8).
        height = 9 * len(digits)
        for y in range(height):
            r, py = divmod(y, 9)
            for x in range(9 * len(panels)):
                c, px = divmod(x, 9)
                v = 0.0 if px == 8 or py == 8 else min(1.0, max(0.0, panels[c][digits[r]][py * 8 + px]))
                f.write(f"{x} {height - 1 - y} {v:.4f}\n")
            f.write("\n")


if __name__ == "__main__":
    commands = {"prepare": prepare, "augment": augment, "metrics": metrics, "select": select,
                "paired": paired, "figure": figure}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    try:
        commands[sys.argv[1]](sys.argv[2:])
    except OSError as e:  # a missing or unreadable file: one line, not a traceback
        raise SystemExit(f"study.py {sys.argv[1]}: {e.filename}: {e.strerror}")
