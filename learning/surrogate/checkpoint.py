"""HDF5 checkpoints of SNN parameters (h5py). Layout: /params/<name> datasets, root
attrs 'spec' (JSON of NetworkSpec.to_dict()), 'step', 'epoch', 'loss'.

Checkpoints written by `train` also hold what resuming needs (group /train_state): Adam's
step count and moments (/train_state/adam_m, adam_v), the shuffling generator's state, the
history so far, the training config, the keep_best candidate (/train_state/best) and, when
/params holds the kept best rather than the last parameters, the last ones
(/train_state/last). `train(..., resume=load_train_state(path))` then continues exactly as
an uninterrupted run would."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import h5py
import numpy as np

from .errors import SurrogateConfigError
from .model import SNN
from .network import NetworkSpec

ATTRS = ("step", "epoch", "loss")   # root attributes besides 'spec' and 'weight_dtype'


@dataclass
class TrainState:
    """What `train` needs to continue after epoch `epoch` (step `step`) exactly as if it had not
    stopped. Plain data: arrays by parameter name, JSON-able dicts."""

    epoch: int
    step: int
    config: dict                                  # the TrainConfig fields that must not change
    n_train: int                                  # training samples (the shuffles depend on it)
    adam_t: int
    adam_m: dict[str, np.ndarray]
    adam_v: dict[str, np.ndarray]
    rng: dict                                     # numpy bit_generator.state after the epoch's shuffle
    history: dict                                 # History fields
    last: dict[str, np.ndarray] | None = None     # the last parameters, when /params holds the kept best
    best: dict[str, np.ndarray] | None = None     # keep_best: the best parameters so far
    best_meta: dict = field(default_factory=dict)  # keep_best: acc, epoch, step


def _write_arrays(g, arrays: dict[str, np.ndarray]) -> None:
    for name, arr in arrays.items():
        g.create_dataset(name, data=arr)


def save_checkpoint(path: str, model: SNN, *, step: int = 0, epoch: int = 0, loss: float = float("nan"),
                    weight_dtype: str = "float64", train_state: TrainState | None = None) -> None:
    """Write atomically (temp file + rename) so a crash never leaves a torn checkpoint.
    weight_dtype: the precision the training read W and R in, so that whoever loads the
    parameters can run the network that was trained (`evaluate(..., weight_dtype=...)`).
    train_state: what resuming needs (written by `train`)."""
    tmp = f"{path}.tmp"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["spec"] = json.dumps(model.spec.to_dict())
            f.attrs["step"] = int(step)
            f.attrs["epoch"] = int(epoch)
            f.attrs["loss"] = float(loss)
            f.attrs["weight_dtype"] = str(weight_dtype)
            _write_arrays(f.create_group("params"), model.params)
            if train_state is not None:
                ts = train_state
                g = f.create_group("train_state")
                for key in ("epoch", "step", "n_train", "adam_t"):
                    g.attrs[key] = int(getattr(ts, key))
                for key in ("config", "rng", "history", "best_meta"):
                    g.attrs[key] = json.dumps(getattr(ts, key))
                _write_arrays(g.create_group("adam_m"), ts.adam_m)
                _write_arrays(g.create_group("adam_v"), ts.adam_v)
                for key in ("last", "best"):
                    if getattr(ts, key) is not None:
                        _write_arrays(g.create_group(key), getattr(ts, key))
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.isfile(tmp):
            os.remove(tmp)
        raise SurrogateConfigError(f"checkpoint path={path!r} cannot be written ({exc.strerror or exc}); allowed a "
                                   "file path in an existing, writable directory") from None


def load_checkpoint(path: str) -> tuple[SNN, dict]:
    """Return (model, attrs) from a checkpoint written by `save_checkpoint`; attrs holds step,
    epoch, loss and weight_dtype ('float64' for files written before it was stored). A path
    that is not such a file raises `SurrogateConfigError` naming it and what is wrong."""
    def bad(why: str) -> SurrogateConfigError:
        return SurrogateConfigError(f"checkpoint path={path!r} {why}; allowed an HDF5 file written by save_checkpoint")

    if not os.path.isfile(path):
        raise bad("is a directory" if os.path.isdir(path) else "does not exist")
    try:
        with h5py.File(path, "r") as f:
            missing = [f"attribute '{k}'" for k in ("spec", *ATTRS) if k not in f.attrs]
            missing += [] if isinstance(f.get("params"), h5py.Group) else ["group 'params'"]
            if missing:
                raise bad(f"has no {', '.join(missing)}")
            spec = f.attrs["spec"]
            params = {name: np.asarray(ds[()]) for name, ds in f["params"].items()}
            attrs = {k: f.attrs[k] for k in ATTRS}
            attrs["weight_dtype"] = str(f.attrs.get("weight_dtype", "float64"))
    except OSError as exc:
        raise bad(f"cannot be read as HDF5 (corrupt or truncated?): {exc}") from None
    try:
        spec = json.loads(spec)
    except (TypeError, ValueError) as exc:
        raise bad(f"has an invalid 'spec' attribute (not JSON: {exc})") from None
    if not isinstance(spec, dict):
        raise bad(f"has an invalid 'spec' attribute (a {type(spec).__name__}, not a JSON object)")
    try:
        return SNN(NetworkSpec.from_dict(spec), params), attrs
    except SurrogateConfigError as exc:
        raise bad(f"holds an invalid network: {exc}") from None


def load_train_state(path: str) -> TrainState:
    """The training state of a checkpoint written by `train`, for `train(..., resume=...)`.
    Raises `SurrogateConfigError` naming the path if it holds none (written by
    `save_checkpoint` alone, or by a version without resume) or cannot be read."""
    load_checkpoint(path)      # the file and its parameters are checked there
    try:
        with h5py.File(path, "r") as f:
            g = f.get("train_state")
            if not isinstance(g, h5py.Group):
                raise SurrogateConfigError(f"checkpoint path={path!r} holds no training state (it was not written "
                                           f"by train, or by a version before resume); allowed a checkpoint that "
                                           f"train wrote")
            arrays = {k: ({n: np.asarray(d[()]) for n, d in g[k].items()} if k in g else None)
                      for k in ("adam_m", "adam_v", "last", "best")}
            return TrainState(epoch=int(g.attrs["epoch"]), step=int(g.attrs["step"]),
                              n_train=int(g.attrs["n_train"]), adam_t=int(g.attrs["adam_t"]),
                              config=json.loads(g.attrs["config"]), rng=json.loads(g.attrs["rng"]),
                              history=json.loads(g.attrs["history"]), best_meta=json.loads(g.attrs["best_meta"]),
                              adam_m=arrays["adam_m"] or {}, adam_v=arrays["adam_v"] or {},
                              last=arrays["last"], best=arrays["best"])
    except (OSError, KeyError, ValueError) as exc:
        raise SurrogateConfigError(f"checkpoint path={path!r} has an unreadable training state "
                                   f"({type(exc).__name__}: {exc})") from None
