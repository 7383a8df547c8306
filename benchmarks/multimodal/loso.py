"""Audio-only leave-one-speaker-out: train the audio ensemble on four FSDD speakers (all their
recordings), test on the fifth (all 500 of its recordings); five folds.

    python benchmarks/multimodal/loso.py [--epochs 2] [--n 100] [--speakers george jackson ...]

Same parameters as the audio ensemble of train.py (common.AUDIO_PARAMS, common.AUDIO); nothing is
tuned in this script, but those parameters were chosen by tune_audio.py on the validation
recordings (indices 5-9) of all five speakers, so each held-out speaker's indices 5-9 took part
in choosing them: the folds are not fully blind to the held-out voice. Labels are assigned from
the training speakers' responses. Writes
results/loso.json and results/loso.png; weights are not kept.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from script_args import ArgumentParser, UsageError, non_negative_int, positive_int, run  # noqa: E402
from eventsim.models.diehl_cook import assign_labels, classify, confusion  # noqa: E402
from eventsim.models.multimodal import Multimodal  # noqa: E402


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=positive_int, default=2)
    ap.add_argument("--n", type=positive_int, default=100)
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--speakers", nargs="*", default=None, help="held-out speakers (default: all five)")
    args = ap.parse_args()
    load0 = C.load_avg()
    X, y, spk = C.fsdd_splits(C.AUDIO, which=("all",))["all"]
    files, enc = C.fsdd_encoded(None, n_channels=C.AUDIO.n_channels)
    names = enc.speaker_names
    held = args.speakers or names
    unknown = [s for s in held if s not in names]
    if unknown:
        raise UsageError(f"--speakers: unknown speaker(s) {', '.join(unknown)} (allowed: {', '.join(names)})")
    kw = dict(n_image=0, n_audio=args.n, audio_params=C.AUDIO_PARAMS, audio=C.AUDIO)
    folds = []
    for s in held:
        sid = names.index(s)
        tr, te = np.flatnonzero(spk != sid), np.flatnonzero(spk == sid)
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        m = Multimodal(seed=args.seed, **kw)
        for _ in range(args.epochs):
            m.train(audio=X[rng.permutation(tr)])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "w.h5")
            m.save(path)
            f = Multimodal.frozen_from(path, **kw)
        r_tr = f.responses(audio=X[tr], cross="off", order_seed=0)["aud"]   # X is class-sorted
        a = assign_labels(r_tr, y[tr])
        r_te = f.responses(audio=X[te], cross="off", order_seed=0)["aud"]
        pred = classify(r_te, a)
        acc = float(np.mean(pred == y[te]))
        folds.append({"held_out": s, "n_train": int(tr.size), "n_test": int(te.size), "accuracy": acc,
                      "train_accuracy": float(np.mean(classify(r_tr, a) == y[tr])),
                      "confusion": confusion(pred, y[te]), "wall_s": time.perf_counter() - t0,
                      "assigned_per_class": np.bincount(a + 1, minlength=11)})
        print(f"  held out {s:10s}: {100 * acc:.1f} % (train speakers {100 * folds[-1]['train_accuracy']:.1f} %)"
              f"  {folds[-1]['wall_s']:.0f} s, load {C.load_avg()}", flush=True)
    mean = float(np.mean([f_["accuracy"] for f_ in folds]))
    doc = {"epochs": args.epochs, "n": args.n, "audio": C.AUDIO, "audio_params": C.AUDIO_PARAMS, "folds": folds,
           "mean_accuracy": mean, "loadavg_at_start": load0}
    print(C.write_json("loso.json", doc))
    print(f"leave-one-speaker-out mean: {100 * mean:.1f} %")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    v = [100 * f_["accuracy"] for f_ in folds]
    ax.bar(range(len(v)), v, color="C1")
    ax.axhline(100 * mean, color="k", ls="--", label=f"mean {100 * mean:.1f} %")
    ax.axhline(10, color="gray", ls=":", label="chance")
    ax.set_xticks(range(len(v)))
    ax.set_xticklabels([f_["held_out"] for f_ in folds])
    ax.set_ylabel("accuracy on held-out speaker (%)")
    ax.set_title(f"audio ensemble (N={args.n}), leave one speaker out")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(C.RESULTS, "loso.png"), dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    run(main)
