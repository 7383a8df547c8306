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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numba as nb
import numpy as np

import eventsim
from eventsim import heap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from results_json import machine, write_results  # noqa: E402

LOG_ROWS = 6_000_000               # about 12 s of CUBA (20.6 operations per spike)

_ISET = "    heap.iset(checks[0], checks[1], checks[2], checks[3], j, t_check)\n"
_LOGGED = _ISET + """    lg = checks[4]
    n = int(lg[0, 0])
    if n + 1 < lg.shape[0]:
        lg[n + 1, 0] = j
        lg[n + 1, 1] = t_check
        lg[0, 0] = n + 1
"""
_MAKE = "return np.full(n, np.inf), np.zeros(n, np.int64), np.full(n, -1, np.int64), np.zeros(1, np.int64)"

_CHILD = """
import sys, time
sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]
sys.path.insert(0, {root!r}); sys.path.insert(1, {tests!r})
import numpy as np
import eventsim
assert eventsim.__file__.startswith({root!r}), eventsim.__file__
from conftest import make_cuba
net = make_cuba(seed=1); net.build(); net.run(0.0)     # the log holds the priming too
lg = net._engine.checks[4]
net.run({duration!r}, progress=False)
n = int(lg[0, 0])
np.savez({out!r}, j=lg[1:n + 1, 0].astype(np.int64), t=lg[1:n + 1, 1], spikes=net.stats["spikes"],
         full=n + 1 >= lg.shape[0])
"""


def patched_copy(root: str) -> None:
    """The installed package, with check-heap logging, under root/eventsim."""
    src = os.path.dirname(eventsim.__file__)
    dst = os.path.join(root, "eventsim")
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for sub in ("models", "learning"):            # installed as eventsim.models / eventsim.learning
        mod = __import__(f"eventsim.{sub}", fromlist=["_"])
        if not os.path.exists(os.path.join(dst, sub)):
            shutil.copytree(os.path.dirname(mod.__file__), os.path.join(dst, sub),
                            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for name, old, new in (("engine.py", _ISET, _LOGGED),
                           ("heap.py", _MAKE, _MAKE + f", np.zeros(({LOG_ROWS}, 2))")):
        path = os.path.join(dst, name)
        text = open(path).read()
        if text.count(old) != 1:
            sys.exit(f"check_heap_share: cannot patch {name}; the engine changed, update this script")
        open(path, "w").write(text.replace(old, new))


@nb.njit(cache=True)
def replay(key, who, pos, size, js, ts):
    """Apply the logged operations to the indexed heap (key, who, pos, size): a checksum."""
    s = 0
    for k in range(js.size):
        heap.iset(key, who, pos, size, js[k], ts[k])
        s += who[0]
    return s


def run_engine(duration: float) -> float:
    from conftest import make_cuba
    net = make_cuba(seed=1)
    net.build()
    net.run(0.0)
    c = time.process_time()
    net.run(duration, progress=False)
    return time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2000.0, help="model time (ms)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        patched_copy(root)
        out = os.path.join(root, "log.npz")
        code = _CHILD.format(root=root, tests=os.path.join(HERE, "..", "tests"), duration=args.duration, out=out)
        subprocess.run([sys.executable, "-c", code], check=True)
        log = np.load(out)
        js, ts, spikes = log["j"], log["t"], int(log["spikes"])
        if bool(log["full"]):
            sys.exit("check_heap_share: log full; use a shorter --duration")
    replay(*heap.make_indexed(4000), js[:10], ts[:10])
    run_engine(10.0)
    rep_s, eng_s = [], []
    for _ in range(args.reps):                 # alternate, so drift hits both alike
        fresh = heap.make_indexed(4000)
        c = time.process_time()
        replay(*fresh, js, ts)
        rep_s.append(time.process_time() - c)
        eng_s.append(run_engine(args.duration))
    rep, eng = statistics.median(rep_s), statistics.median(eng_s)
    res = {"duration_ms": args.duration, "spikes": spikes, "heap_ops": int(js.size),
           "ops_per_spike": js.size / spikes, "replay_s": rep_s, "engine_s": eng_s,
           "ns_per_op": 1e9 * rep / js.size, "heap_us_per_spike": 1e6 * rep / spikes,
           "engine_us_per_spike": 1e6 * eng / spikes, "heap_share": rep / eng}
    print(f"{js.size} heap operations for {spikes} spikes ({res['ops_per_spike']:.1f} per spike)")
    print(f"replay {1e3 * rep:.1f} ms ({res['ns_per_op']:.0f} ns per op), engine {1e3 * eng:.0f} ms CPU: "
          f"heap share {100 * res['heap_share']:.1f}% ({res['heap_us_per_spike']:.2f} of "
          f"{res['engine_us_per_spike']:.2f} us per spike)")
    out = os.path.join(HERE, "results", f"check_heap_share_{time.strftime('%Y-%m-%d')}.json")
    write_results(os.path.dirname(out), os.path.basename(out), res,
                  command="python3.11 benchmarks/check_heap_share.py " + " ".join(sys.argv[1:]), machine=machine())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
