"""networkx adapters. networkx is an exchange format only (an edge costs ~360 bytes there);
inside the simulator synapses live in the CSR graph."""
from __future__ import annotations

import networkx as nx
import numpy as np

from . import checks
from .errors import EventsimError


def edges_from_networkx(graph, weight: str, delay: str, default_weight: float,
                        default_delay: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pre, post, weight mV, delay ms) arrays from a DiGraph whose nodes are integer local indices.

    Every edge's weight must be a finite number and its delay a number > 0 (ms); an error names
    the edge. A graph without edges gives empty pre and post, and the defaults as 0-d weight and
    delay arrays (connect() would read empty value arrays as 0): it connects nothing."""
    if not isinstance(graph, nx.DiGraph):
        raise EventsimError(f"expected a networkx DiGraph, got {type(graph).__name__}")
    rows = list(graph.edges(data=True))
    if not rows:
        none = np.zeros(0, np.int64)
        return (none, none, np.asarray(float(checks.finite("default_weight (mV)", default_weight))),
                np.asarray(float(checks.positive("default_delay (ms)", default_delay))))
    pre = np.array([u for u, _, _ in rows])
    post = np.array([v for _, v, _ in rows])
    if not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
        raise EventsimError("networkx graph nodes must be integer local indices (0..size-1)")
    w = np.array([_edge_value(u, v, attrs, weight, default_weight, "mV", checks.finite)
                  for u, v, attrs in rows], dtype=np.float64)
    d = np.array([_edge_value(u, v, attrs, delay, default_delay, "ms", checks.positive)
                  for u, v, attrs in rows], dtype=np.float64)
    return pre.astype(np.int64), post.astype(np.int64), w, d


def _edge_value(u, v, attrs: dict, key: str, default, unit: str, check) -> float:
    """Edge attribute `key` (or the default) as one number passing `check`, else an
    EventsimError naming the edge and the attribute."""
    return checks.number(f"networkx edge ({u}, {v}) attribute '{key}' ({unit})", attrs.get(key, default), check)


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
