"""Paired comparison of test accuracy between two families of training runs in
benchmarks/surrogate/train_results.json (same seeds, e.g. dense against sparse).

    python3.11 benchmarks/surrogate_paired.py fsdd_cos_best_seed{}_dense fsdd_cos_best_seed{}_sparse --seeds 1-9

Each pattern holds `{}` where the seed goes. Prints the per-seed table, both means and
medians, and the paired difference (second minus first) with its standard deviation and a
95% t interval. Only seeds present in both families are used.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics

# two-sided 95% Student t quantiles for 1..30 degrees of freedom
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def seeds_arg(text: str) -> list[int]:
    """'1-9' or '1,2,5' -> list of seeds."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def paired(table: dict, first: str, second: str, seeds: list[int]) -> dict:
    """Per-seed test accuracies (%) of both families and their paired difference."""
    rows = [(s, 100 * table[first.format(s)]["test_acc"], 100 * table[second.format(s)]["test_acc"])
            for s in seeds if first.format(s) in table and second.format(s) in table]
    if not rows:
        raise SystemExit(f"no seed of {seeds} has both {first!r} and {second!r}")
    a = [r[1] for r in rows]
    b = [r[2] for r in rows]
    d = [y - x for x, y in zip(a, b)]
    n = len(d)
    sd = statistics.stdev(d) if n > 1 else float("nan")
    half = T95[min(n - 1, 30) - 1] * sd / math.sqrt(n) if n > 1 else float("nan")
    return {"seeds": [r[0] for r in rows], "first": a, "second": b, "mean_first": statistics.mean(a),
            "mean_second": statistics.mean(b), "median_first": statistics.median(a),
            "median_second": statistics.median(b), "diff_mean": statistics.mean(d), "diff_sd": sd,
            "diff_ci95": (statistics.mean(d) - half, statistics.mean(d) + half)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", help="run key pattern with {} for the seed, e.g. fsdd_cos_best_seed{}_dense")
    ap.add_argument("second")
    ap.add_argument("--seeds", default="1-9")
    ap.add_argument("--table", default=os.path.join(os.path.dirname(__file__), "surrogate", "train_results.json"))
    args = ap.parse_args(argv)
    r = paired(json.load(open(args.table)), args.first, args.second, seeds_arg(args.seeds))
    print("| seed | " + " | ".join(str(s) for s in r["seeds"]) + " | mean | median |")
    print("|---" * (len(r["seeds"]) + 3) + "|")
    for name, key in ((args.first, "first"), (args.second, "second")):
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in r[key]) +
              f" | {r['mean_' + key]:.2f} | {r['median_' + key]:.1f} |")
    lo, hi = r["diff_ci95"]
    print(f"paired difference (second - first): {r['diff_mean']:+.2f} +- {r['diff_sd']:.2f} points (sd), "
          f"95% CI [{lo:+.2f}, {hi:+.2f}], n = {len(r['seeds'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
