"""Spike recording: in-memory per population, and streaming to SONATA HDF5 logs.

Layout (SONATA): /spikes/<population>/timestamps (float64, units "ms") and node_ids
(uint64, population-local), group attributes `sorting` (HDF5 enum none/by_id/by_time) and
`n_nodes`; root attributes magic = 0x0A7A, version = [0, 1], plus eventsim_version, seed and
config (JSON) so that a log explains itself, and t_start, t_stop (float64, ms): the simulated
interval the log covers. t_stop advances at every flush and close to the model time up to which
every spike has been written, so rates need no guess from the last spike (eventsim.analysis
defaults to this interval). The file is created with libver v110, the newest
format that older libsonata builds read, and switched to SWMR mode, so that our own reader can
open it while it is written (libsonata opens it after the run has closed it).

Crash safety: SpikeRecorder flushes at least every `flush_interval_s` of wall time (checked at
every engine buffer drain and chunk boundary; Network.run shortens its chunks when one takes
longer). A flushed SWMR file stays readable after the writer is killed (a plain open fails on HDF5's
"file is already open for write" flag; `hdf5_open.open_read_only` then opens it with swmr=True,
as eventsim.analysis does). `copy_prefix` rebuilds a clean log from such a file up to given row counts;
checkpoint resume uses it, so spikes written after a checkpoint are dropped, never duplicated.
"""
from __future__ import annotations

import os

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import h5py
import numpy as np

from . import checks
from .errors import EventsimError
from .hdf5_open import hdf5_reason, open_read_only

# writers whose writes failed in this process, kept open (see SonataWriter._writing). At interpreter
# exit HDF5 would flush and close them (and can crash doing so), so the command line leaves with
# os._exit after reporting (DESIGN.md)
WRITE_FAILURES: list["SonataWriter"] = []
SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype=np.uint8)
CHUNK_ROWS = 1 << 16


class SonataWriter:
    """Appends spikes per population to resizable, chunked datasets."""

    def __init__(self, path: str, populations: dict[str, int], attrs: dict, compression: str | None = None,
                 append: bool = False, t_start: float = 0.0):
        """append=True continues an existing, cleanly closed log (see copy_prefix) instead of
        creating a new one; its populations must be those given. t_start: model time (ms) at
        which the recording starts. Missing parent directories of `path` are created."""
        self.failed: str | None = None      # the first write error: nothing more is written (see _writing)
        if append:
            self._open_existing(path, populations)
            return
        checks.output_dir(f"spike log '{path}'", os.path.dirname(path) or ".")
        try:
            self.file = h5py.File(path, "w", libver=("v110", "v110"))
        except OSError as exc:
            raise EventsimError(f"cannot create spike log '{path}': {exc}") from None
        self.path = path
        f = self.file
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        f.attrs.create("version", np.array([0, 1], dtype=np.uint32))
        for key, value in attrs.items():
            f.attrs[key] = value
        for key in ("t_start", "t_stop"):      # nothing simulated yet: the interval is empty
            f.attrs.create(key, float(t_start), dtype=np.float64)
        self.ts, self.ids = {}, {}
        self.pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        f.require_group("spikes")           # present even when nothing is recorded
        for name, n_nodes in populations.items():
            g = f.create_group(f"spikes/{name}")
            g.attrs.create("sorting", 2, dtype=SORTING)
            g.attrs["n_nodes"] = np.uint64(n_nodes)
            self.ts[name] = g.create_dataset("timestamps", shape=(0,), maxshape=(None,), dtype=np.float64,
                                             chunks=(CHUNK_ROWS,), compression=compression)
            self.ts[name].attrs["units"] = "ms"
            self.ids[name] = g.create_dataset("node_ids", shape=(0,), maxshape=(None,), dtype=np.uint64,
                                              chunks=(CHUNK_ROWS,), compression=compression)
            self.pending[name] = []
        f.swmr_mode = True

    def _open_existing(self, path: str, populations: dict[str, int]) -> None:
        try:
            self.file = h5py.File(path, "r+", libver=("v110", "v110"), locking=False)
        except OSError as exc:
            raise EventsimError(f"cannot reopen spike log '{path}': {exc}") from None
        self.path = path
        self.ts, self.ids, self.pending = {}, {}, {}
        for name in populations:
            if f"spikes/{name}/timestamps" not in self.file or f"spikes/{name}/node_ids" not in self.file:
                self.file.close()
                raise EventsimError(f"spike log '{path}' has no population '{name}'")
            self.ts[name] = self.file[f"spikes/{name}/timestamps"]
            self.ids[name] = self.file[f"spikes/{name}/node_ids"]
            self.pending[name] = []
        self.file.swmr_mode = True

    def rows(self) -> dict[str, int]:
        """Rows written to disk per population (call flush() first to include pending spikes)."""
        return {name: int(ds.shape[0]) for name, ds in self.ts.items()}

    def append(self, name: str, times: np.ndarray, ids: np.ndarray) -> None:
        """Queue spikes; full chunks are written at once."""
        self.pending[name].append((times, ids))
        if sum(t.size for t, _ in self.pending[name]) >= CHUNK_ROWS:
            self._write(name, whole_chunks=True)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """HDF5 write failures (a full disk, a removed file) become one EventsimError line, and
        the writer never touches the file again. It is not closed either: closing would write
        metadata for rows that never reached the disk and clear the "open for write" flag,
        turning the intact prefix up to the last flush (which resume and the analysis read)
        into a corrupt file. The writer is kept alive in WRITE_FAILURES so that the file is not
        closed when the object is collected."""
        if self.failed:
            raise EventsimError(self.failed)
        try:
            yield
        except (OSError, RuntimeError) as exc:
            self.failed = f"cannot write spike log '{self.path}': {hdf5_reason(exc)}"
            WRITE_FAILURES.append(self)
            raise EventsimError(self.failed) from None

    def _write(self, name: str, whole_chunks: bool) -> None:
        parts = self.pending[name]
        if not parts:
            return
        times = np.concatenate([t for t, _ in parts])
        ids = np.concatenate([i for _, i in parts])
        n = times.size - (times.size % CHUNK_ROWS if whole_chunks else 0)
        self.pending[name] = [(times[n:], ids[n:])] if n < times.size else []
        if n == 0:
            return
        with self._writing():
            for ds, data in ((self.ts[name], times[:n]), (self.ids[name], ids[:n].astype(np.uint64))):
                old = ds.shape[0]
                ds.resize((old + n,))
                ds[old:] = data

    def flush(self, t_stop: float | None = None) -> None:
        """Write everything pending and flush to disk: the file is then complete. t_stop: the
        model time (ms) up to which every spike has been appended, stored as the log's t_stop."""
        for name in self.pending:
            self._write(name, whole_chunks=False)
        with self._writing():
            if t_stop is not None:
                self.file.attrs.modify("t_stop", float(t_stop))     # in place: allowed in SWMR mode
            self.file.flush()

    def close(self, t_stop: float | None = None) -> None:
        """Flush (see flush) and close; a closed or failed writer ignores the call."""
        if self.file.id.valid and not self.failed:
            self.flush(t_stop)
            self.file.close()


@dataclass
class SpikeRecorder:
    """Splits engine spike buffers by population; keeps them in memory and/or streams them."""
    names: list[str]                       # recorded populations
    offsets: np.ndarray                    # global node offset of each recorded population
    sizes: np.ndarray
    in_memory: bool = True
    writer: SonataWriter | None = None
    flush_interval_s: float = 1.0
    clock: Callable[[], float] | None = None   # model time (ms) up to which every spike was received
    memory: dict = field(default_factory=dict)
    n_spikes: int = 0
    _last_flush: float = field(default_factory=time.monotonic)

    def on_spikes(self, times: np.ndarray, node_ids: np.ndarray) -> None:
        """Receive one engine buffer (time-ordered, global node ids)."""
        self.n_spikes += times.size
        which = np.searchsorted(self.offsets, node_ids, side="right") - 1
        for k, name in enumerate(self.names):
            sel = which == k
            if not sel.any():
                continue
            local = node_ids[sel] - self.offsets[k]
            inside = local < self.sizes[k]
            if not inside.all():
                sel_t, local = times[sel][inside], local[inside]
            else:
                sel_t = times[sel]
            if self.in_memory:
                self.memory.setdefault(name, []).append((sel_t, local))
            if self.writer is not None:
                self.writer.append(name, sel_t, local)
        self.maybe_flush()

    def maybe_flush(self) -> None:
        """Flush if flush_interval_s (wall time) has passed since the last flush."""
        if self.writer is not None and time.monotonic() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write pending spikes and the log's t_stop (the clock's model time) to disk."""
        if self.writer is not None:
            self.writer.flush(None if self.clock is None else self.clock())
        self._last_flush = time.monotonic()

    def spikes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(times ms, local ids) recorded in memory for population `name`."""
        if not self.in_memory:
            where = f" in the log '{self.writer.path}'" if self.writer is not None else ""
            raise EventsimError(f"spikes of '{name}' are not kept in memory (record_spikes(in_memory=False)); "
                                f"they are{where}: read them with eventsim.analysis.SpikeLog")
        parts = self.memory.get(name, [])
        if len(parts) > 1:
            self.memory[name] = parts = [(np.concatenate([t for t, _ in parts]),
                                          np.concatenate([i for _, i in parts]))]
        if not parts:
            return np.zeros(0), np.zeros(0, np.int64)
        return parts[0]


def config_attrs(config: dict, seed: int, version: str, run_id: str | None = None) -> dict:
    """Root attributes of a spike log. run_id identifies the run that writes it (new for a new
    log, the checkpoint's for a resumed one), so that resume never continues another run's log."""
    # a seed beyond int64 (Network accepts any whole number >= 0) is stored as text
    return {"eventsim_version": version, "seed": np.int64(seed) if -2 ** 63 <= seed < 2 ** 63 else str(seed),
            "config": json.dumps(config, sort_keys=True, default=_json_default),
            "run_id": run_id or uuid.uuid4().hex}


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else f"<array of {obj.size}>"
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    return repr(obj)


COPY_BLOCK = 1 << 20


def open_log_for_reading(path: str) -> h5py.File:
    """Open a spike log read-only, also one whose writer was killed or failed on a full disk
    (eventsim.hdf5_open, writer_failed_ok)."""
    try:
        return open_read_only(path, writer_failed_ok=True)
    except FileNotFoundError:
        raise EventsimError(f"spike log '{path}' does not exist") from None
    except OSError as exc:
        raise EventsimError(f"cannot read spike log '{path}' (truncated or corrupted?): {hdf5_reason(exc)}") from None


def copy_prefix(src: str, dst: str, rows: dict[str, int], populations: dict[str, int], attrs: dict,
                compression: str | None = None,
                extra: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                keep: bool = False, interval: tuple[float, float] = (0.0, 0.0)) -> dict[str, tuple]:
    """Write a clean, closed log at dst holding the first rows[name] spikes of each population of
    the log src (src may be a log whose writer was killed; src may equal dst), then the spikes
    in `extra` (name -> (times, local ids)), recording `interval` (t_start, t_stop) ms as the
    simulated interval. Written to a temporary file and renamed, so dst is never left
    half-written. With keep=True, returns the copied spikes per population (times, local ids),
    else an empty dict."""
    tmp = f"{dst}.resume-tmp"
    copied = {}
    try:
        writer = SonataWriter(tmp, populations, attrs, compression, t_start=interval[0])
    except EventsimError:
        raise EventsimError(f"cannot create spike log '{dst}' (temporary '{tmp}')") from None
    try:
        fin = open_log_for_reading(src) if src is not None and any(rows.values()) else None
        try:
            for name in populations:
                n = int(rows.get(name, 0))
                parts_t, parts_i = [], []
                if n:
                    if f"spikes/{name}/timestamps" not in fin or f"spikes/{name}/node_ids" not in fin:
                        raise EventsimError(f"spike log '{src}' has no population '{name}'")
                    ts, ids = fin[f"spikes/{name}/timestamps"], fin[f"spikes/{name}/node_ids"]
                    have = min(ts.shape[0], ids.shape[0])
                    if have < n:
                        raise EventsimError(f"spike log '{src}' holds {have} spikes of '{name}', the checkpoint "
                                            f"needs its first {n}: the log was truncated or replaced")
                    for lo in range(0, n, COPY_BLOCK):
                        hi = min(n, lo + COPY_BLOCK)
                        t_blk, i_blk = ts[lo:hi], ids[lo:hi].astype(np.int64)
                        writer.append(name, t_blk, i_blk)
                        if keep:
                            parts_t.append(t_blk)
                            parts_i.append(i_blk)
                if extra and name in extra:
                    t_blk, i_blk = extra[name]
                    writer.append(name, np.asarray(t_blk, np.float64), np.asarray(i_blk, np.int64))
                    parts_t.append(np.asarray(t_blk, np.float64))
                    parts_i.append(np.asarray(i_blk, np.int64))
                if keep:
                    copied[name] = (np.concatenate(parts_t) if parts_t else np.zeros(0),
                                    np.concatenate(parts_i) if parts_i else np.zeros(0, np.int64))
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, EventsimError):
                raise
            raise EventsimError(f"spike log '{src}' is unreadable or corrupt: {exc}") from None
        finally:
            if fin is not None:
                fin.close()
        writer.close(interval[1])
        os.replace(tmp, dst)
    except BaseException:
        writer.close()
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return copied
