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
def _less(time, code, aux, i, j) -> bool:
    if time[i] != time[j]:
        return time[i] < time[j]
    if code[i] != code[j]:
        return code[i] < code[j]
    return aux[i] < aux[j]


@nb.njit(cache=True, inline="always")
def _swap(time, code, aux, t0, i, j) -> None:
    time[i], time[j] = time[j], time[i]
    code[i], code[j] = code[j], code[i]
    aux[i], aux[j] = aux[j], aux[i]
    t0[i], t0[j] = t0[j], t0[i]


@nb.njit(cache=True)
def push(time, code, aux, t0, size, t, c, a, t_emit) -> None:
    """Insert one entry. The caller guarantees capacity (see engine capacity checks)."""
    i = size[0]
    size[0] = i + 1
    time[i] = t
    code[i] = c
    aux[i] = a
    t0[i] = t_emit
    while i > 0:
        parent = (i - 1) >> 1
        if _less(time, code, aux, i, parent):
            _swap(time, code, aux, t0, i, parent)
            i = parent
        else:
            break


@nb.njit(cache=True)
def pop(time, code, aux, t0, size) -> None:
    """Remove the minimum (read it from index 0 first)."""
    n = size[0] - 1
    size[0] = n
    if n == 0:
        return
    time[0] = time[n]
    code[0] = code[n]
    aux[0] = aux[n]
    t0[0] = t0[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        right = left + 1
        if right < n and _less(time, code, aux, right, left):
            child = right
        if _less(time, code, aux, child, i):
            _swap(time, code, aux, t0, i, child)
            i = child
        else:
            break


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
