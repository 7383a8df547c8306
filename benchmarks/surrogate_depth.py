"""Activity propagation through 100 feed-forward LIF layers for each weight initialiser.

Input: synthetic SHD-like events (700 channels, 5% per channel and step, 100 steps of
1 ms), batch of 8. Network: 100 hidden layers of --width LIF neurons (tau_mem 20 ms,
tau_syn 5 ms, threshold 1, reset to zero), initialised with kaiming (He, gain sqrt 2),
micheli (Micheli et al. 2024) and fluctuation (Rossbroich et al. 2022, xi = 2); forward
only. Reports the firing rate per layer (spikes per neuron per step) against depth.

    python benchmarks/surrogate_depth.py [--depth 100] [--width 200] [--seeds 0,1]

Writes benchmarks/surrogate/depth_propagation.{json,png}.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from eventsim.learning.surrogate import LayerSpec, NetworkSpec, SNN, synthetic_dataset

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--out", default=os.path.join(HERE, "surrogate", "depth_propagation"))
    args = ap.parse_args(argv)
    n_in, T, density = 700, 100, 0.05
    batch = synthetic_dataset(args.batch, 2, n_in, T, density, seed=0).batch(range(args.batch))
    spec = NetworkSpec(n_in=n_in, layers=[LayerSpec(args.width, tau_mem=20.0, tau_syn=5.0)] * args.depth, n_out=2,
                       n_steps=T)
    res = {}
    t0 = time.perf_counter()
    for init in ("kaiming", "micheli", "fluctuation"):
        per_seed = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            model = SNN(spec, init=init, seed=seed, input_rate=density)
            recs, _ = model.forward(batch, band=1e-9, store_all=False)
            per_seed.append([r.spk_val.sum() / (args.batch * T * args.width) for r in recs])
        rates = np.mean(per_seed, axis=0)
        alive = np.flatnonzero(rates > 0)
        res[init] = {"rate_per_layer": rates.tolist(), "rate_per_layer_per_seed": per_seed,
                     "last_active_layer": int(alive[-1]) + 1 if alive.size else 0,
                     "rate_layer_1": float(rates[0]), "rate_layer_10": float(rates[min(9, args.depth - 1)]),
                     "rate_layer_100": float(rates[-1])}
        print(f"{init:12s} rate L1={rates[0]:.4f} L10={rates[min(9, args.depth - 1)]:.4f} "
              f"L{args.depth}={rates[-1]:.4f} last active layer {res[init]['last_active_layer']}")
    meta = {"depth": args.depth, "width": args.width, "batch": args.batch, "n_in": n_in, "n_steps": T,
            "input_density": density, "seeds": args.seeds, "units": "spikes per neuron per step",
            "wall_s": time.perf_counter() - t0, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": meta, "results": res}, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for init, r in res.items():
        rates = np.asarray(r["rate_per_layer"])
        ax.plot(np.arange(1, args.depth + 1), np.where(rates > 0, rates, np.nan), "-", label=init)
    ax.axhline(density, color="k", lw=0.6, ls=":", label="input rate")
    ax.set(xlabel="layer", ylabel="rate (spikes / neuron / step)", yscale="log",
           title=f"{args.depth} LIF layers x {args.width}: rate vs depth (0 = not drawn)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=90)
    print(f"wrote {args.out}.json/.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
