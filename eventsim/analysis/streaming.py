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

import numpy as np

#: Pooled ISI histogram: log-spaced bins from 10 us to 1000 s, 20 per decade.
ISI_HIST_LOG10_RANGE = (-2.0, 6.0)
ISI_HIST_PER_DECADE = 20


class OrderViolation(Exception):
    """A neuron's spikes were not delivered in time order (internal signal)."""


def group_order(ids: np.ndarray, size: int) -> np.ndarray:
    """Stable permutation that sorts ``ids`` (0 <= id < size); O(n) LSD radix sort."""
    if size <= 1 << 16:
        return np.argsort(ids.astype(np.uint16), kind="stable")
    if size > 1 << 32:
        return np.argsort(ids, kind="stable")
    first = np.argsort((ids & 0xFFFF).astype(np.uint16), kind="stable")
    high = (ids[first] >> 16).astype(np.uint16)
    return first[np.argsort(high, kind="stable")]


def isi_hist_edges() -> np.ndarray:
    """Edges (ms) of the pooled ISI histogram."""
    lo, hi = ISI_HIST_LOG10_RANGE
    n = int(round((hi - lo) * ISI_HIST_PER_DECADE))
    return np.logspace(lo, hi, n + 1)


class Accumulator:
    """Running per-neuron counts, ISI moments and windowed counts (times in ms)."""

    def __init__(self, size: int, t_start: float, *, isi: bool = True,
                 fano_bin: float | None = None, hist_bins: tuple[float, ...] = ()) -> None:
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
        self.count += np.bincount(ids, minlength=self.size)
        for width, h in self.hists.items():
            idx = ((t - self.t_start) * (1.0 / width)).astype(np.int64)
            c = np.bincount(idx)
            if c.size > h.size:
                h = self.hists[width] = np.concatenate([h, np.zeros(c.size - h.size, np.int64)])
            h[:c.size] += c
        if self.want_isi or self.fano_bin is not None:
            self._feed_grouped(t, ids)

    def _feed_grouped(self, t: np.ndarray, ids: np.ndarray) -> None:
        n = t.size
        order = group_order(ids, self.size)
        s_id = ids[order]
        s_t = t[order]
        del order
        newg = np.empty(n, dtype=bool)
        newg[0] = True
        np.not_equal(s_id[1:], s_id[:-1], out=newg[1:])
        starts = np.flatnonzero(newg)
        g = s_id[starts]
        glen = np.diff(np.append(starts, n))
        # ISIs in grouped order; the first spike of a group pairs with the stored last spike.
        isi = np.empty(n)
        isi[0] = 0.0
        np.subtract(s_t[1:], s_t[:-1], out=isi[1:])
        prev = self.last_t[g]
        isi[starts] = s_t[starts] - prev  # NaN where the neuron had no earlier spike
        if (isi < 0).any():
            raise OrderViolation()
        self.last_t[g] = s_t[starts + glen - 1]
        if self.want_isi:
            fresh = np.isnan(prev)
            nc = glen - fresh
            isi[starts[fresh]] = 0.0
            mean_c = np.add.reduceat(isi, starts) / np.maximum(nc, 1)
            if self.isi_hist.size:
                valid = np.ones(n, dtype=bool)
                valid[starts[fresh]] = False
                self._hist_isi(isi[valid])
            isi[starts[fresh]] = mean_c[fresh]  # contributes 0 to the squared deviations
            isi -= np.repeat(mean_c, glen)
            isi *= isi
            m2_c = np.add.reduceat(isi, starts)
            # Chan et al. parallel merge of (n, mean, M2).
            na = self.isi_n[g]
            ntot = na + nc
            w = nc / np.maximum(ntot, 1)
            delta = mean_c - self.isi_mean[g]
            self.isi_mean[g] += delta * w
            self.isi_m2[g] += m2_c + delta * delta * na * w
            self.isi_n[g] = ntot
        if self.fano_bin is not None:
            self._feed_windows(s_t, s_id, newg)

    def _hist_isi(self, values: np.ndarray) -> None:
        lo, _ = ISI_HIST_LOG10_RANGE
        nb = self.isi_hist.size
        with np.errstate(divide="ignore"):
            x = (np.log10(values) - lo) * ISI_HIST_PER_DECADE
        idx = np.clip(x, 0, nb - 1).astype(np.int64)  # under/overflow into the end bins
        self.isi_hist += np.bincount(idx, minlength=nb)

    def _feed_windows(self, s_t: np.ndarray, s_id: np.ndarray, newg: np.ndarray) -> None:
        """Per-neuron counts in windows [t_start + k*bin, t_start + (k+1)*bin)."""
        n = s_t.size
        s_w = ((s_t - self.t_start) * (1.0 / self.fano_bin)).astype(np.int64)
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
