"""Training throughput (samples/s, one core) of the Diehl & Cook network and where time goes.

    python benchmarks/diehl_cook/throughput.py --n 400 --samples 150     # -> results/throughput_n400.json

Measures, on the same digits: (1) plastic training (STDP + normalisation + retries), after a
warm-up so that every neuron's post trace is live; (2) the same digits on a non-plastic copy
(no STDP, frozen theta); (3) a split of the wall time into the event loop (net.run) and the
Python work between presentations (set_rate, normalisation, spike counting), by cProfile.
"""
import cProfile
import os
import pstats
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import data, write_json  # noqa: E402
from script_args import ArgumentParser, dataclass_overrides, non_negative_int, positive_int, run  # noqa: E402

from eventsim.models.diehl_cook import DCParams, DiehlCook  # noqa: E402
from dataclasses import replace  # noqa: E402


def main():
    ap = ArgumentParser()
    ap.add_argument("--n", type=positive_int, default=400)
    ap.add_argument("--samples", type=positive_int, default=150)
    ap.add_argument("--warmup", type=non_negative_int, default=100)
    ap.add_argument("--set", nargs="*", default=[])
    a = ap.parse_args()
    kw = dataclass_overrides(DCParams(), a.set)
    p = replace(DCParams(), **kw)
    (X, _), _, _ = data()
    m = DiehlCook(a.n, p, seed=0)
    t0 = time.perf_counter()
    m.net.build()
    build_s = time.perf_counter() - t0
    m.train(X[:a.warmup])
    imgs = X[a.warmup:a.warmup + a.samples]
    prof = cProfile.Profile()
    prof.enable()
    tr = tr_counts = m.train(imgs)
    prof.disable()
    tr_counts = tr.pop("counts")
    st = pstats.Stats(prof)
    run_s = sum(v[3] for k, v in st.stats.items() if k[2] == "run" and "network.py" in k[0])
    norm_s = sum(v[3] for k, v in st.stats.items() if k[2] == "__call__" and "homeostasis" in k[0])
    rate_s = sum(v[3] for k, v in st.stats.items() if k[2] == "set_rate")
    count_s = sum(v[3] for k, v in st.stats.items() if k[2] == "_new_counts")
    path = tempfile.mktemp(suffix=".h5")
    m.save(path)
    f = DiehlCook.frozen_from(path, a.n, p)
    os.unlink(path)
    f.responses(imgs[:5])
    s0 = dict(f.net.stats)
    t0 = time.process_time()
    f.responses(imgs)
    frozen_s = time.process_time() - t0
    fs = {k: f.net.stats[k] - s0[k] for k in s0}
    doc = {"n_exc": a.n, "params_overrides": kw, "warmup_samples": a.warmup, "samples": a.samples,
           "build_s": build_s,
           "train": {"samples_per_cpu_s": tr["samples_per_cpu_s"], "cpu_s": tr["cpu_s"],
                     "samples_per_wall_s": tr["samples_per_s"], "wall_s": tr["wall_s"],
                     "presentations": tr["presentations"], "retries": tr["retries"],
                     "per_sample": {k: tr[k] / a.samples for k in ("events", "syn_events", "spikes", "checks")},
                     "syn_events_per_cpu_s": tr["syn_events"] / tr["cpu_s"],
                     "ns_per_syn_event_wall_in_net_run": 1e9 * run_s / max(tr["syn_events"], 1),
                     "exc_spikes_per_sample": float(tr_counts.sum(1).mean())},
           "profile_split_s": {"event_loop_net_run": run_s, "normalisation": norm_s, "set_rate": rate_s,
                               "spike_counting": count_s, "total_profiled": tr["wall_s"]},
           "frozen": {"samples_per_cpu_s": a.samples / frozen_s,
                      "per_sample": {k: fs[k] / a.samples for k in fs},
                      "ns_per_syn_event_cpu": 1e9 * frozen_s / max(fs["syn_events"], 1)},
           "note": "throughput in samples per CPU second of this process (process_time): the 2-core machine "
                   "was shared with other jobs, so wall time overstates the cost; numba runs single-threaded. "
                   "The profile split is cProfile wall time (with profiling overhead)"}
    print(write_json(f"throughput_n{a.n}.json", doc))
    import json
    print(json.dumps({k: doc[k] for k in ("train", "profile_split_s", "frozen")}, indent=1, default=float))


if __name__ == "__main__":
    run(main)
