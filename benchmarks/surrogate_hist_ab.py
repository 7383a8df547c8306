"""Backward time with and without the bound on the gI history (kernels.HIST_MAX, HIST_PER_GRAD).

The setup of `surrogate_speed.py` (700 inputs at 5%, 100 steps, one recurrent layer with
synaptic current, fluctuation init as recorded there), sparse method at B_th 0.05, batch 16
and 32, 400 and 1000 hidden neurons. Each setting runs in its own process; --rounds
alternates them. Prints the median CPU time of 9 backward passes per cell.

    python benchmarks/surrogate_hist_ab.py [--rounds 3]
    python benchmarks/surrogate_hist_ab.py --one HIST_MAX HIST_PER_GRAD   (one process)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

SETTINGS = (("1000000000", "0"), (None, None))   # no bound; the defaults


def one(hist_max: str | None, per_grad: str | None) -> str:
    from eventsim.learning.surrogate import (LayerSpec, NetworkSpec, SNN, kernels, retain_freed_memory,
                                             synthetic_dataset)
    if hist_max is not None:
        kernels.HIST_MAX, kernels.HIST_PER_GRAD = int(hist_max), float(per_grad)
    retain_freed_memory()
    cells = []
    for bs in (16, 32):
        batch = synthetic_dataset(bs, 20, 700, 100, 0.05, seed=0).batch(range(bs))
        for n in (400, 1000):
            spec = NetworkSpec(n_in=700, layers=[LayerSpec(n, recurrent=True, tau_mem=20.0, tau_syn=5.0)], n_out=20,
                               n_steps=100, readout="max")
            model = SNN(spec, init="fluctuation", seed=1, input_rate=0.05, hidden_rate="gaussian")
            model.loss_and_grad(batch, method="sparse", band=0.05)
            t = [model.loss_and_grad(batch, method="sparse", band=0.05).stats["cpu_backward_s"] for _ in range(9)]
            cells.append(f"B{bs}/N{n}={1e3 * statistics.median(t):.2f}ms")
    return (f"HIST_MAX={kernels.HIST_MAX} HIST_PER_GRAD={kernels.HIST_PER_GRAD}: " + " ".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(one(*[None if a == "default" else a for a in args.one]))
        return 0
    for _ in range(args.rounds):
        for hm, pg in SETTINGS:
            cmd = [sys.executable, __file__, "--one", hm or "default", pg or "default"]
            print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
