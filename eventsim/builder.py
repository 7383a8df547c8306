"""Memory-lean assembly of the synapse graph, straight into CSR.

No edge list is ever materialised. Connectivity, weights and delays are counter-based draws, so
each projection is generated twice:
1. count the synapses of every presynaptic node;
2. lay out the rows (segments ordered by delay, then projection), then regenerate the same
   synapses and write each target and weight directly at its row position.
Peak memory is the CSR itself (8 bytes per synapse), plus, only for projections whose delays
vary per synapse, a temporary float64 delay per synapse used to split rows into delay groups.
"""
from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from . import connectors as C
from .distributions import CONSTANT, Distribution, draw
from .graph import Graph
from .rng import STREAM_CONNECT, STREAM_DELAY, STREAM_WEIGHT, uniform

BERNOULLI, INDEGREE, OUTDEGREE, ALL, ONE, EXPLICIT = range(6)


@dataclass
class Spec:
    """One projection, ready for generation. pre_map/post_map: view index -> global node id."""
    index: int
    kind: int
    p: float
    k: int
    no_self: bool                 # no synapse from a neuron onto itself (compared by pre_map/post_map value)
    multapses: bool
    pre_map: np.ndarray
    post_map: np.ndarray
    ex_pre: np.ndarray            # explicit connector: view indices
    ex_post: np.ndarray
    weight: tuple                 # (code, a, b, low, high, array)
    delay: tuple                  # (code, a, b, low, high, array)
    sign: float                   # -1.0 to force inhibitory (|w| negated), else 1.0

    @property
    def expected_synapses(self) -> int:
        """About how many synapses the generator will produce (the mean for pairwise_bernoulli)."""
        n_pre, n_post = self.pre_map.size, self.post_map.size
        n = {BERNOULLI: self.p * n_pre * n_post, INDEGREE: self.k * n_post, OUTDEGREE: self.k * n_pre,
             ALL: n_pre * n_post, ONE: min(n_pre, n_post), EXPLICIT: self.ex_pre.size}[self.kind]
        return int(np.ceil(n))

    @property
    def constant_delay(self) -> bool:
        return self.delay[0] == CONSTANT and self.delay[5].size == 0


def value_spec(value) -> tuple:
    """(code, a, b, low, high, array) for a Distribution, a scalar or a per-synapse array."""
    if isinstance(value, Distribution):
        return (value.code, value.a, value.b, value.low, value.high, np.zeros(0))
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0 or arr.size == 1:
        return (CONSTANT, float(arr.ravel()[0]), 0.0, -np.inf, np.inf, np.zeros(0))
    return (CONSTANT, 0.0, 0.0, -np.inf, np.inf, np.ascontiguousarray(arr.ravel()))


def kind_of(conn: C.Connector) -> int:
    return {C.PairwiseBernoulli: BERNOULLI, C.FixedIndegree: INDEGREE, C.FixedOutdegree: OUTDEGREE,
            C.AllToAll: ALL, C.OneToOne: ONE, C.Explicit: EXPLICIT}[type(conn)]


@nb.njit(cache=True, _nrt=False)
def _value(spec_code, a, b, low, high, arr, seed, stream, ka, kb, n):
    if arr.size:
        return arr[n]
    if spec_code == CONSTANT:
        return a
    return draw(spec_code, a, b, low, high, seed, stream, ka, kb)


STAGE = 1 << 24        # at most this many synapses are staged before they reach their rows
STAGE_PER_ROW = 16     # and at most this many per row of the graph: enough to fill a row's cache line per flush
ROW_BANDS = 1024       # rows are visited in this many bands of consecutive rows


@nb.njit(cache=True, _nrt=False)
def _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base):
    """Hand the staged synapses to their rows: cursor[pre] += 1 (count pass), and in the write
    pass also post/weight/delay to position cursor[pre]. A stable partition into bands of
    consecutive rows comes first, so that the random accesses of each band stay in the cache:
    at 1e6 rows, direct increments and stores cost a DRAM miss each (DESIGN.md, "Builder")."""
    s_pre, s_post, s_w, s_d, t_pre, t_post, t_w, t_d, band, state = stage
    n = state[0]
    shift = state[1]
    band[:] = 0
    for q in range(n):
        band[(s_pre[q] >> shift) + 1] += 1
    for b in range(1, band.size):
        band[b] += band[b - 1]
    for q in range(n):
        b = s_pre[q] >> shift
        r = band[b]
        band[b] = r + 1
        t_pre[r] = s_pre[q]
        if write:
            t_post[r] = s_post[q]
            t_w[r] = s_w[q]
            if d_arr.size:
                t_d[r] = s_d[q]
    for r in range(n):
        g = t_pre[r]
        pos = cursor[g]
        cursor[g] = pos + 1
        if write:
            post_arr[pos] = t_post[r]
            w_arr[pos] = t_w[r]
            if d_arr.size:
                d_arr[pos - d_base] = t_d[r]
    state[0] = 0


def stage_size(n_nodes: int, n_syn: int) -> int:
    """Synapses staged per flush for projections of up to about n_syn synapses on n_nodes rows."""
    return max(1, min(STAGE, n_syn, max(STAGE_PER_ROW * n_nodes, 1 << 16)))


def stage_bytes(n_nodes: int, n_syn: int, var_delay: bool) -> int:
    """Bytes of the staging buffers new_stage allocates (what build() needs beyond the graph)."""
    return stage_size(n_nodes, n_syn) * (24 + (16 if var_delay else 0))


def new_stage(n_nodes: int, n_syn: int, var_delay: bool) -> tuple:
    """Staging buffers for passes over projections of up to about n_syn synapses each: 24 bytes
    per staged synapse (40 with per-synapse delays), at most 16 per row and 2^24 in all. Both
    passes share them (the count pass uses the pre indices only)."""
    size = stage_size(n_nodes, n_syn)
    shift = max(0, int(np.ceil(np.log2(max(n_nodes, 1) / ROW_BANDS))))
    nd = size if var_delay else 0
    return (np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.float32), np.empty(nd),
            np.empty(size, np.int32), np.empty(size, np.int32), np.empty(size, np.float32), np.empty(nd),
            np.zeros((max(n_nodes - 1, 0) >> shift) + 2, np.int64), np.array([0, shift], np.int64))


@nb.njit(cache=True, _nrt=False)
def _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, i, j, n, ka, kb, wspec, dspec, seed,
          sign, lo, hi):
    """Stage the synapse view pre i -> view post j; its weight and delay (write pass only) are
    entry n of per-synapse arrays. Only synapses onto global neurons in [lo, hi) (this rank's) are kept. Returns True
    when the stage is full and must be flushed. pre_base >= 0: pre_map is pre_base + arange
    (a population or slice), which spares a random read per synapse."""
    if not lo <= post_map[j] < hi:
        return False
    q = fill[0]
    s_pre[q] = pre_base + i if pre_base >= 0 else pre_map[i]
    if write:
        s_post[q] = post_map[j]
        w = _value(wspec[0], wspec[1], wspec[2], wspec[3], wspec[4], wspec[5], seed, STREAM_WEIGHT, ka, kb, n)
        s_w[q] = -abs(w) if sign < 0 else w
        if s_d.size:
            s_d[q] = _value(dspec[0], dspec[1], dspec[2], dspec[3], dspec[4], dspec[5], seed, STREAM_DELAY, ka, kb,
                            n)
    fill[0] = q + 1
    return q + 1 == s_pre.size


@nb.njit(cache=True, _nrt=False, inline="always")
def _same_neuron(pre_base, pre_map, post_map, i, j):
    """Whether view pre i and view post j are one neuron: their map values (global node ids, or
    local ids of one population) are equal. Views of one population may overlap or be permuted,
    so view indices alone do not decide it; pre_base as in _emit."""
    if pre_base >= 0:
        return pre_base + i == post_map[j]
    return pre_map[i] == post_map[j]


@nb.njit(cache=True)
def _generate(write, kind, p, k, no_self, multapses, pre_map, post_map, ex_pre, ex_post, seed, key, cursor,
              post_arr, w_arr, d_arr, d_base, stage, wspec, dspec, sign, lo, hi):
    """The generator loops of `generate`.

    Weights and delays are keyed by (key, post, ordinal within post), or by (key, pre, ordinal
    within pre) for fixed_outdegree, never by generation order across neurons. no_self skips every
    pair whose pre and post are one neuron (_same_neuron); fixed-degree owners redraw instead, so
    their degree stays exact (drawn among the other candidates)."""
    s_pre, s_post, s_w, s_d = stage[0], stage[1], stage[2], stage[3]
    fill = stage[9]
    n_pre = pre_map.size
    pre_base = pre_map[0] if n_pre else -1
    for q in range(n_pre):
        if pre_map[q] != pre_base + q:
            pre_base = -1
            break
    n_post = post_map.size
    n = 0
    if kind == EXPLICIT:
        ordinal = np.zeros(n_post, np.int64)
        for q in range(ex_pre.size):
            j = ex_post[q]
            if _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, ex_pre[q], j, n,
                     (key << 40) | j, ordinal[j], wspec, dspec, seed, sign, lo, hi):
                _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
            ordinal[j] += 1
            n += 1
        return n
    if kind == ONE:
        for j in range(n_post):
            if _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, j, j, n,
                     (key << 40) | j, 0, wspec, dspec, seed, sign, lo, hi):
                _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
            n += 1
        return n
    if kind == INDEGREE or kind == OUTDEGREE:
        # each owner (post for indegree, pre for outdegree) draws k partners from the other side
        owner_is_pre = kind == OUTDEGREE
        n_owner = n_pre if owner_is_pre else n_post
        n_other = n_post if owner_is_pre else n_pre
        taken = np.zeros(0 if multapses else n_other, np.bool_)
        marks = np.zeros(k, np.int64)
        for o in range(n_owner):
            if not owner_is_pre and not lo <= post_map[o] < hi:
                continue                      # another rank's post neuron
            sa = (key << 40) | o
            draws = 0
            got = 0
            while got < k:
                x = min(int(uniform(seed, STREAM_CONNECT, sa, draws) * n_other), n_other - 1)
                draws += 1
                i, j = (o, x) if owner_is_pre else (x, o)
                if (no_self and _same_neuron(pre_base, pre_map, post_map, i, j)) or (not multapses and taken[x]):
                    continue
                if not multapses:
                    taken[x] = True
                    marks[got] = x
                # a per-synapse array is read by owner and draw (owner * k + got), not by the count of
                # synapses made so far: other ranks' owners are skipped above
                if _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, i, j, o * k + got,
                         sa, got, wspec, dspec, seed, sign, lo, hi):
                    _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
                got += 1
                n += 1
            if not multapses:
                for q in range(k):
                    taken[marks[q]] = False
        return n
    log_q = np.log1p(-p) if 0.0 < p < 1.0 else 0.0
    for j in range(n_post):
        if not lo <= post_map[j] < hi:
            continue                          # another rank's post neuron
        sa = (key << 40) | j
        ordinal = 0
        if kind == ALL:
            for i in range(n_pre):
                if no_self and _same_neuron(pre_base, pre_map, post_map, i, j):
                    continue
                # a per-synapse array is read at post * n_pre + pre (Network.connect's layout), so
                # excluded autapses and other ranks' post neurons do not shift the later values
                if _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, i, j, j * n_pre + i,
                         sa, ordinal, wspec, dspec, seed, sign, lo, hi):
                    _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
                ordinal += 1
                n += 1
        else:                                 # BERNOULLI
            if p <= 0.0:
                continue
            i = -1
            draws = 0
            while True:
                if p >= 1.0:
                    i += 1
                else:
                    u = uniform(seed, STREAM_CONNECT, sa, draws)
                    draws += 1
                    i += 1 + int(np.floor(np.log(u) / log_q))
                if i >= n_pre:
                    break
                if no_self and _same_neuron(pre_base, pre_map, post_map, i, j):
                    continue
                if _emit(write, s_pre, s_post, s_w, s_d, fill, pre_base, pre_map, post_map, i, j, n,
                         sa, ordinal, wspec, dspec, seed, sign, lo, hi):
                    _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
                ordinal += 1
                n += 1
    return n


@nb.njit(cache=True)
def generate(write, kind, p, k, no_self, multapses, pre_map, post_map, ex_pre, ex_post, seed, key, cursor,
             post_arr, w_arr, d_arr, d_base, stage, wspec, dspec, sign, lo, hi):
    """Run one projection's generator: the count pass (write=False) adds each synapse to
    cursor[pre]; the write pass puts it at post_arr/w_arr/d_arr[cursor[pre]++]. Both go through
    the staging buffers `stage` (new_stage). Returns the number of synapses generated."""
    n = _generate(write, kind, p, k, no_self, multapses, pre_map, post_map, ex_pre, ex_post, seed, key, cursor,
                  post_arr, w_arr, d_arr, d_base, stage, wspec, dspec, sign, lo, hi)
    _flush(write, stage, cursor, post_arr, w_arr, d_arr, d_base)
    return n


@nb.njit(cache=True)
def _split_rows(row_lo, row_hi, post, weight, delay, proj, out_start, out_delay, out_proj):
    """Sort each row by (delay, projection, post) and split it into groups where (delay,
    projection) changes, so a node's groups come in delay order. Returns the number of groups."""
    ng = 0
    for r in range(row_lo.size):
        lo = row_lo[r]
        hi = row_hi[r]
        if hi <= lo:
            continue
        perm = np.argsort(post[lo:hi], kind="mergesort")
        perm = perm[np.argsort(proj[lo:hi][perm], kind="mergesort")]
        perm = perm[np.argsort(delay[lo:hi][perm], kind="mergesort")]
        post[lo:hi] = post[lo:hi][perm]
        weight[lo:hi] = weight[lo:hi][perm]
        delay[lo:hi] = delay[lo:hi][perm]
        proj[lo:hi] = proj[lo:hi][perm]
        for q in range(lo, hi):
            if q == lo or delay[q] != delay[q - 1] or proj[q] != proj[q - 1]:
                out_start[ng] = q
                out_delay[ng] = delay[q]
                out_proj[ng] = proj[q]
                ng += 1
    return ng


def build_graph(n_nodes: int, specs: list[Spec], seed: int, local: tuple[int, int] | None = None) -> Graph:
    """Assemble every projection into one CSR with delay groups (see module docstring).

    local = (lo, hi): keep only synapses onto neurons lo..hi-1 (one rank of a partitioned run)."""
    lo, hi = local if local is not None else (0, np.iinfo(np.int64).max)
    n_proj = len(specs)
    counts = np.zeros((n_proj, n_nodes), np.int64)
    empty_f = np.zeros(0)
    empty_i32 = np.zeros(0, np.int32)
    empty_f32 = np.zeros(0, np.float32)
    stage = new_stage(n_nodes, max([s.expected_synapses for s in specs], default=0),
                      not all(s.constant_delay for s in specs))
    for q, s in enumerate(specs):
        generate(False, s.kind, s.p, s.k, s.no_self, s.multapses, s.pre_map, s.post_map, s.ex_pre, s.ex_post,
                 seed, s.index + 1, counts[q], empty_i32, empty_f32, empty_f, 0, stage, s.weight, s.delay, s.sign,
                 lo, hi)
    # row layout: within each node, segments ordered by (constant delay or +inf, projection index)
    seg_delay = np.array([s.delay[1] if s.constant_delay else np.inf for s in specs])
    seg_order = np.lexsort((np.array([s.index for s in specs]), seg_delay)) if n_proj else np.zeros(0, int)
    ordered = counts[seg_order]                                   # [n_proj, n_nodes]
    row_len = ordered.sum(axis=0)
    row_start = np.concatenate(([0], np.cumsum(row_len)))
    n_syn = int(row_start[-1])
    seg_start = row_start[:-1][None, :] + np.concatenate((np.zeros((1, n_nodes), np.int64),
                                                          np.cumsum(ordered, axis=0)[:-1]), axis=0)
    post = np.empty(n_syn, np.int32)
    weight = np.empty(n_syn, np.float32)
    var_delay = {}
    for rank, q in enumerate(seg_order):
        s = specs[q]
        cursor = seg_start[rank].copy()
        if s.constant_delay:
            d_arr, d_base = empty_f, 0
        else:                                 # positions of this projection are scattered over rows
            d_arr, d_base = np.empty(n_syn), 0
        generate(True, s.kind, s.p, s.k, s.no_self, s.multapses, s.pre_map, s.post_map, s.ex_pre, s.ex_post,
                 seed, s.index + 1, cursor, post, weight, d_arr, d_base, stage, s.weight, s.delay, s.sign, lo, hi)
        if not s.constant_delay:
            var_delay[rank] = d_arr
    # groups: one per non-empty (node, segment); segments with per-synapse delays are split
    seg_lo = seg_start                                           # [n_proj, n_nodes]
    seg_hi = seg_start + ordered
    nonempty = ordered > 0
    node_idx = np.broadcast_to(np.arange(n_nodes), ordered.shape)
    rank_idx = np.broadcast_to(np.arange(n_proj)[:, None], ordered.shape)
    # walk nodes in order, segments in rank order within a node
    sel = np.flatnonzero(nonempty.T.ravel())
    node_of = node_idx.T.ravel()[sel]
    rank_of = rank_idx.T.ravel()[sel]
    lo_of = seg_lo.T.ravel()[sel]
    hi_of = seg_hi.T.ravel()[sel]
    proj_index = np.array([specs[q].index for q in seg_order], np.int32)
    const_rank = np.array([specs[q].constant_delay for q in seg_order], bool)
    is_const = const_rank[rank_of] if rank_of.size else np.zeros(0, bool)
    if np.all(is_const):
        grp_start = lo_of.astype(np.int64)
        grp_delay = seg_delay[seg_order][rank_of]
        grp_proj = proj_index[rank_of]
        grp_node = node_of
    else:
        # some delays vary per synapse: sort every row that holds them by (delay, projection,
        # post) as a whole, so that groups stay in delay order across projections
        delay_all = np.zeros(n_syn)
        proj_all = np.zeros(n_syn, np.int32)
        seg_delays = seg_delay[seg_order]
        for lo, hi, rank in zip(lo_of, hi_of, rank_of):
            proj_all[lo:hi] = proj_index[rank]
            delay_all[lo:hi] = var_delay[rank][lo:hi] if rank in var_delay else seg_delays[rank]
        rows = np.flatnonzero(row_len > 0)
        out_start = np.empty(n_syn, np.int64)
        out_delay = np.empty(n_syn)
        out_proj = np.empty(n_syn, np.int32)
        ng = _split_rows(row_start[rows].astype(np.int64), row_start[rows + 1].astype(np.int64), post, weight,
                         delay_all, proj_all, out_start, out_delay, out_proj)
        grp_start, grp_delay, grp_proj = out_start[:ng].copy(), out_delay[:ng].copy(), out_proj[:ng].copy()
        grp_node = np.searchsorted(row_start, grp_start, side="right") - 1
        del delay_all, proj_all
    grp_ptr = np.searchsorted(grp_node, np.arange(n_nodes + 1), side="left").astype(np.int64)
    return Graph(n_nodes, grp_ptr, np.append(grp_start, n_syn).astype(np.int64), np.asarray(grp_delay, np.float64),
                 post, weight, np.asarray(grp_proj, np.int32))
