"""The reliability review of 2026-11-24: checkpoints protect their attributes, resume never
splices another run's log, and a checkpoint cannot overwrite the spike log."""
from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim import checkpoint as ckmod
from eventsim.models import LIFExp


def _net(log, seed: int = 1) -> es.Network:
    net = es.Network(seed=seed)
    a = net.population(50, LIFExp(v_rest=-49.0, v_th=-50.0, v_reset=-60.0, tau_m=20.0, tau_syn_e=5.0,
                                  tau_syn_i=10.0, t_ref=5.0), v_init=es.uniform(-60.0, -50.0), name="a")
    net.connect(a, a, es.pairwise_bernoulli(0.1), weight=-1.0, delay=1.0)
    net.record_spikes(str(log))
    return net


def _checkpointed(tmp_path, ms: float) -> tuple:
    """(log path, checkpoint path) of a network run for `ms`, checkpointed and closed."""
    log, ck = tmp_path / "s.h5", str(tmp_path / "ck.h5")
    net = _net(log)
    net.run(ms)
    net.checkpoint(ck)
    net.close()
    return log, ck


def test_an_altered_attribute_fails_the_checksum(tmp_path):
    """The log's row counts, the run settings and the engine scalars live in attributes: one
    flipped count made resume drop 1000 spikes silently."""
    net = _net(tmp_path / "s.h5")
    net.run(50.0)
    ck = str(tmp_path / "ck.h5")
    net.checkpoint(ck)
    ckmod.read(ck)                                    # intact: fine
    bad = tmp_path / "bad.h5"
    shutil.copy(ck, bad)
    with h5py.File(bad, "a") as f:
        log = json.loads(f.attrs["log"])
        log["rows"]["a"] -= 1
        f.attrs["log"] = json.dumps(log, sort_keys=True)
    with pytest.raises(es.EventsimError, match="checksum mismatch"):
        ckmod.read(str(bad))
    shutil.copy(ck, bad)
    with h5py.File(bad, "a") as f:
        f.attrs["t_ms"] = 49.0
    with pytest.raises(es.EventsimError, match="checksum mismatch"):
        ckmod.read(str(bad))


def test_resume_refuses_the_log_of_another_run(tmp_path):
    log, ck = _checkpointed(tmp_path, 50.0)
    other = _net(log, seed=2)                          # a later run into the same file
    other.run(80.0)
    other.close()
    with pytest.raises(es.EventsimError, match="written by another run"):
        ckmod.resume(ck, lambda: _net(log))


def test_resumed_log_keeps_the_run_id_so_a_second_resume_works(tmp_path):
    log = tmp_path / "s.h5"
    net = _net(log)
    net.run(30.0)
    net.checkpoint(str(tmp_path / "ck1.h5"))
    net.close()
    net = ckmod.resume(str(tmp_path / "ck1.h5"), lambda: _net(log))
    net.run(30.0)
    net.checkpoint(str(tmp_path / "ck2.h5"))
    net.close()
    net = ckmod.resume(str(tmp_path / "ck2.h5"), lambda: _net(log))
    net.run(30.0)
    net.close()
    ref_log = tmp_path / "ref.h5"
    ref = _net(ref_log)
    ref.run(90.0)
    ref.close()
    with h5py.File(log, "r") as a, h5py.File(ref_log, "r") as b:
        np.testing.assert_array_equal(a["spikes/a/timestamps"][()], b["spikes/a/timestamps"][()])


def test_checkpoint_onto_the_spike_log_is_refused(tmp_path):
    log = tmp_path / "s.h5"
    net = _net(log)
    net.run(20.0)
    with pytest.raises(es.EventsimError, match="is the network's spike log"):
        net.checkpoint(str(log))
    net.close()
    with h5py.File(log, "r") as f:
        assert f["spikes/a/timestamps"].size > 0


def test_projection_names_are_unique_strings():
    """Checkpoints store rules by projection name: two projections named 'ff' both got the
    second one's rule on resume."""
    net = es.Network(seed=1)
    a = net.population(5, LIFExp(v_rest=-65.0, v_th=-50.0, v_reset=-65.0), name="a")
    net.connect(a, a, es.all_to_all(), weight=1.0, delay=1.0, name="ff")
    with pytest.raises(es.EventsimError, match="projection name 'ff' is already used"):
        net.connect(a, a, es.one_to_one(), weight=1.0, delay=2.0, name="ff")
    for bad in (5, ""):
        with pytest.raises(es.EventsimError, match="projection name must be a non-empty string"):
            net.connect(a, a, es.one_to_one(), weight=1.0, delay=2.0, name=bad)
        with pytest.raises(es.EventsimError, match="population name must be a non-empty string"):
            net.population(3, LIFExp(), name=bad)


@pytest.mark.parametrize("weight", [1e39, -1e39, es.uniform(0.0, 1e39), es.normal_clipped(0.0, 1e38)])
def test_weights_beyond_float32_are_refused(weight):
    """1e39 became inf in the float32 weights: potentials NaN, no spikes, exit 0."""
    net = es.Network(seed=1)
    a = net.population(5, LIFExp(v_rest=-65.0, v_th=-50.0, v_reset=-65.0))
    with pytest.raises(es.EventsimError, match=r"weight \(mV\) must lie in .* \(weights are float32"):
        net.connect(a, a, es.all_to_all(), weight=weight, delay=1.0)
    net.connect(a, a, es.all_to_all(), weight=3e38, delay=1.0)      # fits


def test_absurd_source_sizes_are_refused_before_allocating():
    net = es.Network(seed=1)
    for make in (lambda: net.poisson(10 ** 13, 5.0), lambda: net.spike_source(10 ** 13, [1.0], [0])):
        with pytest.raises(es.EventsimError, match=r"size must be a whole number in \[1, 2147483647\]"):
            make()


def test_a_failed_log_write_is_one_line_and_the_writer_stops(tmp_path):
    """A full disk: HDF5's multi-line message became an 'internal error' and a crash; now one
    line with the OS reason, and nothing more is written (close() is then a no-op)."""
    from eventsim.recording import SonataWriter

    class Full:
        shape = (0,)

        def resize(self, shape):
            raise RuntimeError("Unable to synchronously flush file (file write failed: time = now\n, filename = "
                               "'x.h5', errno = 28, error message = 'No space left on device', buf = 0x1)")

    w = SonataWriter(str(tmp_path / "s.h5"), {"a": 3}, {})
    w.ts["a"] = Full()
    w.append("a", np.array([1.0]), np.array([0]))
    with pytest.raises(es.EventsimError) as err:
        w.flush(2.0)
    assert str(err.value) == f"cannot write spike log '{tmp_path / 's.h5'}': No space left on device (errno 28)"
    w.close(3.0)                                       # no second error, no crash
    with pytest.raises(es.EventsimError, match="No space left on device"):
        w.flush(4.0)


def test_run_after_close_or_an_interrupted_run_is_refused_before_advancing(tmp_path):
    """It failed with 'Unable to synchronously get dataspace' after the engine had advanced."""
    net = _net(tmp_path / "s.h5")
    net.run(10.0)
    net.close()
    t = net.t
    with pytest.raises(es.EventsimError, match="is closed \\(net.close\\(\\)\\)"):
        net.run(10.0)
    assert net.t == t
    net = _net(tmp_path / "i.h5")

    def interrupt(n):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        net.run(50.0, chunk=5.0, on_chunk=interrupt)
    with pytest.raises(es.EventsimError, match="is closed \\(the last run stopped abnormally \\(KeyboardInterrupt"):
        net.run(10.0)
    mem = es.Network(seed=1)                  # without a log the network may go on, as before
    mem.population(5, __import__("eventsim.models", fromlist=["LIFExp"]).LIFExp(v_rest=-49.0, v_th=-50.0))
    with pytest.raises(KeyboardInterrupt):
        mem.run(50.0, chunk=5.0, on_chunk=interrupt)
    mem.run(10.0)
    assert mem.t == pytest.approx(15.0)


def test_resume_into_a_directory_names_log_path(tmp_path):
    log, ck = _checkpointed(tmp_path, 10.0)
    with pytest.raises(es.EventsimError, match="resume log_path: .* is a directory"):
        ckmod.resume(ck, lambda: _net(log), log_path=str(tmp_path))


def test_format_2_checkpoints_still_resume(tmp_path):
    """Checkpoints written before 2026-11-24 (format 2) hash their arrays only; they still read."""
    log, ck = _checkpointed(tmp_path, 20.0)
    with h5py.File(ck, "a") as f:
        hasher = ckmod._Hasher()
        names = []
        f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
        for n in sorted(names):
            hasher.add(n, f[n][()])
        f.attrs["format"] = 2
        f.attrs["checksum"] = hasher.h.hexdigest()
    ckmod.resume(ck, lambda: _net(log)).run(10.0)


def _tiny() -> es.Network:
    """The network of tests/fixtures/checkpoint_6a9d36a.h5.gz (3 neurons, run 30 ms, checkpointed)."""
    net = es.Network(seed=5)
    a = net.population(3, LIFExp(tau_m=20.0, tau_syn_e=5.0, tau_syn_i=10.0, v_rest=-49.0, v_th=-50.0,
                                 v_reset=-60.0, t_ref=2.0), name="a")
    net.connect(a, a, es.all_to_all(allow_autapses=False), weight=2.0, delay=1.5)
    return net


def test_a_checkpoint_written_by_an_earlier_version_resumes(tmp_path):
    """Written at commit 6a9d36a (before Engine.t_reached existed): new engine attributes that are
    not state at a chunk boundary must be listed as transient, or old checkpoints stop resuming."""
    import gzip
    import os
    src = os.path.join(os.path.dirname(__file__), "fixtures", "checkpoint_6a9d36a.h5.gz")
    ck = tmp_path / "old.h5"
    with gzip.open(src, "rb") as f_in, open(ck, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    net = ckmod.resume(str(ck), _tiny)
    assert net.t == 30.0
    net.run(20.0)
    straight = _tiny()
    straight.run(50.0)
    np.testing.assert_array_equal(net.populations["a"].spikes()[0], straight.populations["a"].spikes()[0])


def test_automatic_projection_names_avoid_user_names():
    net = es.Network(seed=1)
    a = net.population(3, LIFExp(v_rest=-65.0, v_th=-50.0, v_reset=-65.0))
    net.connect(a, a, es.all_to_all(), weight=1.0, delay=1.0, name="proj2")
    p = net.connect(a, a, es.one_to_one(), weight=1.0, delay=2.0)
    assert p.name not in ("proj2",) and p.name.startswith("proj")


def test_run_after_a_failed_log_write_is_refused_before_advancing(tmp_path):
    net = _net(tmp_path / "s.h5")
    net.run(5.0)
    net._writer.failed = "cannot write spike log 'x': No space left on device (errno 28)"
    t = net.t
    with pytest.raises(es.EventsimError, match="No space left on device.*resume from a checkpoint"):
        net.run(5.0)
    assert net.t == t
    net._writer.failed = None                # let the test's log close normally
    net.close()
