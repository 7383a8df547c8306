"""MNIST: idx loading with validation, and the two image encoders (Poisson rate, latency).

Pixel ids are row-major flat indices ``row * 28 + col`` (0..783).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ._checks import as_generator, check_int_range, check_nonneg, check_positive
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError
from .idx import read_idx, write_idx

MNIST_SPLITS = ("train5k", "t10k")

__all__ = ["MNIST_SPLITS", "load_mnist", "poisson_encode", "latency_encode", "read_idx", "write_idx"]


def _find(root: Path, split: str, kind: str) -> Path:
    names = [f"{split}-{kind}.gz", f"{split}-{kind}"]
    tried = [d / n for d in (root, root / "mnist") for n in names]
    for p in tried:
        if p.is_file():
            return p
    raise DatasetNotFoundError(f"MNIST {split} {kind} not found; tried: " + ", ".join(map(str, tried)))


def load_mnist(root: str | Path, split: str = "train5k") -> tuple[np.ndarray, np.ndarray]:
    """Load an MNIST split as (images uint8 [n, 28, 28], labels uint8 [n]).

    ``root`` is the folder holding the idx files, or its parent holding ``mnist/``
    (e.g. ``../shared/data``). ``split`` is ``"train5k"`` or ``"t10k"``.
    """
    if split not in MNIST_SPLITS:
        raise DatasetError(f"split = {split!r}: allowed values are {MNIST_SPLITS}")
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError(f"MNIST folder not found: {root}")
    ip, lp = _find(root, split, "images-idx3-ubyte"), _find(root, split, "labels-idx1-ubyte")
    images, labels = read_idx(ip), read_idx(lp)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetFormatError(f"{ip}: images must be uint8 [n, 28, 28], got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetFormatError(f"{lp}: labels must be uint8 [n], got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise DatasetFormatError(f"{lp}: {len(labels)} labels but {ip} holds {len(images)} images")
    if labels.size and labels.max() > 9:
        raise DatasetFormatError(f"{lp}: label {int(labels.max())} outside the allowed range [0, 9]")
    return images, labels


def _flat_pixels(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim not in (1, 2) or img.size == 0:
        raise DatasetError(f"image.shape = {img.shape}: expected one image, 2-D [h, w] or flat [n_pixels]")
    if not np.issubdtype(img.dtype, np.number) or not np.all(np.isfinite(img)) or img.min() < 0 or img.max() > 255:
        raise DatasetError("image pixel values: allowed range is [0, 255]")
    return img.reshape(-1).astype(np.float64)


def poisson_encode(image: np.ndarray, duration_ms: float = 350.0, intensity: float = 2.0,
                   seed: int | np.random.Generator | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Poisson rate code of one image (Diehl & Cook 2015): pixel p fires at ``p / 8 * intensity`` Hz.

    With the default ``intensity = 2`` (Diehl & Cook's starting value) the maximum rate is
    255 / 4 = 63.75 Hz. Returns (times_ms float64 sorted in [0, duration_ms), pixel ids int32),
    a pure function of ``seed``.
    """
    pix = _flat_pixels(image)
    duration_ms = check_positive("duration_ms", duration_ms)
    intensity = check_nonneg("intensity", intensity)
    rng = as_generator(seed)
    counts = rng.poisson(pix / 8.0 * intensity * duration_ms * 1e-3)
    ids = np.repeat(np.arange(pix.size, dtype=np.int32), counts)
    times = rng.uniform(0.0, duration_ms, ids.size)
    order = np.argsort(times, kind="stable")
    return times[order], ids[order]


def latency_encode(image: np.ndarray, n_steps: int = 100, threshold: float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Latency code of one image: one spike per pixel brighter than ``threshold``, brighter = earlier.

    A pixel p > threshold fires at step ``floor((1 - x) * n_steps)`` (clipped to n_steps - 1) with
    ``x = (p - threshold) / (255 - threshold)``: 255 fires at step 0, barely-above-threshold pixels
    at the last step. Steps are 1 ms in the usual setting. Deterministic (no randomness needed).
    Returns (steps int32, pixel ids int32) sorted by step, then pixel.
    """
    pix = _flat_pixels(image)
    n_steps = check_int_range("n_steps", n_steps, 1, 1_000_000)
    threshold = float(threshold)
    if not 0.0 <= threshold < 255.0:
        raise DatasetError(f"threshold = {threshold!r}: allowed range is [0, 255)")
    ids = np.flatnonzero(pix > threshold).astype(np.int32)
    x = (pix[ids] - threshold) / (255.0 - threshold)
    steps = np.minimum(np.floor((1.0 - x) * n_steps), n_steps - 1).astype(np.int32)
    order = np.lexsort((ids, steps))
    return steps[order], ids[order]
