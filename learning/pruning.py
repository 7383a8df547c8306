"""Pruning and weight quantisation between chunks (Rathi, Panda & Roy, STDP-based pruning and
weight quantisation). Pruned synapses leave the CSR (eventsim.compaction), so time and memory drop.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from eventsim import checks, plasticity as pk
from eventsim.compaction import compact
from eventsim.errors import EventsimError
from eventsim.learning.weights import projection_of, synapses_of


def prune_fraction(net, proj, fraction: float) -> int:
    """Per post neuron, remove the `fraction` of its synapses in `proj` with the weakest
    weights, by magnitude (the ones STDP marked as uncorrelated; on an inhibitory projection
    the ones closest to 0). `proj`: the Projection or its name. Returns the number removed."""
    fraction = checks.number("prune fraction", fraction, checks.in_range, 0.0, 1.0, high_open=True)
    syn = synapses_of(net, proj)
    g = net.graph
    post = g.post[syn].astype(np.int64)
    order = np.lexsort((np.abs(g.weight[syn]), post))  # by post, then |weight| ascending
    post_sorted = post[order]
    counts = np.bincount(post_sorted, minlength=net._n_neurons)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(order.size) - np.repeat(starts, counts)
    n_cut = np.floor(fraction * counts).astype(np.int64)
    drop = syn[order[rank < n_cut[post_sorted]]]
    keep = np.ones(g.n_synapses, bool)
    keep[drop] = False
    return compact(net, keep)


def prune_below(net, proj, threshold: float, relative: bool = True) -> int:
    """Remove synapses of `proj` whose weight magnitude |w| is below `threshold` (times the post
    neuron's largest |w| in `proj` if relative), so that on an inhibitory projection the weakest
    leave too. Warns when a neuron loses every input of `proj`."""
    threshold = checks.number("prune threshold", threshold)
    if not isinstance(relative, (bool, np.bool_)):
        raise EventsimError(f"prune relative must be True or False, got {relative!r}")
    proj = projection_of(net, proj)
    syn = synapses_of(net, proj)
    g = net.graph
    post = g.post[syn].astype(np.int64)
    w = np.abs(g.weight[syn].astype(np.float64))
    limit = np.full(net._n_neurons, threshold)
    if relative:
        w_max = np.full(net._n_neurons, -np.inf)
        np.maximum.at(w_max, post, w)
        limit = threshold * w_max
    drop_mask = w < limit[post]
    before = np.bincount(post, minlength=net._n_neurons)
    after = np.bincount(post[~drop_mask], minlength=net._n_neurons)
    emptied = int(np.sum((before > 0) & (after == 0)))
    if emptied:
        warnings.warn(f"pruning removed every synapse of {proj.name} onto {emptied} neuron(s); "
                      f"they now receive no input from it", stacklevel=2)
    keep = np.ones(g.n_synapses, bool)
    keep[syn[drop_mask]] = False
    return compact(net, keep)


def quantize(net, proj, levels: int, w_min: float | None = None, w_max: float | None = None) -> np.ndarray:
    """Round the weights of `proj` to `levels` evenly spaced values in [w_min, w_max] (default:
    the projection's plasticity bounds, else its current range). An explicit range must lie within
    the rule's bounds, and on a static projection must keep the sign of its weights (the sign selects
    the excitatory or inhibitory current). Returns the levels (mV)."""
    levels = checks.count("quantisation levels k", levels, 2)
    proj = projection_of(net, proj)
    syn = synapses_of(net, proj)
    g = net.graph
    w = g.weight[syn].astype(np.float64)
    if proj.plasticity is not None:
        vec = proj.plasticity.vector()
        lo_default, hi_default = allowed_lo, allowed_hi = float(vec[pk.W_MIN]), float(vec[pk.W_MAX])
        why = "the rule's [w_min, w_max]"
    else:
        lo_default, hi_default = (float(w.min()), float(w.max())) if w.size else (0.0, 1.0)
        if lo_default >= 0:                      # excitatory (or all 0): stay >= 0
            allowed_lo, allowed_hi = 0.0, np.inf
        elif hi_default <= 0:                    # inhibitory: stay <= 0
            allowed_lo, allowed_hi = -np.inf, 0.0
        else:                                    # both signs already
            allowed_lo, allowed_hi = -np.inf, np.inf
        why = "the sign of its weights"
    bound = f"of {proj.name} (within {why})"
    lo = lo_default if w_min is None else checks.number(f"quantize w_min {bound}", w_min, checks.in_range,
                                                  allowed_lo, allowed_hi)
    hi = hi_default if w_max is None else checks.number(f"quantize w_max {bound}", w_max, checks.in_range,
                                                  allowed_lo, allowed_hi)
    if not lo < hi:
        raise EventsimError(f"quantisation needs w_min < w_max (got {lo}, {hi})")
    grid = np.linspace(lo, hi, levels)
    g.weight[syn] = grid[_nearest(w, _midpoints(grid))].astype(np.float32)
    return grid


def quantize_per_neuron(net, proj, levels: int, method: str = "uniform", iterations: int = 30) -> np.ndarray:
    """Round each post neuron's weights in `proj` to the nearest of `levels` values of its own
    codebook (a k-entry codebook per neuron, as in per-channel quantisation). Returns the codebooks
    [post population size, levels], row j for the population's neuron j (NaN rows for neurons
    without synapses in `proj`; a codebook may repeat a value, e.g. where all of a neuron's weights
    are equal).

    method "uniform": evenly spaced values between the neuron's smallest and largest weight.
    method "lloyd": Lloyd-Max (1-D k-means) codebook, a local minimum of each neuron's squared rounding
    error, started from the uniform one (`iterations` steps at most), as in the weight sharing of
    Deep Compression. A level left with no weight moves to the neuron's worst-rounded weight
    (the usual k-means repair), so no level is wasted while some weight is off its level. Graded weights bunch near 0, and the uniform grid spends levels on the sparse
    top of the range.

    Unlike one grid for the whole projection, both keep graded receptive fields graded: after
    Diehl & Cook training with averaging STDP (x_tar = 0), 50 % pruning plus 4 shared levels in
    [0, w_max] cost 4 points of validation accuracy, 4 uniform levels per neuron 0.2 (benchmarks/diehl_cook)."""
    levels = checks.count("quantisation levels k", levels, 2)
    if method not in ("uniform", "lloyd"):
        raise EventsimError(f"quantisation method must be 'uniform' or 'lloyd' (got {method!r})")
    iterations = checks.count("Lloyd iterations", iterations, 0)
    proj = projection_of(net, proj)
    syn = synapses_of(net, proj)
    g = net.graph
    n = net._n_neurons
    post = g.post[syn].astype(np.int64)
    w = g.weight[syn].astype(np.float64)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, post, w)
    np.maximum.at(hi, post, w)
    has = np.isfinite(lo)
    books = np.full((n, levels), np.nan)
    books[has] = lo[has, None] + np.linspace(0.0, 1.0, levels)[None, :] * (hi[has] - lo[has])[:, None]
    idx = _nearest(w, _midpoints(books), post)
    for _ in range(iterations if method == "lloyd" else 0):
        cell = post * levels + idx
        count = np.bincount(cell, minlength=n * levels).reshape(n, levels)
        total = np.bincount(cell, weights=w, minlength=n * levels).reshape(n, levels)
        books = np.where(count > 0, total / np.maximum(count, 1), books)
        _refill_empty_levels(books, count == 0, w, post, books[post, idx])
        books.sort(axis=1)                     # NaN rows stay NaN (sorted last)
        new = _nearest(w, _midpoints(books), post)
        if np.array_equal(new, idx):
            break
        idx = new
    g.weight[syn] = books[post, idx].astype(np.float32)
    first = proj.post.offset
    return books[first:first + proj.post.size]


def _refill_empty_levels(books: np.ndarray, empty: np.ndarray, w: np.ndarray, post: np.ndarray,
                         rounded: np.ndarray) -> None:
    """For each neuron with an empty level (and a weight off its level), put that level on the
    neuron's worst-rounded weight, in place (one level per neuron per call)."""
    err = (w - rounded) ** 2
    order = np.lexsort((err, post))                    # by neuron, worst error last
    last = np.flatnonzero(np.append(post[order][1:] != post[order][:-1], True))
    worst = order[last]                                # the worst-rounded synapse of each neuron
    rows = post[worst]
    fix = empty[rows].any(axis=1) & (err[worst] > 0)
    rows, worst = rows[fix], worst[fix]
    books[rows, np.argmax(empty[rows], axis=1)] = w[worst]


def _midpoints(book: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive entries of ascending codebooks (last axis: the levels)."""
    return 0.5 * (book[..., 1:] + book[..., :-1])


def _nearest(w: np.ndarray, mid: np.ndarray, post: np.ndarray | None = None) -> np.ndarray:
    """Index of each weight's nearest codebook entry (a tie goes to the lower one), from the
    midpoints `mid` of one codebook [levels - 1] or of one per neuron [n_neurons, levels - 1],
    indexed by each weight's post neuron. Works level by level: O(n_weights) memory."""
    idx = np.zeros(w.size, np.int64)
    for j in range(mid.shape[-1]):
        idx += w > (mid[j] if post is None else mid[post, j])
    return idx


@dataclass(frozen=True)
class PruneSchedule:
    """STDP-based pruning and quantisation at training checkpoints (Rathi, Panda & Roy).

    At each checkpoint (`apply`, called between chunks of training), each post neuron loses
    `fraction` of its remaining synapses in the projection (smallest weights, `prune_fraction`)
    if the samples seen so far lie in (start, stop]; the survivors are then rounded to `levels`
    values (0: no quantisation) at every checkpoint. Training after `stop` lets the survivors
    recover: on Diehl & Cook, 17 % at 4 of 6 checkpoints (52 %) plus 4 Lloyd levels cost
    -0.1 to +0.5 points, and the same cuts up to the last checkpoint cost 1.6 (benchmarks/diehl_cook).

    method: "uniform" or "lloyd" (a codebook per neuron, `quantize_per_neuron`) or "shared"
    (one grid in the rule's bounds, `quantize`)."""

    fraction: float = 0.0
    levels: int = 0
    method: str = "lloyd"
    start: int = 0
    stop: int | None = None

    def __post_init__(self) -> None:
        checks.number("prune fraction", self.fraction, checks.in_range, 0.0, 1.0, high_open=True)
        if self.levels != 0:
            checks.count("quantisation levels k", self.levels, 2)
        if self.method not in ("uniform", "lloyd", "shared"):
            raise EventsimError(f"quantisation method must be 'uniform', 'lloyd' or 'shared' (got {self.method!r})")
        checks.count("prune start (samples)", self.start, 0)
        if self.stop is not None and checks.count("prune stop (samples)", self.stop, 0) < self.start:
            raise EventsimError(f"prune stop ({self.stop}) must be >= prune start ({self.start})")

    def prunes_at(self, samples: int) -> bool:
        """Whether a checkpoint after `samples` training samples prunes."""
        return self.fraction > 0 and samples > self.start and (self.stop is None or samples <= self.stop)

    def apply(self, net, proj, samples: int) -> int:
        """One checkpoint after `samples` training samples; returns the synapses removed."""
        samples = checks.count("samples (training samples seen)", samples, 0)
        removed = prune_fraction(net, proj, self.fraction) if self.prunes_at(samples) else 0
        if self.levels and self.method == "shared":
            quantize(net, proj, self.levels)
        elif self.levels:
            quantize_per_neuron(net, proj, self.levels, method=self.method)
        return removed
