"""networkx adapters. networkx is an exchange format only (an edge costs ~360 bytes there);
inside the simulator synapses live in the CSR graph."""
from __future__ import annotations

import networkx as nx
import numpy as np

from .errors import EventsimError


def edges_from_networkx(graph, weight: str, delay: str, default_weight: float,
                        default_delay: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pre, post, weight, delay) arrays from a DiGraph whose nodes are integer local indices."""
    if not isinstance(graph, nx.DiGraph):
        raise EventsimError(f"expected a networkx DiGraph, got {type(graph).__name__}")
    rows = list(graph.edges(data=True))
    pre = np.array([u for u, _, _ in rows])
    post = np.array([v for _, v, _ in rows])
    if rows and not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
        raise EventsimError("networkx graph nodes must be integer local indices (0..size-1)")
    w = np.array([attrs.get(weight, default_weight) for _, _, attrs in rows], dtype=np.float64)
    d = np.array([attrs.get(delay, default_delay) for _, _, attrs in rows], dtype=np.float64)
    return pre.astype(np.int64), post.astype(np.int64), w, d


def network_to_networkx(net) -> nx.MultiDiGraph:
    """All synapses of a network; nodes are (population name, local id) with a `population`
    attribute; edges carry `weight` (mV) and `delay` (ms). After a run, the assembled graph is
    exported (so pruned synapses are absent)."""
    g = nx.MultiDiGraph()
    for pop in net.populations.values():
        g.add_nodes_from(((pop.name, i) for i in range(pop.size)), population=pop.name, kind=pop.kind)
    if net._engine is None:
        for pr in net.projections:
            g.add_edges_from(((pr.pre.name, int(a)), (pr.post.name, int(b)), {"weight": float(w), "delay": float(d)})
                             for a, b, w, d in zip(pr.pre_local, pr.post_local, pr.weight, pr.delay))
        return g
    by_offset = sorted(net.populations.values(), key=lambda p: p.offset)
    offsets = np.array([p.offset for p in by_offset])
    pre, post, w, d = net.graph.edges()

    def label(node_ids):
        k = np.searchsorted(offsets, node_ids, side="right") - 1
        return [(by_offset[i].name, int(n - offsets[i])) for i, n in zip(k, node_ids)]

    g.add_edges_from((a, b, {"weight": float(x), "delay": float(y)})
                     for a, b, x, y in zip(label(pre), label(post), w, d))
    return g
