"""Event-driven STDP kernels, run inside the event loop.

Traces are updated only at spike times:
- pre traces x1, x2 live per delay group. A group shares its presynaptic node, delay and arrival
  time, so this is exactly a per-synapse presynaptic trace updated on arrival (Brian2's on_pre
  semantics) without storing one per synapse;
- post traces y1, y2 live per neuron, updated at its spikes. Like the neuron state they are
  stored as epoch coefficients, Y = y(t_spike) exp((t_spike - T0)/tau), so that a presynaptic
  arrival at t reads every target's trace as Y * exp(-(t - T0)/tau) with ONE exp per arrival
  (a group's targets share tau_minus) instead of one per synapse; `rebase` moves them with the
  neurons' epoch.

A presynaptic arrival first depresses the group's synapses from their targets' post traces and
then delivers the new weights (NEST's order); a postsynaptic spike potentiates its incoming
plastic synapses, found through the post index, from their groups' pre traces.

Rules arrive as parameter vectors (eventsim.learning builds them), one row per rule:

    KIND  0 pair (NEST stdp_synapse's formula: lambda, alpha, mu_plus, mu_minus; mu=0 additive, 1
          multiplicative; pairing at arrival times, Brian2's delay convention)
          1 triplet (Pfister & Gerstner 2006: A2+, A3+, A2-, A3-, tau_x, tau_y)
          2 power law (Diehl & Cook 2015: dw = eta_post (x_pre - x_tar) (w_max - w)^mu at post
            spikes, dw = -eta_pre y_post at pre arrivals)
    MODE  0 traces accumulate (all-to-all pairing), 1 traces reset to 1 (nearest spike)

Units: ms; weights in the projection's weight unit (mV).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from .errors import EventsimError

KIND, TAU_PLUS, TAU_MINUS, W_MIN, W_MAX, P1, P2, P3, P4, TAU_X, TAU_Y, MODE = range(12)
NRULE = 12
PAIR, TRIPLET, POWER = 0, 1, 2


@nb.njit(cache=True, inline="always")
def _decay(value, t_from, t, tau):
    if value == 0.0 or t == t_from:
        return value
    return value * math.exp(-(t - t_from) / tau)


@nb.njit(cache=True, inline="always")
def _g(t, t0, tau):
    """exp((t - t0)/tau): epoch factor of a post trace."""
    return math.exp((t - t0) / tau)


@nb.njit(cache=True, inline="always")
def _wpow(x, mu):
    """max(x, 0) ** mu without a pow() call for the common exponents 0 (additive) and 1
    (multiplicative)."""
    x = max(x, 0.0)
    if mu == 0.0:
        return 1.0
    if mu == 1.0:
        return x
    return x ** mu


@nb.njit(cache=True, inline="always")
def _clip(w, p):
    return min(max(w, p[W_MIN]), p[W_MAX])


@nb.njit(cache=True, _nrt=False)
def pre_arrival(pl, g, t, t0, post, weight, lo, hi):
    """Arrival of group g's spike at t (epoch t0): depress its synapses, then update its pre
    traces. Every target's y1 has the rule's tau_minus (assemble checks it)."""
    grp_rule, rules, gx, ny = pl[0], pl[1], pl[2], pl[3]
    p = rules[grp_rule[g]]
    kind = int(p[KIND])
    x2 = _decay(gx[g, 1], gx[g, 2], t, p[TAU_X]) if kind == TRIPLET else 0.0
    f = _g(t0, t, p[TAU_MINUS])
    for k in range(lo, hi):
        j = post[k]
        y1 = ny[j, 0] * f
        if y1 == 0.0:
            continue
        w = float(weight[k])
        if kind == PAIR:
            w_max = p[W_MAX]
            w_hat = w / w_max
            w = w_max * (w_hat - p[P2] * p[P1] * _wpow(w_hat, p[P4]) * y1)
        elif kind == TRIPLET:
            w -= y1 * (p[P3] + p[P4] * x2)
        else:
            w -= p[P2] * y1
        weight[k] = _clip(w, p)
    x1 = _decay(gx[g, 0], gx[g, 2], t, p[TAU_PLUS])
    gx[g, 0] = 1.0 if p[MODE] != 0.0 else x1 + 1.0
    if kind == TRIPLET:
        gx[g, 1] = 1.0 if p[MODE] != 0.0 else x2 + 1.0
    gx[g, 2] = t


@nb.njit(cache=True, inline="always")
def _group_of(grp_start, k):
    """The delay group g with grp_start[g] <= k < grp_start[g + 1] (binary search)."""
    lo = 0
    hi = grp_start.size - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if grp_start[mid] <= k:
            lo = mid
        else:
            hi = mid
    return lo


@nb.njit(cache=True, _nrt=False)
def post_spike(pl, j, t, t0, weight):
    """Spike of neuron j at t (epoch t0): potentiate its plastic inputs, then update its post
    traces."""
    grp_rule, rules, gx, ny, ntau, pptr, psyn, grp_start = pl[0], pl[1], pl[2], pl[3], pl[4], pl[5], pl[6], pl[7]
    g1 = _g(t, t0, ntau[j, 0])
    g2 = _g(t, t0, ntau[j, 1])
    y2 = ny[j, 1] / g2
    mode = 0.0
    for e in range(pptr[j], pptr[j + 1]):
        k = psyn[e]
        g = _group_of(grp_start, k)
        p = rules[grp_rule[g]]
        mode = p[MODE]
        x1 = _decay(gx[g, 0], gx[g, 2], t, p[TAU_PLUS])
        w = float(weight[k])
        kind = int(p[KIND])
        if kind == PAIR:
            if x1 == 0.0:
                continue
            w_max = p[W_MAX]
            w_hat = w / w_max
            w = w_max * (w_hat + p[P1] * _wpow(1.0 - w_hat, p[P3]) * x1)
        elif kind == TRIPLET:
            if x1 == 0.0:
                continue
            w += x1 * (p[P1] + p[P2] * y2)
        else:
            w += p[P1] * (x1 - p[P3]) * _wpow(p[W_MAX] - w, p[P4])
        weight[k] = _clip(w, p)
    y1 = ny[j, 0] / g1
    ny[j, 0] = (1.0 if mode != 0.0 else y1 + 1.0) * g1
    ny[j, 1] = (1.0 if mode != 0.0 else y2 + 1.0) * g2


@nb.njit(cache=True, _nrt=False)
def rebase(pl, t0_old, t0_new):
    """Move the post traces' epoch from t0_old to t0_new (as neuron.rebase does for neurons)."""
    ny, ntau = pl[3], pl[4]
    for j in range(ny.shape[0]):
        if ny[j, 0] != 0.0:
            ny[j, 0] *= _g(t0_old, t0_new, ntau[j, 0])
        if ny[j, 1] != 0.0:
            ny[j, 1] *= _g(t0_old, t0_new, ntau[j, 1])


def trace_taus(pl: tuple) -> np.ndarray:
    """Time constants (ms) of the post traces that are in use (neurons with plastic inputs)."""
    pptr, ntau = pl[5], pl[4]
    used = np.diff(pptr) > 0
    return ntau[used[:ntau.shape[0]]].ravel()


def empty(n_neurons: int, n_groups: int) -> tuple:
    """Plasticity arrays for a network without plastic synapses. Every dtype matches `assemble`'s
    (the post index is int32, as `index_array` makes it below 2**31 synapses), so that static and
    plastic networks share one compiled engine loop and one numba cache entry."""
    return (np.full(n_groups, -1, np.int32), np.zeros((1, NRULE)), np.zeros((0, 3)), np.zeros((0, 2)),
            np.ones((0, 2)), np.zeros(n_neurons + 1, np.int64), np.zeros(0, np.int32), np.zeros(1, np.int64))


def index_array(psyn: np.ndarray, n_syn: int) -> np.ndarray:
    """The post index (positions of plastic synapses, grouped by target) as int32 when it fits:
    4 bytes per plastic synapse on top of its 8 static bytes. A synapse's delay group is found
    from grp_start by binary search at the (rarer) postsynaptic spikes instead of being stored."""
    return psyn.astype(np.int32 if n_syn < 2**31 else np.int64)


def assemble(grp_start: np.ndarray, grp_proj: np.ndarray, post: np.ndarray, n_neurons: int,
             rule_of_projection: dict[int, int], rules: np.ndarray, post_taus: np.ndarray,
             names: list[str] | None = None) -> tuple:
    """Plasticity arrays: group rules, traces, and the post index of plastic synapses.

    rule_of_projection maps projection index -> row of `rules`; post_taus[r] = (tau_minus, tau_y).
    A neuron's post traces are shared by all its plastic inputs, so their rules must agree on
    tau_minus, tau_y (ms) and the trace mode (nearest or all-to-all): otherwise an EventsimError
    naming the two projections (names[r]: the projection of rule row r)."""
    n_groups = grp_proj.size
    grp_rule = np.full(n_groups, -1, np.int32)
    for proj, r in rule_of_projection.items():
        grp_rule[grp_proj == proj] = r
    sizes = np.diff(grp_start)
    syn_group = np.repeat(np.arange(n_groups, dtype=np.int64), sizes)
    plastic = np.flatnonzero(grp_rule[syn_group] >= 0) if syn_group.size else np.zeros(0, np.int64)
    targets = post[plastic]
    order = np.argsort(targets, kind="stable")
    psyn = index_array(plastic[order], post.size)
    pgrp = syn_group[psyn]
    pptr = np.concatenate(([0], np.cumsum(np.bincount(targets, minlength=n_neurons)))).astype(np.int64)
    trace = np.column_stack((post_taus, rules[:, MODE]))     # what a target's post traces follow
    owner = np.full(n_neurons, -1)                            # rule row that set a neuron's traces
    for r in np.unique(grp_rule[pgrp]) if pgrp.size else []:
        who = np.unique(post[psyn[grp_rule[pgrp] == r]])
        set_by = owner[who]
        clash = set_by[(set_by >= 0) & np.any(trace[set_by] != trace[r], axis=1)]
        if clash.size:
            differ = [k for k, a, b in zip(("tau_minus", "tau_y", "nearest"), trace[clash[0]], trace[r]) if a != b]
            a, b = (f"'{names[k]}'" if names else f"no. {k + 1}" for k in (clash[0], r))
            raise EventsimError(
                f"plastic projections onto the same neurons must share tau_minus, tau_y and nearest (the "
                f"post traces are per neuron); plastic projections {a} and {b} differ in {', '.join(differ)}")
        owner[who] = r
    ntau = np.where(owner[:, None] >= 0, trace[np.maximum(owner, 0), :2], 1.0)
    gx = np.zeros((n_groups, 3))
    gx[:, 2] = -np.inf
    ny = np.zeros((n_neurons, 2))         # epoch coefficients of y1, y2 (0: never fired)
    return grp_rule, rules, gx, ny, ntau, pptr, psyn, np.asarray(grp_start, np.int64)
