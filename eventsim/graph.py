"""The synapse graph: CSR by presynaptic node, rows split into delay groups.

Synapses are sorted by (pre, delay, projection, post). A delay group is a run of synapses of
one presynaptic node and one projection that share a delay; it is one contiguous segment,
walked when its queue entry pops. Per synapse the graph stores only the target (int32) and the
weight (float32): 8 bytes. Per group it stores the start offset (int64), the delay (float64) and
the projection (int32), which selects the plasticity rule.

    groups of node s:       grp_ptr[s] .. grp_ptr[s + 1]
    synapses of group g:    grp_start[g] .. grp_start[g + 1]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Graph:
    n_nodes: int                 # presynaptic nodes: neurons then sources
    grp_ptr: np.ndarray          # int64[n_nodes + 1]
    grp_start: np.ndarray        # int64[n_groups + 1]
    grp_delay: np.ndarray        # float64[n_groups], ms
    post: np.ndarray             # int32[n_syn]
    weight: np.ndarray           # float32[n_syn], mV
    grp_proj: np.ndarray         # int32[n_groups], index of the projection

    @property
    def n_synapses(self) -> int:
        return int(self.post.size)

    @property
    def max_group_size(self) -> int:
        if self.grp_start.size <= 1:
            return 0
        return int(np.diff(self.grp_start).max())

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.grp_ptr, self.grp_start, self.grp_delay, self.post, self.weight,
                                      self.grp_proj))

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All synapses as (pre, post, weight, delay) arrays, in CSR order."""
        group_size = np.diff(self.grp_start)
        group_pre = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.grp_ptr))
        pre = np.repeat(group_pre, group_size)
        delay = np.repeat(self.grp_delay, group_size)
        return pre, self.post.astype(np.int64), self.weight.astype(np.float64), delay


def build(n_nodes: int, pre: np.ndarray, post: np.ndarray, weight: np.ndarray,
          delay: np.ndarray, proj: np.ndarray | None = None) -> Graph:
    """CSR with delay groups from edge arrays (global node ids for pre, neuron ids for post,
    projection index per synapse)."""
    proj = np.zeros(pre.size, np.int32) if proj is None else proj
    order = np.lexsort((post, proj, delay, pre))
    pre = pre[order]
    delay = delay[order]
    proj = proj[order]
    n = pre.size
    new_group = np.ones(n, dtype=bool)
    if n > 1:
        new_group[1:] = (pre[1:] != pre[:-1]) | (delay[1:] != delay[:-1]) | (proj[1:] != proj[:-1])
    starts = np.flatnonzero(new_group)
    grp_start = np.append(starts, n).astype(np.int64)
    grp_delay = delay[starts].astype(np.float64)
    grp_ptr = np.searchsorted(pre[starts], np.arange(n_nodes + 1), side="left").astype(np.int64)
    return Graph(n_nodes, grp_ptr, grp_start, grp_delay,
                 post[order].astype(np.int32), weight[order].astype(np.float32),
                 proj[starts].astype(np.int32))
