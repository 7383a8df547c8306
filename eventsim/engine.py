"""The event loop: one numba function that processes events in time order until a stop time.

Two queues, merged by (time, kind, id) so that order never depends on insertion order:
- a tournament tree of neuron checks (heap.cset), one leaf per neuron: the time of its predicted
  threshold crossing, or of a lower bound on it (kind CHECK, last at equal times, so that inputs
  arriving at the same instant are all summed before the threshold is tested, as in NEST);
- a heap of SOURCE entries (id = source, aux = version: the next spike of a Poisson or
  spike-array source) and DELIVERY entries (id = node, aux = delay group, payload t0 = emission
  time). A delivery walks its CSR segment, then pushes the node's next delay group, so an
  emitted spike holds one queue entry at a time, whatever its number of delays.

After an input, a neuron is re-queued only if it may cross before its queued check
(neuron.may_cross_before_next, no transcendental functions), at the cheap lower bound of
neuron.lower_bound. A check whose bound is still far off is re-queued at the new bound; otherwise
the exact crossing is solved (neuron.next_crossing).

Python calls `run_until` per chunk. It returns early when the spike buffer or the queue needs
room (status codes below); the wrapper flushes or grows and calls again. Chunk boundaries never
touch neuron state, so the chunk size cannot change the result. `schedule_emission` is the entry
point for spikes that an MPI wrapper receives from other ranks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from . import heap, neuron, plasticity
from .neuron import EXACT, NEXT
from .rng import STREAM_POISSON, uniform
from .prefetch import prefetch

CHECK, SOURCE, DELIVERY = 0, 1, 2
ID_MASK = (1 << heap.ID_BITS) - 1
DONE, BUFFER_FULL, QUEUE_FULL = 0, 1, 2
POISSON, ARRAY = 0, 1
# A re-check whose cheap bound lies further than LAZY_HORIZON * tau_m ahead is deferred to
# that bound instead of solved exactly. 0.25 until the solver got 2.4x cheaper (2026-11-23);
# 0.05 is 4% faster on CUBA since (DESIGN.md).
LAZY_HORIZON = 0.05
# stats slots
EVENTS, SYN_EVENTS, SPIKES, CHECKS = range(4)
PREFETCH_AHEAD = 16     # synapses between a target's prefetch and its input (8 until 2026-11-23; DESIGN.md)


@nb.njit(cache=True, _nrt=False, inline="always")
def _queue_check(S, checks, P, j, t_check, exact, ep):
    """Key neuron j's entry in the check heap at t_check."""
    _queue_check_igm(S, checks, j, t_check, neuron.next_igm(P, j, t_check, ep), exact)


@nb.njit(cache=True, _nrt=False, inline="always")
def _queue_check_igm(S, checks, j, t_check, igm, exact):
    """_queue_check with 1/G_m(t_check) already known (from neuron.lower_bound)."""
    S[j, NEXT] = t_check
    S[j, neuron.NEXT_IGM] = igm
    S[j, EXACT] = 1.0 if exact else 0.0
    heap.cset(checks[0], checks[1], j, t_check)


@nb.njit(cache=True, _nrt=False, inline="always")
def _push_check(P, S, checks, j, t, v, F, c, ep):
    """After neuron j's state changed at t: push a lower bound on its next crossing if that
    can come before its live entry (cheap test first, then the bound, which needs a log)."""
    S[j, EXACT] = 0.0
    if not neuron.may_cross_before_next(P, S, j, t, v, F, c):
        return
    lb, exact, igm = neuron.lower_bound(P, S, j, t, v, F, c)
    if lb < S[j, NEXT]:
        _queue_check_igm(S, checks, j, lb, igm, exact)


@nb.njit(cache=True, _nrt=False)
def _push_source(sources, queue, graph, rec_flag, n_neurons, seed, s, t):
    """Schedule the next spike of source s after time t (Poisson) or its next array entry.

    An unrecorded source is queued directly at the arrival time of its first delay group
    (payload: the emission time), which saves a push and a pop per spike; a recorded one is
    queued at its emission time so that its spikes are logged in time order."""
    kind, rate, ptr, times, pos, count, sversion = sources
    qt, qc, qa, q0, qs = queue
    tn = np.inf
    if kind[s] == POISSON:
        if rate[s] > 0.0:
            u = uniform(seed, STREAM_POISSON, s, count[s])
            count[s] += 1
            tn = t - np.log(u) / rate[s]
    elif pos[s] < ptr[s + 1]:
        tn = times[pos[s]]
        pos[s] += 1
    if tn < np.inf:
        node = n_neurons + s
        g = graph[0][node]
        key = tn
        if rec_flag[node] == 0 and g < graph[0][node + 1]:
            key = tn + graph[2][g]
        heap.push(qt, qc, qa, q0, qs, key, (SOURCE << heap.ID_BITS) | s, sversion[s], tn)


@nb.njit(cache=True, _nrt=False)
def schedule_emission(graph, queue, node, t):
    """Schedule the deliveries of a spike of `node` at t: push its first delay group.

    The MPI wrapper calls this for spikes received from other ranks."""
    grp_ptr, grp_start, grp_delay, post, weight = graph
    qt, qc, qa, q0, qs = queue
    g = grp_ptr[node]
    if g < grp_ptr[node + 1]:
        heap.push(qt, qc, qa, q0, qs, t + grp_delay[g], (DELIVERY << heap.ID_BITS) | node, g, t)


@nb.njit(cache=True, _nrt=False)
def _emit(graph, queue, rec, node, t):
    _record(rec, node, t)
    schedule_emission(graph, queue, node, t)


@nb.njit(cache=True, _nrt=False)
def _record(rec, node, t):
    rec_flag, buf_t, buf_id, buf_n = rec
    if rec_flag[node]:
        n = buf_n[0]
        buf_t[n] = t
        buf_id[n] = node
        buf_n[0] = n + 1


@nb.njit(cache=True, _nrt=False)
def _spike(P, S, checks, graph, queue, rec, stats, fac, ep, pl, xch, j, t):
    """Neuron j fires at t. In exchange mode (partitioned runs) its deliveries are not scheduled
    here: the spike goes to the exchange buffer, and every rank schedules it after the window."""
    neuron.spike(P, S, j, t, ep)
    if pl[5][j + 1] > pl[5][j]:
        plasticity.post_spike(pl, j, t, ep, graph[4])
    _queue_check(S, checks, P, j, np.inf, False, ep)
    stats[SPIKES] += 1
    if xch[0][0]:
        _record(rec, j, t)
        n = xch[3][0]
        xch[1][n] = t
        xch[2][n] = j
        xch[3][0] = n + 1
    else:
        _emit(graph, queue, rec, j, t)
    F, Ft, CT = fac
    c = int(P[j, neuron.CLASS])
    neuron.factors(F, Ft, CT, c, t, ep)
    _push_check(P, S, checks, j, t, neuron.potential(P, S, j, F, c), F, c, ep)


@nb.njit(cache=True, _nrt=False)
def _take_samples(P, S, samp, t_limit, t_stop, ep):
    """Record the state of sampled neurons at every sample time < t_limit and <= t_stop."""
    times, pos, ids, out = samp
    while pos[0] < times.size and times[pos[0]] < t_limit and times[pos[0]] <= t_stop:
        p = pos[0]
        for q in range(ids.size):
            v, ie, ii, theta = neuron.physical(P, S, ids[q], times[p], ep)
            out[p, q, 0] = v
            out[p, q, 1] = ie
            out[p, q, 2] = ii
            out[p, q, 3] = theta
        pos[0] = p + 1


@nb.njit(cache=True, _nrt=False)
def run_until(t_stop, seed, n_neurons, max_group, neurons, graph, sources, queue, rec, samp,
              scratch, stats, fac, epoch, pl, xch):
    """Process every event with time <= t_stop. Returns DONE, BUFFER_FULL or QUEUE_FULL.

    epoch = [T0, rebase interval]: T0 advances in whole intervals, at fixed model times."""
    P, S, checks = neurons
    ckey, cwho = checks[0], checks[1]
    grp_ptr, grp_start, grp_delay, post, weight = graph
    sversion = sources[6]
    qt, qc, qa, q0, qs = queue
    F, Ft, CT = fac
    buf_t = rec[1]
    buf_n = rec[3]
    room = max_group + 4
    sampling = samp[0].size > 0
    while True:
        n = qs[0]
        t = qt[0] if n > 0 else np.inf
        # at equal times deliveries go first: simultaneous inputs are summed before any
        # threshold check (as NEST does), so a jump that reaches threshold only queues a check
        is_check = ckey[1] < t
        if is_check:
            t = ckey[1]
        if sampling:
            _take_samples(P, S, samp, t, t_stop, epoch[0])
        if t > t_stop:
            return DONE
        if qt.size - n < room:
            return QUEUE_FULL
        if buf_t.size - buf_n[0] < max_group + 2 or (xch[0][0] and xch[1].size - xch[3][0] < 2):
            return BUFFER_FULL
        while t - epoch[0] > epoch[1]:    # one interval at a time: same rounding on every rank
            neuron.rebase(P, S, n_neurons, epoch[0], epoch[0] + epoch[1])
            plasticity.rebase(pl, epoch[0], epoch[0] + epoch[1])
            epoch[0] += epoch[1]
            Ft[:] = np.nan
        ep = epoch[0]
        stats[EVENTS] += 1
        if is_check:
            if n > 0 and (qc[0] >> heap.ID_BITS) == DELIVERY:
                # the next delivery waits behind this check: start loading the first lines of
                # its synapse segment, which would otherwise miss at the top of _deliver
                lo = grp_start[qa[0]]
                prefetch(post, lo)
                prefetch(weight, lo)
            j = cwho[1]
            stats[CHECKS] += 1
            if S[j, EXACT] != 0.0:
                _spike(P, S, checks, graph, queue, rec, stats, fac, ep, pl, xch, j, t)
                continue
            c = int(P[j, neuron.CLASS])
            neuron.factors(F, Ft, CT, c, t, ep)
            lb, exact, igm = neuron.lower_bound(P, S, j, t, neuron.potential(P, S, j, F, c), F, c)
            if lb > t + LAZY_HORIZON * P[j, neuron.TAU_M]:
                # the crossing is far off: an input will most likely arrive first, so re-check
                # at the (cheap) bound instead of solving for the exact time now
                _queue_check_igm(S, checks, j, lb, igm, exact)
                continue
            tc = neuron.next_crossing(P, S, j, t, ep, scratch, F, c)
            if tc <= t:
                _spike(P, S, checks, graph, queue, rec, stats, fac, ep, pl, xch, j, t)
            else:
                _queue_check(S, checks, P, j, tc, tc < np.inf, ep)
            continue
        code = qc[0]
        aux = qa[0]
        t0 = q0[0]
        heap.pop(qt, qc, qa, q0, qs)
        kind = code >> heap.ID_BITS
        idx = code & ID_MASK
        if kind == DELIVERY:
            _deliver(P, S, checks, graph, queue, rec, stats, fac, ep, pl, idx, aux, t, t0)
        else:
            s = idx
            if aux != sversion[s]:
                continue
            node = n_neurons + s
            if rec[0][node]:
                _emit(graph, queue, rec, node, t)
            elif grp_ptr[node] < grp_ptr[node + 1]:       # queued at its first arrival
                _deliver(P, S, checks, graph, queue, rec, stats, fac, ep, pl, node, grp_ptr[node], t, t0)
            _push_source(sources, queue, graph, rec[0], n_neurons, seed, s, t0)


@nb.njit(cache=True, _nrt=False)
def _deliver(P, S, checks, graph, queue, rec, stats, fac, ep, pl, node, g, t, t0):
    """Walk delay group g of `node` (spike emitted at t0, arriving at t), then queue the next group."""
    grp_ptr, grp_start, grp_delay, post, weight = graph
    F, Ft, CT = fac
    lo = grp_start[g]
    hi = grp_start[g + 1]
    if pl[0][g] >= 0:
        plasticity.pre_arrival(pl, g, t, ep, post, weight, lo, hi)
    for k in range(lo, min(hi, lo + PREFETCH_AHEAD)):   # the loop below prefetches from lo + PREFETCH_AHEAD on
        jn = post[k]
        prefetch(P, jn)
        prefetch(S, jn)
    for k in range(lo, hi):
        if k + PREFETCH_AHEAD < hi:            # the target a few synapses ahead (see prefetch.py)
            jn = post[k + PREFETCH_AHEAD]
            prefetch(P, jn)
            prefetch(S, jn)
        j = post[k]
        c = int(P[j, neuron.CLASS])
        neuron.factors(F, Ft, CT, c, t, ep)
        w = weight[k]
        at_threshold, v = neuron.apply_input(P, S, j, t, w, F, c, ep)
        if at_threshold:
            _queue_check(S, checks, P, j, t, False, ep)   # decided after all inputs at t
        elif w < 0.0:
            # inhibition lowers V at every later time, so the queued check stays a lower
            # bound on the crossing; only a predicted spike time is no longer exact
            S[j, EXACT] = 0.0
        else:
            _push_check(P, S, checks, j, t, v, F, c, ep)
    stats[SYN_EVENTS] += hi - lo
    if g + 1 < grp_ptr[node + 1]:
        qt, qc, qa, q0, qs = queue
        heap.push(qt, qc, qa, q0, qs, t0 + grp_delay[g + 1], (DELIVERY << heap.ID_BITS) | node, g + 1, t0)


@nb.njit(cache=True)
def prime_neurons(t, neurons, ids, fac, ep):
    """(Re)schedule the next check of each neuron in ids at time t."""
    P, S, checks = neurons
    F, Ft, CT = fac
    for j in ids:
        _queue_check(S, checks, P, j, np.inf, False, ep)
        c = int(P[j, neuron.CLASS])
        neuron.factors(F, Ft, CT, c, t, ep)
        v = neuron.potential(P, S, j, F, c) if S[j, neuron.REF_END] <= t else P[j, neuron.V_RESET]
        _push_check(P, S, checks, j, t, v, F, c, ep)


@nb.njit(cache=True)
def restart_sources(t, seed, sources, queue, graph, rec_flag, n_neurons, ids):
    """(Re)start sources in ids at time t: invalidates their queued spike, draws the next.

    Exact for Poisson sources (memoryless). Array sources continue at their first spike >= t."""
    kind, rate, ptr, times, pos, count, sversion = sources
    for s in ids:
        sversion[s] += 1
        if kind[s] == ARRAY:
            p = ptr[s]
            while p < ptr[s + 1] and times[p] < t:
                p += 1
            pos[s] = p
        _push_source(sources, queue, graph, rec_flag, n_neurons, seed, s, t)


@dataclass
class Engine:
    """All arrays of a built network, and the chunked driver around `run_until`."""
    seed: int
    n_neurons: int
    P: np.ndarray                          # float64[N, NP] parameters (neuron-major)
    S: np.ndarray                          # float64[N, NS] state (neuron-major)
    checks: tuple                          # heap.make_checks(N): next check time per neuron
    graph: tuple                           # graph.Graph arrays
    sources: tuple                         # (kind, rate/ms, ptr, times, pos, count, version)
    rec_flag: np.ndarray                   # uint8[n_nodes]
    max_group: int
    buffer_size: int = 1 << 16
    queue: tuple = field(default=None)
    t: float = 0.0                         # ms: every event <= t is processed
    stats: np.ndarray = field(default_factory=lambda: np.zeros(4, np.int64))
    scratch: tuple = field(default_factory=neuron.make_scratch)
    epoch: np.ndarray = field(default=None)    # [T0, rebase interval] (ms)
    plast: tuple = field(default=None)         # plasticity.assemble(...) or plasticity.empty(...)
    xch: tuple = field(default=None)           # exchange mode: (on, times, node ids, count)

    def __post_init__(self):
        if self.queue is None:
            self.queue = heap.make(max(1024, 4 * (self.n_neurons + self.n_sources) + 4 * self.max_group + 16))
        n = max(self.buffer_size, 2 * self.max_group + 8)
        self.buf_t = np.zeros(n)
        self.buf_id = np.zeros(n, np.int64)
        self.buf_n = np.zeros(1, np.int64)
        # while run_until hands a buffer to on_spikes: the model time the run has reached, i.e. what
        # t becomes if on_spikes stops the run (a rate guard quotes it and measures its window to it)
        self.t_reached = self.t
        self.no_samples = (np.zeros(0), np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros((0, 0, 4)))
        if self.xch is None:
            self.xch = (np.zeros(1, np.uint8), np.zeros(1 << 16), np.zeros(1 << 16, np.int64), np.zeros(1, np.int64))
        if self.plast is None:
            self.plast = plasticity.empty(self.n_neurons, self.graph[2].size)
        if self.epoch is None:
            self.epoch = np.array([0.0, rebase_interval(self.P, plasticity.trace_taus(self.plast))])
        self.refresh_classes()

    def refresh_classes(self) -> None:
        """Recompute time-constant classes and the factor cache (after parameters change)."""
        neuron.derive(self.P)
        taus = neuron.class_taus(self.P) if self.n_neurons else np.ones((1, 4))
        self.fac = (np.ones((taus.shape[0], 8)), np.full(taus.shape[0], np.nan), taus)

    @property
    def n_sources(self) -> int:
        return int(self.sources[0].size)

    @property
    def neurons(self) -> tuple:
        return (self.P, self.S, self.checks)

    def prime(self, neuron_ids: np.ndarray | None = None) -> None:
        """Schedule every neuron (or only neuron_ids) and every source at the current time."""
        self.prime_neurons(np.arange(self.n_neurons) if neuron_ids is None else neuron_ids)
        self.restart_sources(np.arange(self.n_sources))

    def prime_neurons(self, ids: np.ndarray) -> None:
        prime_neurons(self.t, self.neurons, np.asarray(ids, np.int64), self.fac, self.epoch[0])

    def restart_sources(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, np.int64)
        self.reserve(ids.size)             # one entry per source; their stale entries stay queued
        restart_sources(self.t, self.seed, self.sources, self.queue, self.graph, self.rec_flag, self.n_neurons,
                        ids)

    def reserve(self, k: int) -> None:
        """Grow the event queue so that k more entries fit. Kernels called from Python push
        without a capacity check (numba does not check bounds), so every such call reserves first."""
        while self.queue[4][0] + k + 8 > self.queue[0].size:
            self.queue = heap.grow(self.queue, 2 * self.queue[0].size)

    def state(self, ids: np.ndarray) -> np.ndarray:
        """(v, i_e, i_i, theta) of neurons ids at the current time: float64[len(ids), 4]."""
        return snapshot(self.P, self.S, np.asarray(ids, np.int64), self.t, self.epoch[0])

    def set_params(self, ids: np.ndarray, column: int, values: np.ndarray) -> None:
        """Change one parameter column for neurons ids at the current time, keeping their
        physical state (v, currents, theta) continuous, then reschedule them."""
        ids = np.asarray(ids, np.int64)
        state = self.state(ids)
        self.P[ids, column] = values
        self.refresh_classes()
        self.set_state(ids, state)

    def set_state(self, ids: np.ndarray, state: np.ndarray) -> None:
        """Give neurons ids the state (v, i_e, i_i, theta) [len(ids), 4], as `state` returns it,
        at the current time, then reschedule them."""
        ids = np.asarray(ids, np.int64)
        restore(self.P, self.S, ids, self.t, self.epoch[0], np.ascontiguousarray(state, np.float64))
        self.prime_neurons(ids)

    def run_until(self, t_stop: float, on_spikes, samp=None, on_exchange=None) -> None:
        """Process events up to t_stop (ms); `on_spikes(times, node_ids)` receives each buffer.

        In exchange mode, `on_exchange(times, node_ids)` receives the neuron spikes to send."""
        samp = self.no_samples if samp is None else samp
        rec = (self.rec_flag, self.buf_t, self.buf_id, self.buf_n)
        while True:
            status = run_until(t_stop, self.seed, self.n_neurons, self.max_group, self.neurons, self.graph,
                               self.sources, self.queue, rec, samp, self.scratch, self.stats, self.fac,
                               self.epoch, self.plast, self.xch)
            if status == QUEUE_FULL:
                self.queue = heap.grow(self.queue, 2 * self.queue[0].size)
            elif status == BUFFER_FULL or (status == DONE and self.buf_n[0]):
                n = int(self.buf_n[0])
                reached = t_stop if status == DONE else float(self.buf_t[n - 1]) if n else self.t
                self.t_reached = max(self.t, reached)
                try:
                    self.drain(on_spikes)
                except BaseException:
                    # on_spikes stopped the run (a rate guard, a failed write): every spike before
                    # `reached` has been handed over, so that is the time the run got to
                    self.t = self.t_reached
                    raise
                self._drain_exchange(on_exchange)
            if status == DONE:
                self._drain_exchange(on_exchange)
                break
        self.t = self.t_reached = t_stop

    def _drain_exchange(self, on_exchange) -> None:
        """Hand the spikes collected for other ranks to on_exchange (exchange mode only)."""
        n = int(self.xch[3][0])
        if on_exchange is not None and n:
            on_exchange(self.xch[1][:n].copy(), self.xch[2][:n].copy())
            self.xch[3][0] = 0

    def drain(self, on_spikes) -> None:
        n = int(self.buf_n[0])
        if n:
            on_spikes(self.buf_t[:n].copy(), self.buf_id[:n].copy())
        self.buf_n[0] = 0


def rebase_interval(P: np.ndarray, trace_taus: np.ndarray = np.zeros(0)) -> float:
    """Epoch interval (ms): factors exp((t - T0)/tau) stay below exp(200) for every tau of the
    neurons and of the STDP post traces."""
    taus = P[:, [neuron.TAU_M, neuron.TAU_E, neuron.TAU_I, neuron.TAU_THETA]].ravel() if P.size else np.ones(1)
    taus = np.concatenate((taus, trace_taus))
    finite = taus[np.isfinite(taus) & (taus > 0)]
    return 200.0 * float(finite.min()) if finite.size else 1e6


@nb.njit(cache=True)
def schedule_many(graph, queue, nodes, times):
    """Schedule the deliveries of spikes received from other ranks (room ensured by the caller)."""
    for k in range(nodes.size):
        schedule_emission(graph, queue, nodes[k], times[k])


@nb.njit(cache=True)
def snapshot(P, S, ids, t, ep):
    """Physical state (v, i_e, i_i, theta) of neurons in ids at time t: float64[len(ids), 4]."""
    out = np.empty((ids.size, 4))
    for q in range(ids.size):
        v, ie, ii, theta = neuron.physical(P, S, ids[q], t, ep)
        out[q, 0] = v
        out[q, 1] = ie
        out[q, 2] = ii
        out[q, 3] = theta
    return out


@nb.njit(cache=True)
def restore(P, S, ids, t, ep, state):
    """Inverse of snapshot (after parameters changed): coefficients for the given state."""
    for q in range(ids.size):
        neuron.set_physical(P, S, ids[q], t, ep, state[q, 0], state[q, 1], state[q, 2], state[q, 3])
