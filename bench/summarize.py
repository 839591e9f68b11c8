#!/usr/bin/python3
"""Summarise Google Benchmark JSON files (bench/run) as a markdown table.

Each hot kernel is put next to its GEMM baseline *from the same run* (same file), because timings on
a shared machine drift between runs by ±15% while ratios within a run are stable:
  BM_GaussianStats/n/d/t        -> BM_DgemmSameShape/n/d       (X^T X of the same shape, 1 thread)
  BM_TrainStep/o/m/p/d:D/threads:T -> BM_GemmBaseline/p/rows:256(D+2)/threads:T (the ISM jet GEMM)
  BM_Ula|BM_Mala/.../threads:T  -> BM_SamplingGemm/threads:T   (one 128x128 layer over the chains)
  BM_KsdKernel/n:N/d:D          -> BM_KsdGemm/n:N/d:D          (the pairwise inner products)
and every GFLOP/s figure is also given as a share of BM_DgemmSquare (1024^3, one core) x threads.
With two runs (e.g. the OpenMP and the oneTBB build), their times are shown side by side. A run may
be several files (LABEL=a.json,b.json: rounds run alternately with the other build); each benchmark
then takes its fastest round, the usual estimator when the noise is interference from other work;
repetitions within a file (bench/run --repetitions N) are treated the same way.
Usage: summarize.py RUN [RUN2]   where RUN is FILE.json or LABEL=FILE.json[,FILE.json...]
       summarize.py --training RUN  the training-step table of docs/PERFORMANCE.md: ms/step per
                                    objective/model/d for float64/float32 x 1/2 threads, GFLOP/s
                                    and share of the baseline (f64, 2 threads), and the ratios
                                    2 threads / 1 thread and float32 / float64 (fastest repetition)
"""
import json
import re
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    rows = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue  # with --repetitions, the fastest repetition is kept below instead
        name = b.get("run_name", b["name"])
        if name not in rows or b["real_time"] < rows[name]["real_time"]:
            rows[name] = b
    return doc.get("context", {}), rows


def load_group(spec):
    label, _, files = spec.rpartition("=")
    paths = files.split(",")
    context, rows = load(paths[0])
    for path in paths[1:]:
        for name, b in load(path)[1].items():
            if name not in rows or b["real_time"] < rows[name]["real_time"]:
                rows[name] = b
    return (label or paths[0]), len(paths), context, rows


def gflops(b):
    return b.get("GFLOP/s")


def millis(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def threads_of(name):
    m = re.search(r"threads:(\d+)", name) or re.match(r"BM_GaussianStats/\d+/\d+/(\d+)", name)
    return int(m.group(1)) if m else 1


def baseline_name(name):
    m = re.match(r"BM_GaussianStats/(\d+)/(\d+)/\d+", name)
    if m:
        return "BM_DgemmSameShape/%s/%s/real_time" % m.groups()
    m = re.match(r"BM_TrainStep/\w+/\w+/(float\d+)/d:(\d+)/threads:(\d+)", name)
    if m:
        rows = 256 * (int(m.group(2)) + 2)
        return "BM_GemmBaseline/%s/rows:%d/threads:%s/real_time" % (m.group(1), rows, m.group(3))
    m = re.match(r"BM_(Ula|Mala)/.*threads:(\d+)", name)
    if m:
        return "BM_SamplingGemm/threads:%s/real_time" % m.group(2)
    m = re.match(r"BM_KsdKernel/(n:\d+/d:\d+)", name)
    if m:
        return "BM_KsdGemm/%s" % m.group(1)
    return None


def fmt(x, spec="%.3g"):
    return "" if x is None else spec % x


def training_table(rows):
    cells = {}
    for name, b in rows.items():
        m = re.match(r"BM_TrainStep/(\w+)/(\w+)/(float\d+)/d:(\d+)/threads:(\d+)", name)
        if m:
            o, model, p, d, t = m.groups()
            cells[(o, model, int(d), p, int(t))] = b
    print("| objective | model | d | f64 1 thr | f64 2 thr | f32 1 thr | f32 2 thr "
          "| f64 2 thr GFLOP/s (of baseline) | 2 thr / 1 thr (f64) | f32 / f64 (1 thr) "
          "| f32 / f64 (2 thr) |")
    print("|" + "---|" * 11)
    keys = sorted({k[:3] for k in cells}, key=lambda k: (["ism", "ssm", "dsm"].index(k[0])
                                                         if k[0] in ("ism", "ssm", "dsm") else 9,
                                                         k[1], k[2]))
    for o, model, d in keys:
        get = lambda p, t: cells.get((o, model, d, p, t))
        ms = {(p, t): millis(get(p, t)) if get(p, t) else None
              for p in ("float64", "float32") for t in (1, 2)}
        b = get("float64", 2)
        base = rows.get(baseline_name(b["run_name"])) if b else None
        share = gflops(b) / gflops(base) if b and base else None
        ratio = lambda a, c: fmt(ms[a] / ms[c], "%.2f") if ms[a] and ms[c] else ""
        print("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            o, model, d, fmt(ms[("float64", 1)]), fmt(ms[("float64", 2)]),
            fmt(ms[("float32", 1)]), fmt(ms[("float32", 2)]),
            "%.1f (%.0f%%)" % (gflops(b), 100 * share) if share else "",
            ratio(("float64", 1), ("float64", 2)), ratio(("float64", 1), ("float32", 1)),
            ratio(("float64", 2), ("float32", 2))))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    if argv[0] == "--training":
        training_table(load_group(argv[1])[3])
        return
    runs = [load_group(a) for a in argv]
    labels = [r[0] for r in runs]
    _, rounds, context, rows = runs[0]
    runs = [(r[2], r[3]) for r in runs]
    peak = rows.get("BM_DgemmSquare/1024/real_time")
    peak_gf = gflops(peak) if peak else None
    print("Host: %s, %s CPUs, %s MHz; library build %s; %s" % (
        context.get("host_name", "?"), context.get("num_cpus", "?"), context.get("mhz_per_cpu", "?"),
        context.get("library_build_type", "?"), context.get("date", "?")))
    if rounds > 1:
        print("\nFastest of %d alternating rounds per build (%s)." % (rounds, " / ".join(labels)))
    if peak_gf:
        print("\nSingle-core DGEMM peak in this run (BM_DgemmSquare/1024): %.2f GFLOP/s\n" % peak_gf)
    head = ["benchmark", "time (ms)", "GFLOP/s", "baseline GEMM GFLOP/s", "kernel / baseline",
            "vs peak x threads"]
    if len(runs) > 1:
        head += ["time (ms) %s" % l for l in labels[1:]] + ["%s / %s" % (labels[1], labels[0])]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, b in rows.items():
        gf = gflops(b)
        base = rows.get(baseline_name(name) or "")
        base_gf = gflops(base) if base else None
        ratio = gf / base_gf if gf and base_gf else None
        vs_peak = gf / (peak_gf * threads_of(name)) if gf and peak_gf else None
        cells = [name.replace("/real_time", ""), fmt(millis(b), "%.4g"), fmt(gf, "%.2f"),
                 fmt(base_gf, "%.2f"), fmt(ratio and 100 * ratio, "%.0f%%"),
                 fmt(vs_peak and 100 * vs_peak, "%.0f%%")]
        if len(runs) > 1:
            other = [r[1].get(name) for r in runs[1:]]
            cells += [fmt(millis(o), "%.4g") if o else "" for o in other]
            o = other[0]
            cells.append(fmt(millis(o) / millis(b), "%.2f") if o else "")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
