"""Evaluation speed of trained Diehl & Cook networks side by side (e.g. unpruned against pruned).

    python benchmarks/diehl_cook/prune_speed.py --n 100 --reps 5 --test 1000 \
        --weights runs/n100_inh400_rv100_3ep_weights.h5 runs/n100_rv100_prune17stop9000q4lloyd_weights.h5 \
        --set theta_plus=0.5 tau_theta=1.5e6 inh_scale=400 x_tar=0 eta_post=0.01 eta_pre=0.0001 reset_v=-100

Each weight file is loaded into a frozen network (the first file is the reference). The networks then
classify the same first `--test` t10k digits (each network has Poisson seed 1), in turns (A B A B ...),
`--reps` times, so that load changes hit all of them alike. Reported per network: the median CPU time
per digit (time.process_time), synaptic events per digit, events per CPU-s, input synapses and graph
bytes, and the time ratio against the reference. Writes results/prune_speed_<tag>.json.
"""
import os
import sys
import time
from dataclasses import replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import HERE, data, write_json  # noqa: E402
from script_args import ArgumentParser, existing_file, positive_int, run  # noqa: E402
from results_json import load_avg, machine  # noqa: E402
from train_eval import parse_set  # noqa: E402

from eventsim.models.diehl_cook import N_INPUT, DCParams, DiehlCook  # noqa: E402


def timed_pass(m: DiehlCook, X: np.ndarray) -> dict:
    """One classification pass (responses only); CPU seconds and event counts."""
    s0 = dict(m.net.stats)
    t0 = time.process_time()
    m.responses(X)
    cpu = time.process_time() - t0
    return {"cpu_s": cpu, "syn_events": m.net.stats["syn_events"] - s0["syn_events"],
            "events": m.net.stats["events"] - s0["events"]}


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=100)
    ap.add_argument("--weights", nargs="+", type=existing_file, required=True,
                    help="weight files; the first is the reference")
    ap.add_argument("--test", type=positive_int, default=1000, help="first this many t10k digits per pass")
    ap.add_argument("--reps", type=positive_int, default=5)
    ap.add_argument("--set", nargs="*", default=[], help="DCParams overrides the networks were trained with")
    ap.add_argument("--tag", default="n100")
    a = ap.parse_args()
    p = replace(DCParams(), **parse_set(a.set))
    _, _, (Xte, _) = data()
    X = Xte[:a.test]
    before = machine()                               # includes the load average before the passes
    nets = [DiehlCook.frozen_from(path, a.n, p) for path in a.weights]
    for m in nets:                                   # compile outside the timed passes
        m.responses(X[:5])
    passes = [[] for _ in nets]
    for _ in range(a.reps):
        for k, m in enumerate(nets):
            passes[k].append(timed_pass(m, X))
    rows = []
    for path, m, runs in zip(a.weights, nets, passes):
        cpu = float(np.median([r["cpu_s"] for r in runs]))
        syn = runs[0]["syn_events"] / len(X)
        _, _, w = m.p_in.weights()
        rows.append({"weights": os.path.relpath(os.path.abspath(path), HERE), "input_synapses": int(w.size),
                     "input_fraction_kept": w.size / (N_INPUT * a.n), "graph_bytes": int(m.net.graph.nbytes()),
                     "cpu_s_per_digit_median": cpu / len(X), "cpu_s_per_pass": [r["cpu_s"] for r in runs],
                     "syn_events_per_digit": syn, "events_per_digit": runs[0]["events"] / len(X),
                     "syn_events_per_cpu_s": syn * len(X) / cpu})
    for r in rows:
        r["time_ratio_vs_first"] = r["cpu_s_per_digit_median"] / rows[0]["cpu_s_per_digit_median"]
        r["syn_events_ratio_vs_first"] = r["syn_events_per_digit"] / rows[0]["syn_events_per_digit"]
        print(f"{r['weights']}: {1e3 * r['cpu_s_per_digit_median']:.2f} ms/digit "
              f"({r['time_ratio_vs_first']:.3f}x), {r['syn_events_per_digit'] / 1e3:.0f}k syn events/digit "
              f"({r['syn_events_ratio_vs_first']:.3f}x), {r['graph_bytes'] / 1e3:.0f} kB", flush=True)
    doc = {"experiment": "evaluation speed, networks in turns", "n_exc": a.n, "test_digits": len(X),
           "reps": a.reps, "overrides": parse_set(a.set), "machine": before, "loadavg_end": load_avg(),
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": rows}
    print(write_json(f"prune_speed_{a.tag}.json", doc))


if __name__ == "__main__":
    run(main)
