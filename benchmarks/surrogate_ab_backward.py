"""A/B of the surrogate learner's backward kernel between two revisions, on a trained network.

    python benchmarks/surrogate_ab_backward.py A B CONFIG --run NAME:B_TH [--run ...] [--reps 9]

A and B are git revisions, or WORKTREE for the files on disk. Both revisions are imported side by side
(`revisions.export_package`), and each one's `layer_backward` runs on the same recorded sparse batches
(closest-approach fallback on) of a trained network (benchmarks/surrogate/runs/NAME/checkpoint.h5, weights
in the precision it was trained in), alternating A and B --reps times in one process. Reports CPU time per
pass over the batches (the config's batch size, the order of `surrogate_trained_speed.py`), the median of
the per-pair ratios B/A (the noise of this VM moves both alike), how often B was faster, and the largest
relative difference of dW and dR between the two. Writes benchmarks/surrogate/ab_backward_<date>[_runK].json
(or --out-name).
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

from eventsim.learning.surrogate import load_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from results_json import dated_path, machine, write_results  # noqa: E402
from revisions import export_package  # noqa: E402
from surrogate_trained_speed import config_batches, run_checkpoint  # noqa: E402


def one_pass(K, model, weights, batches, recs) -> tuple[float, list]:
    """CPU seconds of K.layer_backward over the batches (hidden layer 0, the gradient from above
    a fixed random dL/dS), and its (dW, dR) per batch."""
    p, spec = model.params, model.spec
    layer = spec.layers[0]
    W, R = weights
    beta = p["h0.beta"] if layer.tau_syn is not None else np.zeros(layer.size)
    out = []
    c = time.process_time()
    for b, r in zip(batches, recs):
        gs = np.random.default_rng(3).standard_normal(r.st_idx.size) * 1e-3
        dW, dR, *_ = K.layer_backward(
            b.batch_size, spec.n_steps, r.spk_ptr, r.spk_idx, r.spk_val, r.st_ptr, r.st_idx, r.st_v, r.st_sg,
            r.st_ea, r.st_eb, gs, b.ptr, b.idx, b.val, np.zeros(1, np.int64), np.zeros(0, np.int32), False, W, R,
            layer.recurrent, p["h0.alpha"], p["h0.theta"], beta, layer.tau_syn is not None, False, 0.0,
            spec.detach_reset)
        out.append((dW, dR))
    return time.process_time() - c, out


def rel_diff(a: list, b: list) -> float:
    """Largest |a - b| / max |a| over the gradient arrays of all batches."""
    return max(float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-300))
               for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="git revision, or WORKTREE")
    ap.add_argument("b", help="git revision, or WORKTREE")
    ap.add_argument("config")
    ap.add_argument("--run", action="append", required=True, help="NAME:B_TH")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--out-name", default=None, help="file name under benchmarks/surrogate/")
    args = ap.parse_args()
    for spec in args.run:                      # fail before any timing, not halfway through
        if ":" not in spec or not os.path.exists(run_checkpoint(spec.rsplit(":", 1)[0])):
            ap.error(f"--run {spec!r}: expected NAME:B_TH with {run_checkpoint(spec.rsplit(':', 1)[0])} present")
    batches, bs = config_batches(args.config, args.batches)
    tmp = tempfile.mkdtemp(prefix="ab_backward_")
    sys.path.insert(0, tmp)
    rows = []
    try:
        kernels = []
        for label, rev in (("a", args.a), ("b", args.b)):
            export_package(rev, tmp, f"ev_abb_{label}")
            kernels.append(importlib.import_module(f"ev_abb_{label}.learning.surrogate.kernels"))
        KA, KB = kernels
        for spec in args.run:
            name, band = spec.rsplit(":", 1)
            model, attrs = load_checkpoint(run_checkpoint(name))
            wdt = attrs["weight_dtype"]
            if len(model.spec.layers) != 1:
                raise SystemExit(f"--run {name}: only one hidden layer is supported here")
            recs = [model.forward(b, band=float(band), store_all=False, fallback=True, weight_dtype=wdt)[0][0]
                    for b in batches]
            weights = model.layer_weights(wdt)[0]
            _, ga = one_pass(KA, model, weights, batches, recs)     # compile, and compare the gradients
            _, gb = one_pass(KB, model, weights, batches, recs)
            ta, tb = [], []
            for _ in range(args.reps):
                ta.append(one_pass(KA, model, weights, batches, recs)[0])
                tb.append(one_pass(KB, model, weights, batches, recs)[0])
            pairs = [y / x for x, y in zip(ta, tb)]
            row = {"run": name, "band": float(band), "a_cpu_s": statistics.median(ta), "b_cpu_s": statistics.median(tb),
                   "b_over_a_paired": statistics.median(pairs), "b_faster": sum(q < 1 for q in pairs),
                   "max_rel_diff": rel_diff(ga, gb), "a_all": ta, "b_all": tb}
            rows.append(row)
            print(f"{name} B_th {band}: A {1e3 * row['a_cpu_s']:.1f} ms, B {1e3 * row['b_cpu_s']:.1f} ms, "
                  f"paired B/A {row['b_over_a_paired']:.3f}, B faster in {row['b_faster']}/{args.reps}, "
                  f"max rel diff of dW, dR {row['max_rel_diff']:.1e}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"a": args.a, "b": args.b, "config": os.path.relpath(args.config, ROOT), "batches": args.batches,
           "batch_size": bs, "reps": args.reps, "machine": machine(), "rows": rows}
    out_dir = os.path.join(HERE, "surrogate")
    out = args.out_name or os.path.basename(dated_path(out_dir, "ab_backward"))
    print(write_results(out_dir, out, doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
