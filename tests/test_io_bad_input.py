"""Bad input to weight files, checkpoints and the networkx import: clear errors, no half-done work."""
import hashlib
import shutil

import h5py
import networkx as nx
import numpy as np
import pytest

import eventsim as es
from eventsim import checkpoint as ckmod
from eventsim.learning import additive
from eventsim.learning.pruning import prune_fraction
from eventsim.models import LIFExp

RULE = dict(tau_plus=20.0, tau_minus=20.0, w_max=5.0)


def make(seed: int = 3, log=None) -> es.Network:
    """Poisson input -> 6 neurons (plastic, all-to-all) and a static recurrent projection."""
    net = es.Network(seed=seed)
    exc = net.population(6, LIFExp(v_rest=-65.0, v_th=-52.0, v_reset=-65.0, tau_m=20.0, tau_syn_e=5.0,
                                   tau_syn_i=10.0), name="exc")
    inp = net.poisson(20, 200.0, name="inp")
    net.connect(inp, exc, es.all_to_all(), weight=es.uniform(0.0, 4.0), delay=1.0, name="in_exc",
                plasticity=additive(lambda_=0.01, **RULE))
    net.connect(exc, exc, es.pairwise_bernoulli(0.5), weight=-1.0, delay=es.uniform(0.5, 2.0), name="rec")
    if log is not None:
        net.record_spikes(str(log))
    return net


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def saved(tmp_path):
    """A weight file of a network trained for 100 ms."""
    net = make()
    net.run(100.0)
    path = tmp_path / "w.h5"
    net.save_weights(str(path))
    return path


def craft(saved, tmp_path, edit) -> str:
    """A copy of the weight file with `edit(snapshot group)` applied."""
    path = tmp_path / "crafted.h5"
    shutil.copy(saved, path)
    with h5py.File(path, "a") as f:
        edit(f["snapshots/00000"])
    return str(path)


def replace(group, name: str, value) -> None:
    del group[name]
    group[name] = value


def test_save_weights_refuses_a_spike_log_and_foreign_hdf5(tmp_path):
    log = tmp_path / "spikes.h5"
    net = make(log=log)
    net.run(5.0)
    net.close()
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.ones(3)
    for path, what in ((log, "spike log"), (foreign, "HDF5 file of another kind")):
        before = digest(path)
        with pytest.raises(es.EventsimError, match=f"'{path}' is not an eventsim weight file.*{what}"):
            net.save_weights(str(path))
        assert digest(path) == before


def test_failed_load_changes_nothing(saved, tmp_path):
    def shift_delay(s):
        d = s["projections/rec/delay"][()]
        d[0] += 0.125
        s["projections/rec/delay"][...] = d
    net = make()
    before = [a.copy() for a in net.projections[0].weights()]
    with pytest.raises(es.EventsimError, match="projection 'rec'"):
        net.load_weights(craft(saved, tmp_path, shift_delay))
    for a, b in zip(net.projections[0].weights(), before):      # in_exc (checked first) is untouched
        np.testing.assert_array_equal(a, b)


def _weight(k: int, value: float):
    def edit(s):
        w = s["projections/in_exc/weight"][()]
        w[k] = value
        s["projections/in_exc/weight"][...] = w
    return edit


def _pop(name: str, value):
    return lambda s: replace(s["populations/exc"], name, value)


@pytest.mark.parametrize("edit, match", [
    (_weight(0, np.nan), r"in_exc/weight \(mV\) must lie in \[0, 5\]"),
    (_weight(1, 50.0), r"in_exc/weight \(mV\) must lie in \[0, 5\]"),
    (_weight(2, -3.0), r"in_exc/weight \(mV\) must lie in \[0, 5\]"),
    (_pop("v_th", np.full(6, -80.0)), r"exc\.v_reset must be < v_th"),
    (_pop("v_th", np.ones(3)), r"exc\.v_th must be a number or 6 numbers"),
    (_pop("t_ref", np.full(6, -1.0)), r"exc\.t_ref must lie in \[0, inf\)"),
    (lambda s: s["projections/in_exc"].__delitem__("weight"), "dataset .*/in_exc/weight is missing"),
    (lambda s: s["populations/exc"].__delitem__("theta"), "dataset .*/exc/theta is missing"),
    (lambda s: replace(s["projections/in_exc"], "weight", np.ones(10, np.float32)),
     "in_exc: datasets pre, post, weight and delay must be 1-D and of equal length"),
])
def test_load_weights_rejects_bad_files(saved, tmp_path, edit, match):
    net = make()
    v_th = net.populations["exc"].get("v_th")
    with pytest.raises(es.EventsimError, match=match):
        net.load_weights(craft(saved, tmp_path, edit))
    np.testing.assert_array_equal(net.populations["exc"].get("v_th"), v_th)


@pytest.mark.parametrize("snapshot", [1.5, None, True])
def test_load_weights_rejects_bad_snapshot_arguments(saved, snapshot):
    with pytest.raises(es.EventsimError, match="snapshot must be an index"):
        make().load_weights(str(saved), snapshot=snapshot)


def test_dense_snapshot_into_pruned_network_says_pruned(tmp_path):
    net = make()
    net.run(20.0)
    path = str(tmp_path / "dense.h5")
    net.save_weights(path)
    prune_fraction(net, net.projections[0], 0.5)
    with pytest.raises(es.EventsimError, match="the network was pruned, the snapshot was not"):
        net.load_weights(path)


def test_checkpoint_after_set_plasticity_resumes_with_the_original_factory(tmp_path):
    faster = additive(lambda_=np.float64(0.05), nearest=np.bool_(False), **RULE)  # numpy scalars survive the record

    def first_part(net):
        net.run(60.0)
        net.projections[0].set_plasticity(faster)
        net.run(20.0)
        return net
    ref = first_part(make())
    ref.run(120.0)
    net = first_part(make())
    net.checkpoint(str(tmp_path / "ck.h5"))
    resumed = ckmod.resume(str(tmp_path / "ck.h5"), make)
    assert resumed.projections[0].plasticity == faster
    resumed.run(120.0)
    for a, b in zip(resumed.populations["exc"].spikes(), ref.populations["exc"].spikes()):
        np.testing.assert_array_equal(a, b)
    for pa, pb in zip(resumed.projections, ref.projections):
        for a, b in zip(pa.weights(), pb.weights()):
            np.testing.assert_array_equal(a, b)


def test_checkpoint_to_a_directory_names_the_path(tmp_path):
    net = make()
    net.run(1.0)
    with pytest.raises(es.EventsimError, match=f"checkpoint: '{tmp_path}' is a directory"):
        net.checkpoint(str(tmp_path))


def nx_net():
    net = es.Network(seed=1)
    return net, net.population(4, LIFExp(tau_syn_e=5.0, tau_syn_i=10.0), name="a")


@pytest.mark.parametrize("graph, match", [
    (nx.DiGraph([(0, 1, {"delay": [1, 7]}), (2, 3, {"delay": [2, 9]})]),
     r"edge \(0, 1\) attribute 'delay' \(ms\) must be a single number"),
    (nx.DiGraph([(0, 1, {"weight": 1.0}), (2, 3, {"weight": "heavy"})]),
     r"edge \(2, 3\) attribute 'weight' \(mV\) must be a single number"),
    (nx.DiGraph([(2, 3, {"weight": np.inf})]), r"edge \(2, 3\) attribute 'weight' \(mV\) must be finite"),
    (nx.DiGraph([(2, 3, {"delay": 0.0})]), r"edge \(2, 3\) attribute 'delay' \(ms\) must lie in \(0, inf\)"),
])
def test_connect_networkx_checks_every_edge_attribute(graph, match):
    net, a = nx_net()
    with pytest.raises(es.EventsimError, match=match):
        net.connect_networkx(graph, a, a)


def test_connect_networkx_empty_graph_connects_nothing():
    net, a = nx_net()
    proj = net.connect_networkx(nx.DiGraph(), a, a)
    net.run(1.0)
    assert proj.n_synapses == 0 and proj.weights()[2].size == 0


def test_projection_weight_is_current_after_learning_and_pruning():
    net = make()
    proj = net.projections[0]
    initial = proj.weight.copy()
    net.run(50.0)
    prune_fraction(net, proj, 0.5)
    pre, post, w = proj.weights()
    assert w.size == initial.size // 2
    np.testing.assert_array_equal(proj.weight, w)
    np.testing.assert_array_equal(proj.pre_local, pre)
    np.testing.assert_array_equal(proj.post_local, post)
    assert proj.delay.size == w.size


@pytest.mark.parametrize("receptor, bad, match", [
    ("inhibitory", 0.5, r"rec/weight \(mV\) must lie in \[-3\.40282e\+38, 0\]"),
    ("excitatory", -0.5, r"rec/weight \(mV\) must lie in \[0, 3\.40282e\+38\]"),
])
def test_load_weights_keeps_the_receptor_sign_of_static_projections(tmp_path, receptor, bad, match):
    """A weight whose sign contradicts connect(receptor=...) would move the synapse to the other
    current; the file is refused, as connect refuses it."""
    def build():
        net = es.Network(seed=1)
        a = net.population(5, LIFExp(v_rest=-65.0, v_th=-52.0, v_reset=-65.0), name="a")
        net.connect(a, a, es.all_to_all(), weight=1.0, delay=1.0, receptor=receptor, name="rec")
        return net
    net = build()
    net.run(1.0)
    path = tmp_path / "w.h5"
    net.save_weights(str(path))
    def flip(s):
        w = s["projections/rec/weight"][()]
        w[3] = bad
        s["projections/rec/weight"][...] = w
    fresh = build()
    before = fresh.projections[0].weights()[2].copy()
    with pytest.raises(es.EventsimError, match=match):
        fresh.load_weights(craft(path, tmp_path, flip))
    np.testing.assert_array_equal(fresh.projections[0].weights()[2], before)
    fresh.load_weights(str(path))        # the file as saved loads
