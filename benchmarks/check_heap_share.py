"""Experiment: what share of a CUBA run goes to the engine's check heap?

The engine keys one threshold check per neuron in an indexed binary heap (`eventsim.heap`). A
queue that cost nothing would save at most the time of those heap operations. This script
measures that ceiling on the real operation sequence:

1. it copies the installed package to a temporary directory and patches the copy's engine so
   that every `heap.iset` of a check (insert, re-key, remove) is also logged as (neuron, time);
2. it runs the CUBA network (tests/conftest.make_cuba, seed 1) with the patched copy in a
   subprocess and saves the log;
3. it replays the logged operations on a fresh indexed heap with the same `heap.iset`, which
   reproduces the heap states of the run exactly (the log starts with the priming of every
   neuron at build, 4000 of the operations), and times the replay;
4. it times the unpatched engine on the same run, in this process.

    python3.11 benchmarks/check_heap_share.py [--duration 2000] [--reps 5]

The replay keeps the heap in cache undisturbed by the rest of the loop, so the share it gives
is a lower estimate. Writes benchmarks/results/check_heap_share_<date>.json.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numba as nb
import numpy as np

from eventsim import heap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_log import alternate, logged_cuba_run, save  # noqa: E402

LOG_ROWS = 6_000_000               # about 12 s of CUBA (20.6 operations per spike)

_ISET = "    heap.iset(checks[0], checks[1], checks[2], checks[3], j, t_check)\n"
_LOGGED = _ISET + """    lg = checks[4]
    n = int(lg[0, 0])
    if n + 1 < lg.shape[0]:
        lg[n + 1, 0] = j
        lg[n + 1, 1] = t_check
        lg[0, 0] = n + 1
"""


@nb.njit(cache=True)
def replay(key, who, pos, size, js, ts):
    """Apply the logged operations to the indexed heap (key, who, pos, size): a checksum."""
    s = 0
    for k in range(js.size):
        heap.iset(key, who, pos, size, js[k], ts[k])
        s += who[0]
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2000.0, help="model time (ms)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rows, _, spikes = logged_cuba_run([("engine.py", _ISET, _LOGGED)], (LOG_ROWS, 2), args.duration)
    js, ts = rows[:, 0].astype(np.int64), rows[:, 1].copy()
    rep_s, eng_s = alternate(lambda: replay(*heap.make_indexed(4000), js, ts), args.duration, args.reps)
    rep, eng = statistics.median(rep_s), statistics.median(eng_s)
    res = {"duration_ms": args.duration, "spikes": spikes, "heap_ops": int(js.size),
           "ops_per_spike": js.size / spikes, "replay_s": rep_s, "engine_s": eng_s,
           "ns_per_op": 1e9 * rep / js.size, "heap_us_per_spike": 1e6 * rep / spikes,
           "engine_us_per_spike": 1e6 * eng / spikes, "heap_share": rep / eng}
    print(f"{js.size} heap operations for {spikes} spikes ({res['ops_per_spike']:.1f} per spike)")
    print(f"replay {1e3 * rep:.1f} ms ({res['ns_per_op']:.0f} ns per op), engine {1e3 * eng:.0f} ms CPU: "
          f"heap share {100 * res['heap_share']:.1f}% ({res['heap_us_per_spike']:.2f} of "
          f"{res['engine_us_per_spike']:.2f} us per spike)")
    save("check_heap_share", res)


if __name__ == "__main__":
    main()
