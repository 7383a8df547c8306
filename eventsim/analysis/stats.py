"""Firing statistics of spike logs, computed in one streaming pass.

Conventions: times in ms, rates in Hz. The analysis interval is [t_start, t_stop); bounds
that are not given default to the interval the log records (:meth:`SpikeLog.interval`). A log
without one (another tool, an older eventsim) starts at 0 ms and ends at the last spike, which
is then included; that overestimates rates, so a warning asks for the simulated duration.
Standard deviations and variances use ddof=0.
"""
from __future__ import annotations

import math
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .errors import LogFormatError, LogFormatWarning, where
from .reader import Interval, SpikeLog
from .kernels import HAVE_NUMBA
from .streaming import Accumulator, OrderViolation, isi_hist_edges

#: Spikes held in memory per neuron bucket when a log must be re-read neuron-wise.
BUCKET_SPIKES = 1 << 22


@contextmanager
def as_log(log: str | os.PathLike[str] | SpikeLog) -> Iterator[SpikeLog]:
    """Yield an open :class:`SpikeLog`; paths are opened and closed here."""
    if isinstance(log, SpikeLog):
        yield log
    else:
        with SpikeLog(log) as opened:
            yield opened


@dataclass(frozen=True)
class SpikeStats:
    """Per-neuron firing statistics of one population over [t_start, t_stop) ms."""

    population: str
    n_nodes: int
    n_spikes: int
    t_start: float  # ms
    t_stop: float  # ms
    counts: np.ndarray  # spikes per neuron
    rates: np.ndarray  # Hz per neuron
    isi_count: np.ndarray  # ISIs per neuron (counts - 1, floored at 0)
    isi_mean: np.ndarray  # ms, NaN without ISI
    isi_std: np.ndarray  # ms (ddof=0), NaN without ISI
    cv: np.ndarray  # ISI std/mean, NaN for neurons with < 3 spikes
    isi_hist_edges: np.ndarray  # ms, log-spaced; end bins include under/overflow
    isi_hist_counts: np.ndarray  # pooled ISIs of all neurons
    t_stop_source: str = "argument"  # "argument", "recorded" (the log's) or "last spike"

    @property
    def duration(self) -> float:
        """Analysis interval length (ms)."""
        return self.t_stop - self.t_start

    @property
    def mean_rate(self) -> float:
        """Mean firing rate over all n_nodes neurons, silent ones included (Hz)."""
        return float(self.n_spikes / (self.n_nodes * self.duration * 1e-3)) if self.n_nodes else math.nan

    @property
    def n_cv(self) -> int:
        """Number of neurons with a CV (>= 3 spikes)."""
        return int(np.count_nonzero(~np.isnan(self.cv)))

    @property
    def mean_cv(self) -> float:
        """Mean ISI CV over neurons with >= 3 spikes (NaN if none)."""
        return float(np.nanmean(self.cv)) if self.n_cv else math.nan


@dataclass(frozen=True)
class FanoFactors:
    """Fano factors of spike counts in ``n_windows`` complete windows of ``bin`` ms."""

    bin: float  # ms
    n_windows: int
    per_neuron: np.ndarray  # var/mean of each neuron's counts, NaN for silent neurons
    population: float  # var/mean of the population count per window

    @property
    def mean(self) -> float:
        """Mean per-neuron Fano factor over neurons that spiked in the windows."""
        ok = ~np.isnan(self.per_neuron)
        return float(self.per_neuron[ok].mean()) if ok.any() else math.nan


@dataclass(frozen=True)
class PopulationRate:
    """Population rate histogram: spikes per bin and mean rate per neuron (Hz)."""

    bin: float  # ms
    edges: np.ndarray  # ms, len(counts)+1; the last bin may be shorter than ``bin``
    counts: np.ndarray  # spikes of the whole population per bin
    rate: np.ndarray  # Hz per neuron: counts / (n_nodes * bin width in s)


@dataclass(frozen=True)
class Summary:
    """Everything :func:`summarize` computes in its single pass."""

    stats: SpikeStats
    population_rate: PopulationRate | None
    fano: FanoFactors | None


def _check_args(t_start: float | None, t_stop: float | None, *bins: float | None) -> float:
    t0 = 0.0 if t_start is None else float(t_start)
    if not math.isfinite(t0):
        raise ValueError(f"t_start must be finite, got {t_start}")
    if t_stop is not None and not (math.isfinite(t_stop) and t_stop > t0):
        raise ValueError(f"t_stop ({t_stop} ms) must be finite and > t_start ({t0} ms)")
    for b in bins:
        if b is not None and not (math.isfinite(b) and b > 0):
            raise ValueError(f"bin widths must be positive ms, got {b}")
    return t0


def _in_range(t: np.ndarray, ids: np.ndarray, t0: float,
              t_stop: float | None) -> tuple[np.ndarray, np.ndarray]:
    if t.min() >= t0 and (t_stop is None or t.max() < t_stop):
        return t, ids
    keep = t >= t0
    if t_stop is not None:
        keep &= t < t_stop
    return t[keep], ids[keep]


def resolve_backend(backend: str) -> str:
    """'auto' -> 'numba' when numba is importable, else 'numpy'."""
    if backend == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    if backend not in ("numpy", "numba"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'numba', got {backend!r}")
    if backend == "numba" and not HAVE_NUMBA:
        raise ValueError("backend 'numba' requested but numba is not installed")
    return backend


def _accumulate(log: SpikeLog, name: str, t0: float, t_stop: float | None, chunk_rows: int | None,
                **kw: object) -> Accumulator:
    kw["backend"] = resolve_backend(str(kw.get("backend", "auto")))
    info = log.info(name)
    acc = Accumulator(info.n_nodes or 0, t0, **kw)  # type: ignore[arg-type]
    lo, hi = log.row_range(name, t0, t_stop)
    try:
        for t, ids in log.iter_chunks(name, chunk_rows=chunk_rows, start=lo, stop=hi):
            acc.feed(*_in_range(t, ids, t0, t_stop))
        return acc
    except OrderViolation:
        pass
    warnings.warn(LogFormatWarning(
        f"{where(log.path, name)}: spikes of a neuron are not in time order (sorting "
        f"{info.sorting!r}); re-reading the file neuron-bucketwise (slower)"), stacklevel=4)
    return _accumulate_bucketed(log, name, t0, t_stop, chunk_rows, **kw)


def _accumulate_bucketed(log: SpikeLog, name: str, t0: float, t_stop: float | None,
                         chunk_rows: int | None, **kw: object) -> Accumulator:
    """Exact statistics for unsorted logs: re-read once per bucket of neurons whose
    spikes fit in BUCKET_SPIKES, sort each bucket by time and feed it."""
    info = log.info(name)
    counts = np.zeros(info.n_nodes or 0, np.int64)
    for t, ids in log.iter_chunks(name, chunk_rows=chunk_rows):
        _, ids = _in_range(t, ids, t0, t_stop)
        c = np.bincount(ids, minlength=counts.size)
        if c.size > counts.size:
            counts = np.concatenate([counts, np.zeros(c.size - counts.size, np.int64)])
        counts += c
    acc = Accumulator(counts.size, t0, **kw)  # type: ignore[arg-type]
    cum = np.cumsum(counts)
    first = 0
    while first < counts.size:
        base = cum[first - 1] if first else 0
        last = int(np.searchsorted(cum, base + BUCKET_SPIKES, side="right"))
        last = max(last, first + 1)
        parts_t, parts_i = [], []
        for t, ids in log.iter_chunks(name, chunk_rows=chunk_rows):
            t, ids = _in_range(t, ids, t0, t_stop)
            keep = (ids >= first) & (ids < last)
            parts_t.append(t[keep].copy())
            parts_i.append(ids[keep].copy())
        bt, bi = np.concatenate(parts_t), np.concatenate(parts_i)
        order = np.argsort(bt, kind="stable")
        acc.feed(bt[order], bi[order])
        first = last
    return acc


def _finish(log: SpikeLog, name: str, acc: Accumulator, iv: Interval) -> tuple[int, float]:
    """Resolve n_nodes and t_stop after the pass; warn or raise for empty data."""
    t0, t_stop = iv.t_start, iv.t_stop
    info = log.info(name)
    loc = where(log.path, name)
    n_nodes = info.n_nodes
    if n_nodes is None:       # from the whole file, so that every interval of a log agrees
        n_nodes = log.infer_n_nodes(name)
        acc.reserve(n_nodes)
    if n_nodes == 0:
        raise LogFormatError(f"{loc}: population is empty (n_nodes=0)")
    if acc.n_spikes == 0:
        if t_stop is None:
            raise LogFormatError(f"{loc}: no spikes at t >= {t0} ms; pass t_stop to analyse "
                                 "an empty interval (the log records none)")
        warnings.warn(LogFormatWarning(f"{loc}: no spikes in [{t0}, {t_stop}) ms"), stacklevel=4)
    stop = acc.t_max if t_stop is None else float(t_stop)
    if stop <= t0:
        raise LogFormatError(f"{loc}: the only spikes are at t_start={t0} ms; "
                             "pass t_stop to set the interval")
    return n_nodes, stop


def _spike_stats(name: str, acc: Accumulator, n_nodes: int, iv: Interval, stop: float) -> SpikeStats:
    t0 = iv.t_start
    counts = acc.count[:n_nodes].copy()
    rates = counts / ((stop - t0) * 1e-3)
    isi_n = acc.isi_n[:n_nodes].copy()
    has = isi_n > 0
    isi_mean = np.where(has, acc.isi_mean[:n_nodes], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        isi_std = np.where(has, np.sqrt(np.maximum(acc.isi_m2[:n_nodes], 0.0) / np.maximum(isi_n, 1)),
                           np.nan)
        cv = np.where(isi_n >= 2, isi_std / isi_mean, np.nan)
    return SpikeStats(name, n_nodes, int(counts.sum()), t0, stop, counts, rates, isi_n,
                      isi_mean, isi_std, cv, isi_hist_edges(), acc.isi_hist.copy(), iv.source)


def _population_rate(acc: Accumulator, width: float, n_nodes: int, t0: float,
                     stop: float) -> PopulationRate:
    n_bins = max(1, math.ceil((stop - t0) / width - 1e-9))
    h = acc.hists[float(width)]
    counts = np.zeros(n_bins, np.int64)
    m = min(n_bins, h.size)
    counts[:m] = h[:m]
    counts[-1] += h[n_bins:].sum()  # spikes exactly at the default t_stop
    edges = np.minimum(t0 + width * np.arange(n_bins + 1), stop)
    edges[-1] = stop
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = counts / (n_nodes * np.diff(edges) * 1e-3)
    return PopulationRate(float(width), edges, counts, rate)


def _fano(log: SpikeLog, name: str, acc: Accumulator, width: float, n_nodes: int, t0: float,
          stop: float) -> FanoFactors:
    n_windows = int(math.floor((stop - t0) / width + 1e-9))
    if n_windows < 2:
        warnings.warn(LogFormatWarning(
            f"{where(log.path, name)}: fewer than 2 complete {width} ms windows in "
            f"[{t0}, {stop}) ms; Fano factors are NaN"), stacklevel=3)
        return FanoFactors(float(width), n_windows, np.full(n_nodes, np.nan), math.nan)
    s1, s2 = acc.finish_windows(n_windows)
    s1, s2 = s1[:n_nodes], s2[:n_nodes]
    with np.errstate(invalid="ignore", divide="ignore"):
        # var/mean with var = s2/W - (s1/W)^2 and mean = s1/W  ->  (W*s2 - s1^2) / (W*s1)
        per_neuron = np.where(s1 > 0, (n_windows * s2 - s1 * s1) / (n_windows * s1), np.nan)
    pop = acc.hists[float(width)][:n_windows].astype(np.float64)
    if pop.size < n_windows:
        pop = np.concatenate([pop, np.zeros(n_windows - pop.size)])
    mean = pop.mean()
    pop_fano = float(pop.var() / mean) if mean > 0 else math.nan
    return FanoFactors(float(width), n_windows, per_neuron, pop_fano)


def _one_pass(lg: SpikeLog, population: str | None, t_start: float | None, t_stop: float | None,
              chunk_rows: int | None, **kw: object) -> tuple[str, Accumulator, int, Interval, float]:
    """Accumulate one population over the resolved interval (see SpikeLog.interval):
    (name, accumulator, n_nodes, interval, end of the interval in ms)."""
    name = lg.resolve(population)
    iv = lg.interval(t_start, t_stop)
    acc = _accumulate(lg, name, iv.t_start, iv.t_stop, chunk_rows, **kw)
    n_nodes, stop = _finish(lg, name, acc, iv)
    return name, acc, n_nodes, iv, stop


def summarize(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
              t_start: float | None = None, t_stop: float | None = None,
              bin: float | None = 10.0, fano: bool = True, fano_bin: float | None = None,
              chunk_rows: int | None = None, backend: str = "auto") -> Summary:
    """Rates, ISI/CV, population rate histogram (``bin`` ms, None: skip) and, if ``fano``,
    Fano factors (``fano_bin`` ms, default ``bin``) of one population, in a single pass."""
    fano_bin = (bin if fano_bin is None else fano_bin) if fano else None
    _check_args(t_start, t_stop, bin, fano_bin)
    hist_bins = tuple(sorted({b for b in (bin, fano_bin) if b is not None}))
    with as_log(log) as lg:
        name, acc, n_nodes, iv, stop = _one_pass(lg, population, t_start, t_stop, chunk_rows, isi=True,
                                                 fano_bin=fano_bin, hist_bins=hist_bins, backend=backend)
        t0 = iv.t_start
        stats = _spike_stats(name, acc, n_nodes, iv, stop)
        prate = None if bin is None else _population_rate(acc, bin, n_nodes, t0, stop)
        ff = None if fano_bin is None else _fano(lg, name, acc, fano_bin, n_nodes, t0, stop)
    return Summary(stats, prate, ff)


def spike_stats(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
                t_start: float | None = None, t_stop: float | None = None,
                chunk_rows: int | None = None, backend: str = "auto") -> SpikeStats:
    """Per-neuron rates (Hz), ISI mean/std (ms) and CV in one O(n_neurons)-memory pass.

    ``backend``: "numpy" (chunk-vectorised), "numba" (compiled per-spike loop, faster) or
    "auto" (numba when installed). Both give the same results up to rounding."""
    _check_args(t_start, t_stop)
    with as_log(log) as lg:
        name, acc, n_nodes, iv, stop = _one_pass(lg, population, t_start, t_stop, chunk_rows, isi=True,
                                                 backend=backend)
        return _spike_stats(name, acc, n_nodes, iv, stop)


def firing_rates(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
                 t_start: float | None = None, t_stop: float | None = None,
                 chunk_rows: int | None = None) -> np.ndarray:
    """Per-neuron firing rates (Hz) over [t_start, t_stop) ms (no ISI work)."""
    _check_args(t_start, t_stop)
    with as_log(log) as lg:
        _, acc, n_nodes, iv, stop = _one_pass(lg, population, t_start, t_stop, chunk_rows, isi=False)
        return acc.count[:n_nodes] / ((stop - iv.t_start) * 1e-3)


def population_rate(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
                    bin: float = 10.0, t_start: float | None = None, t_stop: float | None = None,
                    chunk_rows: int | None = None) -> PopulationRate:
    """Population rate histogram with ``bin`` ms bins starting at t_start."""
    _check_args(t_start, t_stop, bin)
    with as_log(log) as lg:
        _, acc, n_nodes, iv, stop = _one_pass(lg, population, t_start, t_stop, chunk_rows, isi=False,
                                              hist_bins=(bin,))
        return _population_rate(acc, bin, n_nodes, iv.t_start, stop)


def fano_factor(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
                bin: float = 100.0, t_start: float | None = None, t_stop: float | None = None,
                chunk_rows: int | None = None) -> FanoFactors:
    """Fano factors of spike counts in complete ``bin`` ms windows from t_start:
    per neuron (and their mean) and of the population count."""
    _check_args(t_start, t_stop, bin)
    with as_log(log) as lg:
        name, acc, n_nodes, iv, stop = _one_pass(lg, population, t_start, t_stop, chunk_rows, isi=False,
                                                 fano_bin=bin, hist_bins=(bin,))
        return _fano(lg, name, acc, bin, n_nodes, iv.t_start, stop)
