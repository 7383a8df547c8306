"""Experiment: queues for the neuron checks: indexed binary heap, tournament tree, calendar queue.

Issue 3 asks whether a calendar queue would beat the binary heap. The engine keeps one
check per neuron (its next threshold test); on CUBA a spike costs about 20 operations on
that queue (11 earlier re-keys after inputs, 8.5 pops that mostly re-key the neuron later).
Until 2026-11-23 the queue was an indexed binary heap (`indexed_heap.py`); since then it is
the tournament tree of `eventsim.heap` (heap.cset). This script runs that pattern on all three:

    each iteration: take the minimum (time t, neuron j), re-key j to t + Exp(5 ms)
    (the lazy re-check), then re-key a random neuron to t + Exp(3 ms) if that is earlier
    (an input that moves a check forward); 4000 neurons, initial keys Exp(20 ms).

The calendar prototype here (not used by the engine): buckets of `width` ms in a circular
array of 2^bits lists (doubly linked, one node per neuron), an overflow list beyond the
current year, a cached minimum, and ties broken by neuron id exactly as in the heap, so
all pop the same sequence (checked: the accumulated (t, j) sums agree).

    python3.11 benchmarks/check_queue.py [--iters 2000000] [--reps 5]

Writes benchmarks/results/check_queue_<date>.json (median ns per iteration of each
structure, measured alternately in one process).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numba as nb
import numpy as np

from eventsim import heap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import indexed_heap  # noqa: E402
from results_json import dated_path, machine, write_results  # noqa: E402

N = 4000
ABSENT, OVERFLOW = -1, -2
CUR, BASE, MASK, SIZE, TOP_OK, TOP_J = range(6)   # slots of the calendar's int metadata


@nb.njit(cache=True, inline="always")
def _unlink(nxt, prv, head, ovf, j, b, mask):
    p, n = prv[j], nxt[j]
    if p >= 0:
        nxt[p] = n
    elif b == OVERFLOW:
        ovf[0] = n
    else:
        head[b & mask] = n
    if n >= 0:
        prv[n] = p


@nb.njit(cache=True, inline="always")
def _link(nxt, prv, head, ovf, j, b, mask):
    if b == OVERFLOW:
        h = ovf[0]
        ovf[0] = j
    else:
        h = head[b & mask]
        head[b & mask] = j
    nxt[j] = h
    prv[j] = -1
    if h >= 0:
        prv[h] = j


@nb.njit(cache=True)
def cal_set(key, nxt, prv, bkt, head, ovf, inv_width, mi, j, t):
    """Give neuron j the key t (insert, move, or remove when t is inf)."""
    mask = mi[MASK]
    if bkt[j] != ABSENT:
        _unlink(nxt, prv, head, ovf, j, bkt[j], mask)
        mi[SIZE] -= 1
        if mi[TOP_OK] == 1 and mi[TOP_J] == j:
            mi[TOP_OK] = 0
    key[j] = t
    if t == np.inf:
        bkt[j] = ABSENT
        return
    b = max(int(t * inv_width), mi[CUR])
    if b > mi[BASE] + mask:
        b = OVERFLOW
    bkt[j] = b
    _link(nxt, prv, head, ovf, j, b, mask)
    mi[SIZE] += 1
    if mi[TOP_OK] == 1:
        k = mi[TOP_J]
        if t < key[k] or (t == key[k] and j < k):
            mi[TOP_J] = j


@nb.njit(cache=True, inline="always")
def _list_min(key, nxt, q):
    bj, bt = -1, np.inf
    while q >= 0:
        if key[q] < bt or (key[q] == bt and q < bj):
            bj, bt = q, key[q]
        q = nxt[q]
    return bt, bj


@nb.njit(cache=True)
def cal_top(key, nxt, prv, bkt, head, ovf, inv_width, mi):
    """(time, neuron) of the minimum, or (inf, -1) when empty."""
    if mi[TOP_OK] == 1:
        return key[mi[TOP_J]], mi[TOP_J]
    if mi[SIZE] == 0:
        return np.inf, -1
    mask = mi[MASK]
    for b in range(mi[CUR], mi[BASE] + mask + 1):
        if head[b & mask] >= 0:
            bt, bj = _list_min(key, nxt, head[b & mask])
            mi[TOP_OK], mi[TOP_J] = 1, bj
            return bt, bj
    bt, bj = _list_min(key, nxt, ovf[0])        # only entries beyond this year remain
    mi[TOP_OK], mi[TOP_J] = 1, bj
    return bt, bj


@nb.njit(cache=True)
def cal_advance(key, nxt, prv, bkt, head, ovf, inv_width, mi, t):
    """Time moved forward to t: move the current bucket; at a new year, bring overflow
    entries that now fall inside it into their buckets."""
    b = int(t * inv_width)
    if b <= mi[CUR]:
        return
    mi[CUR] = b
    mask = mi[MASK]
    while b > mi[BASE] + mask:
        mi[BASE] += mask + 1
        q = ovf[0]
        while q >= 0:
            n = nxt[q]
            kb = max(int(key[q] * inv_width), mi[CUR])
            if kb <= mi[BASE] + mask:
                _unlink(nxt, prv, head, ovf, q, OVERFLOW, mask)
                bkt[q] = kb
                _link(nxt, prv, head, ovf, q, kb, mask)
            q = n


def make_calendar(n: int, width: float, bits: int) -> tuple:
    nb_ = 1 << bits
    return (np.full(n, np.inf), np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.full(n, ABSENT, np.int64),
            np.full(nb_, -1, np.int64), np.full(1, -1, np.int64), 1.0 / width,
            np.array([0, 0, nb_ - 1, 0, 0, -1], np.int64))


@nb.njit(cache=True)
def pattern_heap(key, who, pos, size, iters, seed):
    np.random.seed(seed)
    for j in range(N):
        indexed_heap.iset(key, who, pos, size, j, np.random.exponential(20.0))
    acc = 0.0
    for _ in range(iters):
        t, j = key[0], who[0]
        indexed_heap.iset(key, who, pos, size, j, t + np.random.exponential(5.0))
        i = np.random.randint(N)
        nt = t + np.random.exponential(3.0)
        if nt < key[pos[i]]:
            indexed_heap.iset(key, who, pos, size, i, nt)
        acc += t * (j + 1)
    return acc


@nb.njit(cache=True)
def pattern_tree(key, who, iters, seed):
    np.random.seed(seed)
    for j in range(N):
        heap.cset(key, who, j, np.random.exponential(20.0))
    leaf0 = key.size // 2
    acc = 0.0
    for _ in range(iters):
        t, j = key[1], who[1]
        heap.cset(key, who, j, t + np.random.exponential(5.0))
        i = np.random.randint(N)
        nt = t + np.random.exponential(3.0)
        if nt < key[leaf0 + i]:
            heap.cset(key, who, i, nt)
        acc += t * (j + 1)
    return acc


@nb.njit(cache=True)
def pattern_calendar(key, nxt, prv, bkt, head, ovf, inv_width, mi, iters, seed):
    np.random.seed(seed)
    for j in range(N):
        cal_set(key, nxt, prv, bkt, head, ovf, inv_width, mi, j, np.random.exponential(20.0))
    acc = 0.0
    for _ in range(iters):
        t, j = cal_top(key, nxt, prv, bkt, head, ovf, inv_width, mi)
        cal_advance(key, nxt, prv, bkt, head, ovf, inv_width, mi, t)
        cal_set(key, nxt, prv, bkt, head, ovf, inv_width, mi, j, t + np.random.exponential(5.0))
        i = np.random.randint(N)
        nt = t + np.random.exponential(3.0)
        if nt < key[i]:
            cal_set(key, nxt, prv, bkt, head, ovf, inv_width, mi, i, nt)
        acc += t * (j + 1)
    return acc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--calendars", default="0.01:14,0.05:12,0.2:10",
                    help="comma-separated width_ms:log2(buckets) pairs")
    args = ap.parse_args(argv)
    if args.iters < 1 or args.reps < 1:
        ap.error("--iters and --reps must be >= 1")
    try:
        cals = [(float(w), int(b)) for w, b in (c.split(":") for c in args.calendars.split(","))]
    except ValueError:
        ap.error(f"--calendars={args.calendars!r}: expected width_ms:bits pairs, e.g. 0.01:14,0.05:12")
    if any(not (w > 0 and 1 <= b <= 24) for w, b in cals):
        ap.error("--calendars: width must be > 0 ms and bits in [1, 24]")
    pattern_heap(*indexed_heap.make_indexed(N), 100, 0)
    pattern_tree(*heap.make_checks(N), 100, 0)
    for w, b in cals:
        pattern_calendar(*make_calendar(N, w, b), 100, 0)
    times: dict[str, list[float]] = {}
    for rep in range(args.reps):                      # alternate the structures in every repeat
        t0 = time.perf_counter()
        ref = pattern_heap(*indexed_heap.make_indexed(N), args.iters, rep)
        times.setdefault("heap", []).append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = pattern_tree(*heap.make_checks(N), args.iters, rep)
        times.setdefault("tree (the engine's since 2026-11-23)", []).append(time.perf_counter() - t0)
        if got != ref:
            raise SystemExit(f"the tree popped a different sequence than the heap (rep {rep})")
        for w, b in cals:
            t0 = time.perf_counter()
            got = pattern_calendar(*make_calendar(N, w, b), args.iters, rep)
            times.setdefault(f"calendar {w} ms x 2^{b}", []).append(time.perf_counter() - t0)
            if got != ref:
                raise SystemExit(f"calendar {w}:{b} popped a different sequence than the heap (rep {rep})")
    ns = {k: 1e9 * statistics.median(v) / args.iters for k, v in times.items()}
    for k, v in ns.items():
        print(f"{k:>38}: {v:6.1f} ns per iteration ({v / ns['heap']:.2f}x the heap)")
    out = dated_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"), "check_queue")
    write_results(os.path.dirname(out), os.path.basename(out),
                  {"ns_per_iteration_median": ns, "iters": args.iters, "reps": args.reps, "neurons": N,
                   "same_pop_sequence": True},
                  command="python3.11 benchmarks/check_queue.py " + " ".join(sys.argv[1:] if argv is None else argv),
                  machine=machine())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
