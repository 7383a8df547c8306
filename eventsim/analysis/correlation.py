"""Pairwise spike-count correlations and cross-correlograms (times in ms).

Only the selected neurons' spikes are loaded (one pass over the log).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .reader import SpikeLog
from .stats import as_log
from .streaming import bin_index

#: Refuse binned count matrices larger than this many cells (memory guard).
MAX_COUNT_CELLS = 50_000_000
#: Lag differences evaluated per block in a correlogram (memory guard).
CCG_BLOCK = 1 << 22


@dataclass(frozen=True)
class PairCorrelations:
    """Pearson correlation of binned spike counts for sampled neuron pairs."""

    pairs: np.ndarray  # (k, 2) node ids
    coefficients: np.ndarray  # (k,), NaN when a neuron's counts are constant
    bin: float  # ms
    t_start: float  # ms
    t_stop: float  # ms

    @property
    def mean(self) -> float:
        """Mean over pairs with a defined coefficient (NaN if none)."""
        ok = ~np.isnan(self.coefficients)
        return float(self.coefficients[ok].mean()) if ok.any() else math.nan


@dataclass(frozen=True)
class Correlograms:
    """Cross-correlograms: counts of t_j - t_i (lag, ms) for pairs (i, j)."""

    pairs: np.ndarray  # (k, 2) node ids (i, j); positive lag: j fires after i
    edges: np.ndarray  # ms, bin edges from -window to +window
    counts: np.ndarray  # (k, n_bins) int64
    bin: float  # ms
    window: float  # ms

    @property
    def lags(self) -> np.ndarray:
        """Bin centres (ms)."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def _interval(trains: dict[int, np.ndarray], t_start: float | None,
              t_stop: float | None) -> tuple[float, float]:
    t0 = 0.0 if t_start is None else float(t_start)
    if t_stop is None:
        last = [tr[-1] for tr in trains.values() if tr.size]
        if not last:
            raise ValueError("no spikes for the selected neurons; pass t_stop")
        t_stop = float(max(last))
    if not t_stop > t0:
        raise ValueError(f"t_stop ({t_stop} ms) must be > t_start ({t0} ms)")
    return t0, float(t_stop)


def complete_bins(bin: float, t_start: float, t_stop: float) -> int:
    """Number of whole ``bin`` ms bins in [t_start, t_stop]."""
    return int(math.floor((t_stop - t_start) / bin + 1e-9))


def binned_counts(trains: Sequence[np.ndarray], bin: float, t_start: float,
                  t_stop: float) -> np.ndarray:
    """Spike counts (n_trains, n_bins) in the complete bins [t_start + k bin, t_start + (k+1) bin)
    that fit in [t_start, t_stop]. A partial last bin is left out: its counts are all low
    together, which biased correlations upwards (as Elephant, which also drops it)."""
    n_bins = complete_bins(bin, t_start, t_stop)
    if len(trains) * n_bins > MAX_COUNT_CELLS:
        raise ValueError(f"{len(trains)} trains x {n_bins} bins is too large; use a larger bin")
    out = np.zeros((len(trains), n_bins), np.int64)
    for row, tr in zip(out, trains):
        idx = bin_index(tr[tr >= t_start], t_start, bin)
        row += np.bincount(idx[idx < n_bins], minlength=n_bins)
    return out


def sample_pairs(nodes: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n_pairs`` distinct unordered pairs drawn from ``nodes`` (sorted rows)."""
    nodes = np.unique(np.asarray(nodes, np.int64))
    m = nodes.size
    total = m * (m - 1) // 2
    if total == 0 or n_pairs <= 0:
        return np.empty((0, 2), np.int64)
    k = min(n_pairs, total)
    if m <= 2000:
        iu, ju = np.triu_indices(m, 1)
        pick = np.sort(rng.choice(total, size=k, replace=False))
        i, j = iu[pick], ju[pick]
    else:  # rejection sampling; k << total here
        found = np.empty((0, 2), np.int64)
        while len(found) < k:
            a, b = rng.integers(0, m, size=(2, 2 * k))
            ab = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)[a != b]
            found = np.unique(np.concatenate([found, ab]), axis=0)
        found = found[np.sort(rng.choice(len(found), size=k, replace=False))]
        i, j = found[:, 0], found[:, 1]
    return np.stack([nodes[i], nodes[j]], axis=1)


def spike_count_correlations(log: str | os.PathLike[str] | SpikeLog, population: str | None = None,
                             *, neurons: Sequence[int] | None = None, n_pairs: int = 100,
                             bin: float = 10.0, t_start: float | None = None,
                             t_stop: float | None = None, seed: int = 0,
                             chunk_rows: int | None = None) -> PairCorrelations:
    """Pearson correlation of spike counts in ``bin`` ms bins for up to ``n_pairs`` random
    pairs among ``neurons`` (default: a random sample of all node ids), over the interval of
    :meth:`SpikeLog.interval` (by default the recorded one)."""
    if not bin > 0:
        raise ValueError(f"bin must be positive ms, got {bin}")
    rng = np.random.default_rng(seed)
    with as_log(log) as lg:
        name = lg.resolve(population)
        iv = lg.interval(t_start, t_stop)
        if neurons is None:
            n_nodes = lg.infer_n_nodes(name, chunk_rows)
            m = min(n_nodes, int(math.ceil((1 + math.sqrt(1 + 8 * n_pairs)) / 2)))
            neurons = rng.choice(n_nodes, size=m, replace=False)
        pairs = sample_pairs(np.asarray(neurons), n_pairs, rng)
        nodes = np.unique(pairs)
        trains = lg.load_spikes(name, nodes, t_start=iv.t_start, t_stop=iv.t_stop, chunk_rows=chunk_rows)
    t0, t1 = _interval(trains, iv.t_start, iv.t_stop)
    return count_correlations(trains, pairs, bin=bin, t_start=t0, t_stop=t1)


def count_correlations(trains: dict[int, np.ndarray], pairs: np.ndarray | Sequence[tuple[int, int]],
                       *, bin: float, t_start: float, t_stop: float) -> PairCorrelations:
    """Pearson correlation of spike counts in the complete ``bin`` ms bins of [t_start, t_stop]
    ms for pairs of already loaded spike trains {node id: times (ms)}; the result's t_stop is
    the end of the last complete bin."""
    if complete_bins(bin, t_start, t_stop) < 2:
        raise ValueError(f"[{t_start:g}, {t_stop:g}] ms holds fewer than 2 complete bins of {bin:g} ms; "
                         f"allowed a bin of at most {(t_stop - t_start) / 2:g} ms for correlations")
    pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
    nodes = np.unique(pairs)
    counts = binned_counts([trains[int(n)] for n in nodes], bin, t_start, t_stop).astype(np.float64)
    row = {int(n): k for k, n in enumerate(nodes)}
    counts -= counts.mean(axis=1, keepdims=True)
    norm = np.sqrt((counts * counts).sum(axis=1))
    coef = np.empty(len(pairs))
    for k, (a, b) in enumerate(pairs):
        x, y = row[int(a)], row[int(b)]
        den = norm[x] * norm[y]
        coef[k] = float(counts[x] @ counts[y] / den) if den > 0 else math.nan
    return PairCorrelations(pairs, coef, float(bin), float(t_start),
                            float(t_start + complete_bins(bin, t_start, t_stop) * bin))


def correlogram(ti: np.ndarray, tj: np.ndarray, window: float, bin: float,
                same: bool = False) -> np.ndarray:
    """Counts of lags t_j - t_i in [-window, window) ms in ``bin`` ms bins (sorted inputs).
    With ``same`` (an autocorrelogram) the zero-lag self pairs are excluded."""
    n_bins = int(round(2 * window / bin))
    out = np.zeros(n_bins, np.int64)
    lo = np.searchsorted(tj, ti - window, side="left")
    hi = np.searchsorted(tj, ti + window, side="left")
    span = hi - lo
    start = 0
    while start < ti.size:
        csum = np.cumsum(span[start:])
        stop = start + max(1, int(np.searchsorted(csum, CCG_BLOCK, side="right")))
        s = span[start:stop]
        total = int(s.sum())
        if total:
            src = np.repeat(np.arange(start, stop), s)
            offs = np.arange(total) - np.repeat(np.cumsum(s) - s, s)
            j = lo[src] + offs
            if same:
                keep = j != src
                src, j = src[keep], j[keep]
            lag = tj[j] - ti[src]
            idx = np.floor((lag + window) / bin).astype(np.int64)
            idx = idx[(idx >= 0) & (idx < n_bins)]
            out += np.bincount(idx, minlength=n_bins)
        start = stop
    return out


def cross_correlograms(log: str | os.PathLike[str] | SpikeLog, population: str | None = None, *,
                       pairs: Sequence[tuple[int, int]], window: float = 50.0, bin: float = 1.0,
                       t_start: float | None = None, t_stop: float | None = None,
                       chunk_rows: int | None = None) -> Correlograms:
    """Cross-correlograms of the given (i, j) pairs; lags t_j - t_i within +-window ms."""
    arr = np.asarray(pairs, np.int64).reshape(-1, 2)
    with as_log(log) as lg:
        trains = lg.load_spikes(population, np.unique(arr), t_start=t_start, t_stop=t_stop,
                                chunk_rows=chunk_rows)
    return correlograms(trains, arr, window=window, bin=bin)


def correlograms(trains: dict[int, np.ndarray], pairs: np.ndarray | Sequence[tuple[int, int]], *,
                 window: float = 50.0, bin: float = 1.0) -> Correlograms:
    """Cross-correlograms of already loaded, sorted spike trains {node id: times (ms)}."""
    if not (bin > 0 and window > 0):
        raise ValueError(f"window ({window}) and bin ({bin}) must be positive ms")
    if abs(2 * window / bin - round(2 * window / bin)) > 1e-9:
        raise ValueError(f"2*window ({2 * window} ms) must be a multiple of bin ({bin} ms)")
    arr = np.asarray(pairs, np.int64).reshape(-1, 2)
    n_bins = int(round(2 * window / bin))
    counts = np.zeros((len(arr), n_bins), np.int64)
    for row, (i, j) in zip(counts, arr):
        row += correlogram(trains[int(i)], trains[int(j)], window, bin, same=bool(i == j))
    edges = -window + bin * np.arange(n_bins + 1)
    return Correlograms(arr, edges, counts, float(bin), float(window))
