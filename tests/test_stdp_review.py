"""The plasticity review of 2026-11-24 (cross-checked against Brian2): pruning with queued
source spikes, pruning and quantising inhibitory or degenerate weights, rule changes."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import eventsim as es
from eventsim.learning import PowerLawSTDP, additive
from eventsim.learning.pruning import prune_below, prune_fraction, quantize_per_neuron
from eventsim.models import LIFDelta


@pytest.mark.parametrize("record_source", [False, True])
def test_pruning_the_first_delay_group_keeps_a_queued_source_spike_on_time(record_source):
    """An unrecorded source's next spike is queued at t + its first group's delay; after that
    group was pruned the spike reached the 3 ms synapse 2.5 ms early (20.5 instead of 23 ms)."""
    net = es.Network(seed=1)
    src = net.spike_source(1, [5.0, 20.0], [0, 0], name="src", record=record_source)
    cells = net.population(2, LIFDelta(t_ref=0.5), name="post")
    proj = net.connect(src, cells, es.explicit([0, 0], [0, 1]), weight=np.array([0.001, 1000.0]),
                       delay=np.array([0.5, 3.0]))
    net.run(10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert prune_below(net, proj, 0.01, relative=False) == 1
    net.run(30.0)
    t, ids = cells.spikes()
    np.testing.assert_array_equal(t[ids == 1], [8.0, 23.0])


def _inhibitory(weights):
    net = es.Network(seed=1)
    inp = net.population(len(weights), LIFDelta())
    post = net.population(1, LIFDelta())
    proj = net.connect(inp, post, es.all_to_all(), weight=np.array(weights), delay=1.0)
    return net, proj


def test_pruning_an_inhibitory_projection_removes_the_weakest_by_magnitude():
    """Signed ranking kept [-0.1, -0.2] of [-0.1, -0.2, -5, -8] and prune_below removed all four."""
    net, proj = _inhibitory([-0.1, -0.2, -5.0, -8.0])
    prune_fraction(net, proj, 0.5)
    np.testing.assert_allclose(np.sort(proj.weight), [-8.0, -5.0])
    net, proj = _inhibitory([-0.1, -0.2, -5.0, -8.0])
    prune_below(net, proj, 0.5)                     # relative: below 0.5 x 8 mV in magnitude
    np.testing.assert_allclose(np.sort(proj.weight), [-8.0, -5.0])
    with pytest.raises(es.EventsimError, match="prune relative must be True or False"):
        prune_below(net, proj, 0.5, relative="no")


def test_lloyd_uses_every_level_while_a_weight_is_off_its_level():
    """[0, 0, 0, 0.1, 1] with 3 levels ended with an empty level, codebook [0.025, 0.5, 1]."""
    net = es.Network(seed=1)
    inp = net.population(5, LIFDelta())
    post = net.population(1, LIFDelta())
    proj = net.connect(inp, post, es.all_to_all(), weight=np.array([0.0, 0.0, 0.0, 0.1, 1.0]), delay=1.0)
    books = quantize_per_neuron(net, proj, 3, method="lloyd")
    assert books.shape == (1, 3)
    np.testing.assert_allclose(books[0], [0.0, 0.1, 1.0], atol=1e-7)
    np.testing.assert_allclose(np.sort(proj.weight), [0.0, 0.0, 0.0, 0.1, 1.0], atol=1e-7)


def test_set_plasticity_keeps_the_weight_dependence():
    net = es.Network(seed=1)
    a = net.population(3, LIFDelta())
    proj = net.connect(a, a, es.all_to_all(), weight=0.5, delay=1.0, plasticity=additive(w_max=1.0))
    from eventsim.learning import PairSTDP
    with pytest.raises(es.EventsimError, match="mu_plus differs"):
        proj.set_plasticity(PairSTDP(w_max=1.0, mu_plus=1.0, mu_minus=1.0))
    proj.set_plasticity(additive(w_max=1.0, lambda_=0.02))          # a rate: fine


@pytest.mark.parametrize("w_scale", [-2.0, 0.0, float("nan")])
def test_power_law_scaled_names_w_scale(w_scale):
    with pytest.raises(es.EventsimError, match="w_scale"):
        PowerLawSTDP.scaled(w_scale, 1.0, 20.0, 20.0, 0.01, 1e-4, 0.4, 0.2)
