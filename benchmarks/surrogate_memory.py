"""Peak memory of one training step's loss_and_grad: sparse (active-set) against dense BPTT.

The setup of `surrogate_speed.py`: synthetic SHD-like input (700 channels, 100 steps, 5%
event density), one recurrent hidden LIF layer with synaptic current, 20 classes, max
readout, fluctuation-driven init. Every (batch size, hidden size, method, B_th) runs in
a fresh process, with glibc's default malloc settings (no `retain_freed_memory`, which
would keep the warm-up call's freed memory and hide part of the step's allocations):

1. build the batch and the model, and call loss_and_grad once on a single sample (numba
   compile, first-touch of the parameters);
2. reset the kernel's peak-RSS counter (write 5 to /proc/self/clear_refs) and read the
   current RSS as the baseline;
3. call loss_and_grad on the batch and read the peak RSS (VmHWM).

The figure is peak minus baseline: everything the step allocates, the weight gradients
(dW, dR) included, which both methods need; the parameters, the data and the interpreter
are not counted. Linux only.

    python benchmarks/surrogate_memory.py [--batches 16,32,64,256] [--sizes 400,1000] [--bands 0.05] [--xi 2]

--xi sets the activity: the sparse records grow with the spike rate, the dense ones do not.

Writes benchmarks/surrogate/memory.json.

Trained networks (the issue's "at equal test accuracy"): with ``--trained CONFIG --run NAME:B_TH[:fallback] ...``
each run's checkpoint (benchmarks/surrogate/runs/NAME, trained by `surrogate_train_runs.py`) is loaded and
measured the same way on the config's own training minibatches, with `train()`'s arguments (not its
malloc settings): the config's batch size, its spike-count regulariser, the checkpoint's weight
precision; dense (B_th = inf) against sparse at B_th (with the closest-approach fallback if asked).
Every (run, batch, method) is a fresh process, and the warm-up call uses the first sample of the
measured batch. --snntorch adds snnTorch's peak for a step of the same shape on the same minibatch,
measured the same way in its venv, and the bytes autograd saved for its backward pass. Writes benchmarks/surrogate/memory_trained.json
(or --out).

    python benchmarks/surrogate_memory.py --trained benchmarks/surrogate/configs/fsdd_reg1_n400.toml \
        --run fsdd_reg1_n400_fb_b025_cos_best_seed1_sparse:0.25:fallback [--run ...] [--n-batches 3]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys

from proc_status import peak_above
from results_json import load_avg, write_results

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(batch_size: int, n_hidden: int, method: str, band: float, xi: float = 2.0) -> dict:
    """Peak RSS above baseline of one loss_and_grad call, in this process (see module doc)."""
    import numpy as np  # noqa: F401  (imported before the baseline is taken)

    from eventsim.learning.surrogate import LayerSpec, NetworkSpec, SNN, synthetic_dataset
    data = synthetic_dataset(batch_size, 20, 700, 100, 0.05, seed=0)
    batch, one = data.batch(range(batch_size)), data.batch(range(1))
    spec = NetworkSpec(n_in=700, layers=[LayerSpec(n_hidden, recurrent=True, tau_mem=20.0, tau_syn=5.0)], n_out=20,
                       n_steps=100, readout="max")
    # the init of surrogate_speed.py, whose records these are measured beside
    model = SNN(spec, init="fluctuation", seed=1, input_rate=0.05, hidden_rate="gaussian", xi=xi)
    model.loss_and_grad(one, method=method, band=band)
    res, peak_mib = peak_above(lambda: model.loss_and_grad(batch, method=method, band=band))
    grad_bytes = sum(g.nbytes for g in res.grads.values())
    rate = sum(res.stats["spikes"]) / (batch_size * spec.n_steps * n_hidden)
    return {"batch": batch_size, "n_hidden": n_hidden, "method": method, "band": None if math.isinf(band) else band,
            "xi": xi, "hidden_rate": rate,
            "peak_above_base_mib": peak_mib, "grad_mib": grad_bytes / 2**20,
            "stored_entries": res.stats["stored_entries"], "bytes_backward": res.stats["bytes_backward"]}


def measure_trained(config: str, run: str, method: str, k_batch: int) -> dict:
    """Peak RSS above baseline of one training step's loss_and_grad on minibatch k_batch of the
    config's training data, for the checkpoint of `run` (NAME:B_TH[:fallback]); see module doc."""
    import numpy as np

    from eventsim.learning.surrogate import load_checkpoint
    from eventsim.learning.surrogate.model import Regularizer
    from surrogate_trained_speed import config_batches, parse_run, run_checkpoint
    from eventsim.learning.surrogate.cli import read_config

    name, band, fallback = parse_run(run)
    batches, bs = config_batches(config, k_batch + 1)
    batch = batches[k_batch]
    tr = read_config(config).get("train", {})
    reg = Regularizer(float(tr.get("reg_strength", 0.0)), float(tr.get("reg_target", 0.0)))
    model, attrs = load_checkpoint(run_checkpoint(name))
    kw = dict(method=method, band=math.inf if method == "dense" else band, reg=reg,
              fallback=fallback and method == "sparse", weight_dtype=attrs["weight_dtype"])
    model.loss_and_grad(batch.head(1), **kw)
    res, peak_mib = peak_above(lambda: model.loss_and_grad(batch, **kw))
    n_hidden = sum(l.size for l in model.spec.layers)
    return {"run": name, "band": band, "fallback": fallback, "method": method, "batch_index": k_batch,
            "batch": bs, "n_hidden": n_hidden, "weight_dtype": attrs["weight_dtype"],
            "hidden_rate": sum(res.stats["spikes"]) / (batch.batch_size * model.spec.n_steps * n_hidden),
            "active_fraction": sum(res.stats["stored_entries"]) / (batch.batch_size * model.spec.n_steps * n_hidden),
            "peak_above_base_mib": peak_mib,
            "grad_mib": sum(g.nbytes for g in res.grads.values()) / 2**20,
            "bytes_backward": res.stats["bytes_backward"], "finite_loss": bool(np.isfinite(res.loss))}


_warmed: set[tuple[str, str]] = set()   # (cell kind, method) whose numba code is cached


def run_cells(cells: list[tuple[str, ...]]) -> list[dict]:
    """Each cell's measurement in a fresh process of this script (its hidden --one/--one-trained
    arguments); the first cell is dense, and each result gets its share of that one. Every
    method's first cell is run once more beforehand and discarded, so that numba's cache is warm:
    a cell that compiles in its warm-up call leaves the compiler's freed memory in the heap, and
    the measured call reuses it (a dense cell read 17.5 instead of 29.7 MiB that way)."""
    rows = []
    for cell in cells:
        if (cell[0], cell[3]) not in _warmed:   # cell[3]: the method, in --one and --one-trained
            _warmed.add((cell[0], cell[3]))
            subprocess.run([sys.executable, __file__, *cell], check=True, capture_output=True)
        out = subprocess.run([sys.executable, __file__, *cell], check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        rows[-1]["share_of_dense"] = rows[-1]["peak_above_base_mib"] / rows[0]["peak_above_base_mib"]
    return rows


def snntorch_cell(config: str, k_batch: int, dense: dict) -> dict:
    """snnTorch's peak memory for a step of the same shape on the same minibatch (its venv, glibc's
    default malloc, a warm-up step on one sample first; see surrogate_vs_snntorch.worker)."""
    from surrogate_trained_speed import config_batches
    from surrogate_vs_snntorch import snntorch_times
    from surrogate_vs_snntorch_trained import dense_input, snntorch_shape
    x, labels = dense_input(config_batches(config, k_batch + 1)[0][k_batch:])
    res = snntorch_times(x, labels, reps=1, torch_threads="1", default_malloc=True, peak=True,
                         **snntorch_shape(config))
    mib = res["rows"][0]["peak_step_mib"]
    return {"method": "snntorch", "batch_index": k_batch, "torch": res["torch"], "snntorch": res["snntorch"],
            "peak_above_base_mib": mib, "share_of_dense": mib / dense["peak_above_base_mib"],
            "saved_for_backward_mib": res["rows"][0]["saved_for_backward_mib"]}


def main_trained(args) -> int:
    load = load_avg()
    rows = []
    for run in args.run:
        for k in range(args.n_batches):
            cells = run_cells([("--one-trained", args.trained, run, m, str(k)) for m in ("dense", "sparse")])
            if args.snntorch:
                cells.append(snntorch_cell(args.trained, k, cells[0]))
            for method, r in zip(("dense", "sparse", "snntorch"), cells):
                rows.append(r)
                print(f"{run.split(':')[0]} batch {k} {method:8s} B_th {r['band'] if method == 'sparse' else '-' if method == 'snntorch' else 'inf'}: rate "
                      f"{r.get('hidden_rate', math.nan):.3f}, stored {100 * r.get('active_fraction', math.nan):.2f}%, "
                      f"{r['peak_above_base_mib']:8.2f} MiB ({100 * r['share_of_dense']:5.1f}% of dense; "
                      f"gradients {r.get('grad_mib', math.nan):.2f} MiB)", flush=True)
    out = args.out if args.out != DEFAULT_OUT else os.path.join(HERE, "surrogate", "memory_trained.json")
    command = " ".join(["python3.11", "benchmarks/surrogate_memory.py"] + sys.argv[1:])
    path = write_results(os.path.dirname(os.path.abspath(out)), os.path.basename(out),
                         {"config": args.trained, "rows": rows}, command=command, load_before=load,
                         units="MiB of peak RSS above the baseline, per loss_and_grad call")
    print(f"wrote {path}")
    return 0


DEFAULT_OUT = os.path.join(HERE, "surrogate", "memory.json")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="16,32,64,256")
    ap.add_argument("--sizes", default="400,1000")
    ap.add_argument("--bands", default="0.05")
    ap.add_argument("--xi", default="2", help="fluctuation init's xi, one or more: smaller xi, more activity "
                    "(spike rate per neuron and step about 0.006 at 2, 0.02 at 1, 0.05 at 0.5, 0.12 at 0.25)")
    ap.add_argument("--one", nargs=5, metavar=("BATCH", "N", "METHOD", "BAND", "XI"), help=argparse.SUPPRESS)
    ap.add_argument("--trained", metavar="CONFIG", help="measure trained networks of this config (see module doc)")
    ap.add_argument("--run", action="append", default=[], help="with --trained: NAME:B_TH[:fallback]")
    ap.add_argument("--n-batches", type=int, default=3, help="with --trained: minibatches measured per run")
    ap.add_argument("--snntorch", action="store_true", help="with --trained: also snnTorch's peak for a step of "
                    "the same shape on the same minibatch (float32, its venv; see surrogate_vs_snntorch.py)")
    ap.add_argument("--one-trained", nargs=4, metavar=("CONFIG", "RUN", "METHOD", "K"), help=argparse.SUPPRESS)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if args.one_trained:
        c, run, m, k = args.one_trained
        print(json.dumps(measure_trained(c, run, m, int(k))))
        return 0
    if args.trained:
        if not args.run:
            raise SystemExit("--trained needs at least one --run NAME:B_TH[:fallback]")
        return main_trained(args)
    if args.one:
        b, n, m, band, xi = args.one
        print(json.dumps(measure(int(b), int(n), m, float(band), float(xi))))
        return 0
    if not os.path.exists("/proc/self/clear_refs"):
        raise SystemExit("surrogate_memory.py needs Linux (/proc/self/clear_refs)")
    load = load_avg()
    rows = []
    for b in [int(x) for x in args.batches.split(",")]:
        for n in [int(x) for x in args.sizes.split(",")]:
            for xi in args.xi.split(","):
                runs = [("dense", "inf")] + [("sparse", x) for x in args.bands.split(",")]
                cells = run_cells([("--one", str(b), str(n), m, band, xi) for m, band in runs])
                for (method, band), r in zip(runs, cells):
                    rows.append(r)
                    print(f"batch {b:4d} N {n:5d} xi {xi:>4s} rate {r['hidden_rate']:.3f} {method:6s} B_th {band:>5s}: "
                          f"{r['peak_above_base_mib']:8.2f} MiB ({100 * r['share_of_dense']:5.1f}% of dense; "
                          f"gradients {r['grad_mib']:.2f} MiB)", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    command = " ".join(["python3.11", "benchmarks/surrogate_memory.py"] + (argv if argv is not None else sys.argv[1:]))
    path = write_results(os.path.dirname(os.path.abspath(args.out)), os.path.basename(args.out),
                         {"rows": rows}, command=command, load_before=load,
                         units="MiB of peak RSS above the baseline, per loss_and_grad call")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
