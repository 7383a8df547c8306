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


def save_checkpoint(path: str, model: SNN, *, step: int = 0, epoch: int = 0, loss: float = float("nan"),
                    weight_dtype: str = "float64") -> None:
    """Write atomically (temp file + rename) so a crash never leaves a torn checkpoint.
    weight_dtype: the precision the training read W and R in, so that whoever loads the
    parameters can run the network that was trained (`evaluate(..., weight_dtype=...)`)."""
    tmp = f"{path}.tmp"
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


def load_checkpoint(path: str) -> tuple[SNN, dict]:
    """Return (model, attrs) from a checkpoint written by `save_checkpoint`; attrs holds step,
    epoch, loss and weight_dtype ('float64' for files written before it was stored)."""
    if not os.path.exists(path):
        raise SurrogateConfigError(f"checkpoint path={path!r} does not exist; allowed an existing HDF5 file")
    with h5py.File(path, "r") as f:
        spec = NetworkSpec.from_dict(json.loads(f.attrs["spec"]))
        params = {name: np.asarray(ds[()]) for name, ds in f["params"].items()}
        attrs = {k: f.attrs[k] for k in ("step", "epoch", "loss")}
        attrs["weight_dtype"] = str(f.attrs.get("weight_dtype", "float64"))
    return SNN(spec, params), attrs
