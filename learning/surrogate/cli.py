"""`eventsim train-grad CONFIG`: train a surrogate-gradient SNN from a TOML or JSON config.

Wired into eventsim/cli.py (``add_subcommands(sub)``). Config sections: [network]
(NetworkSpec fields, [[network.layers]] tables, [network.surrogate]), [init] (method,
seed, input_rate, xi, ...), [train] (TrainConfig fields), [data]:

* kind = "synthetic": n_samples, density, seed
* kind = "npz": path to a file holding int arrays sample, step, unit, labels (optional
  float val) and scalars n_steps, n_units
* kind = "mnist": root (default: $EVENTSIM_DATA, else ../shared/data beside the repository; a
  relative root is taken from the working directory), train_split ("train5k"), test_split ("t10k"), limit_train,
  limit_test (whole numbers >= 1); test_split = "" for no test set; latency code with
  network.n_steps steps
* kind = "fsdd": root, dt_ms, n_channels, cache_dir; train = recording indices 5-49,
  test = indices 0-4 (the dataset's convention)
* kind = "shd": path (train file), test_path (optional), dt_ms, n_units (optional; SHD has 700)

For fsdd and shd a time bin is one network step, so dt_ms defaults to network.dt, and a
different value is refused (the decays exp(-dt/tau) would otherwise describe the wrong time
constants).

Every section and key is checked before any data are loaded: an unknown one is refused with
the nearest valid name, and so are values of the wrong type or out of range ([train] after
the command-line overrides); a network that does not fit the loaded data is refused naming
network.n_in / n_steps / n_out.

The validation split (val_fraction, default 0.2, val_seed) is held out of the training
data (class-stratified); the test set is only evaluated once, after training.
Command-line --method/--band/--epochs/--seed (and the other flags) override the config
(so dense and sparse runs share one config). With train.keep_best the test set is scored
with the parameters of the best validation epoch. Writes OUT/train_summary.json, OUT/curves.png, OUT/checkpoint.h5.
--resume continues from OUT/checkpoint.h5 (written after every train.checkpoint_every epochs)
up to train.epochs, exactly as an uninterrupted run would go on; the summary and the curves
cover every epoch.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
import tomllib
from dataclasses import fields

import numpy as np

from eventsim.config import _table
from eventsim.datasets import default_data_root
from eventsim.datasets.mnist import MNIST_SPLITS

from .checkpoint import load_checkpoint, load_train_state
from .data import fsdd_dataset, mnist_dataset, shd_dataset, split_holdout
from .errors import (SurrogateConfigError, TrainingDivergedError, as_config_error, check_choice, check_count,
                     check_keys, check_range)
from .events import EventDataset, synthetic_dataset
from .init import check_init, init_weights
from .model import SNN, WEIGHT_DTYPES
from .network import LayerSpec, NetworkSpec
from .surrogates import Surrogate
from .train import LR_SCHEDULES, History, TrainConfig, check_data, evaluate, train

SECTIONS = ("network", "init", "train", "data")
# [train]: the TrainConfig fields, except the two the command sets (OUT/checkpoint.h5, --progress)
TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name not in ("checkpoint_path", "progress"))
# [init]: the method, the seed and init_weights' keyword options (neuron_params comes from the network)
INIT_KEYS = ("method", "seed") + tuple(p.name for p in inspect.signature(init_weights).parameters.values()
                                       if p.kind is p.KEYWORD_ONLY and p.name != "neuron_params")


def _text(where: str, value) -> None:
    if not isinstance(value, str):
        raise SurrogateConfigError(f"{where}={value!r} is invalid; allowed a string")


def _count(minimum: int):
    return lambda where, value: check_count(where, value, minimum)


def _within(lo: float, hi: float, **open_ends):
    return lambda where, value: check_range(where, value, lo, hi, **open_ends)


def _one_of(allowed: tuple[str, ...]):
    return lambda where, value: check_choice(where, value, allowed)


def _optional(check):
    """`check`, or nothing to check for a JSON null (the key's default)."""
    return lambda where, value: None if value is None else check(where, value)


# [data]: the check (where, value) of each key of every kind, then of each kind's own keys
DATA_COMMON = {"kind": _text, "val_fraction": _within(0.0, 1.0, hi_open=True), "val_seed": _count(0)}
_DT_MS = _within(0.0, math.inf, lo_open=True, hi_open=True)
DATA_KEYS = {
    "synthetic": {"n_samples": _count(1), "density": _within(0.0, 1.0, lo_open=True), "seed": _count(0)},
    "npz": {"path": _text, "test_path": _optional(_text)},
    "mnist": {"root": _text, "train_split": _one_of(MNIST_SPLITS),
              "test_split": _optional(_one_of(MNIST_SPLITS + ("",))),  # "": no test set
              "limit_train": _optional(_count(1)), "limit_test": _optional(_count(1))},
    "fsdd": {"root": _text, "dt_ms": _DT_MS, "n_channels": _count(1), "cache_dir": _optional(_text)},
    "shd": {"path": _text, "test_path": _optional(_text), "dt_ms": _DT_MS, "n_units": _optional(_count(1))},
}
DATA_REQUIRED = {"npz": ("path",), "shd": ("path",)}


def _as_table(where: str, value) -> dict:
    with as_config_error():
        return _table(where, value)


def _check_table(where: str, table, allowed) -> dict:
    """`table` is a table (dict) whose keys are all in `allowed`."""
    check_keys(f"key in {where}", _as_table(where, table), allowed)
    return table


def _load_npz(path: str | None) -> EventDataset:
    if not path or not os.path.exists(path):
        raise SurrogateConfigError(f"data.path={path!r} does not exist; allowed an existing .npz file")
    try:
        z = np.load(path)
    except (OSError, ValueError) as exc:
        raise SurrogateConfigError(f"data.path={path!r} is not an .npz file that numpy can read "
                                   f"({type(exc).__name__})") from None
    missing = [k for k in ("sample", "step", "unit", "labels", "n_steps", "n_units") if k not in z]
    if missing:
        raise SurrogateConfigError(f"data.path={path!r} lacks the arrays {missing}; required: sample, step, unit, "
                                   f"labels, n_steps, n_units (val optional)")
    labels = np.asarray(z["labels"])        # EventDataset checks that they are whole numbers
    sample, step, unit = (np.asarray(z[k]).ravel() for k in ("sample", "step", "unit"))
    val = np.asarray(z["val"]).ravel() if "val" in z else None
    for key in ("n_steps", "n_units"):
        if np.asarray(z[key]).size != 1:
            raise SurrogateConfigError(f"data.path={path!r}: {key} must be one whole number, got shape "
                                       f"{np.asarray(z[key]).shape}")
    sizes = {"sample": sample.size, "step": step.size, "unit": unit.size}
    if val is not None:
        sizes["val"] = val.size
    if len(set(sizes.values())) > 1:
        raise SurrogateConfigError(f"data.path={path!r}: the event arrays must have equal lengths, got {sizes}")
    if sample.size and (not np.issubdtype(sample.dtype, np.integer) or sample.min() < 0
                        or sample.max() >= len(labels)):
        raise SurrogateConfigError(f"data.path={path!r}: sample ids must be whole numbers in [0, {len(labels) - 1}] "
                                   f"(one label per sample), got {sample.dtype} from {sample.min()} to {sample.max()}")
    if len(labels) == 0:
        raise SurrogateConfigError(f"data.path={path!r} holds no samples (labels is empty)")
    order = np.argsort(sample, kind="stable")
    sample, step, unit = sample[order], step[order], unit[order]
    off = np.searchsorted(sample, np.arange(len(labels) + 1))
    samples = [(step[a:b], unit[a:b]) for a, b in zip(off[:-1], off[1:])]
    counts = None if val is None else [val[order][a:b] for a, b in zip(off[:-1], off[1:])]
    return EventDataset(samples, labels, int(z["n_steps"]), int(z["n_units"]), counts=counts)


def check_data_section(d: dict) -> None:
    """Raise `SurrogateConfigError` for an unknown kind, an unknown or missing key, or a bad
    value in a [data] section, naming the key (before anything is loaded)."""
    kind = check_choice("data.kind", _as_table("[data]", d).get("kind", "synthetic"), DATA_KEYS)
    allowed = {**DATA_COMMON, **DATA_KEYS[kind]}
    check_keys(f"key in [data] (kind = {kind!r})", d, allowed)
    for key, value in d.items():
        allowed[key](f"data.{key}", value)
    for key in DATA_REQUIRED.get(kind, ()):
        if key not in d:
            raise SurrogateConfigError(f"data.{key} is missing; required for kind = {kind!r}")


def load_data(d: dict, net: dict) -> tuple[EventDataset, EventDataset | None]:
    """(train+val pool, test or None) for a [data] section (checked first)."""
    check_data_section(d)
    kind = d.get("kind", "synthetic")
    T = int(net["n_steps"])
    if kind in ("fsdd", "shd"):
        dt_net = float(net.get("dt", 1.0))
        if "dt_ms" in d and float(d["dt_ms"]) != dt_net:
            raise SurrogateConfigError(
                f"data.dt_ms={d['dt_ms']!r} differs from network.dt={dt_net!r}: a time bin is one network step, "
                f"so they must be equal (leave data.dt_ms out to bin at network.dt)")
        d = {**d, "dt_ms": dt_net}
    if kind == "synthetic":
        return synthetic_dataset(int(d.get("n_samples", 256)), int(net["n_out"]), int(net["n_in"]), T,
                                 float(d.get("density", 0.05)), int(d.get("seed", 0))), None
    if kind == "npz":
        return _load_npz(d.get("path")), (_load_npz(d["test_path"]) if d.get("test_path") else None)
    if kind == "mnist":
        root = d.get("root") or default_data_root()
        lt = d.get("limit_test")
        return (mnist_dataset(root, d.get("train_split", "train5k"), T, d.get("limit_train")),
                mnist_dataset(root, d.get("test_split", "t10k"), T, lt) if d.get("test_split", "t10k") else None)
    if kind == "fsdd":
        root = d.get("root") or default_data_root()
        kw = dict(n_steps=T, dt_ms=float(d["dt_ms"]), n_channels=int(d.get("n_channels", 32)))
        cdir = d.get("cache_dir")
        if cdir:
            os.makedirs(cdir, exist_ok=True)
        cache = (lambda s: os.path.join(cdir, f"fsdd_{s}_{kw['n_channels']}ch_{T}x{kw['dt_ms']:g}ms.npz")
                 if cdir else None)
        return (fsdd_dataset(root, "train", cache=cache("train"), **kw),
                fsdd_dataset(root, "test", cache=cache("test"), **kw))
    if kind == "shd":
        dt, nu = float(d["dt_ms"]), d.get("n_units")
        return (shd_dataset(d.get("path"), T, dt, n_units=nu),
                shd_dataset(d["test_path"], T, dt, n_units=nu) if d.get("test_path") else None)


def read_config(path: str) -> dict:
    """The config at `path` (TOML, or JSON for *.json), its sections and keys checked
    (`check_config`)."""
    cfg = _parse_config(path)
    check_config(cfg)
    return cfg


def _parse_config(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SurrogateConfigError(f"config {path!r} cannot be read: {exc.strerror}") from None
    if path.endswith(".json"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SurrogateConfigError(f"config {path!r} is not valid JSON: {exc}") from None
    try:
        return tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise SurrogateConfigError(f"config {path!r} is not valid TOML: {exc}") from None


def check_config(cfg: dict) -> None:
    """Raise `SurrogateConfigError` for an unknown section or key (with the nearest valid
    name), a missing [network] or a bad [init] value. The [train] values are checked by
    `TrainConfig.validate` (after the command-line overrides), [data] by `check_data_section`."""
    check_keys("config section", _as_table("config", cfg), SECTIONS)
    if "network" not in cfg:
        raise SurrogateConfigError("config has no [network] section; required")
    net = _check_table("[network]", cfg["network"], [f.name for f in fields(NetworkSpec)])
    if not isinstance(net.get("layers"), list):
        raise SurrogateConfigError("network.layers is missing or not a list; required: one [[network.layers]] "
                                   "table per hidden layer")
    for k, layer in enumerate(net["layers"]):
        _check_table(f"network.layers[{k}]", layer, [f.name for f in fields(LayerSpec)])
    _check_table("[network.surrogate]", net.get("surrogate", {}), [f.name for f in fields(Surrogate)])
    ini = _check_table("[init]", cfg.get("init", {}), INIT_KEYS)
    check_init(ini.get("method", "fluctuation"), prefix="init.",
               **{k: v for k, v in ini.items() if k not in ("method", "seed")})
    check_count("init.seed", ini.get("seed", 0), 0)
    _check_table("[train]", cfg.get("train", {}), TRAIN_KEYS)


def plot_history(hist: History, path: str, title: str = "") -> None:
    """Loss (per step and per epoch), accuracy (train/val per epoch) and dead-neuron
    fraction to one PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.4))
    ep = np.arange(1, len(hist.epoch_loss) + 1)
    spe = len(hist.loss) / max(1, len(hist.epoch_loss))
    ax[0].plot(np.arange(1, len(hist.loss) + 1) / spe, hist.loss, lw=0.5, alpha=0.5, label="per step")
    ax[0].plot(ep, hist.epoch_loss, "o-", label="epoch mean")
    ax[0].set(xlabel="epoch", ylabel="loss", yscale="log")
    ax[0].legend()
    ax[1].plot(ep, hist.epoch_acc, "o-", label="train")
    if hist.val_acc:
        ax[1].plot(ep, hist.val_acc, "s-", label="validation")
    ax[1].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    ax[1].legend()
    for k, series in enumerate(np.array(hist.dead_frac).T if hist.dead_frac else []):
        ax[2].plot(ep, 100 * series, "o-", label=f"h{k}")
    ax[2].set(xlabel="epoch", ylabel="dead neurons (%)")
    ax[2].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run_train_grad(args: argparse.Namespace) -> int:
    cfg = read_config(args.config)
    spec = NetworkSpec.from_dict(cfg["network"])
    tcfg = dict(cfg.get("train", {}))
    for name in ("method", "band", "epochs", "seed", "lr", "rouse", "train_theta", "fallback", "weight_dtype",
                 "lr_schedule", "keep_best"):
        if getattr(args, name, None) is not None:
            tcfg[name] = getattr(args, name)
    tc = TrainConfig(**{**tcfg, "checkpoint_path": os.path.join(args.out, "checkpoint.h5"),
                        "progress": sys.stderr.isatty() if args.progress is None else bool(args.progress)})
    tc.validate()  # before the data are loaded (which can take a while)
    ini = dict(cfg.get("init", {}))
    if args.seed is not None:
        ini["seed"] = args.seed
    state = None
    if getattr(args, "resume", False):      # checked before the data are loaded
        state = load_train_state(tc.checkpoint_path)
        resumed, _ = load_checkpoint(tc.checkpoint_path)
        if resumed.spec.to_dict() != spec.to_dict():
            raise SurrogateConfigError(f"resume: the [network] of {args.config!r} differs from the network in "
                                       f"{tc.checkpoint_path!r}; allowed the same network")
    dcfg = cfg.get("data", {})
    t_load = time.perf_counter()
    pool, test = load_data(dcfg, cfg["network"])
    t_load = time.perf_counter() - t_load
    check_data(spec, pool, "training data")
    if test is not None:
        check_data(spec, test, "test data")
    data, val = split_holdout(pool, float(dcfg.get("val_fraction", 0.2)), int(dcfg.get("val_seed", 0)))
    if state is None:
        model = SNN(spec, init=ini.pop("method", "fluctuation"), seed=int(ini.pop("seed", 0)),
                    input_rate=float(ini.pop("input_rate", data.mean_rate())), **ini)
    else:
        model = resumed
    os.makedirs(args.out, exist_ok=True)
    print(f"data: {len(data)} train, {0 if val is None else len(val)} validation, "
          f"{0 if test is None else len(test)} test samples ({t_load:.1f}s to load); method={tc.method} "
          f"B_th={tc.band}" + (f"; resuming after epoch {state.epoch}" if state else ""))
    t0 = time.perf_counter()
    try:
        hist = train(model, data, tc, val, log=print, resume=state)
    except TrainingDivergedError as exc:
        # keep what the finished epochs showed: the curve that led to the divergence
        if getattr(exc, "history", None) is not None and exc.history.epoch_loss:
            _write_summary(args, tc, exc.history, data, val, time.perf_counter() - t0, diverged=str(exc))
        raise
    summary = _write_summary(args, tc, hist, data, val, time.perf_counter() - t0, test=test, model=model)
    print(json.dumps({k: summary[k] for k in ("epoch_loss", "val_acc", "test_acc", "t_train_s") if k in summary}))
    return 0


def _write_summary(args, tc: TrainConfig, hist, data, val, t_train: float, test=None, model=None,
                   diverged: str | None = None) -> dict:
    """Write OUT/train_summary.json and OUT/curves.png for the epochs in `hist`; returns the summary.
    diverged: the error that stopped training (then no test accuracy is computed)."""
    summary = {"config": os.path.abspath(args.config), "method": tc.method, "band": tc.band, "seed": tc.seed,
               "epochs": tc.epochs, "n_train": len(data), "n_val": 0 if val is None else len(val),
               "epoch_loss": hist.epoch_loss, "epoch_acc": hist.epoch_acc, "val_acc": hist.val_acc,
               "dead_frac": hist.dead_frac, "active_frac": hist.active_frac, "band_used": hist.band_used,
               "widened_steps": hist.widened_steps, "roused": hist.roused, "rouse": tc.rouse, "lr": tc.lr,
               "train_theta": tc.train_theta, "fallback": tc.fallback, "weight_dtype": tc.weight_dtype,
               "lr_schedule": tc.lr_schedule, "lr_final": tc.lr_final, "epoch_lr": hist.lr,
               "keep_best": tc.keep_best, "best_epoch": hist.best_epoch,
               "epoch_time_s": hist.epoch_time_s,
               "t_train_s": t_train, "t_backward_s": hist.t_backward_s, "t_forward_s": hist.t_forward_s,
               "epoch_grad_norms": hist.epoch_grad_norms,
               "final_grad_norms": hist.grad_norms[-1] if hist.grad_norms else None}
    if diverged is not None:
        summary["diverged"] = diverged
    if test is not None and model is not None:
        summary["n_test"] = len(test)
        summary["test_acc"] = evaluate(model, test, weight_dtype=tc.weight_dtype)
    with open(os.path.join(args.out, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    title = f"{os.path.basename(args.config)}: {tc.method}" + (f" B_th={tc.band}" if tc.method == "sparse" else "")
    plot_history(hist, os.path.join(args.out, "curves.png"), title + (" (diverged)" if diverged else ""))
    return summary


def _float_or_inf(text: str) -> float:
    v = float(text)
    if not (v > 0 or math.isinf(v)):
        raise argparse.ArgumentTypeError(f"band must be > 0, got {text!r}")
    return v


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register `train-grad CONFIG [--out DIR] [--method M] [--band B] [--epochs E] [--seed S]`."""
    p = subparsers.add_parser("train-grad", help="train an SNN with (sparse) surrogate gradients")
    p.add_argument("config", help="TOML or JSON config (see eventsim.learning.surrogate.cli docstring)")
    p.add_argument("--out", default="train_grad_out",
                   help="output directory (checkpoint.h5, train_summary.json, curves.png)")
    p.add_argument("--method", choices=("sparse", "dense"), default=None, help="override train.method")
    p.add_argument("--band", type=_float_or_inf, default=None, help="override train.band (B_th)")
    p.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    p.add_argument("--seed", type=int, default=None, help="override train.seed and init.seed")
    p.add_argument("--lr", type=float, default=None, help="override train.lr (Adam step size)")
    p.add_argument("--rouse", type=float, default=None,
                   help="override train.rouse (lower the thresholds of neurons dead for an epoch by this fraction)")
    p.add_argument("--train-theta", action=argparse.BooleanOptionalAction, default=None,
                   help="override train.train_theta (per-neuron trainable thresholds)")
    p.add_argument("--fallback", action=argparse.BooleanOptionalAction, default=None,
                   help="override train.fallback (neurons that miss the band store their closest approach)")
    p.add_argument("--weight-dtype", choices=WEIGHT_DTYPES, default=None,
                   help="override train.weight_dtype (precision in which the kernels read W and R)")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=None,
                   help="override train.lr_schedule ('cosine': decay lr to train.lr_final over all steps)")
    p.add_argument("--keep-best", action=argparse.BooleanOptionalAction, default=None,
                   help="override train.keep_best (end with the parameters of the best validation epoch)")
    p.add_argument("--resume", action="store_true",
                   help="continue the training in OUT/checkpoint.h5 up to train.epochs (same config)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar over minibatches (default: only on a terminal, as for run)")
    p.set_defaults(func=run_train_grad)
