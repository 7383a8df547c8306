"""Core API fixes from review: autapses across views, late state samples, the last bin of
population_rate, and state variables a model does not have."""
import numpy as np
import pytest

import eventsim as es
from eventsim.models import AdaptiveLIFExp, LIFDelta, LIFExp


def _synapses(pre, post, connector, seed=1, build=True):
    """(pre local, post local) of one projection within a population of 20, before or after the build."""
    net = es.Network(seed=seed)
    a = net.population(20, LIFDelta())
    proj = net.connect(pre(a), post(a), connector, weight=0.1)
    if build:
        net.build()
    return proj.pre_local, proj.post_local


OVERLAP = (lambda a: a[0:10], lambda a: a[5:15])
REVERSED = (lambda a: a[::-1], lambda a: a)


@pytest.mark.parametrize("build", [False, True])
@pytest.mark.parametrize("views", [OVERLAP, REVERSED], ids=["overlap", "reversed"])
@pytest.mark.parametrize("connector", [es.all_to_all(allow_autapses=False), es.pairwise_bernoulli(1.0, False)],
                         ids=["all_to_all", "bernoulli"])
def test_no_autapses_between_overlapping_or_permuted_views(connector, views, build):
    pre, post = _synapses(*views, connector, build=build)
    assert not np.any(pre == post)
    n_pre, n_post = len(views[0](np.arange(20))), len(views[1](np.arange(20)))
    n_common = np.intersect1d(views[0](np.arange(20)), views[1](np.arange(20))).size
    assert pre.size == n_pre * n_post - n_common      # every other pair is kept


def test_fixed_degrees_without_autapses_stay_exact_across_views():
    pre, post = _synapses(*OVERLAP, es.fixed_indegree(9, False, False))
    assert not np.any(pre == post)
    np.testing.assert_array_equal(np.bincount(post, minlength=20)[5:15], 9)
    assert len(set(zip(pre.tolist(), post.tolist()))) == pre.size           # no multapses
    pre, post = _synapses(*REVERSED, es.fixed_outdegree(19, False, False))
    assert not np.any(pre == post)
    np.testing.assert_array_equal(np.bincount(pre, minlength=20), 19)
    # a post neuron inside the pre view has one candidate less: k = 10 of 10 is impossible
    with pytest.raises(es.EventsimError, match=r"fixed_indegree k must be <= 9"):
        _synapses(*OVERLAP, es.fixed_indegree(10, False, False), build=False)
    # a pre view repeating the post neuron only: nothing to draw from
    with pytest.raises(es.EventsimError, match="at least one candidate"):
        _synapses(lambda a: a[[1, 1]], lambda a: a[[1, 2]], es.fixed_indegree(1, False, True), build=False)


def test_late_state_samples_are_refused_and_samples_at_now_are_exact():
    net = es.Network(seed=0)
    pop = net.population(1, LIFExp(i_bias=10.0, v_rest=-65.0), v_init=-60.0)
    early = net.sample_state(pop, [5.0, 20.0])
    net.run(20.0, progress=False)
    with pytest.raises(es.EventsimError, match=r"sample times.*t = 20 ms.*\[20, inf\).*5\.0"):
        net.sample_state(pop, [5.0, 25.0])
    now = net.sample_state(pop, [20.0])
    net.run(1.0, progress=False)
    assert now.taken.all() and now["v"][0, 0] == early["v"][1, 0]


def _regular_neuron(t_run):
    """One LIFDelta neuron made to fire at 1, 3, ..., 105 ms, run for t_run ms."""
    net = es.Network(seed=0)
    pop = net.population(1, LIFDelta())
    src = net.spike_source(1, np.arange(0.5, 105.0, 1.0), np.zeros(105, int))
    net.connect(src, pop, es.one_to_one(), weight=100.0, delay=0.5)
    net.run(t_run, progress=False)
    return net, pop


def test_population_rate_covers_a_final_partial_bin():
    net, pop = _regular_neuron(106.0)
    assert pop.spikes()[0].size == 53
    edges, rate = net.population_rate(pop, 10.0)
    assert edges[-2:].tolist() == [100.0, 106.0] and rate.size == edges.size - 1 == 11
    assert rate[-1] == pytest.approx(3 / 6e-3)                   # 3 spikes in the 6 ms simulated
    assert (rate * np.diff(edges) * 1e-3).sum() == pytest.approx(53)
    edges, rate = net.population_rate(pop, 10.0, t_stop=105.0)   # the spike at t_stop counts
    assert edges[-1] == 105.0 and rate[-1] == pytest.approx(3 / 5e-3)
    with pytest.raises(es.EventsimError, match=r"t_stop.*106 ms.*\[0, 106\]"):
        net.population_rate(pop, 10.0, t_stop=110.0)
    with pytest.raises(es.EventsimError, match="t_start"):
        net.population_rate(pop, 10.0, t_start=106.0)


def test_set_state_refuses_variables_the_model_does_not_have():
    net = es.Network(seed=0)
    delta = net.population(1, LIFDelta())
    exp = net.population(1, LIFExp(i_bias=20.0, v_rest=-65.0))
    adaptive = net.population(1, AdaptiveLIFExp())
    net.run(1.0, progress=False)
    assert delta.state_variables() == ("v",)
    assert exp.state_variables() == ("v", "i_e", "i_i")
    assert adaptive.state_variables() == ("v", "i_e", "i_i", "theta")
    with pytest.raises(es.EventsimError, match=r"LIFDelta has no state variable 'i_e'.*state variables are v$"):
        delta.set_state(i_e=5.0)
    with pytest.raises(es.EventsimError, match=r"LIFExp has no state variable 'theta'.*v, i_e, i_i$"):
        exp.set_state(theta=5.0)
    assert exp.get("theta")[0] == 0.0
    delta.set_state(v=-65.0, i_e=0.0, i_i=0.0)                   # "back to rest" works for every model
    assert delta.get("v")[0] == -65.0
    adaptive.set(theta_plus=0.0, tau_theta=np.inf)               # frozen, but its theta stays settable
    adaptive.set_state(theta=3.0)
    exp.set(theta_plus=0.1)                                      # made adaptive by set()
    exp.set_state(theta=1.0)
    np.testing.assert_array_equal([adaptive.get("theta")[0], exp.get("theta")[0]], [3.0, 1.0])


def test_restarting_sources_again_and_again_grows_the_queue():
    """set_rate pushes one queue entry per source, and the stale entries of slow sources stay
    queued until their time: repeated restarts (retried presentations of a dim image) wrote past
    the queue's end (heap corruption, SIGSEGV). The queue now grows first."""
    net = es.Network(seed=1)
    src = net.poisson(800, 0.2)
    pop = net.population(3, LIFDelta())
    net.connect(src, pop, es.all_to_all(), weight=0.5, delay=1.0)
    net.build()
    size0 = net._engine.queue[0].size
    for k in range(12):
        src.set_rate(0.2 + 0.01 * k)
        net.run(1.0, progress=False)
    assert net._engine.queue[4][0] > size0                 # more entries than the first capacity
    n = net._engine.queue[4][0]
    assert np.isfinite(net._engine.queue[0][:n]).all()
    src.set_rate(50.0)
    net.run(100.0, progress=False)
    assert pop.spikes()[0].size > 0
