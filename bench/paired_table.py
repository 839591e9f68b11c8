#!/usr/bin/python3
"""The training-step table of docs/PERFORMANCE.md from paired runs, for noisy shared machines.

  /usr/bin/python3 bench/paired_table.py [--bench build/scorematch_bench] [--repetitions 15]
                                         [--rows REGEX] [--json-out FILE]

Why: on a VM whose speed drifts by ±30% over seconds, the fastest (or median) repetition of each
benchmark from one long run compares cells measured in different states of the machine, and a
ratio of two such figures moves by ±0.2. Here each row (objective, model, d) is one run of its four
steps (float64/float32 × 1/2 threads) and its same-shape GEMM baseline, with the repetitions in
random order (Google Benchmark's random interleaving): repetition i of every benchmark of the row
runs in the same round, seconds apart. A ratio (2 threads / 1 thread, float32 / float64) is the
median over the rounds of the ratio within a round; times are medians over the rounds. The "low"
column is the lowest of the row's three ratio lower quartiles. "GEMM 2/1" is the same-round ratio
of the baseline GEMM alone (one parallel loop over 8 row chunks, nothing else): what the machine
gives two threads at that moment, the ceiling for the "2 thr / 1 thr" column.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys

OBJECTIVES = ("ism", "ssm", "dsm")
MODELS = ("energy", "score")
DIMS = (2, 16, 64, 256)
BATCH = 256


def run_row(bench, objective, model, d, repetitions):
    rows = BATCH * (d + 2)
    pattern = "BM_TrainStep/%s/%s/float(32|64)/d:%d/|BM_GemmBaseline/float64/rows:%d/" % (
        objective, model, d, rows)
    out = subprocess.run(
        [bench, "--benchmark_filter=" + pattern, "--benchmark_min_time=0.1",
         "--benchmark_repetitions=%d" % repetitions, "--benchmark_enable_random_interleaving=true",
         "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    rounds = {}  # repetition index -> {(precision, threads) or ("gemm", threads): benchmark}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        m = re.search(r"(float\d+)/", b["run_name"])
        t = int(re.search(r"threads:(\d+)", b["run_name"]).group(1))
        key = ("gemm", t) if b["run_name"].startswith("BM_GemmBaseline") else (m.group(1), t)
        rounds.setdefault(b["repetition_index"], {})[key] = b
    return [r for r in rounds.values() if len(r) == 6]


def quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return q[0], statistics.median(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/scorematch_bench")
    ap.add_argument("--repetitions", type=int, default=15)
    ap.add_argument("--rows", default=".", help="regex on 'objective/model/d'")
    ap.add_argument("--json-out", help="also write every round's times here")
    args = ap.parse_args()
    ms = lambda b: b["real_time"]  # the benchmarks report milliseconds
    f64_1, f64_2, f32_1, f32_2 = ("float64", 1), ("float64", 2), ("float32", 1), ("float32", 2)
    print("| objective | model | d | f64 1 thr | f64 2 thr | f32 1 thr | f32 2 thr "
          "| f64 2 thr GFLOP/s (of baseline) | 2 thr / 1 thr (f64) | f32 / f64 (1 thr) "
          "| f32 / f64 (2 thr) | low | GEMM 2/1 |")
    print("|" + "---|" * 13)
    dump = {}
    for objective in OBJECTIVES:
        for model in MODELS:
            for d in DIMS:
                name = "%s/%s/%d" % (objective, model, d)
                if not re.search(args.rows, name):
                    continue
                rounds = run_row(args.bench, objective, model, d, args.repetitions)
                if not rounds:
                    sys.exit("no complete rounds for " + name)
                dump[name] = [{str(k): ms(v) for k, v in r.items()} for r in rounds]
                med = {k: statistics.median(ms(r[k]) for r in rounds)
                       for k in (f64_1, f64_2, f32_1, f32_2)}
                share = statistics.median(r[f64_2]["GFLOP/s"] / r[("gemm", 2)]["GFLOP/s"]
                                          for r in rounds)
                ceiling = statistics.median(ms(r[("gemm", 1)]) / ms(r[("gemm", 2)]) for r in rounds)
                gflops = statistics.median(r[f64_2]["GFLOP/s"] for r in rounds)
                ratios = [quartiles([ms(r[a]) / ms(r[b]) for r in rounds])
                          for a, b in ((f64_1, f64_2), (f64_1, f32_1), (f64_2, f32_2))]
                print("| %s | %s | %d | %.3g | %.3g | %.3g | %.3g | %.1f (%.0f%%) | %s | %.2f | %.2f |" % (
                    objective, model, d, med[f64_1], med[f64_2], med[f32_1], med[f32_2], gflops,
                    100 * share, " | ".join("%.2f" % r[1] for r in ratios),
                    min(r[0] for r in ratios), ceiling), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dump, f, indent=1)


if __name__ == "__main__":
    main()
