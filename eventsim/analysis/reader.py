"""Read-only, chunked access to SONATA spike logs (HDF5).

Layout: ``/spikes/<population>/timestamps`` (float, attr ``units``) and
``/spikes/<population>/node_ids`` (integer, population-local ids); group attribute
``sorting`` (HDF5 enum none/by_id/by_time or a plain string as bmtk writes it) and,
optionally, ``n_nodes``. eventsim logs also record the simulated interval as the root
attributes ``t_start`` and ``t_stop`` (ms; see :meth:`SpikeLog.interval`). Files are opened
read-only and without locking, and in SWMR mode only when a writer has them open (or was
killed), so that logs a simulator is still writing can be analysed while truncated files are
refused (`eventsim.hdf5_open`); the file is never modified.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Iterator, Sequence

import h5py
import numpy as np

from eventsim.errors import EventsimError
from eventsim.hdf5_open import open_read_only

from .errors import LogFormatError, LogFormatWarning, UnknownSizeError, where

SONATA_MAGIC = 0x0A7A
SORTINGS = ("none", "by_id", "by_time")
#: Other spellings of the ``sorting`` string attribute (bmtk reads "time" and "id" too).
_SORTING_ALIASES = {"time": "by_time", "id": "by_id", "unknown": "none"}
#: Default number of rows read per chunk (16 bytes per spike -> 32 MiB of buffers).
DEFAULT_CHUNK_ROWS = 1 << 21
_UNIT_SCALE = {"ms": 1.0, "millisecond": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0,
               "second": 1000.0, "seconds": 1000.0}


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(()).item())
    return str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@dataclass(frozen=True)
class PopulationInfo:
    """Metadata of one spike population. Times are converted to ms on reading."""

    name: str
    n_spikes: int
    n_nodes: int | None  # from the ``n_nodes`` attribute, None when absent
    sorting: str  # "none", "by_id" or "by_time"
    time_scale: float  # factor from stored units to ms
    node_id_dtype: np.dtype
    timestamp_dtype: np.dtype


@dataclass(frozen=True)
class Interval:
    """An analysis interval [t_start, t_stop) in ms and where its end comes from."""

    t_start: float  # ms
    t_stop: float | None  # ms; None: up to and including the last spike (no recorded interval)
    source: str  # of t_stop: "argument", "recorded" (the log's t_stop) or "last spike"


class SpikeLog:
    """An open spike log. Use as a context manager; never writes to the file.

    >>> with SpikeLog("run.h5") as log:
    ...     for t_ms, ids in log.iter_chunks("exc"): ...
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file = self._open(self.path)
        try:
            self.attrs = self._check_root()
            self._spikes = self._file["spikes"]
            self.populations: list[str] = sorted(
                name for name, obj in self._spikes.items() if isinstance(obj, h5py.Group))
            if not self.populations:
                raise LogFormatError(f"{self.path}: /spikes contains no population groups")
            self._info: dict[str, PopulationInfo] = {}
            self._inferred: dict[str, int] = {}
        except BaseException:
            self._file.close()
            raise

    # -- opening and validation ------------------------------------------------
    @staticmethod
    def _open(path: str) -> h5py.File:
        if not os.path.exists(path):
            raise LogFormatError(f"{path}: file not found")
        if os.path.isdir(path):
            raise LogFormatError(f"{path}: is a directory, expected an HDF5 spike log")
        try:
            is_hdf5 = h5py.is_hdf5(path)
        except OSError as exc:  # unreadable (permissions, ...)
            raise LogFormatError(f"{path}: cannot read file ({_first_line(exc)})") from None
        if not is_hdf5:
            raise LogFormatError(f"{path}: not an HDF5 file")
        try:
            return open_read_only(path)
        except (OSError, ValueError) as exc:
            raise LogFormatError(f"{path}: cannot open HDF5 file, truncated or corrupted "
                                 f"({_first_line(exc)})") from None

    def _check_root(self) -> dict[str, object]:
        attrs = {k: self._file.attrs[k] for k in self._file.attrs}
        if _text(attrs.get("kind", "")) == "eventsim-weights":
            raise LogFormatError(f"{self.path}: is an eventsim weight file, not a spike log (plot it with "
                                 f"'eventsim plot weights|rf|whist')")
        magic = attrs.get("magic")
        if magic is None:
            warnings.warn(LogFormatWarning(
                f"{self.path}: no 'magic' root attribute; assuming a SONATA spike file"), stacklevel=3)
        else:
            try:
                ok = int(np.asarray(magic).reshape(-1)[0]) == SONATA_MAGIC
            except (TypeError, ValueError, IndexError):
                ok = False
            if not ok:
                raise LogFormatError(f"{self.path}: root attribute 'magic' is {magic!r}, "
                                     f"expected 0x{SONATA_MAGIC:04X} (not a SONATA spike file)")
        version = attrs.get("version")
        if version is not None:
            v = np.asarray(version).reshape(-1)
            if v.size < 1 or int(v[0]) != 0:
                warnings.warn(LogFormatWarning(
                    f"{self.path}: SONATA version {v.tolist()} is not 0.x; reading anyway"), stacklevel=3)
        obj = self._file.get("spikes")
        if not isinstance(obj, h5py.Group):
            raise LogFormatError(f"{self.path}: no /spikes group")
        if "timestamps" in obj and isinstance(obj["timestamps"], h5py.Dataset):
            raise LogFormatError(f"{self.path}: legacy layout /spikes/timestamps without "
                                 "population groups is not supported")
        return attrs

    def info(self, population: str | None = None) -> PopulationInfo:
        """Validate and return the metadata of ``population`` (default: the only one)."""
        name = self.resolve(population)
        if name not in self._info:
            self._info[name] = self._read_info(name)
        return self._info[name]

    def resolve(self, population: str | None) -> str:
        """Return the population name, defaulting to the only population of the file."""
        if population is None:
            if len(self.populations) != 1:
                raise LogFormatError(f"{self.path}: file has populations {self.populations}; "
                                     "choose one with --population (CLI) / population= (Python)")
            return self.populations[0]
        if population not in self.populations:
            raise LogFormatError(f"{self.path}: unknown population {population!r} "
                                 f"(available: {', '.join(self.populations)})")
        return population

    def _dataset(self, name: str, key: str) -> h5py.Dataset:
        grp = self._spikes[name]
        try:
            obj = grp[key] if key in grp else None
        except (KeyError, OSError, RuntimeError) as exc:      # the link exists, the object is unreadable
            raise LogFormatError(f"{where(self.path, name)}: dataset /spikes/{name}/{key} is corrupted "
                                 f"({_first_line(exc)})") from None
        if not isinstance(obj, h5py.Dataset):
            raise LogFormatError(f"{where(self.path, name)}: missing dataset "
                                 f"/spikes/{name}/{key}")
        if obj.ndim != 1:
            raise LogFormatError(f"{where(self.path, name)}: dataset {key} has shape "
                                 f"{obj.shape}, expected 1-D")
        if self._file.swmr_mode:
            try:
                obj.refresh()
            except (OSError, ValueError, AttributeError):
                pass
        return obj

    def _read_info(self, name: str) -> PopulationInfo:
        loc = where(self.path, name)
        grp = self._spikes[name]
        ts = self._dataset(name, "timestamps")
        ids = self._dataset(name, "node_ids")
        if ts.dtype.kind not in "fiu":
            raise LogFormatError(f"{loc}: timestamps have dtype {ts.dtype}, expected float")
        if ids.dtype.kind not in "iu":
            raise LogFormatError(f"{loc}: node_ids have dtype {ids.dtype}, expected integer")
        n = ts.shape[0]
        if ids.shape[0] != n:
            warnings.warn(LogFormatWarning(
                f"{loc}: timestamps ({n}) and node_ids ({ids.shape[0]}) differ in length "
                f"(file still being written?); using the first {min(n, ids.shape[0])} spikes"),
                stacklevel=3)
            n = min(n, ids.shape[0])
        units = ts.attrs.get("units")
        if units is None:
            warnings.warn(LogFormatWarning(f"{loc}: timestamps have no 'units' attribute; "
                                           "assuming ms"), stacklevel=3)
            scale = 1.0
        else:
            unit = _text(units).strip().lower()
            if unit not in _UNIT_SCALE:
                raise LogFormatError(f"{loc}: timestamps units {unit!r} not supported "
                                     "(expected 'ms' or 's')")
            scale = _UNIT_SCALE[unit]
        sorting = self._sorting(grp, loc)
        n_nodes = grp.attrs.get("n_nodes")
        if n_nodes is not None:
            try:
                n_nodes = int(np.asarray(n_nodes).reshape(-1)[0])
            except (TypeError, ValueError, IndexError):
                raise LogFormatError(f"{loc}: attribute n_nodes={n_nodes!r} is not an integer") from None
            if n_nodes < 0:
                raise LogFormatError(f"{loc}: attribute n_nodes={n_nodes} is negative")
        return PopulationInfo(name, int(n), n_nodes, sorting, scale, ids.dtype, ts.dtype)

    @staticmethod
    def _sorting(grp: h5py.Group, loc: str) -> str:
        if "sorting" not in grp.attrs:
            return "none"
        raw = grp.attrs["sorting"]
        enum = h5py.check_enum_dtype(grp.attrs.get_id("sorting").dtype)
        if enum is not None:
            names = {int(v): k for k, v in enum.items()}
            value = names.get(int(np.asarray(raw).reshape(-1)[0]), "")
        elif isinstance(raw, (str, bytes, np.bytes_, np.str_)) or (
                isinstance(raw, np.ndarray) and raw.dtype.kind in "SUO"):
            value = _text(raw).strip().lower()
            value = _SORTING_ALIASES.get(value, value)
        else:  # plain integer as the enum value
            try:
                value = SORTINGS[int(np.asarray(raw).reshape(-1)[0])]
            except (TypeError, ValueError, IndexError):
                value = repr(raw)
        if value not in SORTINGS:
            warnings.warn(LogFormatWarning(f"{loc}: unknown sorting {value!r}; treating as 'none'"),
                          stacklevel=4)
            return "none"
        return value

    def recorded_interval(self) -> tuple[float, float] | None:
        """(t_start, t_stop) ms that the writer simulated (root attributes ``t_start`` and
        ``t_stop``, read afresh: a live log's t_stop advances), or None when absent."""
        attrs = self._file.attrs
        if "t_start" not in attrs or "t_stop" not in attrs:
            return None
        try:
            t0, t1 = (float(np.asarray(attrs[k]).reshape(-1)[0]) for k in ("t_start", "t_stop"))
        except (TypeError, ValueError, IndexError):
            raise LogFormatError(f"{self.path}: root attributes t_start={attrs['t_start']!r}, "
                                 f"t_stop={attrs['t_stop']!r} are not numbers (ms)") from None
        if not (math.isfinite(t0) and math.isfinite(t1) and t0 <= t1):
            raise LogFormatError(f"{self.path}: recorded interval t_start={t0}, t_stop={t1} ms; "
                                 "expected finite values with t_start <= t_stop")
        return t0, t1

    def interval(self, t_start: float | None = None, t_stop: float | None = None) -> Interval:
        """The analysis interval [t_start, t_stop) ms: each bound as given, else as recorded
        (:meth:`recorded_interval`), else from 0 ms to the last spike (t_stop None; warns,
        as rates are then overestimated). Bounds outside a recorded interval are refused."""
        recorded = self.recorded_interval()
        t0 = float(t_start) if t_start is not None else recorded[0] if recorded else 0.0
        if t_stop is not None:
            stop, source = float(t_stop), "argument"
        elif recorded is not None:
            stop, source = recorded[1], "recorded"
        else:
            warnings.warn(LogFormatWarning(
                f"{self.path}: no recorded interval (root attributes t_start/t_stop); t_stop "
                "defaults to the last spike, which overestimates rates: pass the simulated "
                "duration with --t-stop (CLI) / t_stop= (Python)"), stacklevel=3)
            return Interval(t0, None, "last spike")
        if not (math.isfinite(t0) and math.isfinite(stop) and stop > t0):
            if source == "recorded" and t_start is not None:
                raise ValueError(f"{self.path}: t_start ({t0} ms) is not before the end of the recorded "
                                 f"interval [{recorded[0]}, {stop}) ms")
            if source == "recorded":
                raise ValueError(f"{self.path}: the recorded t_stop ({stop} ms) is not after t_start "
                                 f"({t0} ms): nothing simulated yet? pass --t-stop (CLI) / t_stop= (Python)")
            raise ValueError(f"t_stop ({stop} ms) must be finite and > t_start ({t0} ms)")
        if recorded is not None:
            # a recorded bound may carry float rounding (ten runs of 0.1 ms end at 0.9999999999999999)
            slack = 1e-9 * max(1.0, abs(recorded[0]), abs(recorded[1]))
            if t0 < recorded[0] - slack or stop > recorded[1] + slack:
                raise ValueError(f"{self.path}: the interval [{t0!r}, {stop!r}) ms reaches outside the recorded "
                                 f"[{recorded[0]!r}, {recorded[1]!r}) ms, where nothing was simulated (rates "
                                 f"would be diluted); allowed --t-start/--t-stop (CLI), t_start=/t_stop= (Python) "
                                 f"within it")
        return Interval(t0, stop, source)

    # -- reading ---------------------------------------------------------------
    def row_range(self, population: str | None, t_start: float | None,
                  t_stop: float | None) -> tuple[int, int]:
        """Rows that can hold spikes in [t_start, t_stop) ms (all rows unless by_time)."""
        info = self.info(population)
        lo, hi = 0, info.n_spikes
        if info.sorting != "by_time" or info.n_spikes == 0:
            return lo, hi
        ts = self._dataset(info.name, "timestamps")
        if t_start is not None:
            lo = self._bisect(ts, info.time_scale, t_start, 0, hi)
        if t_stop is not None:
            hi = self._bisect(ts, info.time_scale, t_stop, lo, hi)
        return lo, hi

    def _bisect(self, ts: h5py.Dataset, scale: float, value_ms: float, lo: int, hi: int) -> int:
        """First row in [lo, hi) with timestamp >= value_ms (timestamps sorted), compared in
        ms after the same conversion as iter_chunks (timestamp * scale), so that a spike on
        the bound counts the same way whatever the file's sorting."""
        while lo < hi:
            mid = (lo + hi) // 2
            if float(ts[mid]) * scale < value_ms:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def iter_chunks(self, population: str | None = None, *, chunk_rows: int | None = None,
                    start: int = 0, stop: int | None = None,
                    check_order: bool | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(timestamps_ms float64, node_ids int64)`` for rows [start, stop).

        Arrays are reused between iterations: copy what you keep. Node ids are validated
        (no negatives, < n_nodes when known); timestamps must be finite and, when
        ``check_order`` (default: the file claims by_time), non-decreasing.
        """
        info = self.info(population)
        loc = where(self.path, info.name)
        stop = info.n_spikes if stop is None else min(stop, info.n_spikes)
        if check_order is None:
            check_order = info.sorting == "by_time"
        rows = int(chunk_rows or DEFAULT_CHUNK_ROWS)
        if rows < 1:
            raise ValueError("chunk_rows must be >= 1")
        ts = self._dataset(info.name, "timestamps")
        ids = self._dataset(info.name, "node_ids")
        rows = min(rows, max(stop - start, 1))
        t_buf = np.empty(rows, dtype=np.float64)
        direct_ids = info.node_id_dtype.itemsize == 8
        id_buf = np.empty(rows, dtype=info.node_id_dtype if direct_ids else np.int64)
        never_negative = info.node_id_dtype.kind == "u" and info.node_id_dtype.itemsize < 8
        prev_t = -np.inf
        for a in range(start, stop, rows):
            b = min(a + rows, stop)
            m = b - a
            t, i = t_buf[:m], id_buf[:m]
            try:
                ts.read_direct(t, np.s_[a:b], np.s_[0:m])
                if direct_ids:
                    ids.read_direct(i, np.s_[a:b], np.s_[0:m])
                else:
                    i[...] = ids[a:b]
            except (OSError, ValueError, TypeError) as exc:
                raise LogFormatError(f"{loc}: cannot read rows {a}:{b} ({_first_line(exc)}); "
                                     "file truncated or corrupted?") from None
            if info.time_scale != 1.0:
                t *= info.time_scale
            i64 = i.view(np.int64) if direct_ids else i
            lo_t, hi_t = t.min(), t.max()
            if not (np.isfinite(lo_t) and np.isfinite(hi_t)):
                bad = a + int(np.flatnonzero(~np.isfinite(t))[0])
                raise LogFormatError(f"{loc}: non-finite timestamp at row {bad}")
            if not never_negative:
                lo_i = i64.min()
                if lo_i < 0:
                    bad = a + int(np.argmin(i64))
                    what = ("negative node id" if info.node_id_dtype.kind == "i"
                            else "node id >= 2**63")
                    raise LogFormatError(f"{loc}: {what} {i[bad - a]} at row {bad}")
            if info.n_nodes is not None:
                hi_i = i64.max()
                if hi_i >= info.n_nodes:
                    raise LogFormatError(f"{loc}: node id {hi_i} >= n_nodes={info.n_nodes} "
                                         f"at row {a + int(np.argmax(i64))}")
            if check_order:
                if t[0] < prev_t:
                    raise LogFormatError(f"{loc}: sorting is {info.sorting!r} but timestamps "
                                         f"decrease at row {a}")
                dec = t[1:] < t[:-1]
                if dec.any():
                    raise LogFormatError(f"{loc}: sorting is {info.sorting!r} but timestamps "
                                         f"decrease at row {a + 1 + int(np.argmax(dec))}")
                prev_t = t[-1]
            yield t, i64

    def load_spikes(self, population: str | None, node_ids: Sequence[int] | np.ndarray, *,
                    t_start: float | None = None, t_stop: float | None = None,
                    chunk_rows: int | None = None) -> dict[int, np.ndarray]:
        """Return {node_id: sorted spike times (ms)} for the selected neurons only.

        Spikes with t_start <= t < t_stop (bounds optional) are kept; memory is bounded
        by the selected neurons' spikes plus one chunk.
        """
        info = self.info(population)
        sel = np.unique(np.asarray(node_ids, dtype=np.int64))
        n = info.n_nodes
        if sel.size and (sel[0] < 0 or (n is not None and sel[-1] >= n)):
            allowed = f"[0, {n - 1}] (n_nodes={n})" if n is not None else "[0, inf)"
            raise EventsimError(f"{where(self.path, info.name)}: node_ids must lie in {allowed}, "
                                f"got {sel[0] if sel[0] < 0 else sel[-1]}")
        parts_t: list[np.ndarray] = []
        parts_i: list[np.ndarray] = []
        if sel.size:
            lut = np.zeros(int(sel[-1]) + 1, dtype=bool)
            lut[sel] = True
            lo, hi = self.row_range(info.name, t_start, t_stop)
            for t, ids in self.iter_chunks(info.name, chunk_rows=chunk_rows, start=lo, stop=hi):
                keep = ids < lut.size
                keep[keep] = lut[ids[keep]]
                if t_start is not None:
                    keep &= t >= t_start
                if t_stop is not None:
                    keep &= t < t_stop
                if keep.any():
                    parts_t.append(t[keep].copy())
                    parts_i.append(ids[keep].copy())
        all_t = np.concatenate(parts_t) if parts_t else np.empty(0)
        all_i = np.concatenate(parts_i) if parts_i else np.empty(0, np.int64)
        order = np.lexsort((all_t, all_i))
        all_t, all_i = all_t[order], all_i[order]
        bounds = np.searchsorted(all_i, sel, side="left"), np.searchsorted(all_i, sel, side="right")
        return {int(n): all_t[a:b] for n, a, b in zip(sel, *bounds)}

    def infer_n_nodes(self, population: str | None = None,
                      chunk_rows: int | None = None) -> int:
        """Population size: the ``n_nodes`` attribute, else max(node_id)+1 over the whole file,
        whatever interval is analysed (warns; one pass). Raises LogFormatError when the
        population has no attribute and no spike."""
        info = self.info(population)
        if info.n_nodes is not None:
            return info.n_nodes
        if info.name not in self._inferred:
            top = -1
            for _, ids in self.iter_chunks(info.name, chunk_rows=chunk_rows, check_order=False):
                top = max(top, int(ids.max()))
            if top < 0:
                raise UnknownSizeError(f"{where(self.path, info.name)}: no spikes and no 'n_nodes' attribute; "
                                       "population size unknown")
            warn_inferred(self.path, info.name, top + 1)
            self._inferred[info.name] = top + 1
        return self._inferred[info.name]

    # -- context manager -------------------------------------------------------
    def close(self) -> None:
        """Close the underlying HDF5 file."""
        self._file.close()

    def __enter__(self) -> "SpikeLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def warn_inferred(path: str, population: str, n_nodes: int) -> None:
    """Warn that the population size was inferred from the largest node id."""
    warnings.warn(LogFormatWarning(
        f"{where(path, population)}: no 'n_nodes' attribute; inferred n_nodes={n_nodes} "
        "from max(node_id)+1 (silent neurons above it are not counted)"), stacklevel=3)


def open_log(path: str | os.PathLike[str]) -> SpikeLog:
    """Open a spike log read-only (SWMR, no file locking)."""
    return SpikeLog(path)
