"""A binary min-heap over parallel arrays, for numba.

Entries are ordered by the key (time, code, aux), where code = kind << 48 | id.
The order never depends on insertion order, so runs are reproducible whatever the
chunking, and a partitioned (MPI) run can reproduce a single-process run.

Arrays: time float64[cap], code int64[cap], aux int64[cap], t0 float64[cap]
(t0 is payload: the emission time of a delivery chain). size is int64[1].
"""
from __future__ import annotations

import numba as nb
import numpy as np

ID_BITS = 48


@nb.njit(cache=True, inline="always")
def _before(t1, c1, a1, t2, c2, a2) -> bool:
    """Key (t1, c1, a1) orders strictly before (t2, c2, a2)."""
    if t1 != t2:
        return t1 < t2
    if c1 != c2:
        return c1 < c2
    return a1 < a2


@nb.njit(cache=True, _nrt=False)
def push(time, code, aux, t0, size, t, c, a, t_emit) -> None:
    """Insert one entry. The caller guarantees capacity (see engine capacity checks).

    Sifts a hole up instead of swapping, so each level costs one move, not three."""
    i = size[0]
    size[0] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(t, c, a, time[parent], code[parent], aux[parent]):
            break
        time[i] = time[parent]
        code[i] = code[parent]
        aux[i] = aux[parent]
        t0[i] = t0[parent]
        i = parent
    time[i] = t
    code[i] = c
    aux[i] = a
    t0[i] = t_emit


@nb.njit(cache=True, _nrt=False)
def pop(time, code, aux, t0, size) -> None:
    """Remove the minimum (read it from index 0 first): the last entry sinks from the root."""
    n = size[0] - 1
    size[0] = n
    if n == 0:
        return
    t, c, a, e = time[n], code[n], aux[n], t0[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and _before(time[right], code[right], aux[right], time[child], code[child], aux[child]):
            child = right
        if not _before(time[child], code[child], aux[child], t, c, a):
            break
        time[i] = time[child]
        code[i] = code[child]
        aux[i] = aux[child]
        t0[i] = t0[child]
        i = child
    time[i] = t
    code[i] = c
    aux[i] = a
    t0[i] = e


def make(capacity: int) -> tuple:
    """Allocate an empty heap: (time, code, aux, t0, size)."""
    return (np.full(capacity, np.inf), np.zeros(capacity, np.int64), np.zeros(capacity, np.int64),
            np.zeros(capacity), np.zeros(1, np.int64))


def grow(q: tuple, capacity: int) -> tuple:
    """A copy of heap q with a larger capacity; the heap order is preserved."""
    time, code, aux, t0, size = q
    new = make(capacity)
    n = int(size[0])
    for src, dst in zip((time, code, aux, t0), new[:4]):
        dst[:n] = src[:n]
    new[4][0] = n
    return new


# ---------------------------------------------------------------------------------------
# Indexed min-heap over neurons: one entry per neuron, keyed by (time, neuron id), with
# decrease/increase-key in place. Arrays: key float64[N] (heap order), who int64[N] (neuron at
# each heap slot), pos int64[N] (slot of each neuron, -1 if absent), size int64[1].
# ---------------------------------------------------------------------------------------

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
