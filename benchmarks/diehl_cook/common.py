"""Shared helpers of the Diehl & Cook experiments: data, splits, JSON results."""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict

import numpy as np

from eventsim.datasets import load_mnist
from eventsim.models.diehl_cook import split_train_val

DATA = os.environ.get("EVENTSIM_DATA", "/work/shared/data")
HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
os.makedirs(RESULTS, exist_ok=True)


def data(seed: int = 0):
    """train5k split into 4500 train / 500 validation (50 per class, fixed seed), and t10k."""
    X, y = load_mnist(DATA, "train5k")
    tr, va = split_train_val(y, 50, seed)
    Xt, yt = load_mnist(DATA, "t10k")
    return (X[tr], y[tr]), (X[va], y[va]), (Xt, yt)


def write_json(name: str, doc: dict) -> str:
    path = os.path.join(RESULTS, name)
    doc = {"written": time.strftime("%Y-%m-%d %H:%M:%S"), "host": platform.node(), **doc}
    with open(path + ".tmp", "w") as fh:
        json.dump(doc, fh, indent=1, default=_default)
    os.replace(path + ".tmp", path)
    return path


def _default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)
    return repr(o)
