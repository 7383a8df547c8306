"""Strong scaling over MPI ranks, the per-window exchange cost, and the Allgatherv alpha/beta fit.

    python3.11 benchmarks/bench_mpi.py [--neurons 100000 1000000] [--duration 200] [--ranks 1 2] [--reps 3]

Network (the same for every rank count): N LIFDelta neurons with heterogeneous bias, in-degree 100
(80 excitatory at +0.8 mV, 20 inhibitory at -5.0 mV, fixed_indegree), delay 1.5 ms everywhere, so the
exchange window is 1.5 ms. 1e6 neurons are 1e8 synapses, about 0.8 GB of CSR in total (each rank
builds its share) plus 192 bytes of neuron state per neuron on every rank.

For each rank count R, one `mpiexec -n R` launch builds the network (build time reported on its
own), runs a warm-up of 20 ms (compiles or loads the loop), then times `reps` consecutive segments
of `duration` ms each (median reported). Per window it reports the exchange time (collective +
scheduling received spikes; max over ranks), the time inside the collective alone, and the bytes.
With R > 1 a micro-benchmark then times the exchange collective alone on synthetic windows of
0..1e6 bytes (Allgatherv of packed buffers vs mpi4py's pickled allgather) and fits
cost = alpha + beta * bytes_received, the input of benchmarks/comm_model.py.

Because the machine is shared, each row also reports CPU time per rank (engine and receive side,
thread CPU time, so time spent descheduled or polling inside MPI is excluded) and a load-robust
estimate: busiest rank's CPU time + windows x the micro-benchmarked collective at that message
size, against the 1-rank CPU time ("idle_estimate_speedup"). The wall-clock ratio ("speedup") is
the measurement; the estimate says what an idle machine would give.

Writes benchmarks/results/mpi_<date>.json (machine info and load average before and after each run).
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
K_IN = 100


def make_net(n: int):
    import eventsim as es
    from eventsim.models import LIFDelta
    net = es.Network(seed=1)
    cells = net.population(n, LIFDelta(tau_m=20.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0,
                                       i_bias=es.uniform(18.6, 20.1)), v_init=es.uniform(0.0, 20.0), name="cells")
    ne = int(0.8 * n)
    net.connect(cells[:ne], cells, es.fixed_indegree(80), weight=0.8, delay=1.5)
    net.connect(cells[ne:], cells, es.fixed_indegree(20), weight=-5.0, delay=1.5)
    return net


def microbench(run, reps: int = 200) -> list[dict]:
    """Time the exchange collective alone (after a barrier) for synthetic windows."""
    import numpy as np
    rows = []
    for total_bytes in (0, 1_600, 16_000, 160_000, 1_600_000):
        n_local = total_bytes // 16 // run.size
        t = np.sort(np.random.default_rng(run.rank).random(n_local))
        i = np.arange(n_local, dtype=np.int64) + run.rank * n_local
        row = {"bytes_received": 16 * n_local * run.size}
        for mode in ("allgatherv", "allgather"):
            run.exchange = mode
            r = max(10, reps if total_bytes < 1_000_000 else reps // 10)
            samples = []
            for _ in range(r):
                run.comm.Barrier()
                t0 = time.perf_counter()
                run._allgather(t, i)
                samples.append(time.perf_counter() - t0)
            worst = run.comm.allreduce(float(np.median(samples)), op=__import__("mpi4py").MPI.MAX)
            row[f"{mode}_us"] = 1e6 * worst
        run.exchange = "allgatherv"
        rows.append(row)
    return rows


def worker(n: int, duration: float, reps: int) -> None:
    import numpy as np
    from eventsim import distributed as dist
    net = make_net(n)
    t0 = time.perf_counter()
    run = dist.DistributedRun(net)
    run.comm.Barrier()
    build = run.comm.allreduce(time.perf_counter() - t0, op=__import__("mpi4py").MPI.MAX)
    run.run(20.0)                                        # warm-up: load/compile the loop
    segs = []
    for _ in range(reps):
        s0 = np.array(list(run.net.stats.values()), np.int64)
        x0, c0, w0, b0 = run.exchange_s, run.comm_s, run.windows, run.bytes_received
        cc0, cr0 = run.cpu_compute_s, run.cpu_receive_s
        run.comm.Barrier()
        t1 = time.perf_counter()
        p1 = time.thread_time()
        run.run(duration)
        p1 = time.thread_time() - p1
        run.comm.Barrier()
        wall = time.perf_counter() - t1
        if run.size == 1:
            cpu = (p1, 0.0)
        else:
            cpu = (run.cpu_compute_s - cc0, run.cpu_receive_s - cr0)
        cpus = run.comm.gather(cpu, root=0)
        ev = run.comm.allreduce(np.array(list(run.net.stats.values()), np.int64) - s0)
        xs = run.comm.gather((run.exchange_s - x0, run.comm_s - c0), root=0)
        w = run.windows - w0
        segs.append({"run_s": wall, "syn_events": int(ev[1]), "spikes": int(ev[2]),
                     "cpu_compute_s": [c[0] for c in cpus] if cpus else None,
                     "cpu_receive_s": [c[1] for c in cpus] if cpus else None,
                     "windows": w, "bytes_per_window": (run.bytes_received - b0) / max(w, 1),
                     "exchange_ms_per_window": 1e3 * max(x[0] for x in xs) / max(w, 1) if xs else 0.0,
                     "collective_ms_per_window": 1e3 * max(x[1] for x in xs) / max(w, 1) if xs else 0.0})
    micro = microbench(run) if run.size > 1 else []
    if run.rank == 0:
        walls = sorted(s["run_s"] for s in segs)
        med = walls[len(walls) // 2]
        mid = next(s for s in segs if s["run_s"] == med)
        print(json.dumps({"ranks": run.size, "n_neurons": n, "k_in": K_IN, "n_synapses": n * K_IN,
                          "duration_ms": duration, "reps": reps, "build_s": build,
                          "run_s_median": med, "run_s_all": [s["run_s"] for s in segs],
                          "rate_hz": mid["spikes"] / n / (duration / 1e3),
                          "syn_events": mid["syn_events"], "events_per_s": mid["syn_events"] / med,
                          "windows": mid["windows"], "bytes_per_window": mid["bytes_per_window"],
                          "exchange_ms_per_window": mid["exchange_ms_per_window"],
                          "collective_ms_per_window": mid["collective_ms_per_window"],
                          "exchange_fraction": mid["exchange_ms_per_window"] * mid["windows"] / 1e3 / med,
                          "cpu_compute_s_per_rank": mid["cpu_compute_s"],
                          "cpu_receive_s_per_rank": mid["cpu_receive_s"],
                          "cpu_busy_s_max_rank_median": sorted(max(a + b for a, b in zip(sg["cpu_compute_s"],
                                                                                         sg["cpu_receive_s"]))
                                                               for sg in segs)[len(segs) // 2],
                          "microbench": micro}))


def fit_alpha_beta(micro: list[dict], key: str) -> dict:
    import numpy as np
    x = np.array([m["bytes_received"] for m in micro], float)
    y = np.array([m[key] for m in micro], float) * 1e-6
    beta, alpha = np.polyfit(x, y, 1)
    return {"alpha_s": float(alpha), "beta_s_per_byte": float(beta), "bandwidth_gb_s": float(1e-9 / beta)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--duration", type=float, default=200.0)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.neurons[0], args.duration, args.reps)
        return
    sys.path.insert(0, HERE)
    from results_json import dated_path, machine
    mpiexec = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
    rows = []
    for n in args.neurons:
        for r in args.ranks:
            load0 = os.getloadavg()
            w0 = time.time()
            out = subprocess.run([mpiexec, "-n", str(r), sys.executable, __file__, "--worker", "--neurons", str(n),
                                  "--duration", str(args.duration), "--reps", str(args.reps)],
                                 capture_output=True, text=True)
            if out.returncode == 0:
                row = json.loads(out.stdout.strip().splitlines()[-1])
            else:
                row = {"ranks": r, "n_neurons": n, "error": out.stderr[-800:]}
            row["load_avg_before"], row["load_avg_after"] = load0, os.getloadavg()
            row["launch_wall_s"] = time.time() - w0
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "microbench"}), flush=True)
    for n in args.neurons:
        base = next((r for r in rows if r["n_neurons"] == n and r["ranks"] == 1 and "run_s_median" in r), None)
        for row in rows:
            if base and row["n_neurons"] == n and "run_s_median" in row:
                row["speedup"] = base["run_s_median"] / row["run_s_median"]
                row["build_speedup"] = base["build_s"] / row["build_s"]
    import numpy as np
    for n in args.neurons:
        base = next((r for r in rows if r["n_neurons"] == n and r["ranks"] == 1 and "run_s_median" in r), None)
        for row in rows:
            if not (base and row["n_neurons"] == n and "run_s_median" in row and row["ranks"] > 1):
                continue
            # load-robust estimate: CPU time of the busiest rank (engine + receive side, excluding time
            # descheduled or polling in MPI) plus the collective's cost on an idle machine (micro-benchmark,
            # interpolated at this run's bytes per window), against the 1-rank CPU time
            mb = row.get("microbench") or []
            if mb:
                coll = float(np.interp(row["bytes_per_window"], [m["bytes_received"] for m in mb],
                                       [m["allgatherv_us"] for m in mb])) * 1e-6
                est = row["cpu_busy_s_max_rank_median"] + row["windows"] * coll
                row["idle_estimate_run_s"] = est
                row["idle_estimate_speedup"] = base["cpu_busy_s_max_rank_median"] / est
    micro = [m for r in rows for m in r.get("microbench", [])]
    res = {"date": date.today().isoformat(), "machine": machine(), "command": " ".join(sys.argv),
           "network": f"LIFDelta, in-degree {K_IN} (80 exc +0.8 mV, 20 inh -5.0 mV), delay 1.5 ms (= window)",
           "rows": rows}
    if micro:
        res["alpha_beta_allgatherv"] = fit_alpha_beta(micro, "allgatherv_us")
        res["alpha_beta_allgather_pickle"] = fit_alpha_beta(micro, "allgather_us")
    path = dated_path(os.path.join(HERE, "results"), "mpi")
    with open(path, "w") as fh:
        json.dump(res, fh, indent=2)
    print(json.dumps({k: v for k, v in res.items() if k.startswith("alpha")}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
