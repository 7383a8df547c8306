"""Validation helpers that turn bad values into clear `EventsimError`s.

Each helper accepts a scalar or an array and checks every element, so that per-neuron
(heterogeneous) parameters are validated as strictly as scalars.
"""
from __future__ import annotations

import difflib
import numbers
import os
from typing import Callable, Iterable

import numpy as np

from .errors import ConfigError, EventsimError


def _as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise EventsimError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    return arr


def finite(name: str, value) -> np.ndarray:
    """All elements finite (not NaN, not +-inf)."""
    arr = _as_array(name, value)
    if not np.all(np.isfinite(arr)):
        raise EventsimError(f"{name} must be finite (got {_first_bad(arr, ~np.isfinite(arr))})")
    return arr


def in_range(name: str, value, low: float = -np.inf, high: float = np.inf,
             low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> np.ndarray:
    """Every element lies in the interval given by low/high (open or closed ends)."""
    arr = _as_array(name, value)
    bad = np.isnan(arr)
    if not allow_inf:
        bad |= np.isinf(arr)
    bad |= (arr <= low) if low_open else (arr < low)
    bad |= (arr >= high) if high_open else (arr > high)
    if np.any(bad):
        lo = "(" if low_open or np.isinf(low) else "["
        hi = ")" if high_open or np.isinf(high) else "]"
        raise EventsimError(
            f"{name} must lie in {lo}{low:g}, {high:g}{hi}"
            f"{'' if allow_inf else ' and be finite'} (got {_first_bad(arr, bad)})")
    return arr


def positive(name: str, value, allow_inf: bool = False) -> np.ndarray:
    """Every element > 0."""
    return in_range(name, value, 0.0, np.inf, low_open=True, allow_inf=allow_inf)


def non_negative(name: str, value, allow_inf: bool = False) -> np.ndarray:
    """Every element >= 0."""
    return in_range(name, value, 0.0, np.inf, allow_inf=allow_inf)


def count(name: str, value, minimum: int = 1) -> int:
    """A whole number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise EventsimError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise EventsimError(f"{name} must be a whole number >= {minimum}, got {value}")
    return int(value)


def number(name: str, value, check: Callable = finite, *args, **kw) -> float:
    """`value` as one float that passes `check` (one of these helpers, called with *args, **kw);
    an EventsimError naming `name` for a string, bool, array or anything else."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EventsimError(f"{name} must be a single number, got {value!r}")
    return float(check(name, value, *args, **kw))


def known_key(kind: str, key: str, allowed: Iterable[str]) -> None:
    """Raise ConfigError for an unknown key, suggesting the nearest valid one."""
    allowed = sorted(allowed)
    if key in allowed:
        return
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ConfigError(f"unknown {kind} '{key}'{hint} (valid: {', '.join(allowed)})")


def output_dir(name: str, path: str) -> str:
    """Create directory `path` (and its parents) if missing; an EventsimError naming the
    option `name` if that is not possible (a file in the way, no permission)."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise EventsimError(f"{name}: cannot create the output directory '{path}': {exc.strerror}") from None
    return path


def output_file(name: str, path: str) -> str:
    """An EventsimError naming `name` and `path` if `path` cannot be a file to write (a directory)."""
    if os.path.isdir(path):
        raise EventsimError(f"{name}: '{path}' is a directory; give a file path such as "
                            f"'{os.path.join(path, 'out.h5')}'")
    return path


def _first_bad(arr: np.ndarray, bad: np.ndarray):
    if arr.ndim == 0:
        return arr.item()
    idx = int(np.flatnonzero(bad.ravel())[0])
    return f"{arr.ravel()[idx]!r} at index {idx}"
