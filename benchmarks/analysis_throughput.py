"""Streaming throughput and peak RSS of eventsim.analysis.spike_stats (rates + ISI + CV),
for the numpy and the numba backends.

Writes a synthetic SONATA spike log sorted by time (Poisson spikes, uniform node ids;
64 Ki-row chunks like eventsim's writer), then analyses it ``--runs`` times, each run in
a fresh subprocess whose peak RSS is taken from os.wait4. Prints every run and the
median, and writes them to benchmarks/results/analysis_throughput_<date>.json. The log is
deleted afterwards unless --keep.

    python3.11 benchmarks/analysis_throughput.py --spikes 100000000 --neurons 100000
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_json import dated_path, write_results  # noqa: E402

CHILD = r"""
import json, sys, time
from eventsim.analysis import spike_stats
path, chunk, backend = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if backend == "numba":  # compile (or load the cached kernel) outside the timed region
    import numpy as np
    from eventsim.analysis.kernels import isi_kernel
    z = np.zeros(1, np.int64)
    isi_kernel(np.zeros(1), z, z.copy(), np.full(1, np.nan), z.copy(), np.zeros(1), np.zeros(1),
               np.zeros(4, np.int64), -7)
t0 = time.perf_counter()
s = spike_stats(path, chunk_rows=chunk or None, backend=backend)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "n_spikes": s.n_spikes, "mean_rate": s.mean_rate,
                  "mean_cv": s.mean_cv}))
"""


def write_log(path: str, n_spikes: int, n_neurons: int, rate_hz: float, seed: int) -> None:
    """Time-sorted Poisson log: population rate n_neurons*rate_hz, ids uniform."""
    rng = np.random.default_rng(seed)
    block = 1 << 22
    chunk = 1 << 16
    mean_gap = 1e3 / (n_neurons * rate_hz)  # ms
    sorting = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
    with h5py.File(path, "w", libver=("v110", "v110")) as f:
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        f.attrs.create("version", [0, 1], dtype=np.uint32)
        g = f.create_group("spikes/bench")
        g.attrs.create("sorting", 2, dtype=sorting)
        g.attrs["n_nodes"] = np.uint64(n_neurons)
        ts = g.create_dataset("timestamps", shape=(n_spikes,), dtype=np.float64, chunks=(chunk,))
        ts.attrs["units"] = "ms"
        ids = g.create_dataset("node_ids", shape=(n_spikes,), dtype=np.uint64, chunks=(chunk,))
        t_last = 0.0
        for a in range(0, n_spikes, block):
            m = min(block, n_spikes - a)
            t = t_last + np.cumsum(rng.exponential(mean_gap, m))
            t_last = float(t[-1])
            ts[a:a + m] = t
            ids[a:a + m] = rng.integers(0, n_neurons, m, dtype=np.uint64)
        f.attrs["t_start"], f.attrs["t_stop"] = 0.0, t_last     # the interval the log covers (ms)


def run_once(path: str, chunk_rows: int, backend: str) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, path, str(chunk_rows), backend],
                            stdout=subprocess.PIPE, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"analysis run failed with exit code {proc.returncode}")
    res = json.loads(out)
    res["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    res["spikes_per_s"] = res["n_spikes"] / res["seconds"]
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spikes", type=float, default=1e8)
    p.add_argument("--neurons", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=10.0, help="per-neuron rate (Hz)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--chunk-rows", type=int, default=0, help="0: library default")
    p.add_argument("--backend", nargs="+", default=["numpy", "numba"],
                   choices=["numpy", "numba"])
    p.add_argument("--path", default="/tmp/eventsim_bench_spikes.h5")
    p.add_argument("--keep", action="store_true", help="keep the log for further runs")
    args = p.parse_args(argv)
    n = int(args.spikes)
    results = {}
    try:
        if not os.path.exists(args.path):
            t0 = time.perf_counter()
            write_log(args.path, n, args.neurons, args.rate, seed=1)
            print(f"wrote {n:.3g} spikes ({os.path.getsize(args.path) / 2**30:.2f} GiB) "
                  f"in {time.perf_counter() - t0:.1f} s")
        for backend in args.backend:
            runs = []
            for k in range(args.runs):
                r = run_once(args.path, args.chunk_rows, backend)
                runs.append(r)
                print(f"[{backend}] run {k + 1}: {r['seconds']:.2f} s, "
                      f"{r['spikes_per_s'] / 1e6:.1f} M spikes/s, peak RSS {r['peak_rss_mb']:.0f} MB "
                      f"(mean rate {r['mean_rate']:.4f} Hz, mean CV {r['mean_cv']:.6f})")
            med = {k: statistics.median(r[k] for r in runs)
                   for k in ("seconds", "spikes_per_s", "peak_rss_mb")}
            print(f"[{backend}] median of {len(runs)}: {med['seconds']:.2f} s, "
                  f"{med['spikes_per_s'] / 1e6:.1f} M spikes/s, peak RSS {med['peak_rss_mb']:.0f} MB")
            results[backend] = {"runs": runs, "median": med}
        out = dated_path(os.path.join(ROOT, "benchmarks", "results"), "analysis_throughput")
        print(write_results(os.path.dirname(out), os.path.basename(out), {
            "command": " ".join([os.path.basename(sys.argv[0])] + (argv if argv is not None else sys.argv[1:])),
            "spikes": n, "neurons": args.neurons, "rate_hz": args.rate, "backends": results}))
    finally:
        if not args.keep and os.path.exists(args.path):
            os.remove(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
