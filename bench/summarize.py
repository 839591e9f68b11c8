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


def main(argv):
    if not argv:
        sys.exit(__doc__)
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
