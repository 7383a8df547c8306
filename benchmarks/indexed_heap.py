"""The indexed binary heap that held the engine's neuron checks until 2026-11-23, kept for the
queue experiments (check_queue.py, check_heap_share.py). The engine now uses the tournament tree
of `eventsim.heap` (heap.cset); see DESIGN.md, threshold checks, item 5.

One entry per neuron, keyed by (time, neuron id), with decrease/increase-key in place. Arrays:
key float64[N] (heap order), who int64[N] (neuron at each slot), pos int64[N] (slot of each
neuron, -1 if absent), size int64[1]; the minimum is (key[0], who[0]) when size[0] > 0.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _ibefore(t1, j1, t2, j2) -> bool:
    return t1 < t2 or (t1 == t2 and j1 < j2)


@nb.njit(cache=True, _nrt=False)
def _isift_up(key, who, pos, i, t, j):
    while i > 0:
        parent = (i - 1) >> 1
        if not _ibefore(t, j, key[parent], who[parent]):
            break
        key[i] = key[parent]
        who[i] = who[parent]
        pos[who[i]] = i
        i = parent
    key[i] = t
    who[i] = j
    pos[j] = i


@nb.njit(cache=True, _nrt=False)
def _isift_down(key, who, pos, n, i, t, j):
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and _ibefore(key[right], who[right], key[child], who[child]):
            child = right
        if not _ibefore(key[child], who[child], t, j):
            break
        key[i] = key[child]
        who[i] = who[child]
        pos[who[i]] = i
        i = child
    key[i] = t
    who[i] = j
    pos[j] = i


@nb.njit(cache=True, _nrt=False)
def iset(key, who, pos, size, j, t) -> None:
    """Give neuron j the key t (insert, move, or remove when t is inf)."""
    i = pos[j]
    if t == np.inf:
        if i >= 0:
            iremove(key, who, pos, size, j)
        return
    if i < 0:
        i = size[0]
        size[0] = i + 1
        _isift_up(key, who, pos, i, t, j)
    elif _ibefore(t, j, key[i], j):
        _isift_up(key, who, pos, i, t, j)
    else:
        _isift_down(key, who, pos, size[0], i, t, j)


@nb.njit(cache=True, _nrt=False)
def iremove(key, who, pos, size, j) -> None:
    """Remove neuron j (it must be present)."""
    i = pos[j]
    pos[j] = -1
    n = size[0] - 1
    size[0] = n
    if i == n:
        return
    t, k = key[n], who[n]
    if i > 0 and _ibefore(t, k, key[(i - 1) >> 1], who[(i - 1) >> 1]):
        _isift_up(key, who, pos, i, t, k)
    else:
        _isift_down(key, who, pos, n, i, t, k)


def make_indexed(n: int) -> tuple:
    """An empty indexed heap for n neurons: (key, who, pos, size)."""
    return np.full(n, np.inf), np.zeros(n, np.int64), np.full(n, -1, np.int64), np.zeros(1, np.int64)
