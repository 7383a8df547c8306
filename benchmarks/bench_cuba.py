"""CUBA head-to-head: eventsim vs Brian2 (Cython, C++ standalone) vs NEST (iaf_psc_exp, _ps),
and the machine's limit (a bare numba CSR scatter of the same spike list), in one invocation.

    python3.11 benchmarks/bench_cuba.py [--durations 1000 10000] [--repeats 3] [--skip brian2 nest]

Needs the reference venvs (`bash benchmarks/setup_venvs.sh`). Prints a table and writes
benchmarks/results/cuba_<date>.json. Synaptic events/s = sum over spikes of the emitter's
out-degree / wall time of the simulation proper; network build and compile/JIT time are reported
separately. The comparison is void unless mean rates agree within a few percent.

The repeats run in rounds (every simulator once per round). Each ratio is reported twice: between
the medians over rounds, and as the median of the per-round ratios ('paired'), which is less
exposed to the VM's drift over the minutes a block of runs takes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date

import numba as nb
import numpy as np

from results_json import dated_path, load_avg, write_results

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


@nb.njit(cache=True)
def _scatter(ids, grp_ptr, grp_start, post, weight, acc):
    """The limit: every spike's synapses touched once, no queue, no neuron model."""
    n = 0
    for s in ids:
        for g in range(grp_ptr[s], grp_ptr[s + 1]):
            for k in range(grp_start[g], grp_start[g + 1]):
                acc[post[k]] += weight[k]
                n += 1
    return n


def warm_up_eventsim(seed: int) -> float:
    """Wall time (s) of building and running a small CUBA network once: numba compiles the kernels
    here (or loads them from its cache), so the timed builds and runs below are warm. Reported as
    eventsim's compile time, as Brian2 standalone's C++ build is."""
    t0 = time.perf_counter()
    from conftest import make_cuba
    net = make_cuba(seed=seed, n=400)
    net.run(20.0, progress=False)
    return time.perf_counter() - t0


def run_eventsim(duration: float, seed: int) -> tuple[dict, np.ndarray]:
    import eventsim as es
    from conftest import make_cuba
    t0 = time.perf_counter()
    net = make_cuba(seed=seed)
    net.build()
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    net.run(duration, progress=False)
    run = time.perf_counter() - t1
    t, i = net.populations["cells"].spikes()
    st = net.stats
    return ({"simulator": "eventsim", "version": es.__version__, "model": "LIFExp (exact)", "build_s": build,
             "compile_s": None, "run_s": run, "n_spikes": int(t.size), "mean_rate_hz": t.size / 4000 / (duration / 1e3),
             "syn_events": st["syn_events"], "events_per_s": st["syn_events"] / run}, i)


def run_plastic(duration: float, seed: int) -> dict:
    """The same CUBA network with additive STDP on every excitatory synapse (w in [0, 3.24] mV)."""
    import eventsim as es
    from eventsim.learning import additive
    from eventsim.models import LIFExp
    from conftest import CUBA
    t0 = time.perf_counter()
    net = es.Network(seed=seed)
    cells = net.population(4000, LIFExp(**CUBA), v_init=es.uniform(-60.0, -50.0), name="cells")
    rule = additive(tau_plus=20.0, tau_minus=20.0, lambda_=0.001, alpha=1.05, w_max=3.24)
    net.connect(cells[:3200], cells, es.pairwise_bernoulli(0.02), weight=1.62, delay=0.1, plasticity=rule)
    net.connect(cells[3200:], cells, es.pairwise_bernoulli(0.02), weight=-9.0, delay=0.1)
    net.build()
    build = time.perf_counter() - t0
    net.run(0.0)
    t1 = time.perf_counter()
    net.run(duration, progress=False)
    run = time.perf_counter() - t1
    st = net.stats
    pl = net._engine.plast
    n_plastic = int(pl[6].size)
    extra = pl[6].nbytes                     # the post index (pl[7] is grp_start, shared)
    return {"simulator": "eventsim", "model": "LIFExp + additive STDP", "build_s": build, "compile_s": None,
            "run_s": run, "n_spikes": st["spikes"], "mean_rate_hz": st["spikes"] / 4000 / (duration / 1e3),
            "syn_events": st["syn_events"], "events_per_s": st["syn_events"] / run,
            "bytes_per_plastic_synapse": 8 + extra / max(n_plastic, 1)}


def run_limit(ids: np.ndarray, seed: int) -> dict:
    from conftest import make_cuba
    net = make_cuba(seed=seed)
    net.build()
    g = net.graph
    acc = np.zeros(4000)
    _scatter(ids[:10], g.grp_ptr, g.grp_start, g.post, g.weight, acc)        # compile
    t0 = time.perf_counter()
    n = _scatter(ids, g.grp_ptr, g.grp_start, g.post, g.weight, acc)
    run = time.perf_counter() - t0
    return {"simulator": "bare CSR scatter", "model": "no queue, no neuron", "run_s": run, "syn_events": int(n),
            "events_per_s": n / run, "n_spikes": int(ids.size)}


def run_reference(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    res = dict(ok[0])
    for key in ("build_s", "compile_s", "run_s", "events_per_s", "mean_rate_hz"):
        vals = [r[key] for r in ok if r.get(key) is not None]
        if vals:
            res[key] = statistics.median(vals)
    res["repeats"] = len(ok)
    res["run_s_all"] = [r["run_s"] for r in ok]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--durations", type=float, nargs="+", default=[1000.0, 10000.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip", nargs="*", default=[], choices=["brian2", "nest"])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    py_b2 = os.path.join(HERE, ".venv-brian2", "bin", "python")
    py_nest = os.path.join(HERE, ".venv-nest", "bin", "python")
    results = {"date": date.today().isoformat(), "command": " ".join(sys.argv),
               "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "rows": []}
    # numba compiles (or loads its cache) once per process, before any timed run; a cold compile in
    # round 1 was otherwise part of that round's run time and skewed its paired ratio
    compile_s = warm_up_eventsim(args.seed)
    print(f"eventsim compile/load (first build and run of a small network): {compile_s:.2f} s", flush=True)
    refs = []
    if "brian2" not in args.skip:
        refs += [[py_b2, os.path.join(HERE, "ref_cuba_brian2.py"), "--target", t] for t in ("cython", "cpp_standalone")]
    if "nest" not in args.skip:
        refs += [[py_nest, os.path.join(HERE, "ref_cuba_nest.py"), "--model", m] for m in ("iaf_psc_exp", "iaf_psc_exp_ps")]
    for duration in args.durations:
        # rounds: every simulator runs once per round, so that a ratio can also be taken between runs a
        # minute or two apart ('paired'), not only between medians of blocks that the VM's drift separates
        per_sim = [[] for _ in range(3 + len(refs))]
        for r in range(args.repeats):
            row, ids = run_eventsim(duration, args.seed)
            row["compile_s"] = compile_s
            per_sim[0].append(row)
            per_sim[1].append(run_limit(ids, args.seed))
            per_sim[2].append(run_plastic(duration, args.seed))
            for q, cmd in enumerate(refs):
                per_sim[3 + q].append(run_reference(cmd + ["--duration-ms", str(duration), "--seed", str(args.seed)]))
        rows = [median_of(runs) for runs in per_sim]
        es_rates = [r["events_per_s"] for r in per_sim[0]]
        for row, runs in zip(rows, per_sim):
            row["duration_ms"] = duration
            if "events_per_s" in row:
                row["eventsim_speedup"] = rows[0]["events_per_s"] / row["events_per_s"]      # ratio of medians
                paired = [e / x["events_per_s"] for e, x in zip(es_rates, runs) if "events_per_s" in x]
                row["eventsim_speedup_per_round"] = paired
                row["eventsim_speedup_paired"] = statistics.median(paired)                # median of round ratios
        results["rows"] += rows
        results.setdefault("load_after", {})[f"{duration:g}"] = load_avg()
        # the comparison is void unless rates agree: flag any simulator more than 5% from eventsim
        for row in rows[3:]:                 # the reference simulators (rows 0-2: eventsim, limit, STDP)
            if row.get("mean_rate_hz") and abs(row["mean_rate_hz"] / rows[0]["mean_rate_hz"] - 1.0) > 0.05:
                print(f"WARNING: {row.get('simulator')} {row.get('model') or row.get('target')} fires at "
                      f"{row['mean_rate_hz']:.2f} Hz against eventsim's {rows[0]['mean_rate_hz']:.2f} Hz (> 5% apart)")
                row["rate_disagrees"] = True
        print(f"\nCUBA, {duration:g} ms of model time, median of {args.repeats} (load {os.getloadavg()[0]:.1f})")
        print(f"{'simulator':<18}{'model':<26}{'rate Hz':>8}{'build s':>9}{'compile s':>10}{'run s':>9}"
              f"{'Mevents/s':>11}{'eventsim x':>11}{'paired x':>10}")
        for row in rows:
            if "error" in row:
                print(f"{row.get('simulator', '?'):<18} error: {row['error']}")
                continue
            fmt = lambda k, w, p: f"{row[k]:>{w}.{p}f}" if row.get(k) is not None else f"{'-':>{w}}"
            model = row.get("model") or row.get("target") or ""
            rp = 4 if row["simulator"] == "bare CSR scatter" else 2      # the limit row holds a fraction
            print(f"{row['simulator']:<18}{model:<26}{fmt('mean_rate_hz', 8, 2)}{fmt('build_s', 9, 2)}"
                  f"{fmt('compile_s', 10, 2)}{fmt('run_s', 9, 3)}{row['events_per_s'] / 1e6:>11.2f}"
                  f"{fmt('eventsim_speedup', 11, rp)}{fmt('eventsim_speedup_paired', 10, rp)}")
    out = args.out or dated_path(os.path.join(HERE, "results"), "cuba")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    out = write_results(os.path.dirname(os.path.abspath(out)), os.path.basename(out), results)
    print(f"\nwrote {out}  ('eventsim x' = eventsim's median events/s divided by that row's; 'paired x' = the"
          f" median over rounds of the same ratio within a round; for the limit row they are the fraction of the"
          f" limit eventsim reaches)")


if __name__ == "__main__":
    main()
