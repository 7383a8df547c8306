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

    def edges(self, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Synapses as (pre, post, weight mV, delay ms) arrays in CSR order: all of them, or
        those of the given delay groups (ascending group indices) without touching the rest."""
        group_size = np.diff(self.grp_start)
        group_pre = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.grp_ptr))
        if groups is None:
            return (np.repeat(group_pre, group_size), self.post.astype(np.int64),
                    self.weight.astype(np.float64), np.repeat(self.grp_delay, group_size))
        size = group_size[groups]
        first = np.cumsum(size) - size                   # position of each group's first synapse in the output
        idx = np.arange(int(size.sum()), dtype=np.int64) + np.repeat(self.grp_start[groups] - first, size)
        return (np.repeat(group_pre[groups], size), self.post[idx].astype(np.int64),
                self.weight[idx].astype(np.float64), np.repeat(self.grp_delay[groups], size))
