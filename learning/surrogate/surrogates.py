"""Surrogate derivatives dS/dV used in place of the Heaviside's delta function.

All surrogates are functions of x = V - theta (membrane units, same as theta) and, for
STDB, of the number of steps since the neuron's previous spike.

* ``fast_sigmoid`` (SuperSpike, Zenke & Ganguli 2018): ``scale / (1 + slope*|x|)**2``;
  ``slope`` in 1/(membrane unit).
* ``triangle`` (DIET-SNN / Esser et al.): ``scale * max(0, 1 - slope*|x|)``; half-width
  ``1/slope`` membrane units.
* ``stdb`` (Rathi et al. 2020, spike-timing-dependent backprop): ``scale *
  exp(-slope * dt_since)`` where ``dt_since`` = steps since the previous spike (before
  the first spike it counts from step -1, i.e. ``t + 1``); ``slope`` in 1/step. It does
  not depend on V except through the band test.

Every surrogate is *truncated to the band*: it is 0 where ``|x| >= B_th``. With
``B_th = inf`` (dense mode) nothing is truncated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb

from .errors import SurrogateConfigError, check_range

KINDS = {"fast_sigmoid": 0, "triangle": 1, "stdb": 2}


@dataclass(frozen=True)
class Surrogate:
    """Surrogate derivative spec: ``kind`` in KINDS, ``slope`` > 0, ``scale`` > 0."""

    kind: str = "fast_sigmoid"
    slope: float = 10.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SurrogateConfigError(f"surrogate.kind={self.kind!r} is invalid; allowed {sorted(KINDS)}")
        check_range("surrogate.slope", self.slope, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range("surrogate.scale", self.scale, 0.0, math.inf, lo_open=True, hi_open=True)

    @property
    def code(self) -> int:
        return KINDS[self.kind]


@nb.njit(cache=True, inline="always")
def surrogate_value(kind: int, x: float, slope: float, scale: float, dt_since: float) -> float:
    """Untruncated surrogate dS/dV at x = V - theta (see module docstring)."""
    if kind == 0:
        d = 1.0 + slope * abs(x)
        return scale / (d * d)
    if kind == 1:
        v = 1.0 - slope * abs(x)
        return scale * v if v > 0.0 else 0.0
    return scale * math.exp(-slope * dt_since)
