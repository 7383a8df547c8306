"""Run under mpiexec by tests/test_distributed.py: a small network over all ranks; rank 0 saves
(times, ids) and the summed counters to the path given."""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from conftest import make_cuba  # noqa: E402

import eventsim as es  # noqa: E402
from eventsim.distributed import DistributedRun  # noqa: E402
from eventsim.learning import additive  # noqa: E402
from eventsim.models import LIFExp  # noqa: E402


def plastic_net() -> es.Network:
    net = es.Network(seed=7)
    inp = net.poisson(100, 80.0, name="inp")
    cells = net.population(60, LIFExp(tau_m=10.0, v_rest=-65.0, v_reset=-65.0, v_th=-55.0, t_ref=2.0,
                                      tau_syn_e=2.0, tau_syn_i=5.0), name="cells")
    net.connect(inp, cells, es.pairwise_bernoulli(0.3), weight=es.uniform(1.0, 4.0), delay=es.uniform(0.5, 2.0),
                plasticity=additive(lambda_=0.01, w_max=5.0))
    net.connect(cells, cells, es.fixed_indegree(10), weight=-2.0, delay=1.0)
    return net


def main(kind: str, path: str, duration: float) -> None:
    net = make_cuba(seed=3, n=1000, p=0.08) if kind == "cuba" else plastic_net()
    if path == "-":                                      # single process, plain API
        net.run(duration)
        t, i = net.populations["cells"].spikes()
        np.save(sys.argv[4], np.stack([t, i.astype(float)]))
        return
    run = DistributedRun(net)
    run.run(duration)
    res = run.spikes("cells")
    run.stats()
    if run.rank == 0:
        np.save(path, np.stack([res[0], res[1].astype(float)]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
