"""Homeostatic weight control between presentations (not inside the event loop).

`normalize_incoming` rescales, per postsynaptic neuron, the weights of one projection so that
their sum equals a target (Diehl & Cook 2015: each excitatory neuron's input weights sum to 78).
It works on the engine's CSR in place (`net.graph.weight`, float32) with vectorised numpy and
must only be called between runs. Pruned synapses (removed from the CSR) simply do not count.
Only excitatory weights (>= 0 mV) can be normalised: a projection with a negative weight is refused.
"""
from __future__ import annotations

import warnings

import numpy as np

from eventsim import checks
from eventsim.errors import EventsimError
from eventsim.learning.weights import ProjectionWeights


class WeightNormalizer:
    """Keeps the sum of the incoming weights of `proj` fixed per post neuron.

    The synapse selection is cached and recomputed when the CSR is replaced (pruning or
    compaction replace `net.graph`). `proj` is the Projection or its name; `target` (mV) may be
    a scalar or one value per neuron of the post population (local ids)."""

    def __init__(self, net, proj, target):
        self.weights = ProjectionWeights(net, proj)
        self.net, self.proj = net, self.weights.proj
        tgt = checks.non_negative(f"{self.proj.name} normalisation target", target)
        n = self.proj.post.size
        if tgt.ndim and tgt.shape != (n,):
            raise EventsimError(f"{self.proj.name} normalisation target must be one number or {n} numbers "
                                f"(one per neuron of '{self.proj.post.name}'), got shape {tgt.shape}")
        self.target = tgt
        self._warned = False                  # _warn_unreachable has spoken

    def sums(self) -> np.ndarray:
        """Current sum of incoming weights per post neuron (local ids), float64."""
        g, syn, post = self.weights.selection()
        return np.bincount(post, weights=g.weight[syn].astype(np.float64), minlength=self.proj.post.size)

    def __call__(self) -> np.ndarray:
        """Rescale in place; returns the per-neuron factors applied (1 where a neuron has no
        input weight). Weights may exceed a plasticity rule's w_max afterwards; the rule clips
        them at their next update, as in Diehl & Cook's code."""
        g, syn, post = self.weights.selection()
        lowest = float(g.weight[syn].min()) if syn.size else 0.0
        if lowest < 0:
            raise EventsimError(f"cannot normalise {self.proj.name}: it has negative (inhibitory) weights "
                                f"(smallest {lowest:g} mV); only weights >= 0 can be normalised")
        total = self.sums()
        target = np.broadcast_to(self.target, total.shape)
        factor = np.ones_like(total)
        ok = total > 0
        factor[ok] = target[ok] / total[ok]
        g.weight[syn] = (g.weight[syn].astype(np.float64) * factor[post]).astype(np.float32)
        self._warn_unreachable(post, target)
        return factor

    def _warn_unreachable(self, post: np.ndarray, target: np.ndarray) -> None:
        """Warn (once) when a neuron's target exceeds its synapse count times the rule's w_max:
        the rule then clips the normalised weights at every update and the target is never held
        (a small input population, or heavy pruning)."""
        rule = self.proj.plasticity
        if rule is None or self._warned:
            return
        n_syn = np.bincount(post, minlength=self.proj.post.size)
        # neurons without synapses in this projection (outside its post view, or none drawn) have
        # nothing to normalise
        short = np.flatnonzero((n_syn > 0) & (target > n_syn * rule.w_max * (1 + 1e-6)))
        if short.size:
            self._warned = True
            j = short[0]
            warnings.warn(f"{self.proj.name}: normalisation target {target[j]:g} mV is beyond the reach of "
                          f"{n_syn[j]} synapses x w_max {rule.w_max:g} mV for {short.size} neuron(s) (first: "
                          f"{j}); their weights are pushed above w_max and the rule clips them back",
                          stacklevel=3)


def normalize_incoming(net, proj, target) -> np.ndarray:
    """One-shot form of WeightNormalizer: rescale the weights of `proj` so that each post
    neuron's incoming sum equals `target`. Returns the factors applied."""
    return WeightNormalizer(net, proj, target)()
