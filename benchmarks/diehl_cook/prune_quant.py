"""Pruning + quantisation of a trained Diehl & Cook network (Rathi, Panda & Roy style).

    python benchmarks/diehl_cook/prune_quant.py --n 100 --weights benchmarks/diehl_cook/runs/dc_n100_weights.h5 --test 2000

Loads the final snapshot of a trained network into a frozen (non-plastic) network and compares,
with the same protocol (labels from the first `--assign` training images, scores on the 500 validation
images and the first `--test` t10k images):
  baseline   the trained weights;
  pruned     per exc neuron, the `--fraction` (default 0.5) smallest input weights removed
             (learning.pruning.prune_fraction: they leave the CSR);
  pruned+q4  then the remaining input weights rounded to 4 evenly spaced levels: per neuron between
             its own smallest and largest weight (--quantize-mode neuron, the default:
             learning.pruning.quantize_per_neuron), a Lloyd-Max codebook per neuron (--quantize-mode
             lloyd), or one grid in [0, w_max] with w_max the largest remaining weight (shared:
             learning.pruning.quantize);
  q4         quantisation alone.
For each: accuracy, input sparsity, net.graph.nbytes(), synaptic events per sample and per
second of the test pass. Labels are re-assigned after each change (cheap: no retraining).
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, data, write_json  # noqa: E402
from script_args import ArgumentParser, existing_file, positive_int, run  # noqa: E402
from train_eval import parse_set  # noqa: E402

from dataclasses import replace  # noqa: E402
from eventsim.learning.pruning import prune_fraction, quantize, quantize_per_neuron  # noqa: E402
from eventsim.models.diehl_cook import (DCParams, DiehlCook, accuracy, assign_labels, classify,  # noqa: E402
                                        N_INPUT)


def score(m, Xtr, ytr, Xva, yva, Xte, yte):
    ra = m.responses(Xtr)
    asg = assign_labels(ra, ytr)
    rv = m.responses(Xva)
    s0 = dict(m.net.stats)
    t0 = time.process_time()
    rt = m.responses(Xte)
    dt = time.process_time() - t0
    syn = m.net.stats["syn_events"] - s0["syn_events"]
    ev = m.net.stats["events"] - s0["events"]
    _, _, w = m.p_in.weights()
    return {"val_acc": accuracy(classify(rv, asg), yva), "test_acc": accuracy(classify(rt, asg), yte),
            "input_synapses": int(w.size), "input_sparsity": 1.0 - w.size / (N_INPUT * m.n),
            "input_nonzero": int(np.count_nonzero(w)), "distinct_input_weights": int(np.unique(w).size),
            "graph_nbytes": int(m.net.graph.nbytes()), "test_cpu_s": dt,
            "test_samples_per_cpu_s": len(Xte) / dt, "syn_events_per_sample": syn / len(Xte),
            "events_per_sample": ev / len(Xte), "syn_events_per_cpu_s": syn / dt, "events_per_cpu_s": ev / dt}


def main():
    ap = ArgumentParser()
    ap.add_argument("--n", type=positive_int, default=100)
    ap.add_argument("--weights", type=existing_file, required=True)
    ap.add_argument("--fraction", type=float, default=0.5)
    ap.add_argument("--levels", type=positive_int, default=4)
    ap.add_argument("--test", type=positive_int, default=2000)
    ap.add_argument("--assign", type=positive_int, default=1500, help="training images used for label assignment")
    ap.add_argument("--set", nargs="*", default=[])
    ap.add_argument("--quantize-mode", choices=("neuron", "lloyd", "shared"), default="neuron")
    ap.add_argument("--tag", default=None, help="results/prune_quant_<tag>.json (default: n<N>)")
    a = ap.parse_args()

    def quantise(m):
        if a.quantize_mode in ("neuron", "lloyd"):
            books = quantize_per_neuron(m.net, m.p_in, a.levels,
                                        method="lloyd" if a.quantize_mode == "lloyd" else "uniform")
            return books
        _, _, w = m.p_in.weights()
        return quantize(m.net, m.p_in, a.levels, w_min=0.0, w_max=float(w.max()))

    p = replace(DCParams(), **parse_set(a.set))
    (Xtr, ytr), (Xva, yva), (Xte, yte) = data()
    Xte, yte = Xte[:a.test], yte[:a.test]
    Xtr, ytr = Xtr[:a.assign], ytr[:a.assign]
    rows = {}

    def fresh():
        return DiehlCook.frozen_from(a.weights, a.n, p)

    m = fresh()
    rows["baseline"] = score(m, Xtr, ytr, Xva, yva, Xte, yte)
    print("baseline", rows["baseline"], flush=True)
    m = fresh()
    removed = prune_fraction(m.net, m.p_in, a.fraction)
    rows["pruned"] = {"removed": removed, **score(m, Xtr, ytr, Xva, yva, Xte, yte)}
    print("pruned", rows["pruned"], flush=True)
    grid = quantise(m)
    rows["pruned_quantized"] = {"levels_mV": grid, **score(m, Xtr, ytr, Xva, yva, Xte, yte)}
    print("pruned+q", rows["pruned_quantized"], flush=True)
    m = fresh()
    grid = quantise(m)
    rows["quantized"] = {"levels_mV": grid, **score(m, Xtr, ytr, Xva, yva, Xte, yte)}
    print("q", rows["quantized"], flush=True)
    doc = {"experiment": "post-training pruning (per-neuron fraction) and 4-level quantisation",
           "n_exc": a.n, "weights": os.path.relpath(os.path.abspath(a.weights), HERE), "fraction": a.fraction,
           "levels": a.levels, "quantize_mode": a.quantize_mode, "test_images": a.test,
           "assign_images": a.assign,
           "protocol": "labels re-assigned from the first assign_images training images after each change; "
                       "validation = 500 held-out train5k images; test = first test_images of t10k",
           "rows": rows}
    print(write_json(f"prune_quant_{a.tag or f'n{a.n}'}.json", doc))


if __name__ == "__main__":
    run(main)
