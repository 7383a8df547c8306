"""Small parameter checks shared by the dataset modules (messages name field and allowed range)."""
from __future__ import annotations

import math

import numpy as np

from .errors import DatasetError


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as float if it is finite and > 0, else raise naming ``name``."""
    v = float(value)
    if not (math.isfinite(v) and v > 0.0):
        raise DatasetError(f"{name} = {value!r}: allowed range is (0, inf)")
    return v


def check_nonneg(name: str, value: float) -> float:
    """Return ``value`` as float if it is finite and >= 0, else raise naming ``name``."""
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise DatasetError(f"{name} = {value!r}: allowed range is [0, inf)")
    return v


def check_int_range(name: str, value: int, lo: int, hi: int) -> int:
    """Return ``value`` as int if lo <= value <= hi, else raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or int(value) != value:
        raise DatasetError(f"{name} = {value!r}: must be an integer in [{lo}, {hi}]")
    v = int(value)
    if not lo <= v <= hi:
        raise DatasetError(f"{name} = {value!r}: allowed range is [{lo}, {hi}]")
    return v


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed (or pass a Generator through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
