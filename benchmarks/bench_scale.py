"""Scale sweep: N = 1e4, 1e5, 1e6 neurons, fixed in-degree 1000 (800 exc + 200 inh), about 5 Hz.

    python3.11 benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--duration 1000]

Each size runs in its own process (so peak RSS is its own) and reports build time, peak RSS,
bytes per synapse (graph arrays, and whole-process RSS), synaptic events/s, and the limit: a
numba loop that scatters the same spike list through the same CSR with no queue and no neuron
model (DRAM-bound at these sizes). Writes benchmarks/results/scale_<date>.json.

The network: LIFDelta neurons (tau_m 20 ms, threshold 20 mV, reset 10 mV, t_ref 2 ms) with a
heterogeneous bias v_inf ~ U(18.6, 20.1) mV, excitatory 0.1 mV and inhibitory -0.5 mV synapses,
delay 1.5 ms. It fires at 4.5-6 Hz without any external input (measured 4.56-5.83 Hz).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date

HERE = os.path.dirname(os.path.abspath(__file__))


def scale_network(es, models, n: int, seed: int):
    """(network, population), unbuilt: n LIFDelta neurons, fixed in-degree 800 excitatory + 200 inhibitory.
    `es` and `models` are the eventsim package and its models module (ab_engine.py passes renamed copies)."""
    net = es.Network(seed=seed)
    cells = net.population(n, models.LIFDelta(tau_m=20.0, v_rest=0.0, v_reset=10.0, v_th=20.0, t_ref=2.0,
                                              i_bias=es.uniform(18.6, 20.1)),
                           v_init=es.uniform(0.0, 20.0), name="cells")
    ne = int(0.8 * n)
    net.connect(cells[:ne], cells, es.fixed_indegree(800), weight=0.1, delay=1.5)
    net.connect(cells[ne:], cells, es.fixed_indegree(200), weight=-0.5, delay=1.5)
    return net, cells


def one(n: int, duration: float, seed: int) -> dict:
    import numpy as np
    import eventsim as es
    from eventsim import models
    sys.path.insert(0, HERE)
    from bench_cuba import _scatter
    t0 = time.perf_counter()
    net, cells = scale_network(es, models, n, seed)
    net.build()
    build = time.perf_counter() - t0
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    net.run(0.0)                                            # load the compiled loop
    t1 = time.perf_counter()
    c1 = time.process_time()
    net.run(duration, chunk=max(duration / 20, 1.0), progress=False)
    run = time.perf_counter() - t1
    run_cpu = time.process_time() - c1
    t, ids = cells.spikes()
    st = net.stats
    g = net.graph
    acc = np.zeros(n)
    _scatter(ids[:10] + cells.offset, g.grp_ptr, g.grp_start, g.post, g.weight, acc)
    t2 = time.perf_counter()
    n_sc = _scatter(ids + cells.offset, g.grp_ptr, g.grp_start, g.post, g.weight, acc)
    limit = time.perf_counter() - t2
    return {"n_neurons": n, "n_synapses": g.n_synapses, "duration_ms": duration, "build_s": build,
            "run_s": run, "run_cpu_s": run_cpu, "load_avg_after_run": list(os.getloadavg()), "rate_hz": t.size / n / (duration / 1e3), "syn_events": st["syn_events"],
            "events_per_s": st["syn_events"] / run, "events_per_cpu_s": st["syn_events"] / run_cpu, "graph_bytes_per_synapse": g.nbytes() / g.n_synapses,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30,
            "rss_after_build_gb": rss_build / 2**30,
            "rss_bytes_per_synapse": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / g.n_synapses,
            "limit_events_per_s": n_sc / limit, "fraction_of_limit": (st["syn_events"] / run) / (n_sc / limit)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--duration", type=float, default=1000.0, help="model time (ms)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.duration, args.seed)))
        return
    sys.path.insert(0, HERE)
    from results_json import dated_path, machine
    rows = []
    for n in args.sizes:
        wall = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--duration", str(args.duration),
                              "--seed", str(args.seed)], capture_output=True, text=True)
        if out.returncode != 0:
            rows.append({"n_neurons": n, "error": out.stderr.strip().splitlines()[-1]})
        else:
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        rows[-1]["wall_s"] = time.perf_counter() - wall
        r = rows[-1]
        print(json.dumps(r), flush=True)
    res = {"date": date.today().isoformat(), "machine": machine(), "rows": rows}
    out = args.out or dated_path(os.path.join(HERE, "results"), "scale")
    with open(out, "w") as fh:
        json.dump(res, fh, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
