"""Partitioned (MPI) runs are bit-identical to single-process runs, for 2 and 3 ranks."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or os.path.join(os.path.dirname(sys.executable), "mpiexec")
if not os.path.exists(MPIEXEC):
    pytest.skip("no mpiexec", allow_module_level=True)
WORKER = os.path.join(os.path.dirname(__file__), "mpi_worker.py")


def run_ranks(n: int, kind: str, out: str, duration: float) -> np.ndarray:
    r = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, WORKER, kind, out, str(duration)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return np.load(out)


@pytest.mark.parametrize("kind, duration", [("cuba", 200.0), ("plastic", 300.0)])
def test_partitioned_runs_are_bit_identical(tmp_path, kind, duration):
    single = tmp_path / "single.npy"
    r = subprocess.run([sys.executable, WORKER, kind, "-", str(duration), str(single)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = np.load(single)
    assert ref.shape[1] > 100
    for n in (2, 3):
        got = run_ranks(n, kind, str(tmp_path / f"r{n}.npy"), duration)
        np.testing.assert_array_equal(got, ref)


def test_zero_min_delay_is_refused():
    from mpi4py import MPI
    import eventsim as es
    from eventsim.distributed import DistributedRun, min_delay
    from eventsim.models import LIFDelta
    net = es.Network(seed=0)
    a = net.population(10, LIFDelta())
    net.connect(a, a, es.all_to_all(), weight=1.0, delay=es.uniform(1e-9, 1.0))
    assert min_delay(net) == pytest.approx(1e-9)

    class TwoRanks:                       # a communicator that claims two ranks
        def Get_rank(self):
            return 0

        def Get_size(self):
            return 2
    with pytest.raises(es.EventsimError, match="minimum delay"):
        DistributedRun(net, comm=TwoRanks())
