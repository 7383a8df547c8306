"""Test-set experiments on a network trained by train.py (one command each):

    python benchmarks/multimodal/evaluate.py --experiment unimodal-image   [--tag mm] [--n-test 2000]
    python benchmarks/multimodal/evaluate.py --experiment unimodal-audio
    python benchmarks/multimodal/evaluate.py --experiment multimodal
    python benchmarks/multimodal/evaluate.py --experiment degraded-image    # pixel noise / dropout 25/50/75 %
    python benchmarks/multimodal/evaluate.py --experiment degraded-audio    # white noise 10/0/-5 dB SNR

Each writes results/<tag>_<experiment>[_n<N> unless --n-test 2000].json and a PNG. Test data: the first --n-test t10k images;
FSDD test split (indices 0-4, 250 utterances). Multimodal pairs: each test image is paired with a
test utterance of its class (cycling through the 25 per class, fixed seed). Unimodal: one
ensemble's input alone with cross-modal input off (its own label assignment). "late fusion" sums
the normalised class scores of the two unimodal responses (no cross-modal synapses);
"multimodal" shows both inputs together with the learned cross-modal synapses (gain: the best
fused validation accuracy among gains > 0 in train.py's validation) and fuses the two
ensembles' scores. Responses are cached in runs/.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from script_args import ArgumentParser, UsageError, positive_int, run  # noqa: E402
from eventsim.models.diehl_cook import assign_labels, classify, confusion  # noqa: E402
from eventsim.models.multimodal import class_scores, fuse, pair_by_class, pixel_dropout, pixel_noise  # noqa: E402

EXPERIMENTS = ("unimodal-image", "unimodal-audio", "multimodal", "degraded-image", "degraded-audio")
IMAGE_CONDITIONS = ["clean"] + [f"{k}{p}" for k in ("noise", "dropout") for p in (25, 50, 75)]
AUDIO_CONDITIONS = ["clean", "snr10", "snr0", "snr-5"]


class Evaluator:
    def __init__(self, tag: str, n_test: int, gain: float | None):
        self.tag, self.n_test = tag, n_test
        self.m, self.cfg, self.train_doc = C.load_trained(tag)
        self.gain = float(best_cross_gain(self.train_doc) if gain is None else gain)
        self.base = C.scale_cross(self.m, 1.0) if self.m.cross else None
        (self.Xtr, self.ytr), _, (Xte, yte) = C.mnist()
        if n_test > len(Xte):
            raise UsageError(f"--n-test must be an integer in [1, {len(Xte)}], got {n_test}")
        self.Xte, self.yte = Xte[:n_test], yte[:n_test].astype(np.int64)
        self.audio = C.AudioParams(**self.cfg["audio"])
        sp = C.fsdd_splits(self.audio, which=("train", "test"))
        self.Atr, self.atr, _ = sp["train"]
        self.Ate, self.ate, _ = sp["test"]
        self.j = pair_by_class(self.yte, self.ate, seed=0)         # test pairs: image k + utterance j[k]
        self._assign = None
        # what cached responses depend on besides their key: the weights file and the features
        self.source = (f"{C.file_digest(C.weights_path(tag))} {C.digest(repr(sorted(self.cfg['audio'].items())))} "
                       f"{C.encoder_source()}")

    def cached(self, key: str, fn):
        """fn()'s responses, cached in runs/ under the tag and key. The file also records the
        digest of the trained weights and of the audio features' settings: a network retrained
        under the same tag, or a changed front end, recomputes instead of reusing old responses."""
        path = os.path.join(C.RUNS, f"{self.tag}_resp_{key}.npz")
        if os.path.exists(path):
            with np.load(path) as z:
                if "_source" in z.files and str(z["_source"]) == self.source:
                    return {k: z[k] for k in z.files if k != "_source"}
            print(f"{path}: made for another trained network or front end; recomputing", flush=True)
        out = fn()
        np.savez(path + ".tmp.npz", _source=np.array(self.source), **out)
        os.replace(path + ".tmp.npz", path)
        return out

    def assignments(self) -> dict:
        if self._assign is None:
            from train import assignment_set
            Xas, Aas, yas = assignment_set(self.Xtr, self.ytr, self.Atr, self.atr)
            r = self.cached("assign", lambda: self.m.responses(Xas, Aas, cross="off", log_every=1000, order_seed=0))
            self._assign = {k: assign_labels(r[k], yas) for k in r}
        return self._assign

    def images(self, cond: str) -> np.ndarray:
        if cond == "clean":
            return self.Xte
        kind, pct = cond.rstrip("0123456789"), int(cond[len(cond.rstrip("0123456789")):])
        return (pixel_noise if kind == "noise" else pixel_dropout)(self.Xte, pct / 100.0, seed=11)

    def audio_test(self, cond: str) -> np.ndarray:
        if cond == "clean":
            return self.Ate
        return C.fsdd_splits(self.audio, snr_db=float(cond[3:]), which=("test",))["test"][0]

    # response sets -----------------------------------------------------------------------
    def image_only(self, cond):
        self.m.net  # noqa: B018
        return self.cached(f"img_{cond}_{self.n_test}",
                           lambda: self.m.responses(images=self.images(cond), cross="off", log_every=1000))["img"]

    def audio_only(self, cond):
        return self.cached(f"aud_{cond}",
                           lambda: self.m.responses(audio=self.audio_test(cond), cross="off", order_seed=0))["aud"]

    def paired(self, img_cond, aud_cond):
        def run():
            C.scale_cross(self.m, self.gain, self.base)
            return self.m.responses(self.images(img_cond), self.audio_test(aud_cond)[self.j], cross="fixed",
                                    log_every=1000)
        return self.cached(f"pair_{img_cond}_{aud_cond}_g{self.gain:g}_{self.n_test}", run)

    # summaries ------------------------------------------------------------------------------
    def condition(self, img_cond: str, aud_cond: str) -> dict:
        a = self.assignments()
        ri, ra = self.image_only(img_cond), self.audio_only(aud_cond)
        rp = self.paired(img_cond, aud_cond)
        si, sa = class_scores(ri, a["img"]), class_scores(ra, a["aud"])[self.j]
        pi, pa = classify(ri, a["img"]), classify(ra, a["aud"])
        sp_i, sp_a = class_scores(rp["img"], a["img"]), class_scores(rp["aud"], a["aud"])
        pred_mm = fuse(sp_i, sp_a)
        return {
            "image": img_cond, "audio": aud_cond,
            "unimodal_image_acc": float(np.mean(pi == self.yte)),
            "unimodal_audio_acc": float(np.mean(pa == self.ate)),          # each test utterance once
            "unimodal_audio_acc_pairs": float(np.mean(pa[self.j] == self.yte)),
            "late_fusion_acc": float(np.mean(fuse(si, sa) == self.yte)),
            "multimodal_acc": float(np.mean(pred_mm == self.yte)),
            "multimodal_image_ensemble_acc": float(np.mean(classify(rp["img"], a["img"]) == self.yte)),
            "multimodal_audio_ensemble_acc": float(np.mean(classify(rp["aud"], a["aud"]) == self.yte)),
            "mean_spikes": {"image_only": float(ri.sum(1).mean()), "audio_only": float(ra.sum(1).mean()),
                            "pair_img": float(rp["img"].sum(1).mean()), "pair_aud": float(rp["aud"].sum(1).mean())},
            "correct_class_share": {
                "image_only": _correct_share(ri, a["img"], self.yte),
                "pair_img": _correct_share(rp["img"], a["img"], self.yte),
                "audio_only": _correct_share(ra[self.j], a["aud"], self.yte),
                "pair_aud": _correct_share(rp["aud"], a["aud"], self.yte)},
            "_pred": {"image": pi, "audio": pa, "multimodal": pred_mm},
        }


def best_cross_gain(train_doc: dict) -> float:
    """The cross-modal gain with the best fused validation accuracy among gains > 0 (gain 0 is
    late fusion, which every experiment reports anyway); ties go to the smaller gain."""
    val = {float(k[5:]): v["fused_acc"] for k, v in train_doc["validation"].items() if float(k[5:]) > 0}
    return max(sorted(val), key=lambda g: val[g])


def _correct_share(resp, assign, labels) -> float:
    """Fraction of all excitatory spikes fired by neurons assigned to the true class."""
    r = np.asarray(resp, np.float64)
    tot = r.sum()
    hit = sum(r[labels == c][:, assign == c].sum() for c in range(10))
    return float(hit / tot) if tot else 0.0


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiment", choices=EXPERIMENTS, required=True)
    ap.add_argument("--tag", default="mm")
    ap.add_argument("--n-test", type=positive_int, default=2000, help="first this many t10k images (1-10000)")
    ap.add_argument("--gain", type=float, default=None, help="cross-modal gain (default: train.py's best)")
    args = ap.parse_args()
    load0 = C.load_avg()
    ev = Evaluator(args.tag, args.n_test, args.gain)
    ex = args.experiment
    doc = {"experiment": ex, "tag": args.tag, "n_test_images": args.n_test, "n_test_utterances": int(ev.ate.size),
           "cross_gain": ev.gain, "loadavg_at_start": load0}
    out = os.path.join(C.RESULTS, f"{args.tag}_{ex}" + ("" if args.n_test == 2000 else f"_n{args.n_test}"))
    if ex in ("unimodal-image", "unimodal-audio", "multimodal"):
        res = ev.condition("clean", "clean")
        pred = res.pop("_pred")
        doc.update(res)
        if ex == "unimodal-image":
            doc["accuracy"] = res["unimodal_image_acc"]
            doc["confusion"] = confusion(pred["image"], ev.yte)
            plot_confusion(doc["confusion"], f"image ensemble alone, t10k[:{args.n_test}]: "
                                             f"{100 * doc['accuracy']:.1f} %", out + ".png")
        elif ex == "unimodal-audio":
            doc["accuracy"] = res["unimodal_audio_acc"]
            doc["confusion"] = confusion(pred["audio"], ev.ate)
            plot_confusion(doc["confusion"], f"audio ensemble alone, FSDD test (250): "
                                             f"{100 * doc['accuracy']:.1f} %", out + ".png")
        else:
            doc["accuracy"] = res["multimodal_acc"]
            doc["confusion"] = confusion(pred["multimodal"], ev.yte)
            doc["gain_over_best_unimodal_pp"] = 100 * (res["multimodal_acc"] - max(
                res["unimodal_image_acc"], res["unimodal_audio_acc"]))
            plot_bars(res, out + ".png")
        print(f"{ex}: {100 * doc['accuracy']:.2f} %  ({ {k: v for k, v in res.items() if k.endswith('acc')} })")
    else:
        conds = ([(c, "clean") for c in IMAGE_CONDITIONS] if ex == "degraded-image"
                 else [("clean", c) for c in AUDIO_CONDITIONS])
        rows = []
        for ic, ac in conds:
            r = ev.condition(ic, ac)
            r.pop("_pred")
            rows.append(r)
            print(f"  image {ic:10s} audio {ac:6s}: image {100 * r['unimodal_image_acc']:.1f}  audio "
                  f"{100 * r['unimodal_audio_acc']:.1f}  late fusion {100 * r['late_fusion_acc']:.1f}  "
                  f"multimodal {100 * r['multimodal_acc']:.1f}", flush=True)
        doc["conditions"] = rows
        plot_degraded(rows, ex, out + ".png")
    doc["loadavg_at_end"] = C.load_avg()
    print(C.write_json(os.path.basename(out) + ".json", doc))


def plot_confusion(cm, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4.5))
    cm = np.asarray(cm)
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    # confusion(): [10, 11], the last column counts the unclassified samples
    ax.set_xticks(range(cm.shape[1]), [str(j) for j in range(cm.shape[0])] + ["none"] * (cm.shape[1] - cm.shape[0]))
    ax.set_yticks(range(cm.shape[0]))
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_bars(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = [("unimodal_image_acc", "image alone"), ("unimodal_audio_acc", "audio alone"),
            ("late_fusion_acc", "late fusion\n(no cross syn.)"), ("multimodal_acc", "multimodal\n(cross STDP)")]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    v = [100 * res[k] for k, _ in keys]
    ax.bar(range(len(keys)), v, color=["C0", "C1", "C2", "C3"])
    for i, x in enumerate(v):
        ax.text(i, x + 1, f"{x:.1f}", ha="center")
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([n for _, n in keys], fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 105)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_degraded(rows, ex, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    series = [("unimodal_image_acc", "image alone"), ("unimodal_audio_acc", "audio alone"),
              ("late_fusion_acc", "late fusion"), ("multimodal_acc", "multimodal (cross STDP)")]
    if ex == "degraded-image":
        fig, axs = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
        for ax, kind in zip(axs, ("noise", "dropout")):
            sel = [rows[0]] + [r for r in rows if r["image"].startswith(kind)]
            x = [0] + [int(r["image"][len(kind):]) for r in sel[1:]]
            for k, name in series:
                ax.plot(x, [100 * r[k] for r in sel], "o-", label=name)
            ax.set_xlabel(f"pixel {kind} (%)")
            ax.set_title(f"image degraded by pixel {kind}")
        axs[0].set_ylabel("test accuracy (%)")
        axs[0].legend(fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
        x = np.arange(len(rows))
        for k, name in series:
            ax.plot(x, [100 * r[k] for r in rows], "o-", label=name)
        ax.set_xticks(x)
        ax.set_xticklabels(["clean", "10 dB", "0 dB", "-5 dB"])
        ax.set_xlabel("audio white-noise SNR")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("audio degraded by white noise")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    run(main)
