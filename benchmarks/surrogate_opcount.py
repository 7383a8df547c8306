"""Operation counts behind the sparse-backward speed-up: ours against the accounting of
Perez-Nieves & Goodman (2021).

Counts multiply-adds of the weight-gradient work on the `surrogate_speed.py` setup (same data,
network and initialisation), from one dense forward pass whose records hold V at every
(sample, step, neuron); an entry is active at B_th when |V - theta| < B_th.

Every count covers dW (input weights), dR (recurrent weights) and dL/dS of the layer's own
spikes through R, which each (sample, step) needs in BPTT:

- "paper, dense": BPTT on dense tensors, dW = x^T gI, dR = s^T gI, ds = gI R^T over every
  (sample, step), whatever the spike density: B*T*N*(n_in + 2N).
- "paper, sparse": their released CUDA kernel (npvoid/SparseSpikingBackprop,
  cuda/s3gd_cuda_kernel.cu, `s3gd_w_backward_kernel`) adds trace[b, t, i] * dS[b, t, j] to
  dW[i, j] for every active (b, t, j) and every input i whose presynaptic trace is nonzero,
  i.e. that has fired before step t; the same for dR with the hidden units' traces; plus N
  per active entry for ds.
- "ours, dense": `method="dense"`: one row of W per input event and of R per hidden spike,
  and N^2 per (sample, step) for ds: (n_events + n_spikes)*N + B*T*N^2.
- "ours, sparse": one multiply-add per (input event or hidden spike, live neuron), where a
  neuron is live from its last active entry back to step 0, plus N per active entry for ds.

The ratios show why the paper's figure is about 1 / active fraction while ours is bounded well
below that: its dense baseline pays for every (step, input) pair, ours only for input events.
Writes benchmarks/surrogate/opcount.json.

With `--run CONFIG:NAME[:B_TH,...]` (repeatable) it counts on trained networks instead: the
checkpoint benchmarks/surrogate/runs/NAME, the first minibatch of its config's training data
(`surrogate_trained_speed.py`'s order), and the listed bands (default --bands). The counts leave
out the closest-approach fallback's entries, so with the fallback on the bound is a little lower.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from eventsim.learning.surrogate import LayerSpec, NetworkSpec, SNN, load_checkpoint, synthetic_dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from surrogate_trained_speed import config_batches, run_checkpoint  # noqa: E402


def _first_event_steps(ptr: np.ndarray, idx: np.ndarray, B: int, T: int, n: int) -> np.ndarray:
    """first[b, i]: the first step at which unit i fires in sample b (T if never)."""
    first = np.full((B, n), T, np.int64)
    for bt in range(B * T - 1, -1, -1):        # backwards: the last write is the earliest step
        first[bt // T, idx[ptr[bt]:ptr[bt + 1]]] = bt % T
    return first


def counts(model: SNN, batch, bands: list[float]) -> list[dict]:
    """Operation counts for one hidden recurrent layer, per band."""
    spec, p = model.spec, model.params
    B, T, n_in, N = batch.batch_size, spec.n_steps, spec.n_in, spec.layers[0].size
    recs, _ = model.forward(batch, band=math.inf, store_all=True)   # float64 weights; every entry stored
    rec = recs[0]
    theta = p["h0.theta"]
    x = np.abs(rec.st_v - theta[rec.st_idx])                     # every (b, t, j), in bt order
    bt_of = np.repeat(np.arange(B * T), np.diff(rec.st_ptr))
    first_in = _first_event_steps(batch.ptr, batch.idx, B, T, n_in)
    first_hid = _first_event_steps(rec.spk_ptr, rec.spk_idx, B, T, N)
    ev_bt = np.repeat(np.arange(B * T), np.diff(batch.ptr))        # bt of every input event
    sp_bt = np.repeat(np.arange(B * T), np.diff(rec.spk_ptr))      # bt of every hidden spike
    n_events, n_spikes = int(batch.idx.size), int(rec.spk_idx.size)
    rows = []
    for band in bands:
        act = x < band
        b_a, t_a, j_a = bt_of[act] // T, bt_of[act] % T, rec.st_idx[act]
        # inputs and hidden units with a nonzero trace at (b, t): fired at a step < t
        nz_in = (first_in[b_a] < t_a[:, None]).sum(axis=1)
        nz_hid = (first_hid[b_a] < t_a[:, None]).sum(axis=1)
        # last[b, j]: the last step with an active entry (-1 if none). An input event at step k
        # reaches V from step k + 1 on, so it needs dL/dI of neuron j when k < last[b, j].
        last = np.full((B, N), -1, np.int64)
        np.maximum.at(last, (b_a, j_a), t_a)
        live_at_event = (last[ev_bt // T] > (ev_bt % T)[:, None]).sum()
        live_at_spike = (last[sp_bt // T] > (sp_bt % T)[:, None]).sum()
        n_act = int(act.sum())
        paper_dense = B * T * N * (n_in + 2 * N)
        paper_sparse = int(nz_in.sum() + nz_hid.sum()) + n_act * N
        ours_dense = (n_events + n_spikes) * N + B * T * N * N
        ours_sparse = int(live_at_event + live_at_spike) + n_act * N
        rows.append({"n_hidden": N, "band": band, "active_fraction": n_act / (B * T * N),
                     "live_fraction": float((last + 1).sum()) / (B * T * N),
                     "paper_dense": paper_dense, "paper_sparse": paper_sparse,
                     "paper_ratio": paper_dense / max(paper_sparse, 1),
                     "ours_dense": ours_dense, "ours_sparse": ours_sparse,
                     "ours_ratio": ours_dense / max(ours_sparse, 1),
                     "mean_nonzero_input_traces": float(nz_in.mean()) if n_act else 0.0})
    return rows


def _print_row(r: dict, label: str) -> None:
    print(f"| {label} | {r['band']} | {100 * r['active_fraction']:.2f}% | {100 * r['live_fraction']:.1f}% | "
          f"{r['paper_dense'] / 1e6:.0f}M / {r['paper_sparse'] / 1e6:.2f}M | {r['paper_ratio']:.0f}x | "
          f"{r['ours_dense'] / 1e6:.0f}M / {r['ours_sparse'] / 1e6:.2f}M | {r['ours_ratio']:.0f}x |", flush=True)


def trained(specs: list[str], default_bands: list[float], out: str) -> int:
    """Counts on trained checkpoints (`--run CONFIG:NAME[:B_TH,...]`), one minibatch each."""
    for spec in specs:                      # fail before any work, not halfway through
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not os.path.exists(parts[0]) or not os.path.exists(run_checkpoint(parts[1])):
            raise SystemExit(f"--run {spec!r}: expected CONFIG:NAME[:B_TH,...] with both files present")
    rows = []
    print("| run | B_th | active | live | paper: dense / sparse ops | paper ratio | ours: dense / sparse ops | our ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in specs:
        parts = spec.split(":")
        bands = [float(b) for b in parts[2].split(",")] if len(parts) == 3 else default_bands
        batches, _ = config_batches(parts[0], 1)
        model, _ = load_checkpoint(run_checkpoint(parts[1]))
        for r in counts(model, batches[0], bands):
            r["run"] = parts[1]
            rows.append(r)
            _print_row(r, parts[1])
    with open(out, "w") as fh:
        json.dump({"setup": "trained checkpoints, first minibatch of each config", "rows": rows}, fh, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200,400,1000")
    ap.add_argument("--bands", default="0.01,0.05,0.1,0.25")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "surrogate", "opcount.json"))
    ap.add_argument("--run", action="append", default=[], help="CONFIG:NAME[:B_TH,...] (trained networks)")
    args = ap.parse_args(argv)
    if args.run:
        return trained(args.run, [float(b) for b in args.bands.split(",")], args.out)
    n_in, T, density = 700, 100, 0.05                 # as surrogate_speed.py
    batch = synthetic_dataset(args.batch, 20, n_in, T, density, seed=0).batch(range(args.batch))
    bands = [float(b) for b in args.bands.split(",")]
    rows = []
    print("| hidden | B_th | active | live | paper: dense / sparse ops | paper ratio | "
          "ours: dense / sparse ops | our ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for N in [int(s) for s in args.sizes.split(",")]:
        spec = NetworkSpec(n_in=n_in, layers=[LayerSpec(N, recurrent=True, tau_mem=20.0, tau_syn=5.0)],
                           n_out=20, n_steps=T, readout="max")
        model = SNN(spec, init="fluctuation", seed=1, input_rate=density,
                    hidden_rate="gaussian")  # the init of the recorded results (before 2026-11-24)
        for r in counts(model, batch, bands):
            rows.append(r)
            _print_row(r, str(N))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"setup": {"n_in": n_in, "steps": T, "density": density, "batch": args.batch,
                             "init": "fluctuation", "seed": 1}, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
