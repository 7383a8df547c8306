"""Writing experiment results as JSON (shared by the experiment folders under benchmarks/)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import asdict

import numpy as np

from eventsim.datasets import default_data_root

HERE = os.path.dirname(os.path.abspath(__file__))
# the shared data beside the repository (../shared/data from its root), or $EVENTSIM_DATA
DATA = default_data_root()


def git_commit() -> str | None:
    """The checked-out commit, or None outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def load_avg() -> str:
    """/proc/loadavg as text ('?' where it does not exist)."""
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def machine() -> dict:
    """CPU model, cores, memory (GiB), Python/numba/numpy/eventsim versions and the load average."""
    import numba

    import eventsim

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1), "python": platform.python_version(),
            "numba": numba.__version__, "numpy": np.__version__, "eventsim": eventsim.__version__,
            "load_avg": os.getloadavg()}


def dated_path(results_dir: str, stem: str) -> str:
    """results_dir/<stem>_<date>.json, or <stem>_<date>_runK.json (K = 2, 3, ...) if that exists, so a
    rerun on the same day never overwrites a recorded result."""
    base = os.path.join(results_dir, f"{stem}_{time.strftime('%Y-%m-%d')}")
    path, k = base + ".json", 2
    while os.path.exists(path):
        path, k = f"{base}_run{k}.json", k + 1
    return path


def write_results(results_dir: str, name: str, doc: dict, **extra) -> str:
    """Write {written (UTC), host, git_commit, machine (CPU, cores, memory, versions), **extra, **doc}
    to results_dir/name atomically (doc or extra may give their own machine); returns the path."""
    path = os.path.join(results_dir, name)
    doc = {"written": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "host": platform.node(),
           "git_commit": git_commit(), "machine": machine(), **extra, **doc}
    with open(path + ".tmp", "w") as fh:
        json.dump(doc, fh, indent=1, default=_default)
    os.replace(path + ".tmp", path)
    return path


def _default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)
    return repr(o)
