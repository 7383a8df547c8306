"""Logging what the engine does inside a CUBA run, for experiments that replay one part of it.

`logged_cuba_run` copies the installed package to a temporary directory, adds a float64 log
array to the check tree's tuple (as `checks[2]`; row 0 holds the count), applies text patches
that write rows into it, runs the CUBA network (tests/conftest.make_cuba, seed 1) with that copy
in a subprocess, and returns the rows. The unpatched engine is timed by `cuba_cpu_time` in the
calling process. Used by check_heap_share.py and solver_share.py.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import eventsim

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests")
sys.path.insert(0, TESTS)

_MAKE = "    return key, who\n"

_CHILD = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]
sys.path.insert(0, {root!r}); sys.path.insert(1, {tests!r})
import numpy as np
import eventsim
assert eventsim.__file__.startswith({root!r}), eventsim.__file__
from conftest import make_cuba
net = make_cuba(seed=1); net.build(); net.run(0.0)     # the log holds the priming too
net.run({duration!r}, progress=False)
e = net._engine
lg = e.checks[2]
n = int(lg[0, 0])
np.savez({out!r}, rows=lg[1:n + 1], P=e.P, spikes=net.stats["spikes"], full=n + 1 >= lg.shape[0])
"""


def _patched_copy(root: str, patches: list[tuple[str, str, str]], log_shape: tuple[int, int]) -> None:
    """The installed package under root/eventsim, with the log array and the given patches."""
    dst = os.path.join(root, "eventsim")
    shutil.copytree(os.path.dirname(eventsim.__file__), dst,
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for sub in ("models", "learning"):            # installed as eventsim.models / eventsim.learning
        mod = __import__(f"eventsim.{sub}", fromlist=["_"])
        if not os.path.exists(os.path.join(dst, sub)):
            shutil.copytree(os.path.dirname(mod.__file__), os.path.join(dst, sub),
                            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    for name, old, new in [("heap.py", _MAKE, f"    return key, who, np.zeros({log_shape})\n")] + patches:
        path = os.path.join(dst, name)
        text = open(path).read()
        if text.count(old) != 1:
            sys.exit(f"{os.path.basename(sys.argv[0])}: cannot patch {name}; the engine changed, update the script")
        open(path, "w").write(text.replace(old, new))


def logged_cuba_run(patches: list[tuple[str, str, str]], log_shape: tuple[int, int],
                    duration: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(log rows, P, spikes) of a CUBA run of `duration` ms with the patched engine copy."""
    with tempfile.TemporaryDirectory() as root:
        _patched_copy(root, patches, log_shape)
        out = os.path.join(root, "log.npz")
        code = _CHILD.format(root=root, tests=TESTS, duration=duration, out=out)
        subprocess.run([sys.executable, "-c", code], check=True)
        log = np.load(out)
        if bool(log["full"]):
            sys.exit(f"{os.path.basename(sys.argv[0])}: log full; use a shorter --duration")
        return log["rows"], log["P"], int(log["spikes"])


def cuba_cpu_time(duration: float) -> float:
    """CPU seconds of the unpatched engine for `duration` ms of the same CUBA run."""
    from conftest import make_cuba
    net = make_cuba(seed=1)
    net.build()
    net.run(0.0)
    c = time.process_time()
    net.run(duration, progress=False)
    return time.process_time() - c


def alternate(replay_once, duration: float, reps: int) -> tuple[list[float], list[float]]:
    """CPU seconds of `replay_once()` and of the unpatched engine's run, `reps` times each,
    alternating so that the machine's drift hits both alike (both are warmed up first)."""
    replay_once()
    cuba_cpu_time(10.0)
    rep_s, eng_s = [], []
    for _ in range(reps):
        c = time.process_time()
        replay_once()
        rep_s.append(time.process_time() - c)
        eng_s.append(cuba_cpu_time(duration))
    return rep_s, eng_s


def save(name: str, res: dict) -> None:
    """Write res to benchmarks/results/<name>_<date>.json with the command line and the machine."""
    from results_json import dated_path, machine, write_results
    path = dated_path(os.path.join(HERE, "results"), name)
    write_results(os.path.dirname(path), os.path.basename(path), res,
                  command=f"python3.11 benchmarks/{name}.py " + " ".join(sys.argv[1:]), machine=machine())
    print(f"wrote {path}")
