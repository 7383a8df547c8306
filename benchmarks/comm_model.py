"""Communication model of eventsim's distributed runs, projected to 100 and 1000 nodes.

    python3.11 benchmarks/comm_model.py [--results benchmarks/results/mpi_<date>.json] [--rate 5]

Per window of length d (the minimum delay), with P ranks of n neurons each, in-degree K, rate nu:

    spikes sent per rank        s = n nu d
    bytes received per rank     B = P s b                       (Allgatherv: every rank gets every spike;
                                                                 b = 16 bytes: float64 time + int64 id)
    collective                  T_coll  = alpha ceil(log2 P) + beta B
    receive side                T_recv  = c_recv P s            (sort + schedule every received spike)
    compute                     T_comp  = n K nu d / E          (E: synaptic events/s of one rank)
    window cost                 T_win   = T_comp + T_coll + T_recv + T_wait
    comm fraction               (T_coll + T_recv) / T_win

T_wait (imbalance: every rank waits for the slowest at each collective) is not modelled; it is what
the measured "collective" time includes beyond the micro-benchmark. Directed communication
(Alltoallv, NEST 5g) sends a spike only to ranks holding a target: the expected share of ranks a
spike must reach is 1 - (1 - 1/P)^K, printed as "directed share".

alpha, beta, E and c_recv come from the latest benchmarks/results/mpi_*.json (bench_mpi.py): E is
synaptic events per CPU second of the 1-rank run of the largest size, c_recv the CPU time per
received spike (sort, schedule, record) of the 2-rank run. The interconnect rows use typical
InfiniBand figures instead of this VM's shared memory. c_recv is measured where every received
spike has local targets; at large P most do not (directed share < 1) and are skipped after the
sort, so the receive term is an upper bound there.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
B_SPIKE = 16
STATE_BYTES = 192          # P and S rows per neuron, replicated on every rank (see DESIGN.md)

# typical interconnects: (name, alpha s per step, beta s per byte)
NETWORKS = [("InfiniBand EDR (1.5 us, 12.5 GB/s)", 1.5e-6, 1 / 12.5e9),
            ("InfiniBand HDR (1.0 us, 25 GB/s)", 1.0e-6, 1 / 25e9)]


def measured(path: str | None) -> dict:
    if path is None:
        files = sorted(glob.glob(os.path.join(HERE, "results", "mpi_*.json")))
        path = files[-1] if files else None
    out = {"source": None, "alpha": 2e-5, "beta": 2e-10, "E": 1e7, "c_recv": 5e-8}
    if path is None:
        return out
    res = json.load(open(path))
    out["source"] = os.path.relpath(path, os.path.dirname(HERE))
    ab = res.get("alpha_beta_allgatherv")
    if ab:
        out["alpha"], out["beta"] = max(ab["alpha_s"], 1e-7), ab["beta_s_per_byte"]
    rows = [r for r in res.get("rows", []) if "run_s_median" in r]
    one = [r for r in rows if r["ranks"] == 1]
    # CPU-time based (the machine is shared: wall times include time descheduled)
    if one:
        big = max(one, key=lambda r: r["n_neurons"])
        out["E"] = big["syn_events"] / big.get("cpu_busy_s_max_rank_median", big["run_s_median"])
    two = [r for r in rows if r["ranks"] == 2 and r.get("bytes_per_window")]
    if two:
        big = max(two, key=lambda r: r["n_neurons"])
        spikes = big["bytes_per_window"] / B_SPIKE
        if "cpu_receive_s_per_rank" in big:
            recv = max(big["cpu_receive_s_per_rank"]) / big["windows"]
        else:
            recv = max(big["exchange_ms_per_window"] - big["collective_ms_per_window"], 0.0) * 1e-3
        if spikes > 0:
            out["c_recv"] = recv / spikes
        out["measured_2"] = big
    return out


def window(P: int, n: float, K: float, nu: float, d_ms: float, E: float, alpha: float, beta: float,
           c_recv: float) -> dict:
    d = d_ms * 1e-3
    s = n * nu * d
    B = P * s * B_SPIKE
    t_coll = alpha * math.ceil(math.log2(P)) + beta * B if P > 1 else 0.0
    t_recv = c_recv * P * s if P > 1 else 0.0
    t_comp = n * K * nu * d / E
    t_win = t_comp + t_coll + t_recv
    return {"P": P, "bytes": B, "t_comp": t_comp, "t_coll": t_coll, "t_recv": t_recv, "t_win": t_win,
            "frac": (t_coll + t_recv) / t_win, "rt": t_win / d, "directed": 1 - (1 - 1 / P) ** K,
            "state_gb": STATE_BYTES * n * P / 1e9}


def fmt_row(name: str, w: dict) -> str:
    return (f"| {name} | {w['P']} | {w['bytes'] / 1e6:.3g} | {1e3 * w['t_comp']:.3g} | {1e3 * w['t_coll']:.3g} | "
            f"{1e3 * w['t_recv']:.3g} | {100 * w['frac']:.1f}% | {w['rt']:.3g} | {w['directed']:.2f} | "
            f"{w['state_gb']:.3g} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=None, help="bench_mpi.py result (default: the latest)")
    ap.add_argument("--rate", type=float, default=5.0, help="mean rate (Hz) assumed for the NEST-like network")
    args = ap.parse_args()
    m = measured(args.results)
    print(f"measured ({m['source']}): alpha {1e6 * m['alpha']:.3g} us, beta {1e9 * m['beta']:.3g} ns/byte "
          f"({1e-9 / m['beta']:.3g} GB/s), E {m['E'] / 1e6:.3g} M events/s per rank, "
          f"c_recv {1e9 * m['c_recv']:.3g} ns per received spike")
    head = ("| network / interconnect | P | MB received per window | compute ms | collective ms | receive ms | "
            "comm fraction | wall / model time | directed share | replicated state GB per rank |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    # 1. the benchmark network of bench_mpi.py, weak scaling at 5e5 neurons per rank
    if "measured_2" in m:
        r = m["measured_2"]
        nu = r["rate_hz"]
        print(f"\nbench_mpi network (K = 100, d = 1.5 ms, nu = {nu:.3g} Hz measured), 5e5 neurons per rank:")
        print(head)
        for P in (2, 100, 1000):
            print(fmt_row("this VM (shared memory)", window(P, 5e5, 100, nu, 1.5, m["E"], m["alpha"], m["beta"],
                                                             m["c_recv"])))
        for name, a, b in NETWORKS:
            for P in (100, 1000):
                print(fmt_row(name, window(P, 5e5, 100, nu, 1.5, m["E"], a, b, m["c_recv"])))
    # 2. NEST HPC benchmark-like: K = 11250, d = 1.5 ms, 125,000 neurons per rank (Pronold et al. 2022)
    print(f"\nNEST HPC-benchmark-like network (K = 11250, d = 1.5 ms, nu = {args.rate:g} Hz assumed), "
          f"125,000 neurons per rank:")
    print(head)
    for name, a, b in NETWORKS:
        for P in (100, 1000):
            print(fmt_row(name, window(P, 125_000, 11_250, args.rate, 1.5, m["E"], a, b, m["c_recv"])))
    # 3. the K computer run (Kunkel et al. 2014; RIKEN/Juelich 2013): 82,944 nodes, 1.73e9 neurons,
    #    10.4e12 synapses, about 40 min per second of model time. Tofu: ~5 GB/s per link, ~1.5 us.
    P, N, S = 82_944, 1.73e9, 10.4e12
    w = window(P, N / P, S / N, args.rate, 1.5, m["E"], 1.5e-6, 1 / 5e9, m["c_recv"])
    per_s = 1000.0 / 1.5
    print(f"\nK computer run (P = {P}, N = {N:.3g}, K = {S / N:.0f}, nu = {args.rate:g} Hz assumed): Allgather "
          f"would bring {w['bytes'] / 1e6:.0f} MB per window to every node: collective {w['t_coll'] * per_s:.0f} s "
          f"and receive side {w['t_recv'] * per_s:.0f} s per second of model time, against about 2400 s "
          f"(40 min) measured in total; compute at this VM's E: {w['t_comp'] * per_s:.0f} s; "
          f"replicated state {w['state_gb']:.0f} GB per rank.")


if __name__ == "__main__":
    main()
