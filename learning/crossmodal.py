"""Cross-modal STDP helpers: the rule, direct access to a projection's weights, block summaries.

Cross-modal projections join the excitatory layers of two unimodal ensembles (Rathi & Roy's
multimodal SNN). They are excitatory-only (w_min = 0) and learn with the power-law STDP rule of
Diehl & Cook, but with a long presynaptic trace: excitatory neurons of a Diehl & Cook layer fire
a few spikes spread over a 350 ms presentation, so a pre spike counts as "together" with a post
spike if it came up to tau_pre ln(1/x_tar) earlier (x_pre > x_tar): 184 ms with the defaults
(tau_pre 80 ms, x_tar 0.1). That is longer than the 150 ms rest between presentations, and the
traces are not reset there, so a pre spike in the last ~34 ms of one presentation still counts
as co-active with a post spike at the start of the next. At a post spike

    w += eta_post * (x_pre - x_tar) * (w_max - w)^mu

so co-active pairs (x_pre > x_tar) grow towards w_max and pairs whose pre neuron was silent
within that window (x_pre < x_tar) shrink towards 0: with same-class pairs presented,
weights between same-class neurons grow and the others decay. As for the input weights of a
Diehl & Cook layer, the incoming cross-modal weights of each post neuron are rescaled to a fixed
sum (`norm_total`) before each learning presentation, so that they compete: without it, most
pairs are rarely co-active (only one to three neurons of a class win a presentation) and every
weight stayed near 0 (measured: class-block means of 0.001-0.01 w_max after 200 pairs).

`eventsim.learning.weights.ProjectionWeights` reads and writes one projection's weights in the engine's CSR between runs
(used to switch cross-modal input off for unimodal read-outs, and to hold it at zero while the
unimodal ensembles learn). `class_blocks` averages a weight matrix over class-by-class blocks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventsim import checks
from eventsim.learning.stdp import PowerLawSTDP


@dataclass(frozen=True)
class CrossParams:
    """Cross-modal projections (both directions share these). Weights in D&C units times w_scale mV."""
    w_max: float = 2.0             # D&C units (x w_scale mV); 1.0 x 60 mV ~ 0.6 mV PSP per spike
    w_init: float = 0.05           # initial weight, D&C units (all equal)
    norm_total: float = 10.0       # incoming cross-modal weight per post neuron, D&C units (0: none)
    w_scale: float = 60.0          # mV per unit (as DCParams.w_scale)
    delay: float = 1.0             # ms
    tau_pre: float = 80.0          # ms: long, see the module docstring
    tau_post: float = 20.0         # ms
    eta_post: float = 0.2          # D&C units
    eta_pre: float = 0.0           # D&C units (depression at pre arrival; 0 = none)
    x_tar: float = 0.1
    mu: float = 0.2

    def __post_init__(self) -> None:
        checks.positive("CrossParams.w_max", self.w_max)
        checks.in_range("CrossParams.w_init", self.w_init, 0.0, self.w_max)
        checks.non_negative("CrossParams.norm_total", self.norm_total)
        checks.positive("CrossParams.w_scale", self.w_scale)
        checks.positive("CrossParams.delay", self.delay)
        checks.positive("CrossParams.tau_pre", self.tau_pre)
        checks.positive("CrossParams.tau_post", self.tau_post)
        checks.non_negative("CrossParams.eta_post", self.eta_post)
        checks.non_negative("CrossParams.eta_pre", self.eta_pre)
        checks.in_range("CrossParams.x_tar", self.x_tar, 0.0, 1.0)
        checks.non_negative("CrossParams.mu", self.mu)

    def rule(self) -> PowerLawSTDP:
        """The power-law rule in mV (PowerLawSTDP.scaled)."""
        return PowerLawSTDP.scaled(self.w_scale, self.w_max, self.tau_pre, self.tau_post, self.eta_post,
                                   self.eta_pre, self.x_tar, self.mu)


def class_blocks(w: np.ndarray, assign_pre: np.ndarray, assign_post: np.ndarray, n_classes: int = 10,
                 reduce: str = "mean") -> np.ndarray:
    """[n_classes, n_classes] summary of a [n_pre, n_post] weight matrix: entry (a, b) is the mean
    (or sum) weight from pre neurons assigned to class a onto post neurons assigned to class b.
    Unassigned neurons (-1) are left out; empty blocks are NaN (mean) or 0 (sum)."""
    w = np.asarray(w, np.float64)
    out = np.full((n_classes, n_classes), np.nan if reduce == "mean" else 0.0)
    for a in range(n_classes):
        ra = assign_pre == a
        for b in range(n_classes):
            cb = assign_post == b
            if ra.any() and cb.any():
                blk = w[np.ix_(ra, cb)]
                out[a, b] = blk.mean() if reduce == "mean" else blk.sum()
    return out


def order_by_class(assignments: np.ndarray) -> np.ndarray:
    """Neuron order that groups neurons by assigned class (unassigned last), stable."""
    a = np.where(assignments < 0, 10 ** 6, assignments)
    return np.argsort(a, kind="stable")


__all__ = ["CrossParams", "class_blocks", "order_by_class"]
