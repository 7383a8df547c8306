"""Small hidden layers (100 neurons) on latency-coded MNIST: empty-active-set handling and
trainable thresholds, against dense BPTT with the same seed and epochs.

Variants (784 -> 100 LIF -> 10, train5k with a 20% stratified validation hold-out; the
test set is not used here: everything below is chosen and reported on validation):
  dense            B_th = inf (ordinary surrogate BPTT), thresholds fixed
  dense_theta      B_th = inf, thresholds trained
  sparse_fixed     B_th = --band, no band widening (band_max = B_th), thresholds fixed
  sparse_adapt     B_th = --band, a layer storing < min_active * B*T*N entries widens its
                   band (doubling, up to 1.0) for that step, thresholds fixed
  sparse_adapt_theta  as sparse_adapt, thresholds trained
  sparse_fallback  B_th = --band, no widening, but each neuron that misses the band in a
                   sample stores its closest approach to threshold (TrainConfig.fallback)
--init, --xi and --mu-u set the initialisation; --xi 3 --mu-u -2 (fluctuation) starts with
the membranes far below threshold, so that a narrow band can hold no entry at all.
Per epoch: validation accuracy, dead neurons (% of hidden neurons without a spike in the
epoch), active fraction, steps with a widened band.

    python benchmarks/surrogate_small_width.py [--band 0.02] [--epochs 8] [--n-train 2500]
        [--init kaiming] [--xi X --mu-u M] [--out PATH]

Writes benchmarks/surrogate/small_width.{json,png}.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

from eventsim.learning.surrogate import LayerSpec, NetworkSpec, SNN, TrainConfig, train
from eventsim.learning.surrogate.data import mnist_dataset, split_holdout

from results_json import DATA  # noqa: E402  (benchmarks/ is the script's folder, so on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=DATA, help="data folder (default ../shared/data beside the repository)")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--band", type=float, default=0.02)
    ap.add_argument("--min-active", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=2500)
    ap.add_argument("--init", default="kaiming")
    ap.add_argument("--xi", type=float, default=None, help="fluctuation init: (theta - mu_U) / sigma_U")
    ap.add_argument("--mu-u", type=float, default=None, help="fluctuation init: mean membrane potential")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "surrogate", "small_width"))
    args = ap.parse_args(argv)
    pool = mnist_dataset(args.root, "train5k", 100, limit=args.n_train)
    data, val = split_holdout(pool, 0.2, seed=0)
    spec = NetworkSpec(n_in=784, layers=[LayerSpec(args.hidden, tau_mem=20.0, tau_syn=5.0)], n_out=10, n_steps=100)
    variants = {
        "dense": dict(method="dense", band=math.inf, train_theta=False),
        "dense_theta": dict(method="dense", band=math.inf, train_theta=True),
        "sparse_fixed": dict(method="sparse", band=args.band, band_max=args.band, train_theta=False),
        "sparse_adapt": dict(method="sparse", band=args.band, band_max=1.0, min_active=args.min_active,
                             train_theta=False),
        "sparse_adapt_theta": dict(method="sparse", band=args.band, band_max=1.0, min_active=args.min_active,
                                   train_theta=True),
        "sparse_fallback": dict(method="sparse", band=args.band, band_max=args.band, fallback=True,
                                train_theta=False),
    }
    init_kw = {k: v for k, v in (("xi", args.xi), ("mu_u", args.mu_u)) if v is not None}
    res = {}
    for name, kw in variants.items():
        model = SNN(spec, init=args.init, seed=args.seed, input_rate=data.mean_rate(), **init_kw)
        t0 = time.perf_counter()
        h = train(model, data, TrainConfig(epochs=args.epochs, batch_size=32, lr=2e-3, seed=args.seed, **kw), val)
        res[name] = {"config": {k: (str(v) if isinstance(v, float) and math.isinf(v) else v) for k, v in kw.items()},
                     "val_acc": h.val_acc, "epoch_loss": h.epoch_loss, "dead_pct": [100 * d[0] for d in h.dead_frac],
                     "active_frac": [a[0] for a in h.active_frac], "mean_band": [b[0] for b in h.band_used],
                     "widened_steps": h.widened_steps, "wall_s": time.perf_counter() - t0,
                     "t_backward_s": h.t_backward_s}
        print(f"{name:20s} val_acc={['%.3f' % v for v in h.val_acc]} dead%={['%.0f' % (100 * d[0]) for d in h.dead_frac]}"
              f" widened={h.widened_steps} ({res[name]['wall_s']:.0f}s)", flush=True)
    ref = max(res["dense"]["val_acc"])
    for name, r in res.items():
        hit = [e + 1 for e, v in enumerate(r["val_acc"]) if v >= ref - 0.01]
        r["epochs_to_dense_best_minus_1pp"] = hit[0] if hit else None
    meta = {"hidden": args.hidden, "band": args.band, "min_active": args.min_active, "epochs": args.epochs,
            "n_train": len(data), "n_val": len(val), "init": args.init, "init_kw": init_kw, "seed": args.seed,
            "dense_best_val_acc": ref, "loadavg_1min": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump({"meta": meta, "results": res}, f, indent=2)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
    ep = np.arange(1, args.epochs + 1)
    for name, r in res.items():
        ax[0].plot(ep, r["val_acc"], "o-", ms=3, label=name)
        ax[1].plot(ep, r["dead_pct"], "o-", ms=3, label=name)
    ax[0].set(xlabel="epoch", ylabel="validation accuracy", title=f"{args.hidden} hidden, B_th={args.band}")
    ax[1].set(xlabel="epoch", ylabel="dead neurons (%)")
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=80)
    print(f"wrote {args.out}.json/.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
