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

# Smallest time constant (ms) a model accepts: 1 us. The engine moves its epoch every 200 times the
# smallest time constant of the network (engine.rebase_interval) and every move visits all neurons, so
# tau = 1e-12 ms meant 2e11 moves per ms of model time (a run that never ends, inside numba where
# Ctrl-C cannot reach it); at 1e-3 ms a 10-neuron network runs 100 ms in 0.05 s.
MIN_TAU_MS = 1e-3
# Smallest chunk (ms of model time per engine call). Each chunk costs Python work at its boundary
# (about 6 us without a log, more with a log, a progress bar or callbacks), so 1 us chunks already
# cost seconds per model second; and at most MAX_CHUNKS chunks per run (1e8 chunks are over 10 min of
# pure overhead): chunk = 1e-320 advanced nothing and never ended.
MIN_CHUNK_MS = 1e-3
MAX_CHUNKS = 10**8
# Smallest synaptic delay (ms): 1e-6 ms (1 ns). A spike at t arrives at t + d, and a delay below the
# spacing of float64 numbers near t vanishes (1001 + 1e-14 == 1001): a self-exciting neuron with
# t_ref = 0 then fired forever at one instant and the run never returned. 1e-6 ms stays resolvable
# up to t ~ 4e9 ms (50 days of model time).
MIN_DELAY_MS = 1e-6
# Smallest checkpoint interval (ms of model time): a checkpoint writes the whole state of the network
# to disk (tens of ms of wall time for the CUBA network, which simulates 1 ms in about 1 ms), so
# checkpoints more often than every model millisecond would cost more than the run itself.
MIN_CHECKPOINT_MS = 1.0
INT64_MAX = int(np.iinfo(np.int64).max)


def _as_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value)
        if arr.dtype.kind == "b":          # True is not the number 1 (e.g. a probability p = true)
            raise TypeError
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise EventsimError(f"{name} must be a number or an array of numbers, got {value!r}"[:300]) from None
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


def count(name: str, value, minimum: int = 1, maximum: int = INT64_MAX) -> int:
    """A whole number in [minimum, maximum] (by default at most 2**63 - 1: counts become int64)."""
    given = value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise EventsimError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise EventsimError(f"{name} must be a whole number >= {minimum}, got {value}")
    if value > maximum:
        top = "2**63 - 1" if maximum == INT64_MAX else maximum
        raise EventsimError(f"{name} must be a whole number in [{minimum}, {top}], got {given}")
    return int(value)


def time_constant(name: str, value, allow_inf: bool = False) -> np.ndarray:
    """Every element a time constant (ms) >= MIN_TAU_MS (1 us); inf too if allow_inf."""
    return _with_reason(in_range, "the engine's work per ms of model time grows as 1/tau", name, value,
                        MIN_TAU_MS, np.inf, allow_inf=allow_inf)


def interval(name: str, value, duration: float, minimum: float = MIN_CHUNK_MS) -> float:
    """A chunk or checkpoint interval (ms) for a run of `duration` ms: one finite number of at least
    `minimum` and at least duration / MAX_CHUNKS."""
    reason = f"at least {minimum:g} ms and at most {MAX_CHUNKS:.0e} per run (smaller ones make the run endless)"
    return _with_reason(number, reason, name, value, in_range, max(minimum, duration / MAX_CHUNKS), np.inf)


def default_chunk(duration: float) -> float:
    """The chunk (ms) a run uses unless told: 100 ms, or duration / MAX_CHUNKS for a run so long
    that 100 ms chunks would exceed MAX_CHUNKS."""
    return max(100.0, float(duration) / MAX_CHUNKS)


def _with_reason(check: Callable, reason: str, name: str, value, *args, **kw):
    """check(name, value, *args, **kw), its EventsimError extended by `reason`."""
    try:
        return check(name, value, *args, **kw)
    except EventsimError as exc:
        raise EventsimError(f"{exc}: {reason}") from None


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
    return f"{arr.ravel()[idx].item()!r} at index {idx}"
