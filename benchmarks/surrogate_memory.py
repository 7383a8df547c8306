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
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys

from results_json import load_avg, write_results

HERE = os.path.dirname(os.path.abspath(__file__))


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


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
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_kb("VmRSS")
    res = model.loss_and_grad(batch, method=method, band=band)
    peak = _status_kb("VmHWM")
    grad_bytes = sum(g.nbytes for g in res.grads.values())
    rate = sum(res.stats["spikes"]) / (batch_size * spec.n_steps * n_hidden)
    return {"batch": batch_size, "n_hidden": n_hidden, "method": method, "band": None if math.isinf(band) else band,
            "xi": xi, "hidden_rate": rate,
            "peak_above_base_mib": (peak - base) / 1024, "grad_mib": grad_bytes / 2**20,
            "stored_entries": res.stats["stored_entries"], "bytes_backward": res.stats["bytes_backward"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", default="16,32,64,256")
    ap.add_argument("--sizes", default="400,1000")
    ap.add_argument("--bands", default="0.05")
    ap.add_argument("--xi", default="2", help="fluctuation init's xi, one or more: smaller xi, more activity "
                    "(spike rate per neuron and step about 0.006 at 2, 0.02 at 1, 0.05 at 0.5, 0.12 at 0.25)")
    ap.add_argument("--one", nargs=5, metavar=("BATCH", "N", "METHOD", "BAND", "XI"), help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(HERE, "surrogate", "memory.json"))
    args = ap.parse_args(argv)
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
                dense = None
                for method, band in runs:
                    out = subprocess.run([sys.executable, __file__, "--one", str(b), str(n), method, band, xi],
                                         check=True, capture_output=True, text=True).stdout
                    r = json.loads(out.strip().splitlines()[-1])
                    dense = r if method == "dense" else dense
                    r["share_of_dense"] = r["peak_above_base_mib"] / dense["peak_above_base_mib"]
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
