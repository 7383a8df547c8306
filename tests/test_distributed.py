"""Partitioned (MPI) runs are bit-identical to single-process runs, for 2, 3 and 4 ranks (4 ranks
oversubscribe a 2-core machine: fine for these tiny networks); `mpiexec -n 2 eventsim run` writes the
same SONATA log as `eventsim run`."""
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


KINDS, DURATIONS = "cuba,plastic", "100,300"


def run_worker(out: str, ranks: int | None = None) -> dict:
    cmd = [sys.executable, WORKER, KINDS] + ([out, DURATIONS] if ranks else ["-", DURATIONS, out])
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    with np.load(out) as f:
        return dict(f)


def test_partitioned_runs_are_bit_identical(tmp_path):
    """A static CUBA network (delay 0.1 ms: 1000 windows) and a plastic one (STDP, delays
    uniform in 0.5..2 ms, Poisson input) on 2, 3 and 4 ranks."""
    ref = run_worker(str(tmp_path / "single.npz"))
    for kind in ref:
        assert ref[kind].shape[1] > 100
    for n in (2, 3, 4):
        got = run_worker(str(tmp_path / f"r{n}.npz"), ranks=n)
        for kind in ref:
            np.testing.assert_array_equal(got[kind], ref[kind], err_msg=f"{kind} on {n} ranks")


def test_zero_min_delay_is_refused():
    import eventsim as es
    from eventsim.distributed import DistributedRun, min_delay
    from eventsim.models import LIFDelta
    net = es.Network(seed=0)
    a = net.population(10, LIFDelta())
    net.connect(a, a, es.all_to_all(), weight=1.0, delay=es.uniform(1e-5, 1.0))
    assert min_delay(net) == pytest.approx(1e-5)

    class TwoRanks:                       # a communicator that claims two ranks
        def Get_rank(self):
            return 0

        def Get_size(self):
            return 2
    with pytest.raises(es.EventsimError, match="minimum delay"):
        DistributedRun(net, comm=TwoRanks())


TINY = """
seed = 5
duration = 300.0
[populations.exc]
size = 160
model = "LIFExp"
params = { tau_m = 20.0, v_rest = -49.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, tau_syn_e = 5.0, tau_syn_i = 10.0 }
v_init = { dist = "uniform", low = -60.0, high = -50.0 }
[populations.inh]
size = 40
model = "LIFExp"
params = { tau_m = 20.0, v_rest = -49.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0, tau_syn_e = 5.0, tau_syn_i = 10.0 }
v_init = { dist = "uniform", low = -60.0, high = -50.0 }
[sources.ext]
type = "poisson"
size = 20
rate = 20.0
record = true
[[projections]]
pre = "exc"
post = "exc"
connector = { type = "fixed_indegree", k = 20 }
weight = 1.5
delay = { dist = "uniform", low = 0.5, high = 1.5 }
[[projections]]
pre = "exc"
post = "inh"
connector = { type = "fixed_indegree", k = 20 }
weight = 1.5
delay = 0.8
[[projections]]
pre = "inh"
post = "exc"
connector = { type = "fixed_indegree", k = 10 }
weight = -1.0
delay = 0.6
[[projections]]
pre = "ext"
post = "exc"
connector = { type = "fixed_indegree", k = 2 }
weight = 2.0
delay = 1.0
"""


def eventsim_cli(args, ranks=None):
    cmd = [sys.executable, "-m", "eventsim.cli", *args]
    if ranks:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_mpiexec_eventsim_run_writes_the_same_log(tmp_path):
    import h5py
    from eventsim.cli import main
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    assert main(["run", str(cfg), "--out", str(tmp_path / "one"), "--no-plot", "--no-progress"]) == 0
    r = eventsim_cli(["run", str(cfg), "--out", str(tmp_path / "two"), "--no-plot", "--no-progress"], ranks=2)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("wrote ") == 1 and "on 2 MPI ranks" in r.stdout     # rank 0 reports, once
    with h5py.File(tmp_path / "one" / "spikes.h5", "r") as a, h5py.File(tmp_path / "two" / "spikes.h5", "r") as b:
        assert dict(a.attrs).keys() == dict(b.attrs).keys()
        for key in a.attrs:
            if key != "run_id":                     # random per run (which run wrote the log), by design
                np.testing.assert_array_equal(a.attrs[key], b.attrs[key])
        assert a.attrs["run_id"] != b.attrs["run_id"]
        assert sorted(a["spikes"]) == sorted(b["spikes"]) == ["exc", "ext", "inh"]
        for pop in a["spikes"]:
            assert a[f"spikes/{pop}"].attrs["sorting"] == b[f"spikes/{pop}"].attrs["sorting"]
            for ds in ("timestamps", "node_ids"):
                x, y = a[f"spikes/{pop}/{ds}"][:], b[f"spikes/{pop}/{ds}"][:]
                assert x.dtype == y.dtype
                np.testing.assert_array_equal(x, y, err_msg=f"{pop}/{ds}")
            assert a[f"spikes/{pop}/timestamps"].size > 100
    import json
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    two = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert (two["ranks"], two["n_synapses"], two["syn_events"]) == (2, one["n_synapses"], one["syn_events"])
    assert two["populations"] == one["populations"]
    # flags that cannot work across ranks are refused, with one message (rank 0's)
    r = eventsim_cli(["run", str(cfg), "--out", str(tmp_path / "x"), "--checkpoint-every", "10"], ranks=2)
    assert r.returncode == 2
    assert r.stderr.count("--checkpoint-every is not supported in a distributed run (2 MPI ranks)") == 1
