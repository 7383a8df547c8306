"""Optional compiled per-spike kernel (numba) for counts, ISI moments and ISI histogram.

The numpy path in :mod:`eventsim.analysis.streaming` is the reference; this kernel gives
the same statistics (Welford updates instead of per-chunk Chan merges, so results agree
to rounding) about twice as fast. Selected with ``backend="numba"`` (or "auto").
"""
from __future__ import annotations

import math

import numpy as np

try:  # numba is an eventsim dependency, but the analysis also works without it
    import numba
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

HAVE_NUMBA = numba is not None


def _isi_kernel(t: np.ndarray, ids: np.ndarray, count: np.ndarray, last_t: np.ndarray,
                isi_n: np.ndarray, isi_mean: np.ndarray, isi_m2: np.ndarray,
                hist: np.ndarray, min_exp: int) -> int:
    """Sequential update over spikes (t ms, ids); returns the index of the first spike
    earlier than its neuron's previous spike, or -1. Histogram bins as isi_hist_edges."""
    nb = hist.size
    for k in range(t.size):
        n = ids[k]
        x = t[k]
        count[n] += 1
        p = last_t[n]
        if p == p:  # not NaN: the neuron spiked before
            d = x - p
            if d < 0.0:
                return k
            c = isi_n[n] + 1
            isi_n[n] = c
            m = isi_mean[n]
            delta = d - m
            m += delta / c
            isi_mean[n] = m
            isi_m2[n] += delta * (d - m)
            if d > 0.0:
                mant, e = math.frexp(d)  # d = mant * 2**e, 0.5 <= mant < 1
                b = (e - 1 - min_exp) * 4 + int((2.0 * mant - 1.0) * 4.0)
                b = 0 if b < 0 else (nb - 1 if b >= nb else b)
            else:
                b = 0
            hist[b] += 1
        last_t[n] = x
    return -1


isi_kernel = numba.njit(cache=True, nogil=True)(_isi_kernel) if HAVE_NUMBA else None
