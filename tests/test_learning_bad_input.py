"""Bad input to the learning code (STDP rules, pruning, quantisation, normalisation) gives a clear
EventsimError naming the field, never a raw numpy/Python error or a silently wrong result."""
import numpy as np
import pytest

import eventsim as es
from eventsim.learning import PowerLawSTDP, TripletSTDP, additive, multiplicative, nearest_spike
from eventsim.learning.homeostasis import WeightNormalizer, normalize_incoming
from eventsim.learning.pruning import PruneSchedule, prune_below, prune_fraction, quantize
from eventsim.models import LIFDelta


def small(rule=None, weight=0.5, seed=0):
    """2 neurons driven all-to-all by 4 Poisson sources (one projection)."""
    net = es.Network(seed=seed)
    cells = net.population(2, LIFDelta(), name="cells")
    src = net.poisson(4, 10.0, name="src")
    proj = net.connect(src, cells, es.all_to_all(), weight=weight, name="inp", plasticity=rule)
    return net, cells, src, proj


def test_mixed_trace_modes_onto_the_same_neurons_are_refused():
    net, cells, src, _ = small(additive(tau_minus=20.0))
    net.connect(src, cells, es.all_to_all(), weight=0.5, plasticity=nearest_spike(tau_minus=20.0), name="near")
    with pytest.raises(es.EventsimError, match=r"share tau_minus, tau_y and nearest.*projections 'inp' and 'near' "
                                               r"differ in nearest"):
        net.build()
    net, cells, src, _ = small(additive(tau_minus=20.0))  # onto other neurons: allowed
    others = net.population(2, LIFDelta())
    net.connect(src, others, es.all_to_all(), weight=0.5, plasticity=nearest_spike(tau_minus=20.0))
    net.build()


def test_quantize_keeps_within_the_rules_bounds_and_the_weights_sign():
    net, _, _, proj = small(additive(w_max=5.0), weight=es.uniform(0.0, 4.0))
    before = proj.weights()[2].copy()
    rule_bounds = r"w_min of inp \(within the rule's \[w_min, w_max\]\) must lie in \[0, 5\]"
    with pytest.raises(es.EventsimError, match=rule_bounds):
        quantize(net, proj, 4, w_min=-6.0, w_max=6.0)
    with pytest.raises(es.EventsimError, match=r"w_max of inp .* must lie in \[0, 5\]"):
        quantize(net, proj, 4, w_min=0.0, w_max=12.0)
    assert np.array_equal(proj.weights()[2], before)
    assert np.array_equal(quantize(net, proj, 3, w_min=1.0, w_max=5.0), [1.0, 3.0, 5.0])
    net, _, _, static = small(weight=es.uniform(0.0, 4.0))
    with pytest.raises(es.EventsimError, match=r"w_min of inp \(within the sign of its weights\)"):
        quantize(net, static, 4, w_min=-1.0, w_max=4.0)


def test_pruning_refuses_another_networks_projection_and_accepts_a_name():
    net_a, _, _, proj_a = small(additive(), seed=1)
    net_b, _, _, proj_b = small(additive(), seed=2)
    n_before = proj_a.weights()[2].size
    with pytest.raises(es.EventsimError, match="'inp' belongs to another network"):
        prune_fraction(net_a, proj_b, 0.5)
    assert proj_a.weights()[2].size == n_before
    assert prune_fraction(net_a, "inp", 0.5) == n_before // 2
    with pytest.raises(es.ConfigError, match="unknown projection 'inpt'; did you mean 'inp'"):
        prune_fraction(net_a, "inpt", 0.5)
    with pytest.raises(es.EventsimError, match="projection must be a Projection"):
        quantize(net_a, 3, 4)


@pytest.mark.parametrize("make, match", [
    (lambda: additive(tau_plus=np.array([1.0, 2.0])), r"PairSTDP.tau_plus must be a single number"),
    (lambda: additive(nearest="yes"), r"PairSTDP.nearest must be True or False"),
    (lambda: multiplicative(mu_plus=2), r"multiplicative\(\) fixes mu_plus=1.0, mu_minus=1.0"),
    (lambda: additive(lamda=0.1), r"unknown additive\(\) parameter 'lamda'; did you mean 'lambda_'"),
    (lambda: TripletSTDP(tau_x="5"), r"TripletSTDP.tau_x must be a single number"),
    (lambda: PowerLawSTDP(x_tar=np.nan), r"PowerLawSTDP.x_tar must be finite"),
])
def test_rule_constructors_name_the_bad_field(make, match):
    with pytest.raises(es.EventsimError, match=match):
        make()


def test_presets_accept_their_own_fixed_value():
    assert nearest_spike(nearest=True) == nearest_spike()
    assert additive(mu_plus=0.0) == additive()


def test_a_rule_class_instead_of_an_instance_is_refused():
    net = es.Network(seed=0)
    a = net.population(2, LIFDelta())
    with pytest.raises(es.EventsimError, match=r"rule instance such as TripletSTDP\(...\), not the class"):
        net.connect(a, a, es.all_to_all(), weight=0.5, plasticity=TripletSTDP)


def test_pruning_arguments_must_be_numbers():
    net, _, _, proj = small(additive())
    with pytest.raises(es.EventsimError, match="prune fraction must be a single number, got '0.5'"):
        prune_fraction(net, proj, "0.5")
    with pytest.raises(es.EventsimError, match="prune threshold must be a single number"):
        prune_below(net, proj, "0.5")
    with pytest.raises(es.EventsimError, match="prune fraction must be a single number"):
        PruneSchedule("0.2")
    for bad in ("x", -5):
        with pytest.raises(es.EventsimError, match=r"samples \(training samples seen\) must be a whole number >= 0"):
            PruneSchedule(0.2).apply(net, proj, bad)


def test_normalisation_checks_the_target_length_and_refuses_inhibitory_weights():
    net, cells, _, proj = small(additive())
    with pytest.raises(es.EventsimError, match=r"target must be one number or 2 numbers .*shape \(7,\)"):
        WeightNormalizer(net, proj, np.ones(7))
    inh = net.connect(cells, cells, es.all_to_all(), weight=-1.0, name="inh")
    with pytest.raises(es.EventsimError, match="cannot normalise inh: it has negative"):
        normalize_incoming(net, inh, 5.0)
    assert np.allclose(normalize_incoming(net, "inp", 4.0), 2.0)    # 4 inputs of 0.5 mV -> sum 4
