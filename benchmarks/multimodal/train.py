"""Train the multimodal network (image + audio Diehl & Cook ensembles, cross-modal STDP) and
validate it; writes results/<tag>_train.json, <tag>_cross_blocks.png and runs/<tag>_weights.h5.

    python benchmarks/multimodal/train.py [--pairs 4500] [--cross-pairs 2000] [--tag mm]
        [--set-img k=v ...] [--set-aud k=v ...] [--set-audio k=v ...] [--set-cross k=v ...]

Phase 1 (unimodal learning): each pair = a train5k training image of class c + an FSDD training
utterance of class c (indices 10-49), shown together; cross-modal input is off, so the two
ensembles learn independently (this is also how the unimodal baselines are trained).
Phase 2 (cross-modal learning): input weights and thresholds frozen, cross-modal projections
learn with STDP on new same-class pairs. Validation (train5k's 500 held-out images, FSDD indices
5-9) picks the cross-modal gain used by the test scripts.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from script_args import ArgumentParser, non_negative_int, positive_int, run  # noqa: E402
from eventsim.learning.crossmodal import CrossParams, class_blocks, order_by_class  # noqa: E402
from eventsim.models.diehl_cook import assign_labels  # noqa: E402
from eventsim.models.multimodal import Multimodal, pair_by_class  # noqa: E402

GAINS = (0.0, 1.0, 2.0, 4.0, 8.0)


def assignment_set(Xtr, ytr, Atr, atr, seed=1):
    """All training utterances, each paired with a training image of its class."""
    j = pair_by_class(atr, ytr, seed=seed)
    return Xtr[j], Atr, atr


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-img", type=positive_int, default=100)
    ap.add_argument("--n-aud", type=positive_int, default=100)
    ap.add_argument("--pairs", type=positive_int, default=4500)
    ap.add_argument("--cross-pairs", type=positive_int, default=2000)
    ap.add_argument("--tag", default="mm")
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--set-img", nargs="*", default=[])
    ap.add_argument("--set-aud", nargs="*", default=[])
    ap.add_argument("--set-audio", nargs="*", default=[])
    ap.add_argument("--set-cross", nargs="*", default=[])
    args = ap.parse_args()
    ip = C.set_overrides(C.IMAGE_PARAMS, args.set_img, "--set-img")
    dp = C.set_overrides(C.AUDIO_PARAMS, args.set_aud, "--set-aud")
    au = C.set_overrides(C.AUDIO, args.set_audio, "--set-audio")
    cp = C.set_overrides(CrossParams(), args.set_cross, "--set-cross")
    cfg = C.config_dict(ip, dp, au, cp, args.n_img, args.n_aud)
    print(f"load {C.load_avg()}", flush=True)

    (Xtr, ytr), (Xva, yva), _ = C.mnist()
    sp = C.fsdd_splits(au, which=("train", "val"))
    Atr, atr, _ = sp["train"]
    Ava, ava, _ = sp["val"]
    rng = np.random.default_rng(args.seed)
    weights = os.path.join(C.RUNS, f"{args.tag}_weights.h5")
    if os.path.exists(weights):
        os.unlink(weights)

    m = Multimodal(seed=args.seed, **C.model_kwargs(cfg))
    # phase 1: pairs, cross-modal off
    order = np.concatenate([rng.permutation(len(Xtr)) for _ in range(-(-args.pairs // len(Xtr)))])[:args.pairs]
    j = pair_by_class(ytr[order], atr, seed=args.seed)
    print(f"phase 1: {args.pairs} pairs, cross-modal input off", flush=True)
    t1 = m.train(Xtr[order], Atr[j], cross="off", log_every=500)
    m.save(weights, "unimodal")
    # phase 2: cross-modal STDP, inputs and thresholds frozen
    for e in m.ensembles:
        e.exc.set(theta_plus=0.0)
    order2 = rng.permutation(len(Xtr))[:args.cross_pairs]
    j2 = pair_by_class(ytr[order2], atr, seed=args.seed + 1)
    print(f"phase 2: {args.cross_pairs} pairs, cross-modal STDP", flush=True)
    t2 = m.train(Xtr[order2], Atr[j2], cross="learn", inputs="fixed", log_every=500)
    m.save(weights, "crossmodal")

    # validation
    f = Multimodal.frozen_from(weights, -1, **C.model_kwargs(cfg))
    Xas, Aas, yas = assignment_set(Xtr, ytr, Atr, atr)
    t0 = time.perf_counter()
    r_as = f.responses(Xas, Aas, cross="off", log_every=500, order_seed=0)   # listing is class-sorted
    assign = {k: assign_labels(r_as[k], yas) for k in r_as}
    jv = pair_by_class(yva, ava, seed=3)
    val = {}
    base = C.scale_cross(f, 1.0)
    for g in GAINS:
        C.scale_cross(f, g, base)
        r = f.responses(Xva, Ava[jv], cross="fixed")
        val[f"gain_{g:g}"] = C.accuracies(r, assign, yva)
        print(f"  val gain {g:g}: {val[f'gain_{g:g}']}", flush=True)
    C.scale_cross(f, 1.0, base)
    t_eval = time.perf_counter() - t0
    best = max([g for g in GAINS if g > 0], key=lambda g: (val[f"gain_{g:g}"]["fused_acc"], -g))

    # cross-modal weights as class-by-class blocks
    W = f.cross_matrices()
    blocks = {"img_aud": class_blocks(W["img_aud"], assign["img"], assign["aud"]),
              "aud_img": class_blocks(W["aud_img"], assign["aud"], assign["img"])}
    diag = {k: float(np.nanmean(np.diag(b))) for k, b in blocks.items()}
    off = {k: float(np.nanmean(b[~np.eye(10, dtype=bool)])) for k, b in blocks.items()}
    plot_cross(W, blocks, assign, os.path.join(C.RESULTS, f"{args.tag}_cross_blocks.png"))
    doc = {"config": cfg, "pairs": args.pairs, "cross_pairs": args.cross_pairs, "seed": args.seed,
           "phase1": t1, "phase2": t2, "eval_wall_s": t_eval, "assignment_samples": len(yas),
           "assigned_per_class": {k: np.bincount(v + 1, minlength=11).tolist() for k, v in assign.items()},
           "validation": val, "best_gain": best, "cross_blocks_mean": blocks,
           "cross_diag_mean": diag, "cross_offdiag_mean": off, "assignments": assign}
    print(C.write_json(f"{args.tag}_train.json", doc))
    print(f"best gain {best}; val {val[f'gain_{best:g}']}; cross diag/off {diag} {off}; load {C.load_avg()}")


def plot_cross(W, blocks, assign, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(2, 2, figsize=(10, 9))
    for row, (k, pre, post) in enumerate((("img_aud", "img", "aud"), ("aud_img", "aud", "img"))):
        oi, oa = order_by_class(assign[pre]), order_by_class(assign[post])
        im = ax[row, 0].imshow(W[k][np.ix_(oi, oa)], aspect="auto", cmap="viridis", interpolation="nearest")
        ax[row, 0].set_title(f"{k}: weights (neurons sorted by class)")
        ax[row, 0].set_xlabel(f"{post} neuron")
        ax[row, 0].set_ylabel(f"{pre} neuron")
        fig.colorbar(im, ax=ax[row, 0], label="w (D&C units)")
        im = ax[row, 1].imshow(blocks[k], cmap="magma", interpolation="nearest")
        ax[row, 1].set_title(f"{k}: mean weight per class block")
        ax[row, 1].set_xlabel(f"{post} class")
        ax[row, 1].set_ylabel(f"{pre} class")
        ax[row, 1].set_xticks(range(10))
        ax[row, 1].set_yticks(range(10))
        fig.colorbar(im, ax=ax[row, 1], label="mean w")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    run(main)
