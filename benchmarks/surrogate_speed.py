"""Backward-pass time and memory: sparse (active-set) vs dense BPTT surrogate gradients.

Synthetic SHD-like input (700 channels, 100 steps of 1 ms, 5% event density per channel
and step), one hidden LIF layer of 200/400/1000 neurons (recurrent by default, or two
feed-forward layers with --arch ff2), fluctuation-driven init, batch of 16. For every
size the dense reference (band = inf, every (t, j) stored) and the sparse method for
B_th in {0.01, 0.05, 0.1, 0.25} run in the same process,
with the same kernels (plus a vectorised numpy/BLAS dense BPTT on the same records,
`dense_blas.py`, as a second dense baseline); times
are CPU times (time.process_time, all threads of the process; the machine is shared, so
wall time is not used), the median of --reps repeats after a warm-up call that also
triggers numba compile. The 1-minute load average is recorded before each size. As in
train(), freed memory stays in the heap (retain_freed_memory) unless --default-malloc.
"Bytes stored for backward" counts every array kept between forward and backward (input
events, hidden spike events, stored entries, readout trace). Writes
benchmarks/surrogate/speed.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time

# CPU time is compared, so the numpy/BLAS baseline runs single-threaded like the numba
# kernels: idle OpenBLAS threads busy-wait and on a shared machine that inflated its CPU
# time ~30x (N=400: 1.9 s with 2 threads vs 0.06 s with 1).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from eventsim.learning.surrogate import (LayerSpec, NetworkSpec, SNN, retain_freed_memory,  # noqa: E402
                                         synthetic_dataset)
from eventsim.learning.surrogate.dense_blas import blas_backward, readout_grad, to_dense  # noqa: E402


def _run(model: SNN, batch, method: str, band: float, reps: int) -> dict:
    model.loss_and_grad(batch, method=method, band=band)  # warm-up / compile
    tb, tf, res = [], [], None
    for _ in range(reps):
        res = model.loss_and_grad(batch, method=method, band=band)
        tb.append(res.stats["cpu_backward_s"])
        tf.append(res.stats["cpu_forward_s"])
    return {"t_backward_s": statistics.median(tb), "t_forward_s": statistics.median(tf),
            "bytes_backward": res.stats["bytes_backward"], "stored_entries": res.stats["stored_entries"],
            "spikes": res.stats["spikes"], "grads": res.grads, "loss": res.loss}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200,400,1000")
    ap.add_argument("--bands", default="0.01,0.05,0.1,0.25")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--arch", choices=("rec1", "ff2"), default="rec1")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's malloc settings alone (by default retain_freed_memory is called, as "
                         "train() does, for the sparse and dense runs alike)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "surrogate", "speed.json"))
    args = ap.parse_args(argv)
    retained = False if args.default_malloc else retain_freed_memory()
    n_in, T, density = 700, 100, 0.05
    data = synthetic_dataset(args.batch, 20, n_in, T, density, seed=0)
    batch = data.batch(range(args.batch))
    rows = []
    for N in [int(s) for s in args.sizes.split(",")]:
        layers = ([LayerSpec(N, recurrent=True, tau_mem=20.0, tau_syn=5.0)] if args.arch == "rec1"
                  else [LayerSpec(N, tau_mem=20.0, tau_syn=5.0), LayerSpec(N, tau_mem=20.0, tau_syn=5.0)])
        spec = NetworkSpec(n_in=n_in, layers=layers, n_out=20, n_steps=T, readout="max")
        model = SNN(spec, init="fluctuation", seed=1, input_rate=density,
                    hidden_rate="gaussian")  # the init of the recorded results (before 2026-11-24)
        load = os.getloadavg()[0]
        print(f"N={N}: load average (1 min) {load:.2f}")
        dense = _run(model, batch, "dense", math.inf, args.reps)
        total = args.batch * T * sum(l.size for l in layers)
        print(f"N={N} dense: backward {dense['t_backward_s']:.3f}s, forward {dense['t_forward_s']:.3f}s, "
              f"{dense['bytes_backward'] / 1e6:.1f} MB, spike rate {sum(dense['spikes']) / total:.4f}/step")
        rows.append({"n_hidden": N, "method": "dense", "band": None, "t_backward_s": dense["t_backward_s"],
                     "t_forward_s": dense["t_forward_s"], "bytes_backward": dense["bytes_backward"],
                     "active_fraction": 1.0, "spike_rate_per_step": sum(dense["spikes"]) / total,
                     "speedup": 1.0, "memory_ratio": 1.0, "grad_cosine_vs_dense": 1.0, "load_1min": load})
        recs, U = model.forward(batch, band=math.inf, store_all=True)
        dn, gU = to_dense(model, batch, recs), readout_grad(model, batch, U)
        blas_backward(model, dn, gU)
        tbl = statistics.median([blas_backward(model, dn, gU)[1] for _ in range(args.reps)])
        del dn, recs
        print(f"N={N} dense numpy/BLAS BPTT backward {tbl:.3f}s")
        rows.append({"n_hidden": N, "method": "dense_blas", "band": None, "t_backward_s": tbl,
                     "bytes_backward": dense["bytes_backward"], "note": "same dense records, numpy matmuls"})
        gd = np.concatenate([g.ravel() for g in dense["grads"].values()])
        for band in [float(b) for b in args.bands.split(",")]:
            sp = _run(model, batch, "sparse", band, args.reps)
            gs = np.concatenate([sp["grads"][k].ravel() for k in dense["grads"]])
            cos = float(gs @ gd / (np.linalg.norm(gs) * np.linalg.norm(gd) + 1e-300))
            row = {"n_hidden": N, "method": "sparse", "band": band, "t_backward_s": sp["t_backward_s"],
                   "t_forward_s": sp["t_forward_s"], "bytes_backward": sp["bytes_backward"],
                   "active_fraction": sum(sp["stored_entries"]) / total,
                   "spike_rate_per_step": sum(sp["spikes"]) / total,
                   "speedup": dense["t_backward_s"] / sp["t_backward_s"],
                   "speedup_vs_blas": tbl / sp["t_backward_s"], "load_1min": os.getloadavg()[0],
                   "memory_ratio": sp["bytes_backward"] / dense["bytes_backward"], "grad_cosine_vs_dense": cos}
            rows.append(row)
            print(f"  B_th={band:<5} backward {row['t_backward_s']:.4f}s (x{row['speedup']:.1f} vs dense loops, x{row['speedup_vs_blas']:.1f} vs BLAS), "
                  f"{row['bytes_backward'] / 1e6:.2f} MB ({100 * row['memory_ratio']:.1f}% of dense), "
                  f"active {100 * row['active_fraction']:.2f}%, cos(g, g_dense)={cos:.3f}")
    meta = {"n_in": n_in, "n_steps": T, "input_density": density, "batch": args.batch, "reps": args.reps,
            "arch": args.arch, "statistic": "median CPU time (process_time)", "command": "python3.11 benchmarks/surrogate_speed.py "
            + " ".join(argv if argv is not None else __import__("sys").argv[1:]), "machine": platform.platform(),
            "cpu_count": os.cpu_count(), "heap_retained": retained, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
