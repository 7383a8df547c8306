"""Spiking Heidelberg Digits (SHD) HDF5 layout: reader, writer, binning, and the FSDD converter.

Layout (as in Cramer et al. 2020, readable by code written for the real ``shd_*.h5`` files)::

    spikes/times   vlen float, one array per sample, in SECONDS (real SHD: float16 seconds)
    spikes/units   vlen uint16, one array per sample (real SHD: 700 channels)
    labels         uint16 [n]
    extra/speaker  uint16 [n]         (optional)
    extra/keys     strings, label names (optional)
    extra/meta_info/...               (optional, ignored here)

This API uses milliseconds: ``write_shd`` divides by 1000 when writing and ``read_shd``
multiplies by 1000 when reading. Files we write also carry root attributes ``time_unit = "s"``
and ``n_units`` (real SHD files carry neither: pass ``n_units=700`` to ``bin_spikes`` for them).
"""
from __future__ import annotations

import json
import time as _time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np

from ._checks import check_int_range, check_positive
from .cochlea import CochleaParams
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError
from .fsdd import encode_fsdd, load_fsdd

DIGIT_KEYS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

__all__ = ["ShdData", "read_shd", "write_shd", "bin_spikes", "bin_samples", "encode_fsdd_to_shd", "DIGIT_KEYS"]


@dataclass
class ShdData:
    """Samples read from an SHD-layout file; ``data[i]`` is (times_ms float64, units int32)."""

    times_ms: list[np.ndarray]
    units: list[np.ndarray]
    labels: np.ndarray
    speakers: np.ndarray | None = None
    keys: list[str] | None = None
    n_units: int = 0
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.times_ms[i], self.units[i]


def write_shd(path: str | Path, times_ms: Sequence[np.ndarray], units: Sequence[np.ndarray],
              labels: Sequence[int], speakers: Sequence[int] | None = None, keys: Sequence[str] | None = None,
              n_units: int | None = None, attrs: dict | None = None, time_dtype: type = np.float32) -> None:
    """Write samples in the SHD layout (times given in ms, stored in seconds as ``time_dtype``).

    float32 seconds keep ~0.1 us resolution over a few seconds; use float64 for bit-for-bit ms.
    ``attrs``: extra root attributes (numbers or strings; other values are stored as JSON).
    """
    path = Path(path)
    n = len(labels)
    if len(times_ms) != n or len(units) != n:
        raise DatasetError(f"{path}: len(times_ms) = {len(times_ms)}, len(units) = {len(units)}, "
                           f"len(labels) = {n}: must all be equal")
    if speakers is not None and len(speakers) != n:
        raise DatasetError(f"{path}: len(speakers) = {len(speakers)}: must equal len(labels) = {n}")
    if np.dtype(time_dtype).kind != "f":
        raise DatasetError(f"time_dtype = {time_dtype!r}: must be a float type")
    tt, uu, max_unit = [], [], -1
    for i, (t, u) in enumerate(zip(times_ms, units)):
        t, u = np.asarray(t, np.float64), np.asarray(u)
        if t.shape != u.shape or t.ndim != 1:
            raise DatasetError(f"{path}: sample {i}: times_ms.shape {t.shape} and units.shape {u.shape} "
                               "must be equal and 1-D")
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise DatasetError(f"{path}: sample {i}: times_ms: allowed range is [0, inf)")
        if u.size and (u.min() < 0 or u.max() > 65535):
            raise DatasetError(f"{path}: sample {i}: units: allowed range is [0, 65535]")
        if u.size:
            max_unit = max(max_unit, int(u.max()))
        tt.append((t / 1000.0).astype(time_dtype))
        uu.append(u.astype(np.uint16))
    if n_units is None:
        n_units = max_unit + 1
    elif max_unit >= n_units:
        raise DatasetError(f"{path}: unit id {max_unit}: allowed range is [0, n_units - 1 = {n_units - 1}]")
    lab = np.asarray(labels)
    if lab.size and (lab.min() < 0 or lab.max() > 65535):
        raise DatasetError(f"{path}: labels: allowed range is [0, 65535]")
    with h5py.File(path, "w") as f:
        sp = f.create_group("spikes")
        dt = sp.create_dataset("times", (n,), dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
        du = sp.create_dataset("units", (n,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(n):
            dt[i], du[i] = tt[i], uu[i]
        f.create_dataset("labels", data=lab.astype(np.uint16))
        ex = f.create_group("extra")
        if speakers is not None:
            ex.create_dataset("speaker", data=np.asarray(speakers).astype(np.uint16))
        if keys is not None:
            ex.create_dataset("keys", data=list(keys), dtype=h5py.string_dtype())
        f.attrs["time_unit"] = "s"
        f.attrs["n_units"] = int(n_units)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v if isinstance(v, (int, float, str, np.number)) else json.dumps(v)


def _need(f: h5py.File, name: str, path: Path) -> h5py.Dataset:
    if name not in f or not isinstance(f[name], h5py.Dataset):
        raise DatasetFormatError(f"{path}: missing dataset '{name}' (SHD layout needs spikes/times, "
                                 "spikes/units, labels)")
    return f[name]


def _read_checked(f: h5py.File, name: str, path: Path, kinds: str, what: str, per_sample: bool) -> np.ndarray:
    """Dataset ``name`` as a 1-D array; its dtype (per_sample: its vlen base dtype) must have a kind in ``kinds``."""
    d = _need(f, name, path)
    base = h5py.check_vlen_dtype(d.dtype) if per_sample else d.dtype
    if d.ndim != 1 or not isinstance(base, np.dtype) or base.kind not in kinds:
        got = f"vlen {getattr(base, '__name__', base)}" if per_sample and base is not None else d.dtype
        need = "variable-length (vlen) array, one array" if per_sample else "array, one entry"
        raise DatasetFormatError(f"{path}: {name} has shape {d.shape} and dtype {got}: SHD needs a 1-D "
                                 f"{need} of {what} per sample")
    return d[()]


def _n_units_attr(attrs: dict, path: Path) -> int | None:
    v = attrs.get("n_units")
    if v is not None and not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
        raise DatasetFormatError(f"{path}: root attribute n_units = {v!r}: must be an integer >= 1")
    return None if v is None else int(v)


def read_shd(path: str | Path) -> ShdData:
    """Read an SHD-layout file (real SHD files unchanged, or ours); times are returned in ms.

    Raises DatasetFormatError naming the path (and the sample) for a layout or value SHD does not allow.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"SHD file not found: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetFormatError(f"{path}: not a readable HDF5 file ({exc})") from None
    with f:
        times = _read_checked(f, "spikes/times", path, "fiu", "spike times in seconds", per_sample=True)
        units = _read_checked(f, "spikes/units", path, "iu", "integer unit ids", per_sample=True)
        labels = _read_checked(f, "labels", path, "iu", "integer labels", per_sample=False)
        if not (len(times) == len(units) == len(labels)):
            raise DatasetFormatError(f"{path}: spikes/times has {len(times)} samples, spikes/units "
                                     f"{len(units)}, labels {len(labels)}: must be equal")
        speakers = None
        if "extra/speaker" in f:
            speakers = _read_checked(f, "extra/speaker", path, "iu", "integer speaker ids", per_sample=False)
            if len(speakers) != len(labels):
                raise DatasetFormatError(f"{path}: extra/speaker has {len(speakers)} entries, labels {len(labels)}")
        keys = None
        if "extra/keys" in f:
            keys = [k.decode() if isinstance(k, bytes) else str(k) for k in f["extra/keys"][()]]
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    n_units = _n_units_attr(attrs, path)
    limit = n_units if n_units is not None else 1 << 31   # ids are returned as int32
    tms, us, max_unit = [], [], -1
    for i, (t, u) in enumerate(zip(times, units)):
        if t.shape != u.shape:
            raise DatasetFormatError(f"{path}: sample {i}: {t.size} times but {u.size} units")
        if u.size and (u.min() < 0 or u.max() >= limit):
            bad = u.min() if u.min() < 0 else u.max()
            raise DatasetFormatError(f"{path}: sample {i}: spikes/units holds unit id {bad}: allowed range is "
                                     f"[0, {limit - 1}]" + (" (root attribute n_units)" if n_units else ""))
        t = np.asarray(t, np.float64) * 1000.0
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise DatasetFormatError(f"{path}: sample {i}: spikes/times: allowed range is [0, inf) s, finite")
        if u.size:
            max_unit = max(max_unit, int(u.max()))
        tms.append(t)
        us.append(u.astype(np.int32))
    return ShdData(times_ms=tms, units=us, labels=labels, speakers=speakers, keys=keys,
                   n_units=max_unit + 1 if n_units is None else n_units, attrs=attrs)


def _n_steps(duration_ms: float, dt_ms: float) -> int:
    return int(np.ceil(duration_ms / dt_ms - 1e-9))


def bin_spikes(times_ms: np.ndarray, units: np.ndarray, n_units: int, dt_ms: float = 1.0,
               duration_ms: float | None = None, dtype: type = np.float32) -> np.ndarray:
    """Spike counts per (step, unit): array [n_steps, n_units], step k covering [k dt, (k+1) dt) ms.

    ``duration_ms`` fixes n_steps = ceil(duration / dt) and drops later spikes; by default the
    array ends with the step of the last spike.
    """
    dt_ms = check_positive("dt_ms", dt_ms)
    n_units = check_int_range("n_units", n_units, 1, 1 << 31)
    t, u = np.asarray(times_ms, np.float64), np.asarray(units, np.int64)
    if t.shape != u.shape:
        raise DatasetError(f"times_ms.shape {t.shape} != units.shape {u.shape}")
    if u.size and (u.min() < 0 or u.max() >= n_units):
        raise DatasetError(f"units: id {int(u.max() if u.max() >= n_units else u.min())}: "
                           f"allowed range is [0, n_units - 1 = {n_units - 1}]")
    if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
        raise DatasetError("times_ms: allowed range is [0, inf)")
    step = np.floor(t / dt_ms).astype(np.int64)
    if duration_ms is None:
        n_steps = int(step.max()) + 1 if step.size else 0
    else:
        n_steps = _n_steps(check_positive("duration_ms", duration_ms), dt_ms)
        keep = step < n_steps
        step, u = step[keep], u[keep]
    counts = np.bincount(step * n_units + u, minlength=n_steps * n_units)
    return counts.reshape(n_steps, n_units).astype(dtype)


def bin_samples(times_ms: Sequence[np.ndarray], units: Sequence[np.ndarray], n_units: int, dt_ms: float = 1.0,
                duration_ms: float | None = None, dtype: type = np.float32) -> np.ndarray:
    """Bin many samples into one array [n_samples, n_steps, n_units] (zero-padded to a common length).

    Without ``duration_ms`` the common length covers the latest spike of all samples.
    """
    if duration_ms is None:
        last = max((float(np.max(t)) for t in times_ms if len(t)), default=0.0)
        duration_ms = (np.floor(last / dt_ms) + 1) * dt_ms
    n_steps = _n_steps(duration_ms, dt_ms)
    out = np.zeros((len(times_ms), n_steps, n_units), dtype)
    for i, (t, u) in enumerate(zip(times_ms, units)):
        out[i] = bin_spikes(t, u, n_units, dt_ms, duration_ms, dtype)
    return out


def encode_fsdd_to_shd(fsdd_root: str | Path, out_path: str | Path, split: str = "all",
                       speakers: list[str] | None = None, params: CochleaParams = CochleaParams(),
                       snr_db: float | None = None, seed: int = 0, on_error: str = "raise") -> dict:
    """Encode FSDD recordings with the cochlea front end and write them in the SHD layout.

    Labels are digits 0-9 (``extra/keys`` = "zero".."nine"), ``extra/speaker`` the speaker ids
    (names in the root attribute ``speaker_names``). Returns a summary dict (counts, seconds).
    """
    t0 = _time.perf_counter()
    files = load_fsdd(fsdd_root, speakers=speakers, split=split)
    enc = encode_fsdd(files, params, snr_db=snr_db, seed=seed, on_error=on_error)
    t_enc = _time.perf_counter() - t0
    kept_paths = [files.paths[i].name for i in enc.kept]
    write_shd(out_path, enc.times_ms, enc.units, enc.labels, speakers=enc.speaker_ids, keys=DIGIT_KEYS,
              n_units=params.n_channels,
              attrs={"source": "FSDD", "split": split, "snr_db": "none" if snr_db is None else float(snr_db),
                     "seed": int(seed), "speaker_names": json.dumps(enc.speaker_names),
                     "files": json.dumps(kept_paths), "encoder": "eventsim.datasets.cochlea",
                     "encoder_params": json.dumps(asdict(params))})
    counts = np.array([t.size for t in enc.times_ms])
    return {"n_samples": len(enc.times_ms), "n_skipped": len(files) - len(enc.times_ms),
            "encode_seconds": t_enc, "total_seconds": _time.perf_counter() - t0,
            "spikes_per_sample_mean": float(counts.mean()) if counts.size else 0.0,
            "out_path": str(out_path)}
