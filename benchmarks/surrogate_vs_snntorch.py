"""Full training step (forward + backward + Adam update) time: eventsim's sparse and dense
surrogate-gradient learner vs snnTorch on the CPU, same network, steps and batch.

Network: 700 inputs (synthetic SHD-like Bernoulli events, 5% per channel and step) ->
N recurrent LIF neurons with synaptic current (tau_mem 20 ms, tau_syn 5 ms, reset to
zero, reset detached, fast-sigmoid surrogate slope 10, threshold 1) -> 20 leaky readout
units (tau_out 20 ms), logits = max over time, cross-entropy, Adam lr 1e-3; 100 steps
of 1 ms, batch 16. snnTorch: `snn.Synaptic` (alpha = syn decay, beta = mem decay) +
nn.Linear for W and R (no bias), the same readout written with torch ops, float32
(its default) with `torch.set_num_threads(k)` for k in --torch-threads. eventsim:
float64 state and gradients, one thread, weights read in float64 or float32 (--weight-dtypes).
snnTorch runs in its own venv (benchmarks/.venv-snntorch, created
by benchmarks/setup_venvs.sh); this script calls it as a worker subprocess.

    python benchmarks/surrogate_vs_snntorch.py [--sizes 200,1000] [--reps 5]

Both processes first call eventsim's `retain_freed_memory` (glibc keeps freed blocks paged
in, as eventsim's train() sets it up), unless --default-malloc leaves malloc alone in both.

Writes benchmarks/surrogate/vs_snntorch.json (median wall and CPU step times, ratios of
CPU times, load average). With more than one torch thread the CPU time includes idle
threads' spinning, so compare 1 thread against eventsim's 1 thread.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from proc_status import peak_above

HERE = os.path.dirname(os.path.abspath(__file__))
MEMORY_PY = os.path.join(HERE, "..", "learning", "surrogate", "memory.py")
VENV_PY = os.path.join(HERE, ".venv-snntorch", "bin", "python")
N_IN, T, B, N_OUT, DENSITY = 700, 100, 16, 20, 0.05


def retain_heap() -> bool:
    """eventsim's `retain_freed_memory` for the snnTorch worker, loaded from its file because
    that venv does not have eventsim."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("eventsim_memory", MEMORY_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.retain_freed_memory()


def worker(x_path: str, sizes: list[int], reps: int, threads: list[int], retain: bool, peak: bool = False) -> None:
    """Runs inside the snnTorch venv; prints one JSON line. With `peak` (one size only), instead of
    timing, the row holds the peak RSS of one step on the first minibatch above the RSS before it
    (after a warm-up step on its first sample), as surrogate_memory.py measures eventsim, and the
    bytes of the tensors autograd saved for the backward pass (distinct storages, parameters and
    input excluded). The RSS figure depends on how glibc and torch reuse the warm-up's memory (it
    is bimodal between fresh processes); the saved bytes do not."""
    if peak and len(sizes) * len(threads) != 1:
        raise SystemExit("--peak measures one size and one thread count per process")
    retained = retain_heap() if retain else False
    import numpy as np
    import snntorch as snn
    import torch
    from snntorch import surrogate
    z = np.load(x_path)
    # K minibatches [K, B, T, n_in] -> [K, T, B, n_in]; the timed steps cycle through them
    xs = torch.tensor(z["x"], dtype=torch.float32).permute(0, 2, 1, 3).contiguous()
    ys = torch.tensor(z["labels"], dtype=torch.long)
    n_batches, T_, _, n_in = xs.shape
    n_out = int(z["n_out"])
    alpha_syn, beta_mem, kappa = float(z["alpha_syn"]), float(z["beta_mem"]), float(z["kappa"])
    rows = []
    for k in threads:
        torch.set_num_threads(k)
        for N in sizes:
            torch.manual_seed(0)
            fc = torch.nn.Linear(n_in, N, bias=False)
            rec = torch.nn.Linear(N, N, bias=False)
            out = torch.nn.Linear(N, n_out, bias=False)
            lif = snn.Synaptic(alpha=alpha_syn, beta=beta_mem, threshold=1.0, reset_mechanism="zero",
                               spike_grad=surrogate.fast_sigmoid(slope=10), reset_delay=False)
            params = list(fc.parameters()) + list(rec.parameters()) + list(out.parameters())
            opt = torch.optim.Adam(params, lr=1e-3)

            saved: dict[int, int] = {}   # storage address -> bytes, of tensors autograd keeps for backward
            kept_anyway = {p.untyped_storage().data_ptr() for p in params} | {xs.untyped_storage().data_ptr()}

            def pack(t):
                st = t.untyped_storage()
                if st.data_ptr() not in kept_anyway:   # not the parameters or the input, which exist anyway
                    saved[st.data_ptr()] = st.nbytes()
                return t

            def step(x, y) -> float:
                with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                    return _step(x, y)

            def _step(x, y) -> float:
                syn, mem = lif.reset_mem()
                s = torch.zeros(x.shape[1], N)
                u = torch.zeros(x.shape[1], n_out)
                us = []
                for t in range(T_):
                    s, syn, mem = lif(fc(x[t]) + rec(s), syn, mem)
                    u = kappa * u + out(s)
                    us.append(u)
                logits = torch.stack(us).max(dim=0).values
                loss = torch.nn.functional.cross_entropy(logits, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                return float(loss)

            if peak:
                step(xs[0][:, :1].contiguous(), ys[0][:1])
                saved.clear()
                _, peak_mib = peak_above(lambda: step(xs[0], ys[0]))
                rows.append({"n_hidden": N, "torch_threads": k, "peak_step_mib": peak_mib,
                             "saved_for_backward_mib": sum(saved.values()) / 2**20})
                continue
            step(xs[0], ys[0])
            ts, cs = [], []
            for i in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                step(xs[i % n_batches], ys[i % n_batches])
                ts.append(time.perf_counter() - t0)
                cs.append(time.process_time() - c0)
            rows.append({"n_hidden": N, "torch_threads": k, "t_step_s": statistics.median(ts),
                         "cpu_step_s": statistics.median(cs)})
    print(json.dumps({"torch": torch.__version__, "snntorch": snn.__version__, "heap_retained": retained,
                      "rows": rows}))


def snntorch_times(x, labels, n_out: int, alpha_syn: float, beta_mem: float, kappa: float, sizes: str, reps: int,
                   torch_threads: str, default_malloc: bool, peak: bool = False) -> dict:
    """Run the snnTorch worker in its venv on minibatches x [K, B, T, n_in] (labels [K, B]) with the
    given decays per step (synaptic, membrane, readout) and hidden sizes ("200,400"); returns its JSON
    (with `peak`, the peak memory of a step instead of times; see `worker`)."""
    import numpy as np
    if not os.path.exists(VENV_PY):
        raise SystemExit(f"{VENV_PY} not found: run bash benchmarks/setup_venvs.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        xp = os.path.join(tmp, "x.npz")
        np.savez(xp, x=np.asarray(x, np.float32), labels=labels, n_out=n_out, alpha_syn=alpha_syn,
                 beta_mem=beta_mem, kappa=kappa)
        res = subprocess.run([VENV_PY, os.path.abspath(__file__), "--worker", xp, "--sizes", sizes,
                              "--reps", str(reps), "--torch-threads", torch_threads]
                             + (["--default-malloc"] if default_malloc else []) + (["--peak"] if peak else []),
                             check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200,1000")
    ap.add_argument("--bands", default="0.01,0.1")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--torch-threads", default="1,2")
    ap.add_argument("--weight-dtypes", default="float64",
                    help="comma-separated precisions in which eventsim's kernels read W and R (float64, float32)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="leave glibc's malloc settings alone in both processes (by default both call "
                         "eventsim's retain_freed_memory, as eventsim's train() does)")
    ap.add_argument("--out", default=os.path.join(HERE, "surrogate", "vs_snntorch.json"))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--peak", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    dtypes = args.weight_dtypes.split(",")
    threads = [int(s) for s in args.torch_threads.split(",")]
    if args.worker:
        worker(args.worker, sizes, args.reps, threads, not args.default_malloc, args.peak)
        return 0
    import numpy as np
    from eventsim.learning.surrogate import (Adam, LayerSpec, NetworkSpec, SNN, clamp_params, retain_freed_memory,
                                             synthetic_dataset)
    from eventsim.learning.surrogate.model import WEIGHT_DTYPES
    bad = [d for d in dtypes if d not in WEIGHT_DTYPES]
    if bad:
        ap.error(f"--weight-dtypes: {bad} not in {WEIGHT_DTYPES}")
    data = synthetic_dataset(B, N_OUT, N_IN, T, DENSITY, seed=0)
    batch = data.batch(range(B))
    dense_x = np.zeros((B, T, N_IN), np.float32)
    for b, (st, un) in enumerate(data.samples):
        dense_x[b, st, un] = 1.0
    load0 = os.getloadavg()[0]
    snn_res = snntorch_times(dense_x[None], batch.labels[None], N_OUT, math.exp(-1 / 5.0), math.exp(-1 / 20.0),
                             math.exp(-1 / 20.0), args.sizes, args.reps, args.torch_threads, args.default_malloc)
    retained = retain_freed_memory() if not args.default_malloc else False
    rows = []
    for N in sizes:
        spec = NetworkSpec(n_in=N_IN, layers=[LayerSpec(N, recurrent=True, tau_mem=20.0, tau_syn=5.0)], n_out=N_OUT,
                           n_steps=T, readout="max")
        for method, band, wdt in [(m, b, d) for d in dtypes for m, b in
                                  [("dense", float("inf"))] + [("sparse", float(b)) for b in args.bands.split(",")]]:
            model = SNN(spec, init="fluctuation", seed=1, input_rate=DENSITY,
                        hidden_rate="gaussian")  # the init of the recorded results (before 2026-11-24)
            opt = Adam(1e-3)

            def step() -> dict:
                r = model.loss_and_grad(batch, method=method, band=band, weight_dtype=wdt)
                opt.step(model.params, r.grads)
                clamp_params(model.params)
                return r.stats

            # every timed step starts from the initial parameters (restored outside the timed
            # region): Adam's first steps move every weight by ~lr, which on one batch drives
            # this network from 0.0067 to 0.03-0.25 spikes per neuron and step, and the
            # event-driven cost follows the activity (snnTorch's dense cost does not)
            p0 = {k: v.copy() for k, v in model.params.items()}
            step()
            ts, cs, cb, cf, rate = [], [], [], [], []
            for _ in range(args.reps):
                for k, v in p0.items():
                    model.params[k][...] = v
                t0, c0 = time.perf_counter(), time.process_time()
                st = step()
                ts.append(time.perf_counter() - t0)
                cs.append(time.process_time() - c0)
                cb.append(st["cpu_backward_s"])
                cf.append(st["cpu_forward_s"])
                rate.append(sum(st["spikes"]) / (B * T * N))
            row = {"n_hidden": N, "method": method, "band": None if method == "dense" else band, "weight_dtype": wdt,
                   "t_step_s": statistics.median(ts), "cpu_step_s": statistics.median(cs),
                   "cpu_backward_s": statistics.median(cb), "cpu_forward_s": statistics.median(cf),
                   "spike_rate_per_step": statistics.median(rate)}
            for s in snn_res["rows"]:
                if s["n_hidden"] == N:  # ratios of CPU-time medians (a shared machine makes wall time noisy)
                    row[f"speedup_vs_snntorch_{s['torch_threads']}thr"] = s["cpu_step_s"] / row["cpu_step_s"]
            rows.append(row)
            print(json.dumps(row))
    for s in snn_res["rows"]:
        print("snntorch", json.dumps(s))
    meta = {"n_in": N_IN, "n_steps": T, "batch": B, "input_density": DENSITY, "reps": args.reps,
            "statistic": "median; speed-ups are ratios of CPU time (process_time, all threads)",
            "command": "python3.11 benchmarks/surrogate_vs_snntorch.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "eventsim_threads": 1, "eventsim_weight_dtypes": dtypes, "eventsim_state_dtype": "float64",
            "snntorch_dtype": "float32",
            "heap_retained": {"eventsim": retained, "snntorch": snn_res["heap_retained"]},
            "torch": snn_res["torch"], "snntorch": snn_res["snntorch"], "machine": platform.platform(),
            "cpu_count": os.cpu_count(), "loadavg_1min_start": load0, "loadavg_1min_end": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "snntorch": snn_res["rows"], "eventsim": rows}, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
