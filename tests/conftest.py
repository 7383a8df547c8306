import importlib

import pytest

import eventsim as es
from eventsim.models import LIFExp

CUBA = dict(tau_m=20.0, tau_syn_e=5.0, tau_syn_i=10.0, v_rest=-49.0, v_th=-50.0, v_reset=-60.0, t_ref=5.0)


def make_cuba(seed: int = 1, n: int = 4000, p: float = 0.02, package=es, hetero: bool = False) -> es.Network:
    """Brian2's CUBA example network (weights scaled with p to keep the regime). `package` is the
    eventsim package to build it with (benchmarks/ab_engine.py passes renamed copies of other revisions).
    hetero: tau_m uniform in [19, 21] ms per neuron (every neuron its own time-constant class)."""
    lif = LIFExp if package is es else importlib.import_module(package.__name__ + ".models").LIFExp
    net = package.Network(seed=seed)
    params = {**CUBA, "tau_m": package.uniform(19.0, 21.0)} if hetero else CUBA
    cells = net.population(n, lif(**params), v_init=package.uniform(-60.0, -50.0), name="cells")
    n_exc = int(0.8 * n)
    scale = 0.02 / p
    net.connect(cells[:n_exc], cells, package.pairwise_bernoulli(p), weight=1.62 * scale, delay=0.1)
    net.connect(cells[n_exc:], cells, package.pairwise_bernoulli(p), weight=-9.0 * scale, delay=0.1)
    return net


@pytest.fixture
def cuba_factory():
    return make_cuba
