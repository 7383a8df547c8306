"""A/B of the sparse backward kernel between two versions of learning/surrogate/kernels.py.

    python benchmarks/surrogate_ab_backward.py A B CONFIG --run NAME:B_TH [--run ...] [--reps 9]

A and B are git revisions, or WORKTREE for the file as it is on disk. Each version's kernels.py is
loaded as its own module (compiled without the on-disk cache), and both run `_backward_samples` on
the same recorded sparse batches (closest-approach fallback on) of a trained network
(benchmarks/surrogate/runs/NAME/checkpoint.h5, read in the precision it was trained in), alternating
A and B --reps times in one process. Reports CPU time per pass over 8 batches of the config's batch
size, the median of the per-pair ratios B/A (the noise of this VM moves both alike), how often B was
faster, and the largest relative difference of dW and dR between the two versions. Writes
benchmarks/surrogate/ab_backward_<date>[_runK].json (or --out-name).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from eventsim.learning.surrogate import load_checkpoint
from eventsim.learning.surrogate.cli import load_data, read_config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KERNELS = "learning/surrogate/kernels.py"
sys.path.insert(0, HERE)
from results_json import dated_path, machine, write_results  # noqa: E402


def load_kernels(rev: str, tmp: str):
    """The kernels module of git revision rev (or the working tree), compiled afresh."""
    if rev == "WORKTREE":
        src = open(os.path.join(ROOT, KERNELS)).read()
    else:
        src = subprocess.run(["git", "-C", ROOT, "show", f"{rev}:{KERNELS}"], check=True,
                             capture_output=True, text=True).stdout
    src = src.replace("cache=True", "cache=False").replace(
        "from .surrogates import", "from eventsim.learning.surrogate.surrogates import")
    name = f"kernels_{len(os.listdir(tmp))}"
    path = os.path.join(tmp, name + ".py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def one_pass(K, model, weights, batches, recs) -> tuple[float, list]:
    """CPU seconds of K._backward_samples over the batches, and its (dW, dR) per batch."""
    p, T = model.params, model.spec.n_steps
    W, R = weights
    N = W.shape[1]
    buffered = (W.shape[0] + N) * N <= K.BUFFER_MAX
    beta = p["h0.beta"] if "h0.beta" in p else np.zeros(N)
    out = []
    c = time.process_time()
    for b, r in zip(batches, recs):
        gs = np.random.default_rng(3).standard_normal(r.st_idx.size) * 1e-3
        dW, dR = np.zeros(W.shape), np.zeros(R.shape)
        v = np.zeros((3, N))
        K._backward_samples(0, b.batch_size, T, r.spk_ptr, r.spk_idx, r.spk_val, r.st_ptr, r.st_idx, r.st_v,
                            r.st_sg, r.st_ea, r.st_eb, gs, b.ptr, b.idx, b.val, np.zeros(1, np.int64),
                            np.zeros(0, np.int32), False, W, R, model.spec.layers[0].recurrent,
                            p["h0.alpha"], p["h0.theta"], beta, "h0.beta" in p, False, 0.0,
                            model.spec.detach_reset, buffered, dW, dR, v[0], v[1], v[2], np.zeros(0))
        out.append((dW, dR))
    return time.process_time() - c, out


def rel_diff(a: list, b: list) -> float:
    return max(float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-300))
               for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("config")
    ap.add_argument("--run", action="append", required=True, help="NAME:B_TH")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--out-name", default=None, help="file name under benchmarks/surrogate/")
    args = ap.parse_args()
    for spec in args.run:                      # fail before any timing, not halfway through
        ckpt = os.path.join(HERE, "surrogate", "runs", spec.rsplit(":", 1)[0], "checkpoint.h5")
        if ":" not in spec or not os.path.exists(ckpt):
            raise SystemExit(f"--run {spec!r}: expected NAME:B_TH with {ckpt} present")
    cfg = read_config(args.config)
    data, _ = load_data(cfg.get("data", {}), cfg["network"])
    bs = int(cfg.get("train", {}).get("batch_size", 32))
    order = np.random.default_rng(0).permutation(len(data))
    batches = [data.batch(order[k * bs:(k + 1) * bs]) for k in range(args.batches)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        KA, KB = load_kernels(args.a, tmp), load_kernels(args.b, tmp)
        for spec in args.run:
            name, band = spec.rsplit(":", 1)
            model, attrs = load_checkpoint(os.path.join(HERE, "surrogate", "runs", name, "checkpoint.h5"))
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
                   "b_over_a_paired": statistics.median(pairs), "b_faster": sum(p < 1 for p in pairs),
                   "max_rel_diff": rel_diff(ga, gb), "a_all": ta, "b_all": tb}
            rows.append(row)
            print(f"{name} B_th {band}: A {1e3 * row['a_cpu_s']:.1f} ms, B {1e3 * row['b_cpu_s']:.1f} ms, "
                  f"paired B/A {row['b_over_a_paired']:.3f}, B faster in {row['b_faster']}/{args.reps}, "
                  f"max rel diff of dW, dR {row['max_rel_diff']:.1e}", flush=True)
    doc = {"a": args.a, "b": args.b, "config": os.path.relpath(args.config, ROOT), "batches": args.batches,
           "batch_size": bs, "reps": args.reps, "machine": machine(), "rows": rows}
    out_dir = os.path.join(HERE, "surrogate")
    out = args.out_name or os.path.basename(dated_path(out_dir, "ab_backward"))
    print(write_results(out_dir, out, doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
