"""Single-neuron spike times against analytic solutions and a fine RK4 reference."""
import math

import numpy as np
import pytest

import eventsim as es
from eventsim import neuron
from eventsim.models import AdaptiveLIFExp, LIFDelta, LIFExp

from reference import rk4_lif


def one_neuron(model, v_init, inputs=(), t_end=200.0, delay=0.5):
    """Run a single neuron fed by (arrival time, weight) inputs; returns its spike times."""
    net = es.Network(seed=0)
    cell = net.population(1, model, v_init=v_init)
    if len(inputs):
        times = np.array([t for t, _ in inputs]) - delay
        weights = np.array([w for _, w in inputs])
        n = len(inputs)
        src = net.spike_source(n, times=times, ids=np.arange(n))
        net.connect(src, cell, es.explicit(np.arange(n), np.zeros(n, int)), weight=weights, delay=delay)
    net.run(t_end)
    return cell.spikes()[0]


def test_delta_constant_bias_fires_periodically_at_analytic_times():
    t = one_neuron(LIFDelta(tau_m=20.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0, i_bias=25.0),
                   -70.0, t_end=500.0)
    period = 20.0 * math.log(25.0 / 5.0)
    expected = period + np.arange(t.size) * (period + 2.0)
    assert t.size == 14
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-9)


def test_delta_step_input_spikes_exactly_at_arrival_when_jump_crosses():
    inputs = [(10.25, 12.0), (30.0, 12.0), (30.0 + 1e-9, 12.0)]   # the third arrives while refractory
    t = one_neuron(LIFDelta(tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_th=-50.0, t_ref=1.0), -60.0, inputs, 50.0)
    np.testing.assert_array_equal(t, [10.25, 30.0])


def test_delta_subthreshold_jump_then_bias_crossing():
    # v_inf = -48 > v_th: after a jump to -55 at t=5 the crossing is analytic
    p = dict(tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_th=-50.0, t_ref=1.0, i_bias=12.0)
    t = one_neuron(LIFDelta(**p), -60.0, [(5.0, 5.0)], 30.0)
    v_at_5 = -48.0 + (-60.0 + 48.0) * math.exp(-0.5) + 5.0
    expected = 5.0 + 10.0 * math.log((-48.0 - v_at_5) / (-48.0 + 50.0))
    np.testing.assert_allclose(t[0], expected, atol=1e-12)


EXP = dict(tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0, tau_syn_e=2.0, tau_syn_i=7.0,
           i_bias=10.0)


@pytest.mark.parametrize("seed", [3, 4])
def test_exp_currents_match_fine_rk4(seed):
    rng = np.random.default_rng(seed)
    t_in = np.sort(rng.uniform(1.0, 150.0, 90))
    w_in = rng.choice([20.0, 30.0, -8.0], 90)
    inputs = list(zip(t_in, w_in))
    t = one_neuron(LIFExp(**EXP), -65.0, inputs, 160.0)
    ref = rk4_lif(EXP, -65.0, inputs, 160.0, dt=2e-3)
    assert t.size == ref.size and t.size >= 4
    assert np.max(np.abs(t - ref)) < 1e-6


def test_crossing_after_the_current_peaks_is_found():
    # a slow current (50 ms) into a fast membrane (5 ms): V keeps rising long after the input
    p = dict(tau_m=5.0, v_rest=-65.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0, tau_syn_e=50.0, tau_syn_i=3.0,
             i_bias=0.0)
    inputs = [(2.0, 22.0), (2.5, -4.0)]
    t = one_neuron(LIFExp(**p), -65.0, inputs, 100.0)
    ref = rk4_lif(p, -65.0, inputs, 100.0, dt=2e-3)
    assert ref.size == 1 and t.size == 1
    assert t[0] - 2.0 > 5.0            # crossing long after the current's peak at 2 ms
    assert abs(t[0] - ref[0]) < 1e-6


def _peak_of_single_epsp(w, p, v0):
    """max over h of v0 + w*k*(exp(-h/tau_e) - exp(-h/tau_m)) with v0 = v_inf (analytic peak)."""
    tm, te = p["tau_m"], p["tau_syn_e"]
    h = math.log(tm / te) * te * tm / (tm - te)
    return v0 + w * te / (te - tm) * (math.exp(-h / te) - math.exp(-h / tm))


@pytest.mark.parametrize("side", ["above", "below"])
def test_grazing_input_is_resolved_at_weight_precision(side):
    """Weights are float32: take the two adjacent float32 weights around the one whose EPSP
    peak touches threshold exactly; their peaks straddle v_th by ~1e-6 mV."""
    p = dict(tau_m=10.0, v_rest=-60.0, v_reset=-70.0, v_th=-50.0, t_ref=2.0, tau_syn_e=3.0, tau_syn_i=7.0,
             i_bias=0.0)
    unit_peak = _peak_of_single_epsp(1.0, p, 0.0)
    w_exact = 10.0 / unit_peak
    w32 = np.float32(w_exact)
    if (float(w32) * unit_peak >= 10.0) != (side == "above"):
        w32 = np.nextafter(w32, np.float32(np.inf if side == "above" else -np.inf))
    peak = -60.0 + float(w32) * unit_peak
    assert (peak >= -50.0) == (side == "above") and abs(peak + 50.0) < 2e-6
    t = one_neuron(LIFExp(**p), -60.0, [(1.0, float(w32))], 60.0)
    assert (t.size == 1) == (side == "above")


def test_adaptive_threshold_matches_rk4_and_freezes():
    p = dict(tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_th=-55.0, t_ref=1.0, tau_syn_e=2.0, tau_syn_i=7.0,
             i_bias=14.0, theta_plus=1.5, tau_theta=30.0)
    t = one_neuron(AdaptiveLIFExp(**p), -65.0, [(20.0, 20.0), (40.0, 30.0)], 120.0)
    ref = rk4_lif(p, -65.0, [(20.0, 20.0), (40.0, 30.0)], 120.0, dt=2e-3)
    assert t.size == ref.size and t.size >= 5
    assert np.max(np.abs(t - ref)) < 1e-6
    isi = np.diff(t[:4])
    assert np.all(np.diff(isi) > 0)            # adaptation lengthens the intervals


@pytest.mark.parametrize("seed", [5, 6])
def test_crossing_bounds_hold_for_mixed_time_constants_and_fast_threshold_decay(seed):
    """The crossing tests bound V by two envelopes (constant drive; decaying currents). Exercise
    both where each is tight or wrong-footed: a fast excitatory current (tau_e << tau_m), a slow
    inhibitory one (tau_i > tau_m) and a threshold that decays faster than the membrane
    (tau_theta < tau_m), against a fine RK4 reference."""
    p = dict(tau_m=20.0, v_rest=-65.0, v_reset=-68.0, v_th=-55.0, t_ref=1.0, tau_syn_e=1.0, tau_syn_i=40.0,
             i_bias=9.0, theta_plus=6.0, tau_theta=4.0)
    rng = np.random.default_rng(seed)
    t_in = np.sort(rng.uniform(1.0, 180.0, 120))
    w_in = rng.choice([60.0, 90.0, 150.0, -6.0], 120)
    inputs = list(zip(t_in, w_in))
    t = one_neuron(AdaptiveLIFExp(**p), -65.0, inputs, 200.0)
    ref = rk4_lif(p, -65.0, inputs, 200.0, dt=2e-3)
    assert t.size == ref.size and t.size >= 5
    assert np.max(np.abs(t - ref)) < 1e-6


def test_frozen_threshold_stops_adaptation():
    net = es.Network(seed=0)
    cell = net.population(1, AdaptiveLIFExp(tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_th=-55.0, t_ref=1.0,
                                            i_bias=20.0, theta_plus=0.2, tau_theta=1e7), v_init=-65.0)
    net.run(100.0)
    theta = cell.get("theta")[0]
    assert theta > 0.5
    cell.set(theta_plus=0.0, tau_theta=np.inf)
    n0 = cell.spikes()[0].size
    net.run(200.0)
    t = cell.spikes()[0][n0:]
    assert t.size > 3
    np.testing.assert_allclose(np.diff(t), np.diff(t)[0], rtol=1e-9)   # periodic: theta frozen
    assert cell.get("theta")[0] == pytest.approx(theta)


def _g(a, b, mu, h):
    return a + np.sum(b[:, None] * np.exp(-mu[:, None] * np.atleast_1d(h)[None, :]), axis=0)


def test_first_crossing_misses_no_crossing_on_random_exponential_sums():
    """First root of a + sum b_k exp(-mu_k h) against a dense grid, 3000 random cases."""
    rng = np.random.default_rng(0)
    scratch = neuron.make_scratch()
    grid = np.linspace(0.0, 200.0, 200001)
    checked = 0
    for _ in range(3000):
        m = rng.integers(1, 5)
        mu = np.sort(rng.choice([1 / 20, 1 / 10, 1 / 7, 1 / 5, 1 / 3, 1 / 2, 1 / 500], m, replace=False))
        b = rng.normal(0.0, 10.0, m)
        a = rng.normal(0.0, 2.0)
        if _g(a, b, mu, 0.0)[0] >= 0.0:
            continue
        h = neuron.first_crossing(a, b.copy(), mu.copy(), m, scratch[:5])
        vals = _g(a, b, mu, grid)
        above = np.flatnonzero(vals >= 1e-9)
        if above.size == 0:
            # no grid crossing: either none, or one within 1e-9 of zero/after the grid
            assert h == np.inf or h > 200.0 or abs(_g(a, b, mu, h)[0]) < 1e-6
            continue
        first_grid = grid[above[0]]
        assert h <= first_grid + 1e-12, (a, b, mu, h, first_grid)
        assert h >= first_grid - 1e-3 - 1e-9
        assert abs(_g(a, b, mu, h)[0]) < 1e-8
        checked += 1
    assert checked > 500


def test_first_crossing_at_limits_grazes_and_when_the_ascent_cannot_settle():
    """The safe ascent's edge cases: a limit of exactly 0, a near-touch, and the fallback search."""
    scratch = neuron.make_scratch()[:5]
    mu = np.array([0.1, 0.2])
    # g = a + z - z^2 with z = exp(-h/10): a maximum of a + 1/4 at z = 1/2, then down to a
    for eps in (1e-6, 1e-3):
        h = neuron.first_crossing(-0.25 + eps, np.array([1.0, -1.0]), mu, 2, scratch)
        assert h == pytest.approx(-10.0 * np.log(0.5 + np.sqrt(eps)), abs=1e-9)    # the first of two roots
    assert neuron.first_crossing(-0.25 - 1e-9, np.array([1.0, -1.0]), mu, 2, scratch) == np.inf
    # a = 0 and only negative terms: g rises toward 0 and never reaches it
    assert neuron.first_crossing(0.0, np.array([-1.0, -2.0]), mu, 2, scratch) == np.inf
    # a = 0 with a positive term: g = -z + z^2/2 < 0 tends to 0; the ascent gives up, the search says never
    assert neuron._ascend_to_root(0.0, np.array([-1.0, 0.5]), mu, 2) == -1.0
    assert neuron.first_crossing(0.0, np.array([-1.0, 0.5]), mu, 2, scratch) == np.inf


def test_adaptive_threshold_is_used_by_the_cheap_crossing_tests():
    """With theta well above the reachable drive, inputs must not trigger threshold checks
    (before the bound used theta, every input did: ~1 check per synaptic event)."""
    net = es.Network(seed=0)
    cells = net.population(20, AdaptiveLIFExp(tau_m=100.0, tau_syn_e=1.0, tau_syn_i=2.0, v_rest=-65.0,
                                              v_reset=-65.0, v_th=-52.0, t_ref=5.0, theta_plus=20.0,
                                              tau_theta=np.inf))
    net.connect(net.poisson(200, 10.0), cells, es.all_to_all(), weight=2.0, delay=1.0)
    kick = net.spike_source(1, times=[0.1], ids=[0])
    net.connect(kick, cells, es.all_to_all(), weight=5000.0, delay=0.1)     # one spike each: theta = 20 mV
    net.run(50.0)
    before = net.stats
    net.run(500.0)
    after = net.stats
    assert after["syn_events"] - before["syn_events"] > 10000
    assert (after["checks"] - before["checks"]) < 0.01 * (after["syn_events"] - before["syn_events"])
    assert after["spikes"] == before["spikes"] == 20


def test_set_state_continues_exactly_from_the_new_state():
    """set_state between runs: V then follows the analytic two-exponential solution from the
    state that was set, a neuron set above threshold fires, and bad input is refused by name."""
    net = es.Network(seed=0)
    cell = net.population(3, LIFExp(tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_th=-50.0, t_ref=2.0,
                                    tau_syn_e=5.0, tau_syn_i=5.0), v_init=-65.0)
    src = net.poisson(2, 10.0, name="src")
    net.run(5.0)
    cell.set_state(v=[-70.0, -60.0, -49.0], i_e=2.0)
    np.testing.assert_allclose(cell.get("v"), [-70.0, -60.0, -49.0])
    net.run(10.0)
    h = 10.0
    decay = (math.exp(-h / 20.0) - math.exp(-h / 5.0)) * 5.0 / (20.0 - 5.0)
    expect = -65.0 + (np.array([-70.0, -60.0]) + 65.0) * math.exp(-h / 20.0) + 2.0 * decay
    np.testing.assert_allclose(cell.get("v")[:2], expect, rtol=0, atol=1e-9)
    np.testing.assert_allclose(cell.get("i_e"), 2.0 * math.exp(-h / 5.0), rtol=1e-12)
    t, ids = cell.spikes()
    assert list(ids) == [2] and t[0] == pytest.approx(5.0)
    with pytest.raises(es.EventsimError, match="state variable 'vv'"):
        cell.set_state(vv=1.0)
    with pytest.raises(es.EventsimError, match="v must be finite"):
        cell.set_state(v=np.nan)
    with pytest.raises(es.EventsimError, match="holds sources"):
        src.set_state(v=-65.0)
