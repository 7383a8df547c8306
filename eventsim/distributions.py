"""Value distributions for weights, delays, initial states and per-neuron parameters.

Each draw is keyed by (stream, a, b) through the counter-based RNG, so a value depends only
on which synapse or neuron it belongs to, never on generation order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from . import checks
from .errors import EventsimError
from .rng import normal, uniform

CONSTANT, UNIFORM, NORMAL_CLIPPED = 0, 1, 2


@dataclass(frozen=True)
class Distribution:
    """A distribution: code and parameters (low/high bound the support)."""
    code: int
    a: float = 0.0          # value (constant), low (uniform), mean (normal)
    b: float = 0.0          # high (uniform), std (normal)
    low: float = -np.inf
    high: float = np.inf

    def sample(self, seed: int, stream: int, key_a: np.ndarray, key_b: np.ndarray) -> np.ndarray:
        """One draw per (key_a[i], key_b[i]) pair."""
        key_a = np.ascontiguousarray(key_a, dtype=np.int64)
        key_b = np.ascontiguousarray(key_b, dtype=np.int64)
        return _sample(self.code, self.a, self.b, self.low, self.high, seed, stream, key_a, key_b)

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value this distribution can produce."""
        if self.code == CONSTANT:
            return self.a, self.a
        if self.code == UNIFORM:
            return self.a, self.b
        return self.low, self.high


def constant(value: float) -> Distribution:
    """Always `value`."""
    checks.finite("constant value", value)
    return Distribution(CONSTANT, float(value))


def uniform_dist(low: float, high: float) -> Distribution:
    """Uniform on [low, high)."""
    checks.finite("uniform low", low)
    checks.finite("uniform high", high)
    if not low <= high:
        raise EventsimError(f"uniform low must be <= high (got low={low}, high={high})")
    return Distribution(UNIFORM, float(low), float(high), float(low), float(high))


def normal_clipped(mean: float, std: float, low: float = -np.inf, high: float = np.inf) -> Distribution:
    """Normal(mean, std) restricted to [low, high]: values outside are redrawn (as in PyNN's
    'normal_clipped'); after 100 failed redraws the value is clipped to the bound."""
    checks.finite("normal mean", mean)
    checks.non_negative("normal std", std)
    if not low < high:
        raise EventsimError(f"normal_clipped low must be < high (got low={low}, high={high})")
    return Distribution(NORMAL_CLIPPED, float(mean), float(std), float(low), float(high))


@nb.njit(cache=True)
def draw(code, a, b, low, high, seed, stream, key_a, key_b):
    """One draw keyed by (key_a, key_b)."""
    if code == CONSTANT:
        return a
    if code == UNIFORM:
        return a + (b - a) * (1.0 - uniform(seed, stream, key_a, key_b))
    x = a
    for attempt in range(100):
        x = a + b * normal(seed, stream, key_a, key_b * 128 + attempt)
        if low <= x <= high:
            break
    return min(max(x, low), high)


@nb.njit(cache=True)
def _sample(code, a, b, low, high, seed, stream, key_a, key_b):
    out = np.empty(key_a.size)
    for i in range(key_a.size):
        out[i] = draw(code, a, b, low, high, seed, stream, key_a[i], key_b[i])
    return out


def as_distribution(name: str, value) -> Distribution | np.ndarray:
    """Accept a Distribution, a scalar (-> constant) or an array (returned as float64).

    Values are not range-checked here: callers validate the realised values."""
    if isinstance(value, Distribution):
        return value
    try:
        if np.asarray(value).dtype.kind in "USO":
            raise TypeError   # numpy would turn "20" into 20.0: text is refused, as in config files
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise EventsimError(f"{name} must be a number, an array or a distribution, got {value!r}") from None
    if arr.ndim == 0:
        return Distribution(CONSTANT, float(arr))
    return arr


def realise(name: str, value, seed: int, stream: int, key_a, key_b) -> np.ndarray:
    """Values for n items keyed by (key_a, key_b): broadcasts scalars, checks array length."""
    value = as_distribution(name, value)
    key_a = np.asarray(key_a, dtype=np.int64)
    key_b = np.broadcast_to(np.asarray(key_b, dtype=np.int64), key_a.shape)
    if isinstance(value, Distribution):
        return value.sample(seed, stream, key_a, key_b)
    if value.ndim == 0 or value.size == 1:
        return np.full(key_a.size, float(value.ravel()[0]))
    if value.shape != key_a.shape:
        raise EventsimError(f"{name} has {value.size} values but {key_a.size} are needed")
    return value.astype(np.float64)
