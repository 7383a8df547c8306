"""Weight files: snapshots, reloading (also after pruning), and bad files."""
import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim.learning import additive
from eventsim.learning.pruning import prune_fraction
from eventsim.models import AdaptiveLIFExp


def make_net(seed=4):
    net = es.Network(seed=seed)
    inp = net.poisson(100, 80.0, name="inp")
    exc = net.population(20, AdaptiveLIFExp(tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-58.0, t_ref=2.0,
                                            tau_syn_e=2.0, tau_syn_i=5.0, theta_plus=0.5, tau_theta=1e7),
                         name="exc")
    proj = net.connect(inp, exc, es.all_to_all(), weight=es.uniform(0.0, 1.0), delay=1.0, name="inp_exc",
                       plasticity=additive(lambda_=0.01, w_max=1.0))
    return net, proj


def test_save_and_reload_weights_and_thresholds(tmp_path):
    path = str(tmp_path / "w.h5")
    net, proj = make_net()
    net.save_weights(path, label="start")
    net.run(300.0)
    prune_fraction(net, proj, 0.25)
    net.save_weights(path, label="trained")
    trained = proj.weights()
    theta = net.populations["exc"].get("theta")
    assert np.any(theta > 0)
    from eventsim.weights_io import read_projection, snapshots
    assert [label for _, _, label in snapshots(path)] == ["start", "trained"]
    assert read_projection(path, "inp_exc", 0)["weight"].size == 2000
    fresh, fproj = make_net()
    fresh.load_weights(path)
    for a, b in zip(fproj.weights(), trained):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(fresh.populations["exc"].get("theta"), theta, rtol=1e-12)
    assert fresh.graph.n_synapses == 1500


def test_bad_weight_files(tmp_path):
    net, _ = make_net()
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(es.EventsimError, match="not an eventsim weight file"):
        net.load_weights(str(foreign))
    with pytest.raises(es.EventsimError, match="cannot read weight file"):
        net.load_weights(str(tmp_path / "missing.h5"))
    path = str(tmp_path / "w.h5")
    other = es.Network(seed=1)
    a = other.poisson(50, 10.0, name="inp")
    b = other.population(20, AdaptiveLIFExp(), name="exc")
    other.connect(a, b, es.all_to_all(), weight=0.5, name="inp_exc")
    other.save_weights(path)
    with pytest.raises(es.EventsimError, match="connects 50 -> 20 neurons, the network 100 -> 20"):
        net.load_weights(path)


def test_saved_synapses_missing_from_the_network_are_an_error(tmp_path):
    """A network built with other delays (or connectivity) cannot take the saved weights: loading
    must say so, not drop the unmatched synapses."""
    path = str(tmp_path / "w.h5")
    net, _ = make_net()
    net.save_weights(path)
    other = es.Network(seed=4)
    inp = other.poisson(100, 80.0, name="inp")
    exc = other.population(20, AdaptiveLIFExp(), name="exc")
    other.connect(inp, exc, es.all_to_all(), weight=0.5, delay=2.0, name="inp_exc")
    with pytest.raises(es.EventsimError,
                       match="2000 of the 2000 synapses of projection 'inp_exc'.*no \\(pre, post, delay\\) match"):
        other.load_weights(path)
