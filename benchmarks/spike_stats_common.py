"""Regime statistics of a spiking network from (times, ids) arrays; numpy only.

Shared by ``ref_brunel_nest.py`` (NEST venv) and ``compare_brunel.py`` (eventsim side),
so both simulators go through the identical code path.

Definitions (times in ms, ids population-local integers 0..n-1):
  rate      - spikes / (n * duration), Hz, whole run (``*_after`` variants: t >= t_skip only).
  CV        - per neuron std(ISI)/mean(ISI) (ddof=0) over neurons with >= 3 spikes in the
              window, averaged over those neurons. ``cv_isi`` uses spikes with t >= t_skip
              (transient discarded), ``cv_isi_incl_transient`` uses all spikes.
  Fano      - population spike count in ``bin_ms`` bins over [t_skip, duration): var / mean
              (ddof=0). ~1 for independent neurons; grows like 1 + N*c with the mean pairwise
              count correlation c, so it is NOT comparable across network sizes.
  sync_corr - that c, estimated as (var(pop count) - sum_i var(n_i)) / sum_{i != j} sqrt(var_i var_j)
              from the same bins (n_i = neuron i's count): size-independent, ~0 when asynchronous.
"""
from __future__ import annotations

import numpy as np

T_SKIP_MS = 100.0
BIN_MS = 1.0
MIN_SPIKES = 3


def cv_per_neuron(times, ids, n: int, t_min: float = 0.0, min_spikes: int = MIN_SPIKES) -> np.ndarray:
    """ISI CV of each neuron with >= min_spikes spikes at t >= t_min (others are NaN)."""
    times = np.asarray(times, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    keep = times >= t_min
    times, ids = times[keep], ids[keep]
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    counts = np.bincount(ids, minlength=n)
    same = ids[1:] == ids[:-1]
    isi = np.diff(times)[same]
    owner = ids[1:][same]
    n_isi = np.bincount(owner, minlength=n).astype(np.float64)
    s1 = np.bincount(owner, weights=isi, minlength=n)
    s2 = np.bincount(owner, weights=isi * isi, minlength=n)
    cv = np.full(n, np.nan)
    ok = (counts >= min_spikes) & (n_isi > 0)
    mean = s1[ok] / n_isi[ok]
    var = np.maximum(s2[ok] / n_isi[ok] - mean * mean, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv[ok] = np.sqrt(var) / mean
    return cv


def fano_population(times, t_start: float, t_stop: float, bin_ms: float = BIN_MS) -> float:
    """var/mean of the population spike count in bin_ms bins over [t_start, t_stop)."""
    times = np.asarray(times, dtype=np.float64)
    n_bins = int(round((t_stop - t_start) / bin_ms))
    if n_bins < 2:
        return float("nan")
    edges = t_start + bin_ms * np.arange(n_bins + 1)
    counts, _ = np.histogram(times, bins=edges)
    m = counts.mean()
    return float(counts.var() / m) if m > 0 else float("nan")


def sync_corr(times, ids, n: int, t_start: float, t_stop: float, bin_ms: float = BIN_MS) -> float:
    """Mean pairwise correlation coefficient of bin_ms spike counts (see module docstring)."""
    times = np.asarray(times, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    n_bins = int(round((t_stop - t_start) / bin_ms))
    keep = (times >= t_start) & (times < t_start + n_bins * bin_ms)
    if n_bins < 2 or not keep.any():
        return float("nan")
    b = np.minimum(((times[keep] - t_start) / bin_ms).astype(np.int64), n_bins - 1)
    ids = ids[keep]
    pop = np.bincount(b, minlength=n_bins).astype(np.float64)
    _, cnt = np.unique(ids * n_bins + b, return_counts=True)
    per_id_sq = np.bincount(np.unique(ids * n_bins + b) // n_bins, weights=cnt.astype(np.float64) ** 2,
                            minlength=n)
    m_i = np.bincount(ids, minlength=n) / n_bins
    var_i = per_id_sq / n_bins - m_i * m_i
    sd = np.sqrt(np.maximum(var_i, 0.0))
    denom = sd.sum() ** 2 - (sd * sd).sum()
    return float((pop.var() - var_i.sum()) / denom) if denom > 0 else float("nan")


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


def network_stats(pops: dict[str, tuple], duration_ms: float, t_skip: float = T_SKIP_MS,
                  bin_ms: float = BIN_MS) -> dict:
    """Statistics for populations {name: (times, ids, n)}; expects names 'exc' and 'inh'.

    Returns rate_<pop>_hz, rate_<pop>_after_hz, cv_isi (all neurons, transient discarded),
    cv_isi_<pop>, cv_isi_incl_transient, n_cv_neurons, fano_1ms and sync_corr_1ms (all
    neurons, t >= t_skip), n_spikes.
    """
    out: dict = {}
    cvs, cvs_all, all_times, all_ids = [], [], [], []
    offset = 0
    t_skip = min(t_skip, duration_ms)
    for name, (times, ids, n) in pops.items():
        times = np.asarray(times, dtype=np.float64)
        ids = np.asarray(ids, dtype=np.int64)
        out[f"rate_{name}_hz"] = times.size / n / (duration_ms / 1000.0)
        after = times >= t_skip
        span = duration_ms - t_skip
        out[f"rate_{name}_after_hz"] = float(after.sum() / n / (span / 1000.0)) if span > 0 else None
        cv = cv_per_neuron(times, ids, n, t_min=t_skip)
        out[f"cv_isi_{name}"] = _mean(cv)
        cvs.append(cv)
        cvs_all.append(cv_per_neuron(times, ids, n, t_min=-np.inf))
        all_times.append(times)
        all_ids.append(ids + offset)
        offset += n
    cv = np.concatenate(cvs)
    out["cv_isi"] = _mean(cv)
    out["n_cv_neurons"] = int(np.isfinite(cv).sum())
    out["cv_isi_incl_transient"] = _mean(np.concatenate(cvs_all))
    all_t = np.concatenate(all_times)
    out["fano_1ms"] = fano_population(all_t, t_skip, duration_ms, bin_ms)
    out["sync_corr_1ms"] = sync_corr(all_t, np.concatenate(all_ids), offset, t_skip, duration_ms, bin_ms)
    out["n_spikes"] = int(all_t.size)
    out["t_skip_ms"] = t_skip
    return out


def read_sonata(path: str) -> dict[str, tuple]:
    """{pop: (times, ids, n_nodes)} from a SONATA spike file (needs h5py)."""
    import h5py
    out = {}
    with h5py.File(path, "r", swmr=True) as f:
        for name, g in f["spikes"].items():
            out[name] = (g["timestamps"][...], g["node_ids"][...].astype(np.int64), int(g.attrs["n_nodes"]))
    return out
