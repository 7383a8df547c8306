"""The engine's two queues, for numba: a binary min-heap of events, and a tournament tree
of the neurons' threshold checks (below).

Heap entries are ordered by the key (time, code, aux), where code = kind << 48 | id.
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
# The neurons' checks: a tournament (winner) tree with one leaf per neuron, keyed by
# (time, neuron id). Arrays: key float64[2m] and who int64[2m], with m the smallest power of
# two >= N; leaf m + j holds neuron j's check time (inf: none), and node k holds the smaller
# of nodes 2k and 2k + 1, so the earliest check is (key[1], who[1]). Replaces an indexed
# binary heap (DESIGN.md: threshold checks, item 5).
# ---------------------------------------------------------------------------------------

@nb.njit(cache=True, _nrt=False)
def cset(key, who, j, t) -> None:
    """Give neuron j the check time t (inf removes it).

    Walks from j's leaf towards the root; each level takes the smaller of two siblings (two
    adjacent loads and a select) and stops once a node keeps its winner, since nothing above it
    changes then. The left child holds the smaller ids, so taking it on equal times orders ties
    by neuron id, as the indexed heap did."""
    k = key.size // 2 + j
    key[k] = t
    while k > 1:
        k >>= 1
        left = 2 * k
        kl = key[left]
        kr = key[left + 1]
        right = kr < kl
        nk = kr if right else kl
        nw = who[left + 1] if right else who[left]
        if nk == key[k] and nw == who[k]:
            break
        key[k] = nk
        who[k] = nw


def _leaves(n: int) -> int:
    """Leaves of the check tree for n neurons: the smallest power of two >= n."""
    return 1 << max(0, int(n - 1).bit_length())


def make_checks(n: int) -> tuple:
    """An empty check tree for n neurons: (key, who); n >= 1."""
    m = _leaves(n)
    key = np.full(2 * m, np.inf)
    who = np.zeros(2 * m, np.int64)
    who[m:] = np.arange(m)
    for k in range(m - 1, 0, -1):      # every key is inf: each node holds its leftmost leaf
        who[k] = who[2 * k]
    return key, who


def check_tree_bytes(n: int) -> int:
    """Bytes of make_checks(n)."""
    return 2 * _leaves(n) * 16
