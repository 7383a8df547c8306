"""STDP: each rule's window (dw against t_post - t_pre_arrival) equals its formula."""
import numpy as np
import pytest

import eventsim as es
from eventsim.learning import PowerLawSTDP, TripletSTDP, additive, multiplicative, nearest_spike
from eventsim.models import LIFDelta

DTS = np.array([-100.0, -60.0, -30.0, -10.0, -3.0, -0.5, 0.5, 3.0, 10.0, 30.0, 60.0, 100.0])


def window(rule, w0=0.5, delay=1.5):
    """One pre spike and one forced post spike per neuron; returns dw per interval in DTS."""
    n = DTS.size
    t_post = 200.0
    t_arr = t_post - DTS
    net = es.Network(seed=0)
    cells = net.population(n, LIFDelta(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0),
                           v_init=-70.0)
    pre = net.spike_source(n, times=t_arr - delay, ids=np.arange(n))
    force = net.spike_source(n, times=np.full(n, t_post - 1.0), ids=np.arange(n))
    net.connect(force, cells, es.one_to_one(), weight=100.0, delay=1.0)
    proj = net.connect(pre, cells, es.one_to_one(), weight=w0, delay=delay, plasticity=rule)
    net.run(400.0)
    t, i = cells.spikes()
    assert np.array_equal(np.sort(i), np.arange(n)) and np.allclose(t, t_post)   # exactly one forced spike
    _, post, w = proj.weights()
    return w[np.argsort(post)] - w0


def test_additive_pair_window_matches_formula():
    rule = additive(tau_plus=20.0, tau_minus=30.0, lambda_=0.02, alpha=1.1, w_max=1.0)
    dw = window(rule)
    expected = np.where(DTS > 0, 0.02 * np.exp(-DTS / 20.0), -1.1 * 0.02 * np.exp(DTS / 30.0))
    np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-7)   # weights are float32: one ulp at 0.5 is 6e-8


def test_multiplicative_pair_window_matches_formula():
    rule = multiplicative(tau_plus=20.0, tau_minus=20.0, lambda_=0.05, alpha=1.0, w_max=2.0)
    dw = window(rule, w0=0.5)
    w_hat = 0.25
    expected = np.where(DTS > 0, 2.0 * 0.05 * (1 - w_hat) * np.exp(-DTS / 20.0),
                        -2.0 * 0.05 * w_hat * np.exp(DTS / 20.0))
    np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-7)


def test_nearest_spike_equals_pair_for_single_pairs():
    a = window(nearest_spike(lambda_=0.02))
    b = window(additive(lambda_=0.02))
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_triplet_window_for_single_pairs():
    rule = TripletSTDP(a2_plus=0.01, a3_plus=0.02, a2_minus=0.012, a3_minus=0.01, w_max=1.0)
    dw = window(rule)
    expected = np.where(DTS > 0, 0.01 * np.exp(-DTS / 16.8), -0.012 * np.exp(DTS / 33.7))
    np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-7)


def test_power_law_window_matches_formula():
    rule = PowerLawSTDP(tau_plus=20.0, tau_minus=20.0, eta_post=0.01, eta_pre=0.002, x_tar=0.2, mu=0.5,
                        w_max=1.0)
    dw = window(rule, w0=0.5)
    # the rule acts at every post spike: before the pre spike has arrived, x_pre = 0
    expected = np.where(DTS > 0, 0.01 * (np.exp(-DTS / 20.0) - 0.2) * 0.5 ** 0.5,
                        0.01 * (0.0 - 0.2) * 0.5 ** 0.5 - 0.002 * np.exp(DTS / 20.0))
    np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-7)


def test_triplet_term_adds_potentiation_for_post_pre_post():
    """A second post spike after a pre-post pair gets the extra a3_plus * o2 term."""
    rule = TripletSTDP(a2_plus=0.0, a3_plus=0.05, a2_minus=0.0, a3_minus=0.0, w_max=1.0)
    net = es.Network(seed=0)
    cell = net.population(1, LIFDelta(v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=1.0), v_init=-70.0)
    force = net.spike_source(1, times=[99.0, 119.0], ids=[0, 0])
    pre = net.spike_source(1, times=[109.0], ids=[0])
    net.connect(force, cell, es.one_to_one(), weight=100.0, delay=1.0)
    proj = net.connect(pre, cell, es.one_to_one(), weight=0.5, delay=1.0, plasticity=rule)
    net.run(200.0)
    # posts at 100 and 120, pre arrival at 110: dw = r1(120) * a3_plus * o2(120-) = e^(-10/16.8) * 0.05 * e^(-20/125)
    expected = np.exp(-10 / 16.8) * 0.05 * np.exp(-20 / 125.0)
    assert proj.weights()[2][0] - 0.5 == pytest.approx(expected, rel=1e-6)


def test_nearest_triplet_resets_traces_to_one():
    """Nearest-spike triplet (Pfister & Gerstner; Diehl & Cook's code): posts at 90, 100, 120 and a
    pre arrival at 110. All-to-all: o2(120-) = e^(-20/tau_y) + e^(-30/tau_y); nearest: only the
    last post counts, o2(120-) = e^(-20/tau_y)."""
    def run(nearest):
        rule = TripletSTDP(a2_plus=0.0, a3_plus=0.05, a2_minus=0.0, a3_minus=0.0, w_max=1.0, nearest=nearest)
        net = es.Network(seed=0)
        cell = net.population(1, LIFDelta(v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=1.0), v_init=-70.0)
        force = net.spike_source(1, times=[89.0, 99.0, 119.0], ids=[0, 0, 0])
        pre = net.spike_source(1, times=[109.0], ids=[0])
        net.connect(force, cell, es.one_to_one(), weight=100.0, delay=1.0)
        proj = net.connect(pre, cell, es.one_to_one(), weight=0.5, delay=1.0, plasticity=rule)
        net.run(200.0)
        return proj.weights()[2][0] - 0.5
    r1 = np.exp(-10 / 16.8)
    assert run(False) == pytest.approx(r1 * 0.05 * (np.exp(-20 / 125.0) + np.exp(-30 / 125.0)), rel=1e-6)
    assert run(True) == pytest.approx(r1 * 0.05 * np.exp(-20 / 125.0), rel=1e-6)


def test_set_plasticity_changes_rates_between_runs_and_rejects_other_rules():
    """A learning-rate schedule: eta 0 freezes the weights from the next run on; changing the
    kind, time constants or bounds is refused."""
    net = es.Network(seed=0)
    cells = net.population(3, LIFDelta(v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=1.0), v_init=-70.0)
    src = net.poisson(20, 50.0)
    rule = PowerLawSTDP(eta_post=0.01, eta_pre=0.002, w_max=5.0)
    proj = net.connect(src, cells, es.all_to_all(), weight=3.0, delay=1.0, plasticity=rule)
    static = net.connect(src, cells, es.all_to_all(), weight=0.5)
    net.run(300.0)
    w1 = proj.weights()[2]
    assert np.any(w1 != 3.0) and cells.spikes()[0].size > 0
    proj.set_plasticity(PowerLawSTDP(eta_post=0.0, eta_pre=0.0, w_max=5.0))
    net.run(300.0)
    assert cells.spikes()[0].size > 0 and np.array_equal(proj.weights()[2], w1)
    with pytest.raises(es.EventsimError, match="kind differs"):
        proj.set_plasticity(additive(w_max=5.0))
    with pytest.raises(es.EventsimError, match="w_max differs"):
        proj.set_plasticity(PowerLawSTDP(w_max=4.0))
    with pytest.raises(es.EventsimError, match="made plastic at connect time"):
        static.set_plasticity(rule)


def test_weights_stay_within_bounds_and_bad_rules_are_rejected():
    rule = additive(lambda_=0.5, w_max=1.0)
    dw = window(rule, w0=0.9)
    assert np.all(0.9 + dw <= 1.0 + 1e-7) and np.all(0.9 + dw >= -1e-7)
    with pytest.raises(es.EventsimError, match="w_min must be < w_max"):
        additive(w_min=1.0, w_max=0.5).vector()
    with pytest.raises(es.EventsimError, match="tau_plus"):
        additive(tau_plus=-1.0).vector()
    with pytest.raises(es.EventsimError, match="lambda_"):
        additive(lambda_=-0.1).vector()
    net = es.Network(seed=0)
    a = net.population(2, LIFDelta())
    with pytest.raises(es.EventsimError, match=r"initial weights must lie in"):
        net.connect(a, a, es.all_to_all(), weight=2.0, plasticity=additive(w_max=1.0))


def test_per_neuron_quantisation_uses_each_neurons_own_range():
    from eventsim.learning.pruning import quantize_per_neuron
    net = es.Network(seed=2)
    inp = net.poisson(30, 10.0)
    cells = net.population(4, LIFDelta())
    cells_w = np.concatenate([np.linspace(0.0, 1.0, 30), np.linspace(2.0, 5.0, 30), np.full(30, 0.7),
                              np.linspace(0.1, 0.4, 30)])            # generation order: post-major
    proj = net.connect(inp, cells, es.all_to_all(), weight=cells_w, delay=1.0)
    books = quantize_per_neuron(net, proj, 4)
    np.testing.assert_allclose(books, [[0, 1 / 3, 2 / 3, 1], [2, 3, 4, 5], [0.7] * 4, [0.1, 0.2, 0.3, 0.4]],
                               atol=1e-12)
    pre, post, w = proj.weights()
    before = cells_w[30 * post + pre]                                 # synapse (pre i, post j) was number 30 j + i
    for j in range(4):
        sel = post == j
        levels = books[j]
        nearest = levels[np.argmin(np.abs(before[sel, None] - levels[None, :]), axis=1)]
        np.testing.assert_allclose(w[sel], nearest, atol=1e-6)       # every weight went to its nearest level
    assert books.shape == (4, 4)                                      # rows: the post population's neurons
    with pytest.raises(es.EventsimError, match="quantisation levels k"):
        quantize_per_neuron(net, proj, 1)


def test_lloyd_quantisation_codebook_is_the_mean_of_its_weights_and_beats_uniform():
    from eventsim.learning.pruning import quantize_per_neuron
    rng = np.random.default_rng(3)
    before = np.concatenate([rng.exponential(0.05, 200), rng.uniform(0.0, 1.0, 200)])  # bunched near 0, flat
    errors = {}
    for method in ("uniform", "lloyd"):
        net = es.Network(seed=2)
        inp = net.poisson(200, 10.0)
        cells = net.population(2, LIFDelta())
        proj = net.connect(inp, cells, es.all_to_all(), weight=before, delay=1.0)
        books = quantize_per_neuron(net, proj, 4, method=method)
        pre, post, w = proj.weights()
        orig = before[200 * post + pre]
        errors[method] = [np.mean((w[post == j] - orig[post == j]) ** 2) for j in range(2)]
        for j in range(2):
            sel = post == j
            nearest = books[j][np.argmin(np.abs(orig[sel, None] - books[j][None, :]), axis=1)]
            np.testing.assert_allclose(w[sel], nearest, atol=1e-6)    # every weight went to its nearest level
            if method == "lloyd":                                      # and each level is its cell's mean
                for level in np.unique(w[sel]):
                    assert abs(level - orig[sel][w[sel] == level].mean()) < 1e-5
    for j in range(2):
        assert errors["lloyd"][j] < errors["uniform"][j]
    assert errors["lloyd"][0] < 0.5 * errors["uniform"][0]           # the skewed neuron gains most
    with pytest.raises(es.EventsimError, match="quantisation method"):
        quantize_per_neuron(net, proj, 4, method="kmeans")


def test_pruning_removes_synapses_from_csr_and_network_keeps_running():
    from eventsim.learning.pruning import prune_below, prune_fraction, quantize
    net = es.Network(seed=1)
    inp = net.poisson(200, 20.0)
    cells = net.population(50, LIFDelta(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-60.0, t_ref=2.0))
    proj = net.connect(inp, cells, es.all_to_all(), weight=es.uniform(0.0, 1.0), delay=es.uniform(0.5, 3.0),
                       plasticity=additive(lambda_=0.01, w_max=1.0))
    net.run(200.0)
    n0 = net.graph.n_synapses
    removed = prune_fraction(net, proj, 0.5)
    assert removed == n0 // 2 and net.graph.n_synapses == n0 - removed
    _, post, w = proj.weights()
    assert np.all(np.bincount(post, minlength=50) == 100)
    grid = quantize(net, proj, 4)
    assert set(np.unique(proj.weights()[2])) <= set(grid.astype(np.float32))
    spikes_before = net.stats["spikes"]
    net.run(200.0)                                # deliveries in flight were remapped
    assert net.stats["spikes"] > spikes_before
    with pytest.warns(UserWarning, match="every synapse"):
        prune_below(net, proj, 2.0, relative=True)  # nothing survives: warns, stays valid
    assert net.graph.n_synapses == 0
    net.run(50.0)
    with pytest.raises(es.EventsimError, match="prune fraction"):
        prune_fraction(net, proj, 1.0)
    with pytest.raises(es.EventsimError, match="quantisation levels k"):
        quantize(net, proj, 1)


def test_prune_schedule_prunes_only_in_its_window_and_quantises_at_every_checkpoint():
    from eventsim.learning.pruning import PruneSchedule
    net = es.Network(seed=1)
    inp = net.poisson(40, 20.0)
    cells = net.population(5, LIFDelta(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-60.0, t_ref=2.0))
    proj = net.connect(inp, cells, es.all_to_all(), weight=es.uniform(0.0, 1.0), delay=1.0,
                       plasticity=additive(lambda_=0.01, w_max=1.0))
    sched = PruneSchedule(fraction=0.25, levels=4, method="lloyd", start=100, stop=300)
    kept = []
    for samples in (100, 200, 300, 400):              # checkpoints: prunes at 200 and 300 only
        net.run(50.0)                                  # training moves the weights off the levels
        sched.apply(net, proj, samples)
        _, post, w = proj.weights()
        kept.append(np.bincount(post - cells.offset, minlength=5))
        assert all(np.unique(w[post == cells.offset + j]).size <= 4 for j in range(5))
    assert [int(k[0]) for k in kept] == [40, 30, 23, 23]   # floor(0.25 * 40) = 10, floor(0.25 * 30) = 7
    assert all(np.all(k == k[0]) for k in kept)
    assert PruneSchedule(0.1).prunes_at(1) and not PruneSchedule(0.0).prunes_at(1)
    for bad, match in (({"fraction": 1.0}, "prune fraction"), ({"fraction": -0.1}, "prune fraction"),
                       ({"levels": 1}, "quantisation levels k"), ({"method": "kmeans"}, "quantisation method"),
                       ({"start": -1}, "prune start"), ({"start": 10, "stop": 5}, "prune stop")):
        with pytest.raises(es.EventsimError, match=match):
            PruneSchedule(**bad)
