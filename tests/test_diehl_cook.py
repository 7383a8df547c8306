"""Diehl & Cook (2015) builder: structure, presentations, normalisation, retries, labels."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import eventsim as es
from eventsim import plasticity
from eventsim.learning.homeostasis import WeightNormalizer, normalize_incoming
from eventsim.models.diehl_cook import (N_INPUT, UNCLASSIFIED, DCParams, DiehlCook, accuracy, assign_labels,
                                        class_rates, classify, classify_proportion, confusion, input_rates,
                                        split_train_val)


def digit(seed=0):
    """A synthetic 28x28 'digit': a bright bar."""
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255
    return img


def test_builder_structure():
    m = DiehlCook(10, seed=0)
    m.net.build()
    assert m.exc.size == m.inh.size == 10 and m.inp.size == N_INPUT
    pre, post, w = m.p_in.weights()
    assert pre.size == N_INPUT * 10
    assert w.min() >= 0 and w.max() <= m.p.w_init_max * m.p.w_scale
    pre, post, w = m.p_ei.weights()
    np.testing.assert_array_equal(pre, post)                        # one-to-one
    assert np.all(w > 0)
    pre, post, w = m.p_ie.weights()
    assert pre.size == 10 * 9 and not np.any(pre == post)            # all other exc neurons
    assert np.all(w < 0)
    assert m.p_in.plasticity is not None and m.p_ie.plasticity is None
    assert np.all(m.exc.get("theta_plus") == m.p.theta_plus)
    frozen = DiehlCook(10, seed=0, plastic=False)
    assert frozen.p_in.plasticity is None
    assert np.all(frozen.exc.get("theta_plus") == 0.0) and np.all(np.isinf(frozen.exc.get("tau_theta")))


def test_input_delays_on_a_1ms_grid_and_learning_runs_with_them(tmp_path):
    p = DCParams(delay_in=1.0, delay_in_max=10.0)
    m = DiehlCook(4, p, seed=0)
    d = m.p_in.delay
    assert d.size == N_INPUT * 4
    np.testing.assert_array_equal(np.unique(d), np.arange(1.0, 11.0))
    m.net.build()
    g = m.net.graph
    first = m.inp.offset
    assert g.grp_ptr[first + 1] - g.grp_ptr[first] == np.unique(d[m.p_in.pre_local == 0]).size   # a group per delay
    pre0, post0, w0 = m.p_in.weights()
    for _ in range(3):
        m.present(digit())                                           # plastic groups with their own pre traces
    pre1, post1, w1 = m.p_in.weights()
    np.testing.assert_array_equal(pre0, pre1)
    ratio = w1 / w0                                                  # normalisation alone: one factor per neuron
    assert any(np.ptp(ratio[post1 == j]) > 1e-3 for j in range(4))
    m.save(str(tmp_path / "w.h5"))
    f = DiehlCook.frozen_from(str(tmp_path / "w.h5"), 4, p, seed=1)           # same delays with another seed
    np.testing.assert_array_equal(np.sort(f.p_in.weights()[2]), np.sort(w1))
    np.testing.assert_array_equal(DiehlCook(4, DCParams(), seed=0).p_in.delay, np.full(N_INPUT * 4, 1.0))
    with pytest.raises(es.EventsimError, match="delay_in"):
        DiehlCook(4, DCParams(delay_in=0.0), seed=0)


def test_rule_is_dc_rule_in_mV():
    p = DCParams(w_scale=50.0)
    r = p.rule()
    assert r.w_max == pytest.approx(50.0)
    assert r.eta_pre == pytest.approx(p.eta_pre * 50.0)
    assert r.eta_post == pytest.approx(p.eta_post * 50.0 ** (1 - p.mu))
    np.testing.assert_allclose(input_rates(np.full((28, 28), 255), 2.0), 63.75)


def test_presentations_run_learn_and_normalise():
    m = DiehlCook(10, seed=1)
    img = digit()
    w0 = m.input_weights().copy()
    out = m.train(np.stack([img, img, img]))
    assert out["counts"].shape == (3, 10)
    assert out["presentations"] >= 3 and m.n_trained == 3
    assert m.net.t == pytest.approx(out["presentations"] * (m.p.t_present + m.p.t_rest))
    w1 = m.input_weights()
    assert not np.allclose(w0, w1)                                   # STDP changed weights
    assert np.all(m.exc.get("theta") >= 0) and m.exc.get("theta").max() > 0
    # normalisation happens before each presentation: sums equal the target then
    m.normalizer()
    np.testing.assert_allclose(m.normalizer.sums(), m.p.norm_total * m.p.w_scale, rtol=1e-5)


def test_reset_v_ends_each_rest_in_a_set_state_and_keeps_theta():
    """With strong inhibition the losers end the 150 ms rest far below rest unless reset_v is set."""
    imgs = np.stack([digit(), digit()])
    held = DiehlCook(10, DCParams.tuned(inh_scale=400.0), seed=1)
    held.train(imgs)
    assert held.exc.get("v").min() < held.p.exc_v_rest - 20.0
    m = DiehlCook(10, DCParams.tuned(inh_scale=400.0, reset_v=-80.0), seed=1)
    m.train(imgs)
    np.testing.assert_allclose(m.exc.get("v"), -80.0, atol=1e-12)
    np.testing.assert_allclose(m.inh.get("v"), m.p.inh_v_rest, atol=1e-12)
    assert np.all(m.exc.get("i_i") == 0.0) and m.exc.get("theta").max() > 0


def test_normalizer_keeps_sums_and_ignores_other_projections():
    net = es.Network(seed=2)
    from eventsim.models import LIFExp
    cells = net.population(4, LIFExp())
    src = net.poisson(9, 0.0)
    a = net.connect(src, cells, es.all_to_all(), weight=es.uniform(0.0, 2.0), name="a")
    b = net.connect(src, cells, es.all_to_all(), weight=1.0, delay=2.0, name="b")
    norm = WeightNormalizer(net, a, [1.0, 2.0, 3.0, 0.0])
    f = norm()
    np.testing.assert_allclose(norm.sums(), [1.0, 2.0, 3.0, 0.0], atol=1e-6)
    assert f.shape == (4,)
    _, _, wb = b.weights()
    np.testing.assert_array_equal(wb, 1.0)
    # a neuron without input weight stays at zero; pruned synapses do not count
    from eventsim.learning.pruning import prune_fraction
    prune_fraction(net, a, 0.5)
    normalize_incoming(net, a, 5.0)
    _, post, w = a.weights()
    np.testing.assert_allclose(np.bincount(post, weights=w, minlength=4), [5.0, 5.0, 5.0, 0.0], rtol=1e-6)


def test_intensity_retry_is_bounded():
    p = replace(DCParams(), min_spikes=10_000, max_retries=3, t_present=20.0, t_rest=5.0)
    m = DiehlCook(5, p, seed=3)
    m.present(digit())
    assert m.presentations == 4 and m.retries == 3                   # 1 + max_retries, then give up
    # a blank image never drives spikes: still bounded
    m.present(np.zeros((28, 28), np.uint8))
    assert m.presentations == 8


def test_retry_raises_intensity():
    p = replace(DCParams(), min_spikes=1, max_retries=4, t_present=30.0, t_rest=5.0, w_scale=0.5)
    m = DiehlCook(5, p, seed=4)
    seen = []
    orig = m.inp.set_rate

    def spy(rate):
        seen.append(float(np.max(rate)))
        orig(rate)
    m.inp.set_rate = spy
    m.present(digit())
    on = [r for r in seen if r > 0]
    assert on == [255 / 8 * (2 + k) for k in range(len(on))]      # intensity 2, 3, 4, ...
    assert 1 <= len(on) <= 5


def test_label_assignment_and_classification_on_synthetic_responses():
    labels = np.array([0, 0, 1, 1, 2, 2])
    # neurons 0,1 respond to class 0; neuron 2 to class 1; neuron 3 to class 2; neuron 4 silent
    resp = np.array([[5, 4, 0, 0, 0], [6, 3, 1, 0, 0],
                     [0, 1, 7, 0, 0], [1, 0, 5, 1, 0],
                     [0, 0, 1, 4, 0], [0, 1, 0, 6, 0]])
    asg = assign_labels(resp, labels, n_classes=3)
    np.testing.assert_array_equal(asg, [0, 0, 1, 2, -1])
    test = np.array([[3, 3, 0, 0, 9], [0, 0, 2, 1, 0], [0, 0, 1, 3, 0], [0, 0, 0, 0, 0]])
    pred = classify(test, asg, n_classes=3)
    np.testing.assert_array_equal(pred, [0, 1, 2, -1])             # silent sample: not classified
    assert accuracy(pred, [0, 1, 2, 1]) == 0.75
    cm = confusion(pred, [0, 1, 2, 1], n_classes=3)
    assert cm.shape == (3, 4)                                       # last column: unclassified
    assert cm.sum() == 4 and cm[1, 3] == 1 and np.trace(cm) == 3
    np.testing.assert_array_equal(cm.sum(axis=1), [1, 2, 1])       # every sample counted in its row
    # a class without neurons is never predicted; a silent row is not classified
    pred = classify(np.array([[0, 0, 0, 0, 0], [0, 2, 0, 0, 0]]), np.array([1, 1, 1, 1, 1]), n_classes=3)
    np.testing.assert_array_equal(pred, [-1, 1])
    # proportion weighting: neuron 1 fires for class 0 and class 1 alike (shares 1/2, 1/2), neuron 0
    # only for class 0, so a response of neuron 1 alone is a tie and neuron 0 tips it to class 0
    rates = class_rates(np.array([[2, 1, 0], [0, 1, 3]]), np.array([0, 1]), n_classes=2)
    np.testing.assert_allclose(rates, [[2, 1, 0], [0, 1, 3]])
    pred = classify_proportion(np.array([[1, 4, 0], [0, 4, 1], [0, 2, 0]]), rates)
    np.testing.assert_array_equal(pred, [0, 1, 0])
    # no vote (an all-zero row): not classified, where an argmax of zeros would say class 0
    np.testing.assert_array_equal(classify_proportion(np.zeros((2, 3)), rates), [-1, -1])


def test_silent_samples_count_as_wrong_even_when_labelled_with_the_default_class():
    # Diehl & Cook: a digit no assigned neuron responds to is not classified. An argmax over the
    # all-zero scores would give class 0, the lowest class with neurons, and so score every
    # silent digit of class 0 as correct.
    asg = np.array([0, 0, 1, 1, -1])
    resp = np.array([[4, 2, 0, 0, 0],        # class 0, right
                     [0, 0, 0, 0, 0],        # silent, labelled 0
                     [0, 0, 0, 0, 3],        # only the unassigned neuron fired, labelled 0
                     [0, 1, 3, 2, 0]])       # class 1, right
    labels = np.array([0, 0, 0, 1])
    pred = classify(resp, asg, n_classes=2)
    np.testing.assert_array_equal(pred, [0, UNCLASSIFIED, UNCLASSIFIED, 1])
    assert accuracy(pred, labels) == 0.5
    cm = confusion(pred, labels, n_classes=2)
    np.testing.assert_array_equal(cm, [[1, 0, 2], [0, 1, 0]])
    assert np.trace(cm) / cm.sum() == accuracy(pred, labels)
    rates = class_rates(np.array([[4, 2, 0, 0, 0], [0, 1, 3, 2, 0]]), np.array([0, 1]), n_classes=2)
    pred = classify_proportion(resp, rates)
    np.testing.assert_array_equal(pred, [0, -1, -1, 1])
    assert accuracy(pred, labels) == 0.5
    # no neuron assigned at all: nothing is classified
    np.testing.assert_array_equal(classify(resp, np.full(5, -1), n_classes=2), [-1] * 4)
    # confusion refuses predictions it could not place (no silent wrap-around into the last column)
    with pytest.raises(es.EventsimError, match="predictions must lie in"):
        confusion(np.array([0, -2]), np.array([0, 1]), n_classes=2)
    with pytest.raises(es.EventsimError, match="predictions must lie in"):
        confusion(np.array([0, 2]), np.array([0, 1]), n_classes=2)


def test_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(10), 20)
    tr, va = split_train_val(y, 5, seed=0)
    assert np.intersect1d(tr, va).size == 0 and tr.size + va.size == y.size
    assert np.all(np.bincount(y[va]) == 5)
    # labels sorted by class, as in train5k: neither part may come out class-ordered, since a
    # digit's response carries over into the next one
    for part in (tr, va):
        assert np.mean(y[part][1:] == y[part][:-1]) < 0.3


def test_save_and_frozen_reload(tmp_path):
    m = DiehlCook(6, seed=5)
    m.train(np.stack([digit()] * 2))
    path = str(tmp_path / "dc.h5")
    m.save(path, "after 2")
    g = DiehlCook.frozen_from(path, 6)
    np.testing.assert_allclose(g.input_weights(), m.input_weights(), rtol=1e-7)
    np.testing.assert_allclose(g.exc.get("theta"), m.exc.get("theta"), rtol=1e-9)
    theta = g.exc.get("theta").copy()
    imgs = np.stack([digit()] * 2)
    rg = g.responses(imgs)
    assert rg.shape == (2, 6)
    np.testing.assert_allclose(g.exc.get("theta"), theta, rtol=1e-6)   # frozen (decay off)
    np.testing.assert_allclose(g.thresholds(), m.thresholds(), rtol=1e-12)


def test_tuned_overrides_win_and_schedule_steps_are_checked():
    """tuned(**kw) lets a caller override a chosen setting (a clash raised TypeError once);
    set_learning scales the rule's rates and rejects bad values naming the field."""
    assert DCParams.tuned(inh_scale=40.0).inh_scale == 40.0 and DCParams.tuned(mu=0.5).mu == 0.5
    small, large = DCParams.tuned(100), DCParams.tuned(400)                 # the picks for N = 100 and 400
    assert (small.inh_scale, small.reset_v) == (400.0, -100.0) and (large.inh_scale, large.reset_v) == (100.0, None)
    assert DCParams.tuned(100, reset_v=None).reset_v is None
    with pytest.raises(es.EventsimError, match="n_exc"):
        DCParams.tuned(0)
    m = DiehlCook(5, DCParams.tuned(), seed=0)
    m.net.build()
    etas = [plasticity.P1, plasticity.P2]              # eta_post, eta_pre of the power-law rule
    rate = m.net._engine.plast[1][0, etas].copy()
    m.set_learning(0.5, theta_plus=0.1)
    np.testing.assert_allclose(m.net._engine.plast[1][0, etas], 0.5 * rate)
    np.testing.assert_allclose(m.exc.get("theta_plus"), 0.1)
    with pytest.raises(es.EventsimError, match="eta_factor"):
        m.set_learning(-1.0)
    with pytest.raises(es.EventsimError, match="theta_plus"):
        m.set_learning(1.0, theta_plus=np.inf)


@pytest.mark.parametrize("kw, match", [
    ({"max_retries": -1}, "max_retries"), ({"min_spikes": -3}, "min_spikes"), ({"t_present": 0.0}, "t_present"),
    ({"x_tar": 5.0}, "x_tar"), ({"inh_scale": -40.0}, "inh_scale"), ({"w_scale": -60.0}, "w_scale"),
    ({"stdp": "foo"}, "stdp"), ({"reset_v": float("nan")}, "reset_v"), ({"intensity": -2.0}, "intensity"),
    ({"tau_theta": 0.0}, "tau_theta")])
def test_dcparams_are_checked_when_made(kw, match):
    """DCParams checked nothing: max_retries=-1 ended in an UnboundLocalError, and inh_scale=-40
    silently turned lateral inhibition into excitation."""
    with pytest.raises(es.EventsimError, match=match):
        replace(DCParams(), **kw)


def test_diehl_cook_inputs_and_readout_are_checked():
    with pytest.raises(es.EventsimError, match="n .excitatory neurons. must be a whole number"):
        DiehlCook(2.7)
    m = DiehlCook(3, replace(DCParams(), t_present=5.0, t_rest=1.0, max_retries=0))
    with pytest.raises(es.EventsimError, match="100 values"):
        m.present(np.ones(100))
    for bad in (1000.0, -50.0, np.nan):
        with pytest.raises(es.EventsimError, match=r"\[0, 255\]"):
            m.present(np.full(784, bad))
    with pytest.raises(es.EventsimError, match="shapes"):
        assign_labels(np.ones((3, 4)), np.array([1, 2]))
    with pytest.raises(es.EventsimError, match=r"integers in \[0, 9\]"):
        assign_labels(np.ones((3, 4)), np.array([12, 12, 12]))
