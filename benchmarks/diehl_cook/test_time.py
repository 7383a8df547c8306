"""Presentation settings at evaluation time, on a trained network: validation only (never t10k).

    python benchmarks/diehl_cook/test_time.py runs/n400_inh100_10ep_weights.h5 --n 400 \
        --grid 1,2 0.5,2 0.25,2 1,4 0.5,4

Each grid point is inhibition factor,intensity: the frozen network's inhibitory weights are
multiplied by the factor and inputs fire at pixel / 8 * intensity Hz. Labels come from the 4500
training images under the same setting. Two read-outs are scored on the 500 validation images:
Diehl & Cook's mean response of each class's neurons ("mean"), and BindsNET's proportion
weighting ("proportion": each neuron votes for every class by its share of that class's mean
response). Writes results/test_time_<weights file stem>.json.
"""
import os
import sys
import time
from dataclasses import replace


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import data, write_json  # noqa: E402
from script_args import ArgumentParser, existing_file, number_pair, positive_int, run, UsageError  # noqa: E402
from train_eval import parse_set  # noqa: E402

from eventsim.learning.weights import synapses_of  # noqa: E402
from eventsim.models.diehl_cook import (DCParams, DiehlCook, accuracy, assign_labels, class_rates,  # noqa: E402
                                        classify, classify_proportion)


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", type=existing_file)
    ap.add_argument("--n", type=positive_int, required=True)
    ap.add_argument("--grid", nargs="+", type=number_pair, default=[(1.0, 2.0)],
                    help="inhibition factor (>= 0),intensity (> 0)")
    ap.add_argument("--set", nargs="*", default=[], help="DCParams overrides the network was trained with")
    ap.add_argument("--suffix", default="", help="appended to the JSON file name")
    a = ap.parse_args()
    for inh, intensity in a.grid:
        if inh < 0.0 or intensity <= 0.0:
            raise UsageError(f"--grid: each point is inhibition factor >= 0,intensity > 0; got {inh:g},{intensity:g}")
    (Xtr, ytr), (Xva, yva), _ = data()
    rows = []
    for inh, intensity in a.grid:
        m = DiehlCook.frozen_from(a.weights, a.n, replace(DCParams(), **{**parse_set(a.set), "intensity": intensity}))
        m.net.graph.weight[synapses_of(m.net, m.p_ie)] *= inh
        t0 = time.perf_counter()
        ra, rv = m.responses(Xtr), m.responses(Xva)
        row = {"inhibition_factor": inh, "intensity": intensity,
               "val_mean": accuracy(classify(rv, assign_labels(ra, ytr)), yva),
               "val_proportion": accuracy(classify_proportion(rv, class_rates(ra, ytr)), yva),
               "val_exc_spikes": float(rv.sum(1).mean()), "val_active_neurons": float((rv > 0).sum(1).mean()),
               "wall_s": time.perf_counter() - t0}
        print(row, flush=True)
        rows.append(row)
    doc = {"weights": os.path.basename(a.weights), "n": a.n, "overrides": parse_set(a.set), "rows": rows}
    print(write_json(f"test_time_{os.path.splitext(os.path.basename(a.weights))[0]}{a.suffix}.json", doc))


if __name__ == "__main__":
    run(main)
