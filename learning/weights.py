"""One projection's synapses in the engine's CSR, for work between runs (normalisation,
pruning, direct weight access). Never used inside the event loop. Also `projection_of`, the
projection argument check shared by the learning modules."""
from __future__ import annotations

import numpy as np

from eventsim import checks
from eventsim.errors import EventsimError
from eventsim.network import Network, Projection


def projection_of(net, proj) -> Projection:
    """The projection `proj` of network `net`, given as the Projection or by its name."""
    if not isinstance(net, Network):
        raise EventsimError(f"net must be an eventsim Network, got {type(net).__name__}")
    if isinstance(proj, str):
        names = [pr.name for pr in net.projections]
        checks.known_key("projection", proj, names)
        return net.projections[names.index(proj)]
    if not isinstance(proj, Projection):
        raise EventsimError(f"projection must be a Projection of this network or its name, got {proj!r}")
    if proj.net is not net:
        raise EventsimError(f"projection '{proj.name}' belongs to another network")
    return proj


def synapses_of(net, proj) -> np.ndarray:
    """CSR positions of a projection's synapses (the Projection or its name; builds the
    network if needed)."""
    proj = projection_of(net, proj)
    net._ensure_built()
    g = net.graph
    groups = np.repeat(g.grp_proj, np.diff(g.grp_start))
    return np.flatnonzero(groups == proj.index)


class ProjectionWeights:
    """Read/write access to one projection's weights (mV) in the engine's CSR, between runs.

    The synapse selection is cached and recomputed when the graph object is replaced (pruning
    and compaction replace `net.graph`)."""

    def __init__(self, net, proj):
        self.net = net
        self.proj = projection_of(net, proj)
        self._graph = None

    def selection(self):
        """(graph, CSR positions, local post ids) of the projection's synapses."""
        net = self.net
        net._ensure_built()
        g = net.graph
        if self._graph is not g:
            self.syn = synapses_of(net, self.proj)
            self.post = g.post[self.syn].astype(np.int64) - self.proj.post.offset
            self._graph = g
        return g, self.syn, self.post

    def get(self) -> np.ndarray:
        """Weights in CSR order (float32 copy)."""
        g, syn, _ = self.selection()
        return g.weight[syn].copy()

    def set(self, w) -> None:
        """Set all weights (scalar or an array in CSR order, as returned by get())."""
        g, syn, _ = self.selection()
        w = np.broadcast_to(np.asarray(w, np.float32), syn.shape)
        checks.non_negative(f"{self.proj.name} weights", w)
        g.weight[syn] = w

    def matrix(self) -> np.ndarray:
        """Dense [n_pre, n_post] weight matrix (mV); 0 where there is no synapse."""
        pre, post, w = self.proj.weights()
        out = np.zeros((self.proj.pre.size, self.proj.post.size))
        out[pre, post] = w
        return out
