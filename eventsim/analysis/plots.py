"""Figures of spike statistics (matplotlib, Agg canvas; never touches pyplot state).

Each ``plot_*`` function takes results from :mod:`eventsim.analysis.stats` /
:mod:`eventsim.analysis.correlation` and returns a :class:`matplotlib.figure.Figure`;
:func:`save_figure` writes it (PNG by default). Times in ms, rates in Hz.
"""
from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .correlation import Correlograms, PairCorrelations
from .stats import PopulationRate, SpikeStats


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> str:
    """Write ``fig`` to ``path`` (format from the extension; without one, PNG at path + ".png",
    as matplotlib does; missing folders are made, as record_spikes makes them); returns the path written."""
    path = os.fspath(path)
    if not os.path.splitext(path)[1]:
        path += ".png"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def plot_raster(trains: Mapping[int, np.ndarray], rate: PopulationRate | None = None, *,
                title: str = "") -> Figure:
    """Raster of the given neurons' spikes (ms) above the population rate histogram (Hz).

    Neurons are drawn on consecutive rows in id order; the y labels show node ids."""
    fig = _figure(9, 6 if rate is not None else 4.5)
    if rate is not None:
        ax, axr = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    else:
        ax, axr = fig.subplots(1, 1), None
    ids = sorted(trains)
    xs = [trains[n] for n in ids]
    ys = [np.full(x.size, row) for row, x in enumerate(xs)]
    if ids:
        ax.scatter(np.concatenate(xs), np.concatenate(ys), s=2, marker="|", linewidths=0.6,
                   color="k", rasterized=True)
        ticks = np.linspace(0, len(ids) - 1, min(len(ids), 8)).round().astype(int)
        ax.set_yticks(ticks, [str(ids[k]) for k in ticks])
    else:
        ax.set_yticks([])
    if not any(x.size for x in xs):  # e.g. a silent population: an empty raster
        ax.text(0.5, 0.5, "no spikes", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylim(-1, max(len(ids), 1))
    ax.set_ylabel(f"node id ({len(ids)} shown)")
    ax.set_title(title)
    if axr is not None:
        axr.stairs(rate.rate, rate.edges, fill=True, color="tab:blue")
        axr.set_ylabel("rate (Hz)")
        axr.set_xlabel("time (ms)")
        axr.set_xlim(rate.edges[0], rate.edges[-1])
    else:
        ax.set_xlabel("time (ms)")
    return fig


def plot_distributions(stats: SpikeStats, *, title: str = "") -> Figure:
    """Histograms of per-neuron rates (Hz), pooled ISIs (ms, log axis) and ISI CVs."""
    fig = _figure(12, 3.6)
    ax_rate, ax_isi, ax_cv = fig.subplots(1, 3)
    ax_rate.hist(stats.rates, bins=50, color="tab:blue")
    ax_rate.axvline(stats.mean_rate, color="k", ls="--", lw=1, label=f"mean {stats.mean_rate:.3g} Hz")
    ax_rate.set_xlabel("firing rate (Hz)")
    ax_rate.set_ylabel("neurons")
    ax_rate.legend(fontsize="small")
    counts, edges = stats.isi_hist_counts, stats.isi_hist_edges
    nz = np.flatnonzero(counts)
    if nz.size:
        sl = slice(nz[0], nz[-1] + 1)
        e = edges[sl.start:sl.stop + 1]
        ax_isi.stairs(counts[sl] / np.diff(np.log10(e)), e, fill=True, color="tab:green")
        ax_isi.set_xscale("log")
    ax_isi.set_xlabel("ISI (ms)")
    ax_isi.set_ylabel("intervals per decade")
    cv = stats.cv[~np.isnan(stats.cv)]
    if cv.size:
        ax_cv.hist(cv, bins=50, color="tab:orange")
        ax_cv.axvline(stats.mean_cv, color="k", ls="--", lw=1, label=f"mean {stats.mean_cv:.3g}")
        ax_cv.legend(fontsize="small")
    ax_cv.set_xlabel(f"ISI CV ({cv.size} neurons with >= 3 spikes)")
    ax_cv.set_ylabel("neurons")
    fig.suptitle(title)
    return fig


def plot_rates(stats: SpikeStats, rate: PopulationRate, *, title: str = "") -> Figure:
    """Per-neuron rate distribution (Hz) and population rate over time (Hz)."""
    fig = _figure(11, 3.6)
    ax_d, ax_t = fig.subplots(1, 2, width_ratios=[1, 2])
    ax_d.hist(stats.rates, bins=50, color="tab:blue")
    ax_d.set_xlabel("firing rate (Hz)")
    ax_d.set_ylabel("neurons")
    ax_t.stairs(rate.rate, rate.edges, color="tab:blue")
    ax_t.axhline(stats.mean_rate, color="k", ls="--", lw=1, label=f"mean {stats.mean_rate:.3g} Hz")
    ax_t.set_xlabel(f"time (ms, {rate.bin:g} ms bins)")
    ax_t.set_ylabel("population rate (Hz)")
    ax_t.legend(fontsize="small")
    fig.suptitle(title)
    return fig


def plot_correlograms(cc: Correlograms, corr: PairCorrelations | None = None, *,
                      title: str = "", max_panels: int = 12) -> Figure:
    """Grid of cross-correlograms (counts vs lag in ms) and, if given, the histogram of
    pairwise spike-count correlation coefficients."""
    k = min(len(cc.pairs), max_panels)
    extra = 1 if corr is not None else 0
    n = max(k + extra, 1)
    cols = min(4, n)
    rows = -(-n // cols)
    fig = _figure(3.2 * cols, 2.6 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (i, j), counts in zip(axes, cc.pairs[:k], cc.counts[:k]):
        ax.stairs(counts, cc.edges, fill=True, color="tab:purple")
        ax.axvline(0, color="k", lw=0.5)
        ax.set_title(f"{i} -> {j}", fontsize="small")
        ax.set_xlabel(f"lag (ms, {cc.bin:g} ms bins)")
        ax.set_ylabel("spike pairs per bin")
    if corr is not None:
        ax = axes[k]
        ok = corr.coefficients[~np.isnan(corr.coefficients)]
        if ok.size:
            ax.hist(ok, bins=30, color="tab:gray")
        ax.set_title(f"count corr. ({corr.bin:g} ms), mean {corr.mean:.3g}", fontsize="small")
        ax.set_xlabel("Pearson r")
    for ax in axes[k + extra:]:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig


# -- synaptic weights (eventsim weight files, see eventsim.weights_io) ----------------------
def dense_weights(pre: np.ndarray, post: np.ndarray, weight: np.ndarray, n_pre: int, n_post: int,
                  missing: float = np.nan) -> np.ndarray:
    """Weight matrix [n_pre, n_post] from synapse lists; pairs without a synapse (never
    connected or pruned) hold `missing`; multapses are summed."""
    pre = np.asarray(pre, np.int64)
    post = np.asarray(post, np.int64)
    w = np.asarray(weight, np.float64)
    out = np.zeros((n_pre, n_post))
    np.add.at(out, (pre, post), w)
    if not (isinstance(missing, float) and missing == 0.0):
        has = np.zeros((n_pre, n_post), bool)
        has[pre, post] = True
        out[~has] = missing
    return out


def tile_shape(n_pre: int, shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """Receptive-field tile shape: `shape` if given, else sqrt(n_pre) x sqrt(n_pre)."""
    if shape is not None:
        h, w = (int(x) for x in shape)
        if h <= 0 or w <= 0 or h * w != n_pre:
            raise ValueError(f"tile shape {h}x{w} does not hold the {n_pre} presynaptic neurons")
        return h, w
    side = int(round(math.sqrt(n_pre)))
    if side * side != n_pre:
        raise ValueError(f"{n_pre} presynaptic neurons is not a square number; give the tile shape "
                         f"(e.g. --shape H W with H*W = {n_pre})")
    return side, side


def plot_weight_matrix(w: np.ndarray, *, title: str = "", cmap: str = "viridis") -> Figure:
    """Image of a weight matrix [n_pre, n_post] (absent synapses blank), with a colour bar."""
    w = np.asarray(w, np.float64)
    fig = _figure(7.5, 6)
    ax = fig.subplots(1, 1)
    im = ax.imshow(np.ma.masked_invalid(w), aspect="auto", interpolation="nearest", cmap=cmap,
                   origin="upper")
    ax.set_xlabel(f"post neuron ({w.shape[1]})")
    ax.set_ylabel(f"pre neuron ({w.shape[0]})")
    fig.colorbar(im, ax=ax, label="weight (mV)")
    ax.set_title(title)
    return fig


def receptive_field_mosaic(w: np.ndarray, shape: tuple[int, int] | None = None,
                           max_tiles: int | None = None, gap: int = 1) -> np.ndarray:
    """One image tiling each post neuron's incoming weights as an h x w field, in a near-square
    grid with `gap` blank pixels between tiles (NaN = blank). Returns the mosaic array."""
    w = np.asarray(w, np.float64)
    n_pre, n_post = w.shape
    h, wd = tile_shape(n_pre, shape)
    k = n_post if max_tiles is None else min(n_post, int(max_tiles))
    cols = max(1, int(math.ceil(math.sqrt(k))))
    rows = max(1, int(math.ceil(k / cols)))
    out = np.full((rows * (h + gap) - gap, cols * (wd + gap) - gap), np.nan)
    for j in range(k):
        r, c = divmod(j, cols)
        out[r * (h + gap):r * (h + gap) + h, c * (wd + gap):c * (wd + gap) + wd] = w[:, j].reshape(h, wd)
    return out


def plot_receptive_fields(w: np.ndarray, shape: tuple[int, int] | None = None, *, title: str = "",
                          max_tiles: int | None = None, cmap: str = "hot_r") -> Figure:
    """Receptive-field tiles: each post neuron's incoming weights [n_pre] as an image of
    `shape` (default sqrt(n_pre) x sqrt(n_pre), e.g. 28 x 28 for MNIST inputs)."""
    w = np.asarray(w, np.float64)
    mosaic = receptive_field_mosaic(w, shape, max_tiles)
    k = w.shape[1] if max_tiles is None else min(w.shape[1], int(max_tiles))
    side = min(11.0, 1.0 + 0.7 * math.sqrt(k) * 1.2)
    fig = _figure(side + 1.2, side)
    ax = fig.subplots(1, 1)
    im = ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.8, label="weight (mV)")
    ax.set_title(title or f"receptive fields ({k} of {w.shape[1]} neurons)")
    return fig


def plot_weight_histograms(snapshots: list[tuple[str, np.ndarray]], *, bins: int = 50,
                           title: str = "", log: bool = False) -> Figure:
    """Histograms of the weights of one projection over snapshots (label, weights), as
    step curves coloured from early (light) to late (dark), on shared bins."""
    fig = _figure(8, 4.5)
    ax = fig.subplots(1, 1)
    all_w = [np.asarray(w, np.float64) for _, w in snapshots]
    finite = np.concatenate([w[np.isfinite(w)] for w in all_w]) if all_w else np.zeros(0)
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
        from matplotlib import colormaps
        cmap = colormaps["viridis_r"]
        n = len(snapshots)
        for k, ((label, _), w) in enumerate(zip(snapshots, all_w)):
            counts, _ = np.histogram(w[np.isfinite(w)], edges)
            ax.stairs(counts, edges, color=cmap(0.15 + 0.85 * k / max(n - 1, 1)), lw=1.4,
                      label=f"{label} (n={w.size})")
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize="small", ncols=1 + len(snapshots) // 8)
    ax.set_xlabel("weight")
    ax.set_ylabel("synapses")
    ax.set_title(title)
    return fig
