"""One-pass, chunk-vectorised accumulation of per-neuron spike statistics.

Memory is O(n_neurons + n_histogram_bins) whatever the number of spikes. Each chunk is
grouped by neuron with a stable radix sort (numpy's 16-bit radix ``argsort``), so
consecutive spikes of a neuron become adjacent; ISIs that straddle chunks use the
last spike time kept per neuron. Requirement: across chunks, each neuron's spikes
arrive in time order (true for files sorted by time, and for files sorted by id when
each neuron's spikes are in time order). A violation raises :class:`OrderViolation`
so the caller can fall back to a neuron-bucketed multi-pass computation.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .kernels import HAVE_NUMBA, isi_kernel

#: Pooled ISI histogram: quasi-log bins, 4 per octave (edges 2**e * {1, 1.25, 1.5, 1.75}),
#: from 2**-7 ms (7.8 us) to 2**20 ms (17.5 min); the end bins include under/overflow.
ISI_HIST_MIN_EXP = -7
ISI_HIST_MAX_EXP = 20


class OrderViolation(Exception):
    """A neuron's spikes were not delivered in time order (internal signal)."""


#: Refuse a rate histogram (or Fano windows) with more bins than this (80 MB of counts).
MAX_HIST_BINS = 10_000_000


def bin_index(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    """Index k of the bin [t0 + k*width, t0 + (k+1)*width) holding each t (ms), exactly as the
    edges t0 + width*arange(...) that results report: a spike on an edge is in the bin that
    starts there (a multiply by the rounded 1/width put it in the bin before for some widths)."""
    k = np.floor((t - t0) / width).astype(np.int64)
    k += t0 + (k + 1) * width <= t
    k -= t0 + k * width > t
    return k


def group_order(ids: np.ndarray, size: int) -> np.ndarray:
    """Stable permutation that sorts ``ids`` (0 <= id < size); O(n) LSD radix sort."""
    low = ids.astype(np.uint16)  # wraps: the low 16 bits
    if size <= 1 << 16:
        return np.argsort(low, kind="stable")
    if size > 1 << 32:
        return np.argsort(ids, kind="stable")
    first = np.argsort(low, kind="stable")
    del low
    high = (ids >> 16).astype(np.uint8 if size <= 1 << 24 else np.uint16)[first]
    return first[np.argsort(high, kind="stable")]


def isi_hist_edges() -> np.ndarray:
    """Edges (ms) of the pooled ISI histogram."""
    octaves = 2.0 ** np.arange(ISI_HIST_MIN_EXP, ISI_HIST_MAX_EXP)
    inner = (octaves[:, None] * np.array([1.0, 1.25, 1.5, 1.75])).ravel()
    return np.append(inner, 2.0 ** ISI_HIST_MAX_EXP)


class Accumulator:
    """Running per-neuron counts, ISI moments and windowed counts (times in ms)."""

    def __init__(self, size: int, t_start: float, *, isi: bool = True,
                 fano_bin: float | None = None, hist_bins: tuple[float, ...] = (),
                 backend: str = "numpy") -> None:
        if backend not in ("numpy", "numba") or (backend == "numba" and not HAVE_NUMBA):
            raise ValueError(f"backend must be 'numpy' or 'numba' (numba installed: {HAVE_NUMBA})")
        self.backend = backend
        self.t_start = float(t_start)
        self.want_isi = isi
        self.fano_bin = fano_bin
        self.size = 0
        self.n_spikes = 0
        self.t_max = -np.inf
        self.count = np.zeros(0, np.int64)
        self.last_t = np.zeros(0)
        self.isi_n = np.zeros(0, np.int64)
        self.isi_mean = np.zeros(0)
        self.isi_m2 = np.zeros(0)
        self.open_w = np.zeros(0, np.int64)
        self.open_c = np.zeros(0, np.int64)
        self.fano_n = np.zeros(0)
        self.fano_sq = np.zeros(0)
        self.hists: dict[float, np.ndarray] = {float(b): np.zeros(0, np.int64) for b in hist_bins}
        self.isi_hist = np.zeros(len(isi_hist_edges()) - 1, np.int64)
        self._grow(size)

    def reserve(self, size: int) -> None:
        """Make room for neuron ids below `size` (silent neurons included)."""
        self._grow(size)

    def _grow(self, size: int) -> None:
        if size <= self.size:
            return
        size = max(size, int(self.size * 1.5))
        pad = size - self.size

        def ext(a: np.ndarray, fill: float) -> np.ndarray:
            return np.concatenate([a, np.full(pad, fill, dtype=a.dtype)])

        self.count = ext(self.count, 0)
        self.last_t = ext(self.last_t, np.nan)
        if self.want_isi:
            self.isi_n = ext(self.isi_n, 0)
            self.isi_mean = ext(self.isi_mean, 0.0)
            self.isi_m2 = ext(self.isi_m2, 0.0)
        if self.fano_bin is not None:
            self.open_w = ext(self.open_w, -1)
            self.open_c = ext(self.open_c, 0)
            self.fano_n = ext(self.fano_n, 0.0)
            self.fano_sq = ext(self.fano_sq, 0.0)
        self.size = size

    def feed(self, t: np.ndarray, ids: np.ndarray) -> None:
        """Add spikes (t in ms, >= t_start; ids int64 >= 0)."""
        n = t.size
        if n == 0:
            return
        top = int(ids.max())
        if top >= self.size:
            self._grow(top + 1)
        self.n_spikes += n
        self.t_max = max(self.t_max, float(t.max()))
        for width, h in self.hists.items():
            idx = bin_index(t, self.t_start, width)
            if idx[-1] >= MAX_HIST_BINS or idx.max() >= MAX_HIST_BINS:
                raise ValueError(f"a bin of {width:g} ms needs more than {MAX_HIST_BINS:,} bins to reach "
                                 f"t = {float(t.max()):g} ms from {self.t_start:g} ms; allowed a larger bin "
                                 f"or a shorter interval")
            c = np.bincount(idx)
            if c.size > h.size:
                h = self.hists[width] = np.concatenate([h, np.zeros(c.size - h.size, np.int64)])
            h[:c.size] += c
        if self.backend == "numba" and self.want_isi and self.fano_bin is None:
            bad = isi_kernel(t, ids, self.count, self.last_t, self.isi_n, self.isi_mean,
                             self.isi_m2, self.isi_hist, ISI_HIST_MIN_EXP)
            if bad >= 0:
                raise OrderViolation()
            return
        counts = np.bincount(ids, minlength=self.size)
        self.count += counts
        if self.want_isi or self.fano_bin is not None:
            self._feed_grouped(t, ids, counts)

    def _groups(self, t: np.ndarray, ids: np.ndarray,
                counts: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (times grouped by neuron with time order kept, neuron ids, group lengths).

        Populations of up to 16 x 65536 neurons are split by the high id bits with boolean
        masks so that each part needs a single 16-bit radix argsort."""
        span = 1 << 16
        parts = -(-self.size // span)
        if parts == 1 or parts > 16:
            g = np.flatnonzero(counts)
            yield t[group_order(ids, self.size)], g, counts[g]
            return
        high = (ids >> 16).astype(np.uint8)
        for k in range(parts):
            c = counts[k * span:(k + 1) * span]
            g = np.flatnonzero(c)
            if g.size == 0:
                continue
            glen = c[g]
            if glen.sum() == t.size:
                tk, ik = t, ids
            else:
                m = high == k
                tk, ik = t[m], ids[m]
            yield tk[np.argsort(ik.astype(np.uint16), kind="stable")], g + k * span, glen

    def _feed_grouped(self, t: np.ndarray, ids: np.ndarray, counts: np.ndarray) -> None:
        for s_t, g, glen in self._groups(t, ids, counts):
            self._feed_group_part(s_t, g, glen)

    def _feed_group_part(self, s_t: np.ndarray, g: np.ndarray, glen: np.ndarray) -> None:
        n = s_t.size
        ends = np.cumsum(glen)
        starts = ends - glen
        ends -= 1
        # ISIs in grouped order; the first spike of a group pairs with the stored last spike.
        isi = np.empty(n)
        isi[0] = 0.0
        np.subtract(s_t[1:], s_t[:-1], out=isi[1:])
        prev = self.last_t[g]
        isi[starts] = s_t[starts] - prev  # NaN where the neuron had no earlier spike
        if (isi < 0).any():
            raise OrderViolation()
        self.last_t[g] = s_t[ends]
        if self.fano_bin is not None:
            self._feed_windows(s_t, np.repeat(g, glen), starts)
        if not self.want_isi:
            return
        fresh = np.isnan(prev)
        nc = glen - fresh
        isi[starts[fresh]] = 0.0
        mean_c = np.add.reduceat(isi, starts) / np.maximum(nc, 1)
        self._hist_isi(isi, int(np.count_nonzero(fresh)))
        isi[starts[fresh]] = mean_c[fresh]  # contributes 0 to the squared deviations
        isi -= np.repeat(mean_c, glen)
        isi *= isi
        m2_c = np.add.reduceat(isi, starts)
        # Chan et al. parallel merge of (n, mean, M2) per neuron.
        na = self.isi_n[g]
        ntot = na + nc
        w = nc / np.maximum(ntot, 1)
        delta = mean_c - self.isi_mean[g]
        self.isi_mean[g] += delta * w
        self.isi_m2[g] += m2_c + delta * delta * na * w
        self.isi_n[g] = ntot

    def _hist_isi(self, isi: np.ndarray, n_zero_fill: int) -> None:
        """Bin ISIs by their float64 exponent and 2 top mantissa bits (see isi_hist_edges);
        ``n_zero_fill`` entries of ``isi`` are 0-placeholders, not ISIs."""
        idx = (isi.view(np.int64) >> 50) - ((1023 + ISI_HIST_MIN_EXP) << 2)
        np.clip(idx, 0, self.isi_hist.size - 1, out=idx)
        h = np.bincount(idx, minlength=self.isi_hist.size)
        h[0] -= n_zero_fill
        self.isi_hist += h

    def _feed_windows(self, s_t: np.ndarray, s_id: np.ndarray, starts: np.ndarray) -> None:
        """Per-neuron counts in windows [t_start + k*bin, t_start + (k+1)*bin)."""
        n = s_t.size
        s_w = bin_index(s_t, self.t_start, self.fano_bin)
        newg = np.zeros(n, dtype=bool)
        newg[starts] = True
        newr = newg.copy()
        newr[1:] |= s_w[1:] != s_w[:-1]
        rs = np.flatnonzero(newr)
        rc = np.diff(np.append(rs, n))
        rid = s_id[rs]
        rw = s_w[rs]
        rfirst = newg[rs]
        rlast = np.empty(rs.size, dtype=bool)
        rlast[-1] = True
        rlast[:-1] = rfirst[1:]
        f = np.flatnonzero(rfirst)
        fid = rid[f]
        ow, oc = self.open_w[fid], self.open_c[fid]
        merge = ow == rw[f]
        rc[f[merge]] += oc[merge]
        flush = ~merge & (oc > 0)  # the open window ended before this run: it is complete
        self.fano_n[fid[flush]] += oc[flush]
        self.fano_sq[fid[flush]] += oc[flush].astype(np.float64) ** 2
        done = ~rlast  # a later run of the same neuron exists: window complete
        if done.any():
            c = rc[done].astype(np.float64)
            self.fano_n += np.bincount(rid[done], weights=c, minlength=self.size)
            self.fano_sq += np.bincount(rid[done], weights=c * c, minlength=self.size)
        last = np.flatnonzero(rlast)
        self.open_w[rid[last]] = rw[last]
        self.open_c[rid[last]] = rc[last]

    def finish_windows(self, n_windows: int) -> tuple[np.ndarray, np.ndarray]:
        """Close open windows; return per-neuron (sum of counts, sum of squared counts)
        over the ``n_windows`` complete windows."""
        ok = (self.open_c > 0) & (self.open_w < n_windows)
        fano_n = self.fano_n.copy()
        fano_sq = self.fano_sq.copy()
        fano_n[ok] += self.open_c[ok]
        fano_sq[ok] += self.open_c[ok].astype(np.float64) ** 2
        return fano_n, fano_sq
