"""Backward-pass time of trained networks on their own data: dense BPTT against the sparse method.

    python benchmarks/surrogate_trained_speed.py benchmarks/surrogate/configs/fsdd.toml \
        --run fsdd_fb_lr1e3_seed1_sparse:0.1:fallback --run fsdd_fb_b025_lr1e3_seed1_sparse:0.25:fallback \
        [--batches 8] [--reps 5]

`surrogate_speed.py` times fresh networks on synthetic input. Here each `--run NAME:B_TH[:fallback]` loads
benchmarks/surrogate/runs/NAME/checkpoint.h5 (a network trained by `surrogate_train_runs.py`), and on the
same minibatches of the config's training data (batch size from the config) times, in turns, the dense
reference (every (sample, step, neuron) stored, B_th = inf) and the sparse method at B_th (with the
closest-approach fallback if asked). Times are CPU seconds (time.process_time) of loss_and_grad's backward
part, the median over --reps passes over the batches, with W and R read in the precision the checkpoint was
trained in (its `weight_dtype`). Writes benchmarks/surrogate/trained_speed.json (or --out-name), with each run's
test accuracy from train_results.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

from eventsim.learning.surrogate import load_checkpoint
from eventsim.learning.surrogate.cli import load_data, read_config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results_json import machine, write_results  # noqa: E402


def backward_cpu(model, batches, method: str, band: float, fallback: bool,
                 weight_dtype: str = "float64") -> tuple[float, float, int]:
    """(backward CPU s, forward CPU s, stored entries) summed over the batches."""
    tb = tf = 0.0
    stored = 0
    for b in batches:
        r = model.loss_and_grad(b, method=method, band=band, fallback=fallback, weight_dtype=weight_dtype)
        tb += r.stats["cpu_backward_s"]
        tf += r.stats["cpu_forward_s"]
        stored += sum(r.stats["stored_entries"])
    return tb, tf, stored


def config_batches(config: str, n_batches: int) -> tuple[list, int]:
    """The first n_batches minibatches of the config's training data (a fixed shuffled order), and the batch size."""
    cfg = read_config(config)
    data, _ = load_data(cfg.get("data", {}), cfg["network"])
    bs = int(cfg.get("train", {}).get("batch_size", 32))
    order = np.random.default_rng(0).permutation(len(data))
    return [data.batch(order[k * bs:(k + 1) * bs]) for k in range(n_batches)], bs


def run_checkpoint(name: str) -> str:
    """Path of the checkpoint of benchmarks/surrogate/runs/NAME."""
    return os.path.join(HERE, "surrogate", "runs", name, "checkpoint.h5")


def parse_run(spec: str) -> tuple[str, float, bool]:
    """NAME:B_TH[:fallback] -> (name, band, fallback)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "fallback"):
        raise SystemExit(f"--run {spec!r}: expected NAME:B_TH or NAME:B_TH:fallback")
    return parts[0], float(parts[1]), len(parts) == 3


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--run", action="append", required=True, help="NAME:B_TH[:fallback]")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out-name", default="trained_speed.json", help="file name under benchmarks/surrogate/")
    a = ap.parse_args()
    batches, bs = config_batches(a.config, a.batches)
    res_path = os.path.join(HERE, "surrogate", "train_results.json")
    results = json.load(open(res_path)) if os.path.exists(res_path) else {}
    rows = []
    for spec in a.run:
        name, band, fallback = parse_run(spec)
        model, attrs = load_checkpoint(run_checkpoint(name))
        wdt = attrs["weight_dtype"]                                        # the precision it was trained in
        backward_cpu(model, batches[:1], "dense", math.inf, False, wdt)   # compile outside the timing
        backward_cpu(model, batches[:1], "sparse", band, fallback, wdt)
        dense, sparse = [], []
        for _ in range(a.reps):
            dense.append(backward_cpu(model, batches, "dense", math.inf, False, wdt))
            sparse.append(backward_cpu(model, batches, "sparse", band, fallback, wdt))
        md = statistics.median(d[0] for d in dense)
        ms = statistics.median(s[0] for s in sparse)
        n_all = dense[0][2]
        run = results.get(name, {})
        row = {"run": name, "band": band, "fallback": fallback, "batches": a.batches, "batch_size": bs,
               "weight_dtype": wdt, "test_acc": run.get("test_acc"),
               "dense_backward_cpu_s": md, "sparse_backward_cpu_s": ms, "speedup": md / ms,
               "dense_forward_cpu_s": statistics.median(d[1] for d in dense),
               "sparse_forward_cpu_s": statistics.median(s[1] for s in sparse),
               "active_fraction": sparse[0][2] / n_all,
               "dense_backward_all": [d[0] for d in dense], "sparse_backward_all": [s[0] for s in sparse]}
        rows.append(row)
        print(f"{name} B_th={band}{' fallback' if fallback else ''}: dense {md * 1e3:.0f} ms, sparse "
              f"{ms * 1e3:.0f} ms, {md / ms:.1f}x, active {100 * row['active_fraction']:.2f}%", flush=True)
    doc = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "config": os.path.relpath(a.config, os.path.dirname(HERE)),
           "machine": machine(), "reps": a.reps, "rows": rows}
    print(write_results(os.path.join(HERE, "surrogate"), a.out_name, doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
