"""HDF5 checkpoints of SNN parameters (h5py). Layout: /params/<name> datasets, root
attrs 'spec' (JSON of NetworkSpec.to_dict()), 'step', 'epoch', 'loss'."""
from __future__ import annotations

import json
import os

import h5py
import numpy as np

from .errors import SurrogateConfigError
from .model import SNN
from .network import NetworkSpec

ATTRS = ("step", "epoch", "loss")   # root attributes besides 'spec' and 'weight_dtype'


def save_checkpoint(path: str, model: SNN, *, step: int = 0, epoch: int = 0, loss: float = float("nan"),
                    weight_dtype: str = "float64") -> None:
    """Write atomically (temp file + rename) so a crash never leaves a torn checkpoint.
    weight_dtype: the precision the training read W and R in, so that whoever loads the
    parameters can run the network that was trained (`evaluate(..., weight_dtype=...)`)."""
    tmp = f"{path}.tmp"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["spec"] = json.dumps(model.spec.to_dict())
            f.attrs["step"] = int(step)
            f.attrs["epoch"] = int(epoch)
            f.attrs["loss"] = float(loss)
            f.attrs["weight_dtype"] = str(weight_dtype)
            g = f.create_group("params")
            for name, arr in model.params.items():
                g.create_dataset(name, data=arr)
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
