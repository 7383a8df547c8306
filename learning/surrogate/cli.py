"""`eventsim train-grad CONFIG`: train a surrogate-gradient SNN from a TOML config.

Wire into eventsim/cli.py with ``from eventsim.learning.surrogate.cli import
add_subcommands; add_subcommands(sub)``. Config sections: [network] (NetworkSpec
fields, [[network.layers]] tables, [network.surrogate]), [init] (method, seed,
input_rate, xi, ...), [train] (TrainConfig fields), [data] (kind = "synthetic" with
n_samples/n_classes/density/seed/val_fraction, or kind = "npz" with path to a file holding
int arrays sample, step, unit, labels and scalars n_steps, n_units).
"""
from __future__ import annotations

import argparse
import json
import os
import tomllib

import numpy as np

from .errors import SurrogateConfigError
from .events import EventDataset, synthetic_dataset
from .model import SNN
from .network import NetworkSpec
from .train import TrainConfig, evaluate, train


def _load_data(d: dict, net: dict) -> EventDataset:
    kind = d.get("kind", "synthetic")
    if kind == "synthetic":
        return synthetic_dataset(int(d.get("n_samples", 256)), int(net["n_out"]), int(net["n_in"]),
                                 int(net["n_steps"]), float(d.get("density", 0.05)), int(d.get("seed", 0)))
    if kind == "npz":
        path = d.get("path")
        if not path or not os.path.exists(path):
            raise SurrogateConfigError(f"data.path={path!r} does not exist; allowed an existing .npz file")
        z = np.load(path)
        labels = np.asarray(z["labels"], dtype=np.int64)
        sample, step, unit = z["sample"], z["step"], z["unit"]
        samples = [(step[sample == b], unit[sample == b]) for b in range(len(labels))]
        return EventDataset(samples, labels, int(z["n_steps"]), int(z["n_units"]))
    raise SurrogateConfigError(f"data.kind={kind!r} is invalid; allowed ('synthetic', 'npz')")


def run_train_grad(args: argparse.Namespace) -> int:
    with open(args.config, "rb") as f:
        try:
            cfg = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise SurrogateConfigError(f"config {args.config!r} is not valid TOML: {exc}") from None
    if "network" not in cfg:
        raise SurrogateConfigError("config has no [network] section; required")
    spec = NetworkSpec.from_dict(cfg["network"])
    data = _load_data(cfg.get("data", {}), cfg["network"])
    vf = float(cfg.get("data", {}).get("val_fraction", 0.2))
    n_val = int(round(vf * len(data)))
    val = None
    if n_val > 0:
        val = EventDataset(data.samples[-n_val:], data.labels[-n_val:], data.n_steps, data.n_units)
        data = EventDataset(data.samples[:-n_val], data.labels[:-n_val], data.n_steps, data.n_units)
    ini = dict(cfg.get("init", {}))
    model = SNN(spec, init=ini.pop("method", "fluctuation"), seed=int(ini.pop("seed", 0)),
                input_rate=float(ini.pop("input_rate", data.mean_rate())), **ini)
    os.makedirs(args.out, exist_ok=True)
    tc = TrainConfig(**{**cfg.get("train", {}), "checkpoint_path": os.path.join(args.out, "checkpoint.h5")})
    hist = train(model, data, tc, val, log=print)
    summary = {"epoch_loss": hist.epoch_loss, "epoch_acc": hist.epoch_acc, "val_acc": hist.val_acc,
               "t_backward_s": hist.t_backward_s, "final_grad_norms": hist.grad_norms[-1]}
    if val is not None:
        summary["final_val_acc"] = evaluate(model, val)
    with open(os.path.join(args.out, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({k: summary[k] for k in ("epoch_loss", "val_acc")}))
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register `train-grad CONFIG [--out DIR]`; the handler is in `args.func`."""
    p = subparsers.add_parser("train-grad", help="train an SNN with (sparse) surrogate gradients")
    p.add_argument("config", help="TOML config (see eventsim.learning.surrogate.cli docstring)")
    p.add_argument("--out", default="train_grad_out", help="output directory (checkpoint.h5, train_summary.json)")
    p.set_defaults(func=run_train_grad)
