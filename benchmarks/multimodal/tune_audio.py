"""Validation-only tuning of the audio ensemble alone (FSDD train indices 10-49, validation 5-9).

    python benchmarks/multimodal/tune_audio.py [ntr=2000] [epochs=1] [n=100] [AudioParams or DCParams k=v ...]

Trains an audio-only ensemble on `ntr` shuffled training utterances per epoch, freezes it,
assigns labels from its responses to all 2000 training utterances and prints the validation
accuracy (the test split is never touched). Used for the table in README.md.
"""
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
from script_args import ArgumentParser, parse_overrides, positive_int, run  # noqa: E402
from eventsim.models.diehl_cook import DCParams, assign_labels, classify  # noqa: E402
from eventsim.models.multimodal import AudioParams, Multimodal  # noqa: E402

COUNTS = {"epochs": 1, "ntr": 2000, "n": 100}


def main():
    cli = ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("settings", nargs="*", metavar="name=value",
                     help="ntr, epochs, n (integers >= 1; defaults 2000, 1, 100) or AudioParams / DCParams fields")
    fields = set(COUNTS) | set(AudioParams.__dataclass_fields__) | set(DCParams.__dataclass_fields__)
    args = parse_overrides(cli.parse_args().settings, fields, lambda k, v: positive_int(v) if k in COUNTS else v,
                           option="name=value")
    epochs, ntr, n = (args.pop(k, d) for k, d in COUNTS.items())
    ap = C.set_overrides(C.AUDIO, [f"{k}={args.pop(k)}" for k in list(args) if k in AudioParams.__dataclass_fields__])
    dp = C.set_overrides(C.AUDIO_PARAMS, [f"{k}={v}" for k, v in args.items()])
    sp = C.fsdd_splits(ap, which=("train", "val"))
    Xtr, ytr, _ = sp["train"]
    Xva, yva, _ = sp["val"]
    rng = np.random.default_rng(0)
    kw = dict(n_image=0, n_audio=n, audio_params=dp, audio=ap)
    m = Multimodal(seed=0, **kw)
    t0 = time.time()
    for _ in range(epochs):
        info = m.train(audio=Xtr[rng.permutation(len(Xtr))[:ntr]])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "w.h5")
        m.save(path)
        f = Multimodal.frozen_from(path, **kw)
    ra = f.responses(audio=Xtr, cross="off", order_seed=0)["aud"]   # Xtr is class-sorted
    rv = f.responses(audio=Xva, cross="off", order_seed=0)["aud"]
    a = assign_labels(ra, ytr)
    print(f"{' '.join(sys.argv[1:])}: train {100 * np.mean(classify(ra, a) == ytr):.1f} %  "
          f"VALIDATION {100 * np.mean(classify(rv, a) == yva):.1f} %  retries {info['retries']['aud']}  "
          f"neurons per class {np.bincount(a + 1, minlength=11)[1:].tolist()}  {time.time() - t0:.0f} s, "
          f"load {C.load_avg()}")


if __name__ == "__main__":
    run(main)
