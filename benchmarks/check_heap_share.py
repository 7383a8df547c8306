"""Experiment: what share of a CUBA run goes to the engine's check queue?

The engine keys one threshold check per neuron in a tournament tree (`eventsim.heap.cset`;
until 2026-11-23 an indexed binary heap, kept in `indexed_heap.py`). A queue that cost nothing
would save at most the time of those operations. This script measures that ceiling on the real
operation sequence:

1. it copies the installed package to a temporary directory and patches the copy's engine so
   that every check update (insert, re-key, remove) is also logged as (neuron, time);
2. it runs the CUBA network (tests/conftest.make_cuba, seed 1) with the patched copy in a
   subprocess and saves the log;
3. it replays the logged operations on a fresh tree (the engine's `heap.cset`) and on a fresh
   indexed heap, which reproduces the queue states of the run exactly (the log starts with the
   priming of every neuron at build, 4000 of the operations), checks that both give the same
   minimum after every operation, and times both replays;
4. it times the unpatched engine on the same run, in this process.

    python3.11 benchmarks/check_heap_share.py [--duration 2000] [--reps 5]

The replay keeps the queue in cache undisturbed by the rest of the loop, so the share it gives
is a lower estimate. Writes benchmarks/results/check_heap_share_<date>.json.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import indexed_heap  # noqa: E402
from engine_log import alternate, logged_cuba_run, save  # noqa: E402

LOG_ROWS = 6_000_000               # about 12 s of CUBA (20.6 operations per spike)

_ISET = "    heap.cset(checks[0], checks[1], j, t_check)\n"
_LOGGED = _ISET + """    lg = checks[2]
    n = int(lg[0, 0])
    if n + 1 < lg.shape[0]:
        lg[n + 1, 0] = j
        lg[n + 1, 1] = t_check
        lg[0, 0] = n + 1
"""


@nb.njit(cache=True)
def replay_tree(key, who, js, ts):
    """Apply the logged operations to the check tree (key, who): a checksum of the minima."""
    s = 0
    for k in range(js.size):
        heap.cset(key, who, js[k], ts[k])
        s += who[1]
    return s


@nb.njit(cache=True)
def replay_heap(key, who, pos, size, js, ts):
    """The same on the indexed heap (key, who, pos, size)."""
    s = 0
    for k in range(js.size):
        indexed_heap.iset(key, who, pos, size, js[k], ts[k])
        s += who[0]
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2000.0, help="model time (ms)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rows, P, spikes = logged_cuba_run([("engine.py", _ISET, _LOGGED)], (LOG_ROWS, 2), args.duration)
    js, ts = rows[:, 0].astype(np.int64), rows[:, 1].copy()
    n = int(js.size)
    n_neurons = P.shape[0]
    if replay_tree(*heap.make_checks(n_neurons), js, ts) != \
            replay_heap(*indexed_heap.make_indexed(n_neurons), js, ts):
        sys.exit("check_heap_share.py: the tree and the heap disagree on a minimum")
    rep_s: list[float] = []
    heap_s: list[float] = []

    def replays():                   # both structures, each timed; alternate() interleaves the engine runs
        for fn, out in ((lambda: replay_tree(*heap.make_checks(n_neurons), js, ts), rep_s),
                        (lambda: replay_heap(*indexed_heap.make_indexed(n_neurons), js, ts), heap_s)):
            c = time.process_time()
            fn()
            out.append(time.process_time() - c)

    _, eng_s = alternate(replays, args.duration, args.reps)
    del rep_s[0], heap_s[0]          # alternate()'s warm-up call
    rep, eng, old = statistics.median(rep_s), statistics.median(eng_s), statistics.median(heap_s)
    res = {"duration_ms": args.duration, "spikes": spikes, "check_ops": n,
           "ops_per_spike": n / spikes, "replay_tree_s": rep_s, "replay_indexed_heap_s": heap_s, "engine_s": eng_s,
           "ns_per_op": 1e9 * rep / n, "ns_per_op_indexed_heap": 1e9 * old / n,
           "queue_us_per_spike": 1e6 * rep / spikes, "engine_us_per_spike": 1e6 * eng / spikes,
           "queue_share": rep / eng, "indexed_heap_share": old / eng}
    print(f"{n} check updates for {spikes} spikes ({res['ops_per_spike']:.1f} per spike)")
    print(f"replay: tree {1e3 * rep:.1f} ms ({res['ns_per_op']:.0f} ns per op), indexed heap {1e3 * old:.1f} ms "
          f"({res['ns_per_op_indexed_heap']:.0f} ns per op); engine {1e3 * eng:.0f} ms CPU: queue share "
          f"{100 * res['queue_share']:.1f}% ({res['queue_us_per_spike']:.2f} of {res['engine_us_per_spike']:.2f} us "
          f"per spike; the indexed heap's would be {100 * res['indexed_heap_share']:.1f}%)")
    save("check_heap_share", res)


if __name__ == "__main__":
    main()
