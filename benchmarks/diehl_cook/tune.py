"""Validation-only tuning of the current-based mapping: train on part of the 4500-image train
split, assign labels from the frozen responses to n_assign train images, score on the 500
validation images. Never touches t10k. Appends one row per run to results/tune.json.

    python benchmarks/diehl_cook/tune.py --n 100 --train 1500 --set w_scale=60 inh_scale=40
"""
import json, os, sys, tempfile, time
from dataclasses import replace
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, data, write_json
from script_args import ArgumentParser, dataclass_overrides, non_negative_int, positive_int, run
from eventsim.models.diehl_cook import DCParams, DiehlCook, assign_labels, classify, accuracy


def main():
    ap = ArgumentParser()
    ap.add_argument("--n", type=positive_int, default=100)
    ap.add_argument("--train", type=positive_int, default=1500)
    ap.add_argument("--assign", type=positive_int, default=1000)
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--set", nargs="*", default=[])
    a = ap.parse_args()

    kw = dataclass_overrides(DCParams(), a.set)
    p = replace(DCParams(), **kw)
    (Xtr, ytr), (Xva, yva), _ = data()
    t0 = time.perf_counter()
    m = DiehlCook(a.n, p, seed=a.seed)
    idx = np.arange(a.train) % len(Xtr)
    tr = m.train(Xtr[idx], log_every=500)
    counts = tr.pop("counts")
    path = tempfile.mktemp(suffix=".h5")
    m.save(path)
    f = DiehlCook.frozen_from(path, a.n, p)
    os.unlink(path)
    t1 = time.perf_counter()
    ra = f.responses(Xtr[:a.assign])
    asg = assign_labels(ra, ytr[:a.assign])
    rv = f.responses(Xva)
    acc = accuracy(classify(rv, asg), yva)
    row = {"n": a.n, "train": a.train, "assign": a.assign, "set": kw, "val_acc": acc,
           "train_samples_per_s": tr["samples_per_s"], "eval_s": time.perf_counter() - t1,
           "mean_train_spikes": float(counts.sum(1).mean()), "retries": tr["retries"],
           "val_mean_spikes": float(rv.sum(1).mean()), "silent_neurons": int((asg < 0).sum()),
           "class_counts": np.bincount(asg[asg >= 0], minlength=10).tolist(), "wall_s": time.perf_counter() - t0}
    print(json.dumps(row))
    fn = os.path.join(RESULTS, "tune.json")
    rows = json.load(open(fn))["runs"] if os.path.exists(fn) else []
    rows.append(row)
    write_json("tune.json", {"split": "train5k: 4500 train / 500 validation (50 per class, seed 0)", "runs": rows})


if __name__ == "__main__":
    run(main)
