"""Diehl & Cook (2015) on eventsim: train, learning curve, receptive fields, weight histograms,
confusion matrix, and evaluation from weights + thresholds reloaded from HDF5.

    python benchmarks/diehl_cook/train_eval.py --n 100 --epochs 1 --test 10000

Data: train5k is split into 4500 training and 500 validation images (50 per class, seed 0);
t10k is used only for the final reported accuracy (never for tuning). Steps:
1. train on the 4500 images (`--epochs` passes, reshuffled each pass), saving a weight snapshot
   every `--every` samples to runs/dc_n{N}_weights.h5;
2. at each snapshot: reload it into a frozen network (no STDP, theta fixed), assign labels from
   the responses to `--assign` training images, and score the 500 validation images
   (learning curve);
3. at the end: reload the final snapshot from the HDF5 file, assign labels from the responses to
   all 4500 training images, score validation and the first `--test` t10k images;
4. write results/dc_n{N}.json and PNGs (learning curve, receptive fields, weight histograms,
   confusion matrix).
"""
import json
import os
import sys
import time
from dataclasses import asdict, replace

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, RESULTS, data, write_json  # noqa: E402
from script_args import (ArgumentParser, UsageError, fraction, non_negative_int, dataclass_overrides,  # noqa: E402
                         positive_float, positive_int, run)

from eventsim.analysis import plots  # noqa: E402
from eventsim.learning.pruning import PruneSchedule  # noqa: E402
from eventsim.models.diehl_cook import (DCParams, DiehlCook, N_INPUT, accuracy, assign_labels,  # noqa: E402
                                        class_rates, classify, classify_proportion, confusion)
from eventsim.weights_io import read_projection, snapshots  # noqa: E402

RUNS = os.path.join(HERE, "runs")


def parse_set(items):
    """--set name=value DCParams overrides (script_args.UsageError for a bad item)."""
    return dataclass_overrides(DCParams(), items)


def frozen_eval(path, n, p, snap, Xa, ya, Xv, yv, Xt=None, yt=None, seed=1):
    """Score one snapshot with frozen weights; `seed` draws the Poisson inputs of the evaluation."""
    f = DiehlCook.frozen_from(path, n, p, snapshot=snap, seed=seed)
    t0 = time.perf_counter()
    ra = f.responses(Xa)
    asg = assign_labels(ra, ya)
    rv = f.responses(Xv)
    rates = class_rates(ra, ya)
    out = {"val_acc": accuracy(classify(rv, asg), yv),
           "val_acc_proportion": accuracy(classify_proportion(rv, rates), yv), "assign_images": len(Xa),
           "silent_neurons": int(np.sum(asg < 0)),
           "neurons_per_class": np.bincount(asg[asg >= 0], minlength=10).tolist(),
           "val_mean_exc_spikes": float(rv.sum(1).mean())}
    if Xt is not None:
        s0 = dict(f.net.stats)
        t1 = time.process_time()
        rt = f.responses(Xt, log_every=2000)
        dt = time.process_time() - t1
        pred = classify(rt, asg)
        out.update(test_acc=accuracy(pred, yt), test_images=len(Xt), confusion=confusion(pred, yt),
                   test_acc_proportion=accuracy(classify_proportion(rt, rates), yt),
                   test_samples_per_cpu_s=len(Xt) / dt,
                   test_syn_events_per_cpu_s=(f.net.stats["syn_events"] - s0["syn_events"]) / dt,
                   test_mean_exc_spikes=float(rt.sum(1).mean()), retries_test=f.retries)
        out["assignments"] = asg
    out["eval_wall_s"] = time.perf_counter() - t0
    return out


def figures(doc, wpath, n, p, tag):
    made = {}
    lc = doc["learning_curve"]
    if lc:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        fig = Figure(figsize=(6, 4), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.plot([r["samples"] for r in lc], [100 * r["val_acc"] for r in lc], "o-")
        ax.set_xlabel("training samples")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"Diehl & Cook, N={n}: 500 validation images")
        ax.grid(alpha=0.3)
        made["learning_curve"] = os.path.join(RESULTS, f"{tag}_learning_curve.png")
        plots.save_figure(fig, made["learning_curve"], dpi=90)
    d = read_projection(wpath, "input_exc", -1)
    w = plots.dense_weights(d["pre"], d["post"], d["weight"] / p.w_scale, d["n_pre"], d["n_post"])
    made["receptive_fields"] = os.path.join(RESULTS, f"{tag}_rf.png")
    plots.save_figure(plots.plot_receptive_fields(w, max_tiles=min(n, 400),
                                                  title=f"receptive fields, N={n} (w / w_scale)"),
                      made["receptive_fields"], dpi=70 if n > 100 else 90)
    snaps = snapshots(wpath)
    step = max(1, len(snaps) // 6)
    pick = snaps[::step] + ([snaps[-1]] if (len(snaps) - 1) % step else [])
    data_ = [(lab, read_projection(wpath, "input_exc", nm)["weight"] / p.w_scale) for nm, _, lab in pick]
    made["weight_histograms"] = os.path.join(RESULTS, f"{tag}_whist.png")
    plots.save_figure(plots.plot_weight_histograms(data_, bins=60, log=True,
                                                   title=f"input weights over training, N={n}"),
                      made["weight_histograms"], dpi=90)
    if "confusion" in doc.get("final", {}):
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        # [10, 11]: the last column counts unclassified digits (older results: [10, 10], without it)
        cm = np.asarray(doc["final"]["confusion"])
        fig = Figure(figsize=(5.5, 4.6), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        im = ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="w" if cm[i, j] > 0.5 * cm[i].sum() else "k")
        ax.set_xticks(range(cm.shape[1]), [str(j) for j in range(cm.shape[0])]
                      + ["none"] * (cm.shape[1] - cm.shape[0]))
        ax.set_yticks(range(cm.shape[0]))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        f = doc["final"]
        ax.set_title(f"t10k[:{f['test_images']}], N={n}: {100 * f['test_acc']:.1f}%")
        fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of true class")
        made["confusion"] = os.path.join(RESULTS, f"{tag}_confusion.png")
        plots.save_figure(fig, made["confusion"], dpi=90)
    return {k: os.path.relpath(v, HERE) for k, v in made.items()}


def main():
    ap = ArgumentParser()
    ap.add_argument("--n", type=positive_int, default=100)
    ap.add_argument("--epochs", type=positive_float, default=1.0, help="passes over the 4500 training images")
    ap.add_argument("--every", type=positive_int, default=500, help="snapshot + validation every this many samples")
    ap.add_argument("--assign", type=positive_int, default=1000,
                    help="training images used for labels at checkpoints")
    ap.add_argument("--test", type=positive_int, default=10000,
                    help="first this many t10k images for the final score")
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--tag", default=None)
    ap.add_argument("--set", nargs="*", default=[], help="DCParams overrides, e.g. theta_plus=0.25")
    ap.add_argument("--eta-decay", type=positive_float, default=1.0,
                    help="learning rates are multiplied by this at the start of every pass after the first")
    ap.add_argument("--theta-decay", type=positive_float, default=1.0,
                    help="theta_plus is multiplied by this at the start of every pass after the first")
    ap.add_argument("--prune", type=fraction, default=0.0,
                    help="at every snapshot, per neuron, remove this fraction of the remaining input synapses "
                         "(smallest STDP-learned weights; they leave the CSR)")
    ap.add_argument("--prune-start", type=non_negative_int, default=0,
                    help="prune only at snapshots after this many training samples (let the fields settle first)")
    ap.add_argument("--prune-stop", type=non_negative_int, default=None,
                    help="prune only at snapshots up to this many training samples; training after it lets the "
                         "surviving weights recover (quantisation still runs at every snapshot)")
    ap.add_argument("--quantize", type=non_negative_int, default=0,
                    help="at every snapshot, round the surviving input weights to this many levels")
    ap.add_argument("--quantize-mode", choices=("neuron", "lloyd", "shared"), default="neuron",
                    help="levels evenly spaced between each neuron's own smallest and largest weight (neuron), "
                         "a Lloyd-Max codebook per neuron (lloyd), or one grid in the rule's bounds [0, w_max] "
                         "for all (shared)")
    ap.add_argument("--eval-seeds", type=positive_int, default=1,
                    help="repeat the final evaluation with this many Poisson input seeds (1, 2, ...) and report "
                         "each score and their mean; the first seed is the single-seed score")
    ap.add_argument("--final-only", action="store_true",
                    help="skip training: redo the final evaluation of an earlier run with this tag (same --set)")
    a = ap.parse_args()
    kw = parse_set(a.set)
    p = replace(DCParams(), **kw)
    tag = a.tag or f"dc_n{a.n}"
    os.makedirs(RUNS, exist_ok=True)
    wpath = os.path.join(RUNS, f"{tag}_weights.h5")
    if a.final_only:
        return final_only(a, p, tag, wpath)
    schedule = PruneSchedule(a.prune, a.quantize, "uniform" if a.quantize_mode == "neuron" else a.quantize_mode,
                             a.prune_start, a.prune_stop)     # checks --prune/--quantize before anything runs
    (Xtr, ytr), (Xva, yva), (Xte, yte) = data()      # before removing the old weights: data may be missing
    if os.path.exists(wpath):
        os.remove(wpath)
    total = int(round(a.epochs * len(Xtr)))
    rng = np.random.default_rng(a.seed)
    order = np.concatenate([rng.permutation(len(Xtr)) for _ in range(int(np.ceil(a.epochs)))])[:total]
    doc = {"experiment": "Diehl & Cook 2015 on eventsim (current-based AdaptiveLIFExp)", "n_exc": a.n,
           "params": asdict(p), "overrides": kw, "seed": a.seed,
           "split": "train5k -> 4500 train / 500 validation (50 per class, seed 0); t10k for the final score only",
           "train_samples": total, "epochs": a.epochs, "eta_decay": a.eta_decay, "theta_decay": a.theta_decay,
           "prune_per_snapshot": a.prune, "prune_start": a.prune_start, "prune_stop": a.prune_stop,
           "quantize_levels": a.quantize, "quantize_mode": a.quantize_mode,
           "weights_file": os.path.relpath(wpath, HERE),
           "learning_curve": [], "train": {}}
    m = DiehlCook(a.n, p, seed=a.seed)
    m.net.build()
    m.net.run(1.0, progress=False)      # compile the event loop outside the timed training (no input)
    m.save(wpath, "0 samples")
    wall_train = [0.0]
    stats_train = {"syn_events": 0, "events": 0, "spikes": 0, "presentations": 0, "retries": 0, "cpu_s": 0.0}
    t_start = time.perf_counter()
    done = 0
    while done < total:
        epoch = done // len(Xtr)
        if done % len(Xtr) == 0 and epoch > 0:
            m.set_learning(a.eta_decay ** epoch, p.theta_plus * a.theta_decay ** epoch)
        k = min(a.every, total - done, (epoch + 1) * len(Xtr) - done)
        out = m.train(Xtr[order[done:done + k]])
        done += k
        wall_train[0] += out["wall_s"]
        for key in stats_train:
            stats_train[key] += out[key]
        prune_row = prune_and_quantize(m, schedule, done) if (a.prune or a.quantize) else {}
        m.save(wpath, f"{done} samples")
        ev = frozen_eval(wpath, a.n, p, -1, Xtr[:a.assign], ytr[:a.assign], Xva, yva)
        row = {"samples": done, "val_acc": ev["val_acc"], "silent_neurons": ev["silent_neurons"],
               "neurons_per_class": ev["neurons_per_class"], "train_samples_per_s": out["samples_per_s"],
               "train_samples_per_cpu_s": out["samples_per_cpu_s"],
               "retries": out["retries"], "mean_theta_mV": float(np.mean(m.exc.get("theta"))),
               "train_exc_spikes_per_sample": float(out["counts"].sum(1).mean()),
               **prune_row, "eta_factor": a.eta_decay ** epoch, "theta_plus": p.theta_plus * a.theta_decay ** epoch,
               "wall_s": time.perf_counter() - t_start}
        doc["learning_curve"].append(row)
        doc["train"] = {"wall_s": wall_train[0], "samples_per_s": done / wall_train[0],
                        "samples_per_cpu_s": done / stats_train["cpu_s"], **stats_train}
        print(json.dumps(row), flush=True)
        write_json(f"{tag}.json", doc)
    doc["total_wall_s"] = time.perf_counter() - t_start
    finish(doc, a, p, tag, wpath, (Xtr, ytr), (Xva, yva), (Xte, yte))


def prune_and_quantize(m, schedule: PruneSchedule, done: int) -> dict:
    """One checkpoint of STDP-based pruning and weight quantisation during training.
    Returns what the learning curve records: input synapses left, their share, the graph size."""
    schedule.apply(m.net, m.p_in, done)
    n_in = m.p_in.n_synapses
    return {"input_synapses": n_in, "input_fraction_kept": n_in / (N_INPUT * m.n),
            "graph_bytes": int(m.net.graph.nbytes())}


def finish(doc, a, p, tag, wpath, train, val, test):
    """Final evaluation: reload from HDF5, labels from all training images, validation and t10k."""
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train, val, test
    fin = frozen_eval(wpath, a.n, p, -1, Xtr, ytr, Xva, yva, Xte[:a.test], yte[:a.test])
    doc["final"] = {"reloaded_from": os.path.relpath(wpath, HERE), "assign_images": len(Xtr), **fin}
    if a.eval_seeds > 1:
        runs = [fin] + [frozen_eval(wpath, a.n, p, -1, Xtr, ytr, Xva, yva, Xte[:a.test], yte[:a.test], seed=s)
                        for s in range(2, a.eval_seeds + 1)]
        keys = ("val_acc", "val_acc_proportion", "test_acc", "test_acc_proportion")
        doc["final"]["eval_seeds"] = {"seeds": list(range(1, a.eval_seeds + 1)),
                                      **{k: [r[k] for r in runs] for k in keys},
                                      **{f"{k}_mean": float(np.mean([r[k] for r in runs])) for k in keys}}
        print(json.dumps(doc["final"]["eval_seeds"]))
    doc["figures"] = figures(doc, wpath, a.n, p, tag)
    print(write_json(f"{tag}.json", doc))
    print(f"N={a.n}: val {fin['val_acc']:.4f}  t10k[:{a.test}] {fin['test_acc']:.4f}  "
          f"train {doc['train']['samples_per_cpu_s']:.1f} samples per cpu-s")


def final_only(a, p, tag, wpath):
    """--final-only: the final evaluation of the last snapshot of an earlier run (its JSON is kept
    and gets a new "final" section)."""
    path = os.path.join(RESULTS, f"{tag}.json")
    if not (os.path.exists(wpath) and os.path.exists(path)):
        raise UsageError(f"--final-only needs {wpath} and {path} from an earlier run with --tag {tag}")
    with open(path) as f:
        doc = json.load(f)
    if doc.get("overrides", {}) != parse_set(a.set):
        raise UsageError(f"--set must repeat the run's overrides {doc.get('overrides')}")
    doc["final_note"] = "final evaluation redone with --final-only on the last saved snapshot"
    finish(doc, a, p, tag, wpath, *data())


if __name__ == "__main__":
    run(main)
