"""Strong scaling over MPI ranks and the per-window exchange cost.

    python3.11 benchmarks/bench_mpi.py [--neurons 100000] [--duration 200] [--ranks 1 2]

Runs the scale-sweep network (bench_scale.py: in-degree 1000, ~4 Hz, delay 1.5 ms = the window)
under `mpiexec -n R` for each R, and reports wall time of the run, speed-up against 1 rank, and the
time spent in the exchange (Allgather + scheduling) per window. Writes benchmarks/results/mpi_<date>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(n: int, duration: float) -> None:
    import numpy as np
    import eventsim as es
    from eventsim import distributed as dist
    from eventsim.models import LIFDelta
    net = es.Network(seed=1)
    cells = net.population(n, LIFDelta(tau_m=20.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0,
                                       i_bias=es.uniform(18.6, 20.1)), v_init=es.uniform(0.0, 20.0), name="cells")
    ne = int(0.8 * n)
    net.connect(cells[:ne], cells, es.fixed_indegree(800), weight=0.1, delay=1.5)
    net.connect(cells[ne:], cells, es.fixed_indegree(200), weight=-0.5, delay=1.5)
    t0 = time.perf_counter()
    run = dist.DistributedRun(net)
    build = time.perf_counter() - t0
    run.run(0.0)
    run.comm.Barrier()
    t1 = time.perf_counter()
    run.run(duration)
    run.comm.Barrier()
    wall = time.perf_counter() - t1
    stats = run.stats()
    ex = run.comm.gather({"exchange": run.exchange_s, "windows": run.windows}, root=0)
    if run.rank == 0:
        print(json.dumps({"ranks": run.size, "n_neurons": n, "duration_ms": duration, "build_s": build,
                          "run_s": wall, "syn_events": stats["syn_events"], "spikes": stats["spikes"],
                          "events_per_s": stats["syn_events"] / wall,
                          "exchange_s_max_rank": max(e["exchange"] for e in ex),
                          "windows": ex[0]["windows"],
                          "exchange_ms_per_window": 1e3 * max(e["exchange"] for e in ex) / max(ex[0]["windows"], 1)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=100_000)
    ap.add_argument("--duration", type=float, default=200.0)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.neurons, args.duration)
        return
    mpiexec = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
    rows = []
    for r in args.ranks:
        out = subprocess.run([mpiexec, "-n", str(r), sys.executable, __file__, "--worker", "--neurons",
                              str(args.neurons), "--duration", str(args.duration)], capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"ranks": r, "error": out.stderr[-500:]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0].get("run_s")
    for row in rows:
        if base and "run_s" in row:
            row["speedup"] = base / row["run_s"]
    sys.path.insert(0, HERE)
    from bench_cuba import machine
    res = {"date": date.today().isoformat(), "machine": machine(), "rows": rows}
    path = os.path.join(HERE, "results", f"mpi_{res['date']}.json")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
