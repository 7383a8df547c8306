"""How close the sparse gradient comes to dense BPTT's on trained networks, per band and width.

    python benchmarks/surrogate_grad_alignment.py \
        --run benchmarks/surrogate/configs/fsdd_reg1.toml:fsdd_reg1_cos_best_seed1_dense [--run ...] \
        [--bands 0.05,0.1,0.25] [--batches 4]

For each `--run CONFIG:NAME` (a checkpoint under benchmarks/surrogate/runs/NAME, trained with its config) and
each band B_th, the gradient of the training loss (cross-entropy plus the config's spike-count regulariser) is
taken with the dense reference (B_th = inf) and with the sparse method (closest-approach fallback on) on the
same minibatches (`surrogate_trained_speed.py`'s order). Per parameter array it reports the cosine between the
two gradients and the norm ratio |sparse| / |dense|, averaged over the batches. A cosine near 1 means that the
band-truncated gradient points where dense BPTT's does. Writes benchmarks/surrogate/grad_alignment.json (or
--out-name).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

from eventsim.learning.surrogate import TrainConfig, load_checkpoint
from eventsim.learning.surrogate.cli import read_config
from eventsim.learning.surrogate.model import Regularizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results_json import machine, write_results  # noqa: E402
from surrogate_trained_speed import config_batches, run_checkpoint  # noqa: E402


def alignment(model, batches, band: float, reg: Regularizer, weight_dtype: str) -> dict[str, dict[str, float]]:
    """Per parameter array: mean over batches of cos(sparse, dense) and |sparse| / |dense|."""
    acc: dict[str, dict[str, list[float]]] = {}
    for b in batches:
        gd = model.loss_and_grad(b, method="dense", band=math.inf, reg=reg, weight_dtype=weight_dtype).grads
        gs = model.loss_and_grad(b, method="sparse", band=band, reg=reg, fallback=True,
                                 weight_dtype=weight_dtype).grads
        for name in gd:
            d, s = gd[name].ravel(), gs[name].ravel()
            nd, ns = float(np.linalg.norm(d)), float(np.linalg.norm(s))
            row = acc.setdefault(name, {"cos": [], "norm_ratio": []})
            row["cos"].append(float(d @ s) / max(nd * ns, 1e-300))
            row["norm_ratio"].append(ns / max(nd, 1e-300))
    return {name: {k: float(np.mean(v)) for k, v in row.items()} for name, row in acc.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, help="CONFIG:NAME")
    ap.add_argument("--bands", default="0.05,0.1,0.25")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--out-name", default="grad_alignment.json", help="file name under benchmarks/surrogate/")
    a = ap.parse_args()
    bands = [float(x) for x in a.bands.split(",")]
    for spec in a.run:                      # fail before any work, not halfway through
        config, _, name = spec.rpartition(":")
        if not os.path.exists(config) or not os.path.exists(run_checkpoint(name)):
            ap.error(f"--run {spec!r}: expected CONFIG:NAME with the config and {run_checkpoint(name)} present")
    rows = []
    for spec in a.run:
        config, _, name = spec.rpartition(":")
        tc = TrainConfig(**read_config(config).get("train", {}))       # the regulariser training used
        reg = Regularizer(tc.reg_strength, tc.reg_target)
        batches, _ = config_batches(config, a.batches)
        model, attrs = load_checkpoint(run_checkpoint(name))
        for band in bands:
            per = alignment(model, batches, band, reg, attrs["weight_dtype"])
            rows.append({"config": os.path.relpath(config, os.path.dirname(HERE)), "run": name,
                         "hidden": model.spec.layers[0].size, "band": band, "params": per})
            print(f"{name} B_th {band}: " + "  ".join(f"{k} cos {v['cos']:.3f} |s|/|d| {v['norm_ratio']:.2f}"
                                                     for k, v in per.items() if k.startswith("h")), flush=True)
    doc = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "batches": a.batches, "machine": machine(), "rows": rows}
    print(write_results(os.path.join(HERE, "surrogate"), a.out_name, doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
