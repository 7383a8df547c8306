"""Shared helpers of the Diehl & Cook experiments: data, splits, JSON results."""
from __future__ import annotations

import os
import sys

from eventsim.datasets import load_mnist
from eventsim.models.diehl_cook import split_train_val

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results_json import DATA, write_results  # noqa: E402,F401 (DATA: used by the scripts)
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
    return write_results(RESULTS, name, doc)
