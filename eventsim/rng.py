"""Counter-based random numbers for numba kernels.

A draw is a pure function of (seed, stream, a, b): no hidden generator state. That makes
Poisson sources and connectivity reproducible regardless of chunking, of the order in
which neurons are built, and of how neurons are partitioned over MPI ranks; a checkpoint
only needs the per-source counters.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = 1.0 / 9007199254740992.0


@nb.njit(cache=True, inline="always")
def mix64(x: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a bijective, well-mixed 64-bit hash."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def hash4(seed: np.int64, stream: np.int64, a: np.int64, b: np.int64) -> np.uint64:
    h = mix64(np.uint64(seed) + _GOLDEN)
    h = mix64(h ^ (np.uint64(stream) * _GOLDEN))
    h = mix64(h ^ (np.uint64(a) + _M1))
    return mix64(h ^ (np.uint64(b) * _M2 + _GOLDEN))


@nb.njit(cache=True, inline="always")
def uniform(seed: np.int64, stream: np.int64, a: np.int64, b: np.int64) -> float:
    """Uniform double in (0, 1]."""
    return (float(hash4(seed, stream, a, b) >> np.uint64(11)) + 1.0) * _TWO53


@nb.njit(cache=True, inline="always")
def normal(seed: np.int64, stream: np.int64, a: np.int64, b: np.int64) -> float:
    """Standard normal via Box-Muller on two counter draws."""
    u1 = uniform(seed, stream, a, 2 * b)
    u2 = uniform(seed, stream, a, 2 * b + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


# Stream identifiers: one per purpose, so that draws never collide.
STREAM_POISSON = 1
STREAM_CONNECT = 2
STREAM_WEIGHT = 3
STREAM_DELAY = 4
STREAM_INIT = 5
