"""Errors raised by the surrogate-gradient learner (all are `EventsimError`s)."""
from __future__ import annotations

from eventsim.errors import EventsimError


class SurrogateConfigError(EventsimError):
    """A network, surrogate, data or training parameter is out of its allowed range."""


class TrainingDivergedError(EventsimError):
    """The loss or a gradient became NaN/inf; training stopped and the last good
    parameters were restored (and kept in the checkpoint file, if one was given)."""


def check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> float:
    """Return float(value) or raise `SurrogateConfigError` naming `name` and the range."""
    v = float(value)
    ok_lo = v > lo if lo_open else v >= lo
    ok_hi = v < hi if hi_open else v <= hi
    if not (ok_lo and ok_hi) or v != v:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise SurrogateConfigError(f"{name}={value!r} is out of range; allowed {lb}{lo}, {hi}{rb}")
    return v
