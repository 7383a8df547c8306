"""Remove synapses from a built network between chunks, so that pruning saves time and memory.

The CSR arrays shrink; delay groups left empty are dropped; queued deliveries that point at a
dropped or renumbered group are moved to the node's next surviving group (or discarded); the
plasticity post index is rebuilt and group traces are carried over.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from . import engine as eng, heap, plasticity
from .graph import Graph


@nb.njit(cache=True)
def _remap_deliveries(qt, qc, qa, q0, qs, old_to_new, next_kept, new_delay, new_ptr, n_neurons, rec_flag):
    """Point queued DELIVERY entries at surviving groups; drop entries with none left.

    An entry for old group g now targets next_kept[g] (g itself if kept, else the node's next
    kept group): its time becomes t0 + delay of that group. A source that is not recorded is
    queued at its spike time t0 plus its first group's delay (engine._push_source): that group
    may have been dropped, so its time is recomputed from the new first group. Then the heap
    is rebuilt."""
    n = qs[0]
    m = 0
    for i in range(n):
        code = qc[i]
        kind = code >> heap.ID_BITS
        if kind == eng.DELIVERY:
            g = next_kept[qa[i]]
            if g < 0:
                continue
            qa[i] = old_to_new[g]
            qt[i] = q0[i] + new_delay[old_to_new[g]]
        elif kind == eng.SOURCE:
            node = n_neurons + (code & eng.ID_MASK)
            if rec_flag[node] == 0:
                first = new_ptr[node]
                qt[i] = q0[i] + new_delay[first] if first < new_ptr[node + 1] else q0[i]
        qt[m] = qt[i]
        qc[m] = qc[i]
        qa[m] = qa[i]
        q0[m] = q0[i]
        m += 1
    qs[0] = 0
    for i in range(m):                      # re-heapify by pushing in place
        heap.push(qt, qc, qa, q0, qs, qt[i], qc[i], qa[i], q0[i])


def compact(net, keep: np.ndarray) -> int:
    """Keep only synapses where keep[k] (CSR order) is True; returns how many were removed."""
    e = net._engine
    g: Graph = net.graph
    keep = np.asarray(keep, dtype=bool)
    removed = int(g.n_synapses - keep.sum())
    if removed == 0:
        return 0
    sizes_old = np.diff(g.grp_start)
    grp_of_syn = np.repeat(np.arange(sizes_old.size), sizes_old)
    sizes_new = np.bincount(grp_of_syn[keep], minlength=sizes_old.size)
    kept_groups = sizes_new > 0
    old_to_new = np.cumsum(kept_groups) - 1
    # next kept group of the same node, for each old group (-1 if none)
    node_of_group = np.repeat(np.arange(g.n_nodes), np.diff(g.grp_ptr))
    next_kept = np.full(sizes_old.size, -1, np.int64)
    nxt = -1
    for gi in range(sizes_old.size - 1, -1, -1):
        if gi + 1 < sizes_old.size and node_of_group[gi + 1] != node_of_group[gi]:
            nxt = -1
        if kept_groups[gi]:
            nxt = gi
        next_kept[gi] = nxt
    new_start = np.concatenate(([0], np.cumsum(sizes_new[kept_groups]))).astype(np.int64)
    new_ptr = np.concatenate(([0], np.cumsum(np.bincount(node_of_group[kept_groups], minlength=g.n_nodes))))
    new = Graph(g.n_nodes, new_ptr.astype(np.int64), new_start, g.grp_delay[kept_groups].copy(),
                g.post[keep].copy(), g.weight[keep].copy(), g.grp_proj[kept_groups].copy())
    qt, qc, qa, q0, qs = e.queue
    _remap_deliveries(qt, qc, qa, q0, qs, old_to_new.astype(np.int64), next_kept, new.grp_delay, new.grp_ptr,
                      e.n_neurons, e.rec_flag)
    # plasticity: carry group rules and traces, rebuild the post index
    pl = e.plast
    grp_rule = pl[0][kept_groups].copy()
    if pl[2].shape[0]:
        gx = pl[2][kept_groups].copy()
        sizes = np.diff(new.grp_start)
        syn_group = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
        plastic = np.flatnonzero(grp_rule[syn_group] >= 0)
        targets = new.post[plastic]
        order = np.argsort(targets, kind="stable")
        psyn = plasticity.index_array(plastic[order], new.post.size)
        pptr = np.concatenate(([0], np.cumsum(np.bincount(targets, minlength=e.n_neurons)))).astype(np.int64)
        e.plast = (grp_rule, pl[1], gx, pl[3], pl[4], pptr, psyn, new.grp_start)
    else:
        e.plast = plasticity.empty(e.n_neurons, int(kept_groups.sum()))
    net.graph = new
    e.graph = (new.grp_ptr, new.grp_start, new.grp_delay, new.post, new.weight)
    e.max_group = new.max_group_size
    return removed
