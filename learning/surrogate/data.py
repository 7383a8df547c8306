"""Adapters from `eventsim.datasets` to `EventDataset` (the learner's input format).

* `mnist_dataset`: latency-coded MNIST (one spike per pixel above threshold, brighter =
  earlier; `n_steps` steps of `dt` ms, 100 x 1 ms by default), 784 input units.
* `spikes_to_dataset`: any list of (times_ms, units) samples (e.g. `read_shd` output or
  `encode_fsdd` output) binned into steps of `dt_ms`; spikes at or after
  ``n_steps * dt_ms`` are dropped. Several spikes of one unit in one step become one
  event whose value is the count (`EventDataset.counts`), so nothing is lost to binning.
* `shd_dataset`: an SHD-layout HDF5 file (`eventsim.datasets.read_shd`).
* `fsdd_dataset`: FSDD recordings -> cochlea spikes (`encode_fsdd`) -> binned events,
  optionally cached in an .npz (encoding all 2,500 files takes ~20 s).
* `split_holdout`: a seeded, class-stratified validation split of the *training* data
  (never tune on the reported test set).
"""
from __future__ import annotations

import os
import warnings
from typing import Sequence

import numpy as np

from .errors import SurrogateConfigError, check_count, check_range
from .events import EventDataset


def _check_steps(n_steps: int, dt_ms: float) -> None:
    if int(n_steps) < 1:
        raise SurrogateConfigError(f"n_steps={n_steps} is out of range; allowed >= 1")
    if not dt_ms > 0:
        raise SurrogateConfigError(f"dt_ms={dt_ms!r} is out of range; allowed (0, inf)")


def mnist_dataset(root: str, split: str = "train5k", n_steps: int = 100, limit: int | None = None,
                  threshold: float = 0.0) -> EventDataset:
    """Latency-coded MNIST from the idx files under `root` (see `latency_encode`);
    `limit` keeps a seeded random subset of that many images."""
    from eventsim.datasets import latency_encode, load_mnist
    _check_steps(n_steps, 1.0)
    if limit is not None:
        limit = check_count("limit", limit)
    images, labels = load_mnist(root, split)
    if limit is not None:  # a seeded random subset (train5k is sorted by class)
        keep = np.sort(np.random.default_rng(0).permutation(len(labels))[:limit])
        images, labels = images[keep], labels[keep]
    samples = [latency_encode(img, n_steps=int(n_steps), threshold=threshold) for img in images]
    return EventDataset(samples, np.asarray(labels, np.int64), int(n_steps), 784)


def spikes_to_dataset(times_ms: Sequence[np.ndarray], units: Sequence[np.ndarray], labels: Sequence[int],
                      n_units: int, n_steps: int, dt_ms: float = 1.0) -> EventDataset:
    """Bin spike trains (times in ms, unit ids) into `n_steps` steps of `dt_ms` ms; spikes at
    or after n_steps * dt_ms are left out, with a warning that counts them."""
    ds, late = _bin_spikes(times_ms, units, labels, n_units, n_steps, dt_ms)
    _warn_late(late, n_steps, dt_ms)
    return ds


def _warn_late(late: np.ndarray, n_steps: int, dt_ms: float) -> None:
    """The warning for spikes left out by binning; late = [spikes left out, samples that had
    any, all spikes, all samples]."""
    dropped, n_with, total, n_samples = (int(x) for x in late)
    if dropped:
        warnings.warn(f"{dropped} of {total} spikes ({100.0 * dropped / max(total, 1):.2g} %, in {n_with} of "
                      f"{n_samples} samples) lie at or after n_steps x dt_ms = {n_steps * dt_ms:g} ms and are "
                      "left out; raise n_steps or dt_ms to keep them", stacklevel=3)


def _bin_spikes(times_ms, units, labels, n_units, n_steps, dt_ms) -> tuple[EventDataset, np.ndarray]:
    """`spikes_to_dataset` without the warning: (dataset, late) with late as in `_warn_late`."""
    _check_steps(n_steps, dt_ms)
    if not (len(times_ms) == len(units) == len(labels)):
        raise SurrogateConfigError(f"got {len(times_ms)} time arrays, {len(units)} unit arrays and {len(labels)} "
                                   "labels; must be equal")
    samples, counts = [], []
    dropped = [0, 0]                       # spikes at or after n_steps * dt_ms, samples that had any
    for i, (t, u) in enumerate(zip(times_ms, units)):
        t, u = np.asarray(t, np.float64), np.asarray(u, np.int64)
        if t.shape != u.shape:
            raise SurrogateConfigError(f"sample {i}: {t.size} times but {u.size} units; must be equal")
        if u.size and (u.min() < 0 or u.max() >= n_units):
            raise SurrogateConfigError(f"sample {i}: unit ids in [{u.min()}, {u.max()}]; allowed [0, {n_units - 1}]")
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise SurrogateConfigError(f"sample {i}: spike times must be finite and >= 0 ms")
        st = np.floor(t / dt_ms).astype(np.int64)
        keep = st < n_steps
        if not keep.all():
            dropped[0] += int(keep.size - keep.sum())
            dropped[1] += 1
        key = st[keep] * n_units + u[keep]
        uniq, cnt = np.unique(key, return_counts=True)  # sorted by (step, unit)
        samples.append(((uniq // n_units).astype(np.int32), (uniq % n_units).astype(np.int32)))
        counts.append(cnt.astype(np.float64))
    late = np.array([dropped[0], dropped[1], sum(int(np.size(t)) for t in times_ms), len(times_ms)], np.int64)
    ds = EventDataset(samples, np.asarray(labels, np.int64).ravel(), int(n_steps), int(n_units), counts=counts)
    return ds, late


def shd_dataset(path: str, n_steps: int = 100, dt_ms: float = 10.0, n_units: int | None = None) -> EventDataset:
    """An SHD-layout file (real SHD or `encode_fsdd_to_shd` output) as binned events.

    n_units: the input width. Without it, the file's root attribute n_units, else the largest
    unit id in the file + 1, which for a subset of real SHD (700 channels) can be less than 700:
    pass n_units=700 so that train and test files agree."""
    from eventsim.datasets import read_shd
    d = read_shd(path)
    if n_units is not None:
        n_units = check_count("data.n_units", n_units, 1)
        if d.n_units > n_units:
            raise SurrogateConfigError(f"data.n_units={n_units} is too small for {path!r}, which has {d.n_units} "
                                       f"units (its n_units attribute, or largest unit id + 1); allowed >= {d.n_units}")
    return spikes_to_dataset(d.times_ms, d.units, d.labels, n_units or d.n_units, n_steps, dt_ms)


def fsdd_dataset(root: str, split: str = "train", n_steps: int = 100, dt_ms: float = 8.0, n_channels: int = 32,
                 cache: str | None = None) -> EventDataset:
    """FSDD `split` ('train': recording indices 5-49, 'test': 0-4, 'all') encoded by the
    cochlea front end (`CochleaParams(n_channels=...)`) and binned. `cache`: .npz path
    reused when it exists (its parameters are checked). Spikes after the last step are left out
    with a warning, also when the dataset comes from the cache (a cache written before it
    recorded them is encoded again)."""
    from eventsim.datasets import CochleaParams, encode_fsdd, load_fsdd
    key = np.array([n_channels, n_steps, dt_ms], np.float64)
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=False)
        if str(z["split"]) == split and np.array_equal(z["key"], key) and "late" in z.files:
            _warn_late(z["late"], n_steps, dt_ms)
            return _unpack(z)
    files = load_fsdd(root, split=split)
    enc = encode_fsdd(files, CochleaParams(n_channels=int(n_channels)))
    ds, late = _bin_spikes(enc.times_ms, enc.units, enc.labels, int(n_channels), n_steps, dt_ms)
    _warn_late(late, n_steps, dt_ms)
    if cache:
        _pack(cache, ds, split=split, key=key, late=late)
    return ds


def _pack(path: str, ds: EventDataset, **extra) -> None:
    lens = np.array([len(s) for s, _ in ds.samples], np.int64)
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0))
    np.savez_compressed(path, lens=lens, step=cat([s for s, _ in ds.samples]).astype(np.int32),
                        unit=cat([u for _, u in ds.samples]).astype(np.int32),
                        val=cat(ds.counts) if ds.counts is not None else np.ones(int(lens.sum())),
                        labels=ds.labels, n_steps=ds.n_steps, n_units=ds.n_units, **extra)


def _unpack(z) -> EventDataset:
    off = np.concatenate([[0], np.cumsum(z["lens"])])
    step, unit, val = z["step"], z["unit"], z["val"]
    samples = [(step[a:b], unit[a:b]) for a, b in zip(off[:-1], off[1:])]
    counts = [val[a:b] for a, b in zip(off[:-1], off[1:])]
    return EventDataset(samples, z["labels"].astype(np.int64), int(z["n_steps"]), int(z["n_units"]), counts=counts)


def subset(ds: EventDataset, idx: Sequence[int]) -> EventDataset:
    idx = np.asarray(idx, np.int64)
    return EventDataset([ds.samples[i] for i in idx], ds.labels[idx], ds.n_steps, ds.n_units,
                        counts=None if ds.counts is None else [ds.counts[i] for i in idx])


def split_holdout(ds: EventDataset, fraction: float, seed: int = 0) -> tuple[EventDataset, EventDataset | None]:
    """(train, val): a class-stratified random `fraction` of `ds` held out (seeded)."""
    fraction = check_range("val_fraction", fraction, 0.0, 1.0, hi_open=True)
    if fraction == 0.0:
        return ds, None
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(ds.labels):
        members = np.flatnonzero(ds.labels == c)
        val.extend(rng.permutation(members)[: int(round(fraction * members.size))])
    val = np.sort(np.asarray(val, np.int64))
    if val.size == 0:
        warnings.warn(f"val_fraction = {fraction:g} of {len(ds)} samples rounds to no validation sample in any "
                      "class; training runs without validation", stacklevel=2)
        return ds, None
    train = np.setdiff1d(np.arange(len(ds)), val)
    return subset(ds, train), subset(ds, val)
