"""Defects found by the 2026-11-24 user reviews (docs walk-through and engine paths): each test
fails on the code before its fix."""
import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim import neuron
from eventsim.models import LIFDelta, LIFExp

from conftest import make_cuba


def test_spikes_not_kept_in_memory_are_refused_not_empty(tmp_path):
    """record_spikes(in_memory=False) made pop.spikes() and population_rate return nothing."""
    net = es.Network(seed=1)
    src = net.poisson(20, 200.0)
    pop = net.population(5, LIFDelta(), record=True)
    net.connect(src, pop, es.all_to_all(), weight=3.0)
    net.record_spikes(str(tmp_path / "s.h5"), in_memory=False)
    net.run(50.0, progress=False)
    with pytest.raises(es.EventsimError, match="not kept in memory.*SpikeLog"):
        pop.spikes()
    with pytest.raises(es.EventsimError, match="not kept in memory"):
        net.population_rate(pop, 10.0)


def test_a_rate_guard_stop_leaves_t_stop_after_every_logged_spike(tmp_path):
    """After max_rate_hz stopped a run, the log's t_stop was the chunk's start: 94 of 147 spikes
    lay after it, and the analysis dropped them."""
    net = make_cuba(n=1000, p=0.08)
    path = tmp_path / "s.h5"
    net.record_spikes(str(path))
    with pytest.raises(es.SimulationError, match="runaway"):
        net.run(200.0, max_rate_hz=3.0, progress=False)
    with h5py.File(path, "r") as f:
        t_stop = f.attrs["t_stop"]
        last = max(f[f"spikes/{k}/timestamps"][:].max() for k in f["spikes"])
    assert last <= t_stop and net.t == t_stop


def test_delays_below_a_nanosecond_are_refused():
    """delay=1e-14 vanished in t + d (1001 + 1e-14 == 1001): a self-exciting neuron with
    t_ref = 0 fired forever at one instant and run() never returned."""
    net = es.Network(seed=1)
    a = net.population(1, LIFDelta(t_ref=0.0))
    with pytest.raises(es.EventsimError, match=r"delay \(ms\) must lie in \[1e-06, inf\)"):
        net.connect(a, a, es.all_to_all(), weight=25.0, delay=1e-14)
    net.connect(a, a, es.all_to_all(), weight=25.0, delay=1e-6)


def test_views_read_spikes_and_state_and_refuse_the_rest_clearly():
    net = es.Network(seed=2)
    src = net.poisson(30, 300.0)
    pop = net.population(6, LIFDelta(), record=True)
    net.connect(src, pop, es.all_to_all(), weight=2.0)
    net.run(100.0, progress=False)
    view = pop[[4, 1]]
    t, at = view.spikes()
    t_all, ids = pop.spikes()
    assert np.array_equal(t, t_all[np.isin(ids, [4, 1])])
    assert np.array_equal(np.array([4, 1])[at], ids[np.isin(ids, [4, 1])])
    assert np.array_equal(view.get("v"), pop.get("v")[[4, 1]])
    edges, rate = net.population_rate(view, 50.0)
    assert rate.sum() > 0
    twice = pop[[4, 4]]                                  # a neuron listed twice counts at both positions
    t2, at2 = twice.spikes()
    n4 = int(np.sum(ids == 4))
    assert t2.size == 2 * n4 and np.sum(at2 == 0) == n4 and np.sum(at2 == 1) == n4
    assert np.allclose(net.population_rate(twice, 50.0)[1], net.population_rate(pop[[4]], 50.0)[1])
    with pytest.raises(es.EventsimError, match="view of population 'pop1' has no 'set'"):
        view.set(v_th=-52.0)
    assert not hasattr(view, "set_state")


def test_sample_times_out_of_order_are_refused():
    """Unsorted times were sorted silently: row 0 held t = 1 for times [30, 1, 10]."""
    net = es.Network(seed=1)
    pop = net.population(2, LIFExp())
    with pytest.raises(es.EventsimError, match="increasing order"):
        net.sample_state(pop, [30.0, 1.0, 10.0])


def test_time_constant_classes_with_every_neuron_its_own():
    """class_taus searched every row once per class (quadratic: 22 s to build 1e5 neurons with
    uniform tau_m); the table must still give each class its time constants."""
    net = es.Network(seed=5)
    pop = net.population(3000, LIFExp(tau_m=es.uniform(10.0, 30.0), tau_syn_e=es.uniform(2.0, 6.0)))
    net.build()
    P = net._engine.P
    taus = neuron.class_taus(P)
    cls = P[:, neuron.CLASS].astype(int)
    assert taus.shape[0] == cls.max() + 1 >= 2900
    assert np.array_equal(taus[cls], P[:, [neuron.TAU_M, neuron.TAU_E, neuron.TAU_I, neuron.TAU_THETA]])
    assert np.allclose(pop.get("tau_m"), P[:, neuron.TAU_M])


def test_a_weight_snapshot_loads_by_its_label(tmp_path):
    net = es.Network(seed=1)
    a, b = net.population(3, LIFDelta()), net.population(2, LIFDelta())
    p = net.connect(a, b, es.all_to_all(), weight=1.0)
    net.build()
    path = str(tmp_path / "w.h5")
    net.save_weights(path, label="before")
    p_w = net.graph.weight
    p_w[:] = 2.0
    net.save_weights(path, label="after pruning")
    net.load_weights(path, snapshot="before")
    assert np.all(p.weight == 1.0)
    net.load_weights(path, snapshot="after pruning")
    assert np.all(p.weight == 2.0)
    with pytest.raises(es.EventsimError, match="no snapshot named or labelled 'x'.*labels 'after pruning', 'before'"):
        net.load_weights(path, snapshot="x")


def test_a_run_longer_than_1e10_ms_picks_a_chunk_it_can_take():
    """net.run(1e11) failed on `chunk`, which the caller never set."""
    assert es.checks.default_chunk(1000.0) == 100.0
    assert es.checks.default_chunk(1e11) == 1e11 / es.checks.MAX_CHUNKS
    assert es.checks.interval("chunk", es.checks.default_chunk(1e11), 1e11) == 1000.0


@pytest.mark.parametrize("value", ["20", b"20", ["1", "2"]])
def test_text_is_not_a_number_in_the_python_api(value):
    """numpy turned LIFExp(tau_m="20") and weight="1" into numbers, while the config reader and
    every other field refuse text."""
    net = es.Network(seed=1)
    a = net.population(2, LIFDelta())
    with pytest.raises(es.EventsimError, match="must be a number, an array or a distribution"):
        net.connect(a, a, es.all_to_all(), weight=value)
    with pytest.raises(es.EventsimError, match="tau_m must be a number"):
        net.population(2, LIFExp(tau_m=value))
        net.build()


def test_per_synapse_arrays_follow_pre_and_post_with_excluded_autapses_and_on_every_rank():
    """Values were read by a running count of synapses made: an excluded autapse shifted every later
    value (all 12 synapses of a 4 x 4 matrix wrong), and so did another rank's post neurons in a
    partitioned build. They are now read at post * n_pre + pre (fixed degrees: owner * k + draw)."""
    W = np.arange(16.0).reshape(4, 4) + 1.0
    net = es.Network(seed=1)
    a = net.population(4, LIFDelta())
    p = net.connect(a, a, es.all_to_all(allow_autapses=False), weight=W, delay=W / 10.0)
    net.build()
    assert p.weight.size == 12 and np.all(p.pre_local != p.post_local)
    assert np.array_equal(p.weight, W[p.pre_local, p.post_local])
    assert np.allclose(p.delay, W[p.pre_local, p.post_local] / 10.0)
    for local in ((0, 3), (3, 6)):                       # two "ranks" over 2 + 4 neurons
        net = es.Network(seed=1)
        x, y = net.population(2, LIFDelta()), net.population(4, LIFDelta())
        M = np.array([[10.0, 11, 12, 13], [20, 21, 22, 23]])
        q = net.connect(x, y, es.all_to_all(), weight=M)
        r = net.connect(x, y, es.fixed_indegree(1), weight=[1.0, 2.0, 3.0, 4.0])
        net.build(local=local)
        assert np.array_equal(q.weight, M[q.pre_local, q.post_local])
        assert np.array_equal(r.weight, r.post_local + 1.0)      # entry k of post neuron k


def test_a_single_value_in_any_shape_is_a_scalar():
    net = es.Network(seed=1)
    a = net.population(3, LIFDelta())
    p = net.connect(a, a, es.pairwise_bernoulli(1.0), weight=np.full((1, 1), 2.0))
    net.build()
    assert np.all(p.weight == 2.0)


@pytest.mark.parametrize("line, match", [("delay = 1e-9", r"delay \(ms\) must lie in \[1e-06"),
                                         ('receptor = "inhib"', "receptor")])
def test_a_config_error_in_a_projection_names_the_entry(tmp_path, line, match):
    """Errors raised by connect named the automatic projection name (proj1), not the config entry."""
    path = tmp_path / "c.toml"
    path.write_text('duration = 10.0\n[populations.a]\nsize = 3\nmodel = "LIFDelta"\n[[projections]]\n'
                    f'pre = "a"\npost = "a"\nconnector = {{ type = "all_to_all" }}\n{line}\n')
    from eventsim import config
    with pytest.raises(es.ConfigError, match=r"projections\[0\]: .*" + match):
        config.build(config.load(str(path)))


def test_the_normaliser_warns_only_for_neurons_it_normalises():
    """A projection onto a view made the unreachable-target warning count the parent's other
    neurons (0 synapses each) and fire for a reachable target."""
    import warnings
    from eventsim.learning import PowerLawSTDP
    from eventsim.learning.homeostasis import WeightNormalizer
    net = es.Network(seed=1)
    src = net.poisson(100, 1.0)
    pop = net.population(20, LIFExp())
    p = net.connect(src, pop[:10], es.all_to_all(), weight=0.1, plasticity=PowerLawSTDP(w_max=1.0))
    net.build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WeightNormalizer(net, p, 20.0)()


def test_pairwise_bernoulli_refuses_per_synapse_arrays():
    """Its synapse count is random: an array of the expected length was read past its end (25
    synapses got values from outside it) or partly unused, silently."""
    net = es.Network(seed=1)
    a = net.population(40, LIFDelta())
    for p in (0.5, 1.0):
        with pytest.raises(es.EventsimError, match="pairwise_bernoulli takes a number or a distribution"):
            net.connect(a, a, es.pairwise_bernoulli(p), weight=np.full(int(p * 1600), 0.5))
    net.connect(a, a, es.pairwise_bernoulli(0.5), weight=es.uniform(0.1, 0.2))

