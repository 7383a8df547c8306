"""Errors raised by the surrogate-gradient learner (all are `EventsimError`s), and the
validation helpers that raise them (built on `eventsim.checks`)."""
from __future__ import annotations

import numbers
from contextlib import contextmanager
from typing import Iterable, Iterator

import numpy as np

from eventsim import checks
from eventsim.errors import EventsimError


class SurrogateConfigError(EventsimError):
    """A network, surrogate, data or training parameter is out of its allowed range."""


class TrainingDivergedError(EventsimError):
    """The loss, a gradient or a parameter (as the kernels read it) became NaN/inf; training
    stopped and the last good parameters were restored (the checkpoint file, if one was
    given, is left unchanged)."""


@contextmanager
def as_config_error() -> Iterator[None]:
    """Re-raise an `EventsimError` of the `eventsim.checks` / `eventsim.config` helpers as
    `SurrogateConfigError` (same message), so the learner raises one error type."""
    try:
        yield
    except SurrogateConfigError:
        raise
    except EventsimError as exc:
        raise SurrogateConfigError(str(exc)) from None


def check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """Return float(value) or raise `SurrogateConfigError` naming `name` and the range
    (also for a value that is not a number: a string, a bool, a list)."""
    lb = "(" if lo_open else "["
    rb = ")" if hi_open else "]"
    allowed = f"allowed {lb}{lo}, {hi}{rb}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SurrogateConfigError(f"{name}={value!r} is not a number; {allowed}")
    v = float(value)
    ok_lo = v > lo if lo_open else v >= lo
    ok_hi = v < hi if hi_open else v <= hi
    if not (ok_lo and ok_hi) or v != v:
        raise SurrogateConfigError(f"{name}={value!r} is out of range; {allowed}")
    return v


def check_count(name: str, value, minimum: int = 1) -> int:
    """`eventsim.checks.count` (a whole number >= minimum) raising `SurrogateConfigError`."""
    with as_config_error():
        return checks.count(name, value, minimum)


def check_integers(name: str, value) -> np.ndarray:
    """`value` as a flat int64 array, or `SurrogateConfigError` naming `name` and the first
    element that is not a whole number (integral floats such as 3.0 are accepted; 1.5, NaN,
    True and strings are not)."""
    a = np.asarray(value).ravel()
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~np.isfinite(a) | (a != np.round(a)))
        if bad.size == 0:
            return a.astype(np.int64)
        value = f"{a[bad[0]].item()!r} at index {bad[0]}"
    raise SurrogateConfigError(f"{name} has a value that is not a whole number ({value}); allowed integers")


def check_bool(name: str, value) -> bool:
    """`value` is a bool (a TOML/JSON true or false), else `SurrogateConfigError`."""
    if not isinstance(value, (bool, np.bool_)):
        raise SurrogateConfigError(f"{name}={value!r} is invalid; allowed true or false")
    return bool(value)


def check_choice(name: str, value, allowed: Iterable[str]) -> str:
    """`value` is one of `allowed`, else `SurrogateConfigError` naming `name`, the valid
    values and the nearest one (`eventsim.checks.known_key`)."""
    with as_config_error():
        checks.known_key(name, str(value), tuple(allowed))
    return str(value)


def check_keys(kind: str, table: dict, allowed: Iterable[str]) -> None:
    """Every key of `table` is in `allowed`, else `SurrogateConfigError` "unknown {kind}
    '{key}'" with the nearest allowed key (e.g. kind = "key in [train]")."""
    allowed = tuple(allowed)
    for key in table:
        check_choice(kind, key, allowed)
