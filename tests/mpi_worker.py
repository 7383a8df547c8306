"""Run under mpiexec by tests/test_distributed.py: small networks over all ranks; rank 0 saves
(times, ids) of each to the .npz path given.

    mpi_worker.py KIND[,KIND...] OUT.npz DURATION[,DURATION...]     (under mpiexec)
    mpi_worker.py KIND[,KIND...] - DURATION[,DURATION...] OUT.npz   (one process, plain API)

One launch runs several networks (mpiexec and imports cost more than these tiny runs)."""
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


def one(kind: str, path: str, duration: float):
    net = make_cuba(seed=3, n=1000, p=0.08) if kind == "cuba" else plastic_net()
    if path == "-":                                      # single process, plain API
        net.run(duration)
        t, i = net.populations["cells"].spikes()
        return np.stack([t, i.astype(float)])
    run = DistributedRun(net)
    run.run(duration)
    res = run.spikes("cells")
    run.stats()
    return None if run.rank else np.stack([res[0], res[1].astype(float)])


def main(kinds: str, path: str, durations: str) -> None:
    out = {k: one(k, path, float(d)) for k, d in zip(kinds.split(","), durations.split(","))}
    if all(v is not None for v in out.values()):
        np.savez(sys.argv[4] if path == "-" else path, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
