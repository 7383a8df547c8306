"""Shared helpers of the multimodal experiments: data, splits, encodings (cached), parameters, JSON.

Splits (never tune on a test split):
- MNIST: train5k -> 4500 train / 500 validation (50 per class, seed 0, as benchmarks/diehl_cook);
  t10k for the reported numbers (first --n-test images).
- FSDD: test = indices 0-4 of each speaker and digit (250, the dataset's convention);
  validation = indices 5-9 (250); train = indices 10-49 (2000).
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
from dataclasses import asdict, replace

import numpy as np

import eventsim.datasets as ds
from eventsim.models.diehl_cook import DCParams, split_train_val
from eventsim.models.multimodal import AudioParams, audio_features

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from results_json import DATA, git_commit, load_avg, write_results  # noqa: E402,F401 (DATA, load_avg: used by the scripts)
from script_args import UsageError, dataclass_overrides  # noqa: E402
HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RUNS = os.path.join(HERE, "runs")
os.makedirs(RESULTS, exist_ok=True)
os.makedirs(RUNS, exist_ok=True)

# parameters chosen on the validation splits (see README)
IMAGE_PARAMS = replace(DCParams(), theta_plus=0.5, eta_post=0.02, eta_pre=0.0002)
AUDIO_PARAMS = replace(DCParams(), theta_plus=0.25, eta_post=0.02, eta_pre=0.0002)
AUDIO = AudioParams()


def set_overrides(params, items: list[str], option: str = "--set"):
    """Apply 'name=value' overrides to a frozen dataclass (script_args.field_value converts);
    script_args.UsageError naming `option` for a malformed item, an unknown name or a bad value."""
    return replace(params, **dataclass_overrides(params, items, option))


def encoder_source() -> str:
    """Digest of the audio front end's code (wav reading, noise, cochlea, encoding)."""
    import eventsim.datasets.audio as audio
    import eventsim.datasets.cochlea as cochlea
    import eventsim.datasets.fsdd as fsdd
    return digest("".join(open(m.__file__).read() for m in (audio, cochlea, fsdd)))


def mnist():
    """(Xtr, ytr), (Xva, yva), (Xte, yte)."""
    X, y = ds.load_mnist(DATA, "train5k")
    tr, va = split_train_val(y, 50, 0)
    Xt, yt = ds.load_mnist(DATA, "t10k")
    return (X[tr].reshape(len(tr), -1), y[tr]), (X[va].reshape(len(va), -1), y[va]), (Xt.reshape(len(Xt), -1), yt)


def fsdd_encoded(snr_db: float | None = None, speakers=None, n_channels: int = 32, seed: int = 0):
    """All FSDD recordings (or `speakers`) encoded with the cochlea front end; cached in runs/.
    Returns (files listing, EncodedUtterances)."""
    files = ds.load_fsdd(DATA, speakers=speakers)
    cochlea = ds.CochleaParams(n_channels=n_channels)
    # the key covers every setting of the encoding, the files and the encoder's code, so a
    # changed front end or data set is encoded afresh instead of read from an old cache
    what = repr((cochlea, snr_db, seed, [p.name for p in files.paths], encoder_source()))
    key = (f"fsdd_c{n_channels}_snr{'none' if snr_db is None else f'{snr_db:g}'}_s{seed}_"
           f"{'-'.join(speakers or ['all'])}_{digest(what)}")
    path = os.path.join(RUNS, key + ".pkl")
    if os.path.exists(path):
        with open(path, "rb") as fh:
            return files, pickle.load(fh)
    enc = ds.encode_fsdd(files, cochlea, snr_db=snr_db, seed=seed,
                         on_error="skip")
    with open(path + ".tmp", "wb") as fh:
        pickle.dump(enc, fh)
    os.replace(path + ".tmp", path)
    return files, enc


def fsdd_splits(audio: AudioParams = AUDIO, snr_db: float | None = None, which=("train", "val", "test")):
    """{split: (features [n, n_inputs], labels, speaker ids)} with the index convention above.
    snr_db applies to every returned split (use it for the test split only)."""
    files, enc = fsdd_encoded(snr_db, n_channels=audio.n_channels)
    feats = audio_features(enc.times_ms, enc.units, audio)
    idx = files.indices[enc.kept]
    sel = {"test": idx < 5, "val": (idx >= 5) & (idx < 10), "train": idx >= 10, "all": idx >= 0}
    return {w: (feats[sel[w]], enc.labels[sel[w]].astype(np.int64), enc.speaker_ids[sel[w]]) for w in which}


def write_json(name: str, doc: dict) -> str:
    return write_results(RESULTS, name, doc, git_commit=git_commit(), loadavg_at_end=load_avg())


# model construction and read-out shared by the experiment scripts ------------------------------
def config_dict(image_params, audio_params, audio, cross, n_img, n_aud) -> dict:
    return {"n_image": n_img, "n_audio": n_aud, "image_params": asdict(image_params),
            "audio_params": asdict(audio_params), "audio": asdict(audio), "cross": asdict(cross)}


def model_kwargs(cfg: dict) -> dict:
    from eventsim.learning.crossmodal import CrossParams
    return {"n_image": cfg["n_image"], "n_audio": cfg["n_audio"], "image_params": DCParams(**cfg["image_params"]),
            "audio_params": DCParams(**cfg["audio_params"]), "audio": AudioParams(**cfg["audio"]),
            "cross": CrossParams(**cfg["cross"])}


def weights_path(tag: str) -> str:
    """The weight file train.py writes for `tag`."""
    return os.path.join(RUNS, f"{tag}_weights.h5")


def digest(text: str) -> str:
    """A short SHA-256 digest of text (cache keys)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: str) -> str:
    """A short SHA-256 digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def load_trained(tag: str, snapshot: int | str = -1):
    """(frozen Multimodal, config, train json) of a train.py run."""
    from eventsim.models.multimodal import Multimodal
    path = os.path.join(RESULTS, f"{tag}_train.json")
    if not os.path.exists(path):
        raise UsageError(f"--tag {tag!r}: no {path} (run benchmarks/multimodal/train.py --tag {tag} first)")
    with open(path) as fh:
        doc = json.load(fh)
    cfg = doc["config"]
    path = weights_path(tag)
    if not os.path.exists(path):
        raise UsageError(f"--tag {tag!r}: weights not found: {path} "
                         f"(run benchmarks/multimodal/train.py --tag {tag} first)")
    return Multimodal.frozen_from(path, snapshot, **model_kwargs(cfg)), cfg, doc


def scale_cross(m, gain: float, base=None):
    """Multiply the cross-modal weights by `gain` (relative to `base`, the learned weights); returns base."""
    if base is None:
        base = [c.get() for c in m.cross]
    for c, w in zip(m.cross, base):
        c.set(w * gain)
    return base


def accuracies(resp: dict, assign: dict, labels: np.ndarray) -> dict:
    """Per-ensemble and fused accuracies of responses {"img": .., "aud": ..}."""
    from eventsim.models.diehl_cook import classify
    from eventsim.models.multimodal import class_scores, fuse
    sc = {k: class_scores(resp[k], assign[k]) for k in resp}
    out = {f"{k}_acc": float(np.mean(classify(resp[k], assign[k]) == labels)) for k in resp}
    if len(sc) == 2:
        out["fused_acc"] = float(np.mean(fuse(sc["img"], sc["aud"]) == labels))
    out["mean_spikes"] = {k: float(resp[k].sum(1).mean()) for k in resp}
    return out
