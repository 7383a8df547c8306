"""Connectors, distributions and networkx adapters."""
import networkx as nx
import numpy as np
import pytest

import eventsim as es
from eventsim.models import LIFDelta


def net_with(connector, n_pre=300, n_post=200, same=False, weight=1.0, delay=1.0, seed=3):
    net = es.Network(seed=seed)
    post = net.population(n_post, LIFDelta(), name="post")
    pre = post if same else net.population(n_pre, LIFDelta(), name="pre")
    proj = net.connect(pre, post, connector, weight=weight, delay=delay)
    return net, proj


def test_pairwise_bernoulli_count_and_independence_of_seed():
    _, proj = net_with(es.pairwise_bernoulli(0.1))
    n = 300 * 200
    assert abs(proj.n_synapses - 0.1 * n) < 5 * np.sqrt(n * 0.1 * 0.9)
    _, again = net_with(es.pairwise_bernoulli(0.1))
    np.testing.assert_array_equal(proj.pre_local, again.pre_local)
    _, other = net_with(es.pairwise_bernoulli(0.1), seed=4)
    assert not np.array_equal(proj.pre_local[:50], other.pre_local[:50])
    assert net_with(es.pairwise_bernoulli(0.0))[1].n_synapses == 0
    assert net_with(es.pairwise_bernoulli(1.0))[1].n_synapses == n


def test_autapses_excluded_when_asked():
    _, proj = net_with(es.pairwise_bernoulli(1.0, allow_autapses=False), n_post=50, same=True)
    assert proj.n_synapses == 50 * 49
    assert not np.any(proj.pre_local == proj.post_local)


def test_fixed_indegree_and_outdegree():
    _, proj = net_with(es.fixed_indegree(17, allow_multapses=False))
    assert np.all(np.bincount(proj.post_local, minlength=200) == 17)
    pairs = set(zip(proj.pre_local.tolist(), proj.post_local.tolist()))
    assert len(pairs) == proj.n_synapses
    _, proj = net_with(es.fixed_outdegree(9))
    assert np.all(np.bincount(proj.pre_local, minlength=300) == 9)


def test_all_to_all_and_one_to_one():
    assert net_with(es.all_to_all(), 7, 5)[1].n_synapses == 35
    _, proj = net_with(es.one_to_one(), 6, 6)
    np.testing.assert_array_equal(proj.pre_local, proj.post_local)
    with pytest.raises(es.EventsimError, match="one_to_one needs equal sizes"):
        net_with(es.one_to_one(), 5, 6)


def test_weight_and_delay_distributions():
    _, proj = net_with(es.fixed_indegree(50), weight=es.uniform(0.5, 1.5),
                       delay=es.normal_clipped(2.0, 1.0, 0.5, 3.0))
    assert proj.weight.min() >= 0.5 and proj.weight.max() < 1.5
    assert abs(proj.weight.mean() - 1.0) < 0.02
    assert proj.delay.min() >= 0.5 and proj.delay.max() <= 3.0
    assert np.unique(proj.delay).size > 1000


def test_views_restrict_sources_and_targets():
    net = es.Network(seed=0)
    cells = net.population(100, LIFDelta(), name="cells")
    proj = net.connect(cells[:80], cells[90:], es.all_to_all())
    assert proj.pre_local.max() == 79 and proj.post_local.min() == 90


def test_networkx_round_trip():
    g = nx.DiGraph()
    g.add_edge(0, 1, weight=2.5, delay=1.5)
    g.add_edge(1, 2, weight=-1.0, delay=0.5)
    g.add_edge(2, 0)
    net = es.Network(seed=0)
    cells = net.population(3, LIFDelta(), name="cells")
    net.connect_networkx(g, cells, cells, default_weight=0.75, default_delay=2.0)
    net.build()
    out = net.to_networkx()
    edges = sorted((u[1], v[1], d["weight"], d["delay"]) for u, v, d in out.edges(data=True))
    assert edges == [(0, 1, 2.5, 1.5), (1, 2, -1.0, 0.5), (2, 0, 0.75, 2.0)]
    assert out.nodes[("cells", 0)]["population"] == "cells"


def test_graph_is_eight_bytes_per_synapse_plus_groups():
    net, proj = net_with(es.fixed_indegree(100), delay=1.0)
    net.build()
    g = net.graph
    assert g.post.dtype == np.int32 and g.weight.dtype == np.float32
    n_groups = g.grp_delay.size
    # 8 bytes per synapse; per group: start (8), delay (8), projection (4); per node: group pointer (8)
    assert g.nbytes() == 8 * g.n_synapses + 20 * n_groups + 8 + 8 * (g.n_nodes + 1)
    assert n_groups == 300            # one delay group per presynaptic neuron


def test_delay_groups_stay_in_delay_order_across_projections():
    """A node with per-synapse delays in one projection and a constant delay in another: its
    groups must come in delay order, or later groups would be delivered in the past."""
    net = es.Network(seed=0)
    a = net.spike_source(1, times=[10.0], ids=[0])
    b = net.spike_source(1, times=[10.3], ids=[0])
    cells = net.population(3, LIFDelta(tau_m=1e6, v_rest=-70.0, v_reset=-70.0, v_th=-50.0), v_init=-70.0)
    net.connect(a, cells[:2], es.all_to_all(), weight=15.0, delay=np.array([0.5, 0.7]))
    net.connect(a, cells[2:], es.all_to_all(), weight=30.0, delay=1.0)
    net.connect(b, cells[:1], es.all_to_all(), weight=15.0, delay=0.5)
    net.run(50.0)
    t, i = cells.spikes()
    np.testing.assert_array_equal(i, [0, 2])
    np.testing.assert_allclose(t, [10.8, 11.0])
    g = net.graph
    for node in range(g.n_nodes):
        d = g.grp_delay[g.grp_ptr[node]:g.grp_ptr[node + 1]]
        assert np.all(np.diff(d) >= 0)


def _mixed_graph():
    net = es.Network(seed=5)
    a = net.population(700, LIFDelta(), name="a")
    b = net.population(400, LIFDelta(), name="b")
    net.connect(a, b, es.fixed_indegree(60), weight=es.uniform(0.0, 1.0), delay=es.uniform(0.5, 3.0))
    net.connect(b[::-3], a, es.pairwise_bernoulli(0.1), weight=-1.0, delay=1.0)   # non-contiguous pre view
    net.connect(a[50:450], a, es.fixed_outdegree(20, allow_autapses=False), weight=0.5, delay=2.0)
    net.connect(a[:30], b[:30], es.one_to_one(), weight=0.3, delay=1.5)
    rng = np.random.default_rng(1)
    net.connect(b, b, es.explicit(rng.integers(0, 400, 5000), rng.integers(0, 400, 5000)), weight=0.2,
                delay=es.uniform(1.0, 2.0))
    net.build()
    g = net.graph
    return [g.grp_ptr, g.grp_start, g.grp_delay, g.post, g.weight, g.grp_proj]


def test_builder_staging_does_not_change_the_graph(monkeypatch):
    """Synapses reach their rows through staging buffers flushed band by band. One flush over one
    band is direct placement in generation order (the builder before staging); the graph must be
    the same with the default buffers and with buffers that fill every 97 synapses over 5 bands."""
    monkeypatch.setattr(es.builder, "STAGE", 1 << 30)
    monkeypatch.setattr(es.builder, "STAGE_PER_ROW", 1 << 30)
    monkeypatch.setattr(es.builder, "ROW_BANDS", 1)
    direct = _mixed_graph()
    assert direct[3].size > 40_000                # hundreds of flushes per pass below
    monkeypatch.undo()
    for x, y in zip(direct, _mixed_graph()):
        np.testing.assert_array_equal(x, y)
    monkeypatch.setattr(es.builder, "STAGE", 97)
    monkeypatch.setattr(es.builder, "ROW_BANDS", 5)
    for x, y in zip(direct, _mixed_graph()):
        np.testing.assert_array_equal(x, y)


def test_projection_synapses_come_from_its_own_groups():
    """Projection.weight/pre_local/... read only the projection's delay groups (not the whole edge
    list, which is tens of GB at 1e9 synapses) and equal the projection's slice of that list."""
    from eventsim.models import LIFExp
    net = es.Network(seed=2)
    a = net.population(300, LIFExp(v_rest=-49.0, v_th=-50.0, v_reset=-60.0, tau_m=20.0, tau_syn_e=5.0,
                                   tau_syn_i=10.0))
    s = net.poisson(50, 10.0)
    projs = [net.connect(a[:200], a, es.pairwise_bernoulli(0.1), weight=1.0, delay=es.uniform(0.5, 3.0)),
             net.connect(a[200:], a[::2], es.pairwise_bernoulli(0.2), weight=-2.0, delay=1.0),
             net.connect(s, a, es.fixed_indegree(5), weight=es.uniform(0.0, 1.0), delay=es.uniform(1.0, 2.0))]
    net.run(10.0)
    g = net.graph
    pre, post, w, d = g.edges()
    of_syn = np.repeat(g.grp_proj, np.diff(g.grp_start))
    for p in projs:
        sel = of_syn == p.index
        want = (pre[sel] - p.pre.offset, post[sel] - p.post.offset, w[sel], d[sel])
        got = (p.pre_local, p.post_local, p.weight, p.delay)
        assert got[0].size == p.n_synapses > 0
        for x, y in zip(want, got):
            np.testing.assert_array_equal(x, y)


def test_all_to_all_takes_a_pre_by_post_weight_matrix_and_other_shapes_are_refused():
    """A [n_pre, n_post] matrix was flattened in row order and applied post-major: synapse
    (0 -> 1) got W[1, 1]. all_to_all now takes the matrix as W[pre, post]; other multi-dimensional
    arrays are refused."""
    net = es.Network(seed=1)
    a, b = net.population(2, LIFDelta()), net.population(3, LIFDelta())
    W = np.array([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]])
    p = net.connect(a, b, es.all_to_all(), weight=W, delay=W / 10.0)
    net.build()
    assert np.array_equal(p.weight, W[p.pre_local, p.post_local])
    assert np.allclose(p.delay, W[p.pre_local, p.post_local] / 10.0)
    net2 = es.Network(seed=1)
    x = net2.population(4, LIFDelta())
    with pytest.raises(es.EventsimError, match=r"weight: per-synapse values must be a 1-D array"):
        net2.connect(x, x, es.all_to_all(), weight=np.ones((2, 8)))
    with pytest.raises(es.EventsimError, match=r"delay: per-synapse values"):
        net2.connect(x, x, es.one_to_one(), delay=np.ones((4, 1)))
