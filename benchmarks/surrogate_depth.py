"""Activity propagation through 100 feed-forward LIF layers for each weight initialiser.

Input: synthetic SHD-like events (700 channels, 5% per channel and step, 100 steps of
1 ms), batch of 8. Network: 100 hidden layers of --width LIF neurons (tau_mem 20 ms,
tau_syn 5 ms, threshold 1, reset to zero), initialised with kaiming (He, gain sqrt 2),
micheli (Micheli et al. 2024) and fluctuation (Rossbroich et al. 2022, xi = 2) with each
hidden layer's input rate measured in a calibration run (the default, hidden_rate =
"simulated") and, for comparison, taken from the Gaussian tail (hidden_rate = "gaussian",
the only rule before 2026-11-24); forward only. Reports the firing rate per layer (spikes
per neuron per step) and the Fano factor of the layer's spike count per step (1 for
independent Poisson neurons; large when the layer fires in synchronous volleys) against
depth.

    python benchmarks/surrogate_depth.py [--depth 100] [--width 200] [--seeds 0,1]

Writes benchmarks/surrogate/depth_propagation.{json,png}.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

from eventsim.learning.surrogate import LayerSpec, NetworkSpec, SNN, synthetic_dataset
from results_json import write_results

HERE = os.path.dirname(os.path.abspath(__file__))


def _fano(ptr: np.ndarray, val: np.ndarray) -> float:
    """Variance over mean of a layer's spike count per (sample, step); NaN if it is silent."""
    cum = np.concatenate(([0.0], np.cumsum(val)))
    counts = cum[ptr[1:]] - cum[ptr[:-1]]
    m = counts.mean()
    return float(counts.var() / m) if m > 0 else float("nan")


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
    variants = {"kaiming": ("kaiming", {}), "micheli": ("micheli", {}),
                "fluctuation": ("fluctuation", {"hidden_rate": "simulated"}),
                "fluctuation (gaussian rate)": ("fluctuation", {"hidden_rate": "gaussian"})}
    for name, (init, kw) in variants.items():
        per_seed, fano_seed = [], []
        for seed in [int(s) for s in args.seeds.split(",")]:
            model = SNN(spec, init=init, seed=seed, input_rate=density, **kw)
            recs, _ = model.forward(batch, band=1e-9, store_all=False)
            per_seed.append([r.spk_val.sum() / (args.batch * T * args.width) for r in recs])
            fano_seed.append([_fano(r.spk_ptr, r.spk_val) for r in recs])
        rates = np.mean(per_seed, axis=0)
        with np.errstate(all="ignore"), warnings.catch_warnings():  # layers silent in every seed: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            fano = np.nanmean(np.where(np.asarray(per_seed) > 0, fano_seed, np.nan), axis=0)
        alive = np.flatnonzero(rates > 0)
        res[name] = {"init": init, **kw, "rate_per_layer": rates.tolist(), "rate_per_layer_per_seed": per_seed,
                     "fano_per_layer": [None if np.isnan(f) else float(f) for f in fano],
                     "last_active_layer": int(alive[-1]) + 1 if alive.size else 0,
                     "rate_layer_1": float(rates[0]), "rate_layer_10": float(rates[min(9, args.depth - 1)]),
                     "rate_layer_100": float(rates[-1])}
        print(f"{name:28s} rate L1={rates[0]:.4f} L10={rates[min(9, args.depth - 1)]:.4f} "
              f"L{args.depth}={rates[-1]:.4f} last active layer {res[name]['last_active_layer']}")
    meta = {"depth": args.depth, "width": args.width, "batch": args.batch, "n_in": n_in, "n_steps": T,
            "input_density": density, "seeds": args.seeds, "units": "spikes per neuron per step",
            "wall_s": time.perf_counter() - t0}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    command = " ".join(["python3.11", "benchmarks/surrogate_depth.py"] + (argv if argv is not None else sys.argv[1:]))
    write_results(os.path.dirname(os.path.abspath(args.out)), os.path.basename(args.out) + ".json",
                  {"meta": meta, "results": res}, command=command)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, axf) = plt.subplots(1, 2, figsize=(11, 3.8))
    layers = np.arange(1, args.depth + 1)
    for name, r in res.items():
        rates = np.asarray(r["rate_per_layer"])
        ax.plot(layers, np.where(rates > 0, rates, np.nan), "-", label=name)
        axf.plot(layers, np.array([np.nan if f is None else f for f in r["fano_per_layer"]]), "-", label=name)
    ax.axhline(density, color="k", lw=0.6, ls=":", label="input rate")
    ax.set(xlabel="layer", ylabel="rate (spikes / neuron / step)", yscale="log",
           title=f"{args.depth} LIF layers x {args.width}: rate vs depth (0 = not drawn)")
    axf.set(xlabel="layer", ylabel="Fano factor of the layer's count per step", yscale="log",
            title="synchrony (1 = independent neurons)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=90)
    print(f"wrote {args.out}.json/.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
