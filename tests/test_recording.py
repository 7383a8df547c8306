"""SONATA spike logs: layout, contents, and flushing when a run fails midway."""
import json

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim.models import LIFDelta

from conftest import make_cuba


def test_log_layout_and_contents(tmp_path):
    path = tmp_path / "spikes.h5"
    net = make_cuba(seed=3, n=1000, p=0.08)
    net.config = {"note": "test"}
    net.record_spikes(str(path))
    net.run(200.0)
    net.close()
    t_mem, i_mem = net.populations["cells"].spikes()
    with h5py.File(path, "r") as f:
        assert f.attrs["magic"] == 0x0A7A
        np.testing.assert_array_equal(f.attrs["version"], [0, 1])
        assert f.attrs["seed"] == 3 and json.loads(f.attrs["config"]) == {"note": "test"}
        assert f.attrs["eventsim_version"] == es.__version__
        g = f["spikes/cells"]
        assert h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}
        assert g.attrs["sorting"] == 2 and g.attrs["n_nodes"] == 1000
        assert g["timestamps"].attrs["units"] == "ms"
        assert g["timestamps"].dtype == np.float64 and g["node_ids"].dtype == np.uint64
        assert g["timestamps"].chunks is not None and g["timestamps"].maxshape == (None,)
        np.testing.assert_array_equal(g["timestamps"][:], t_mem)
        np.testing.assert_array_equal(g["node_ids"][:], i_mem)
    assert t_mem.size > 100


def test_failure_midway_flushes_and_closes_log(tmp_path, monkeypatch):
    path = tmp_path / "spikes.h5"
    net = es.Network(seed=0)
    net.population(50, LIFDelta(i_bias=25.0), name="cells")
    net.record_spikes(str(path), in_memory=False)
    net.build()
    done = {"t": 0.0}
    real = net._engine.run_until

    def failing(t_stop, on_spikes, samp=None, **kw):
        if t_stop > 200.0:
            raise RuntimeError("simulated crash")
        real(t_stop, on_spikes, samp, **kw)
        done["t"] = t_stop

    monkeypatch.setattr(net._engine, "run_until", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        net.run(1000.0, chunk=100.0)
    with h5py.File(path, "r") as f:                 # closed by the failed run: opens without SWMR
        t = f["spikes/cells/timestamps"][:]
    period = 20.0 * np.log(25.0 / 5.0)
    expected = 50 * int(np.floor((done["t"] - period) / (period + 2.0)) + 1)
    assert t.size == expected and t.size > 0 and t.max() <= done["t"]


def test_log_is_readable_by_analysis_while_open(tmp_path):
    from eventsim.analysis import spike_stats
    path = tmp_path / "spikes.h5"
    net = es.Network(seed=0)
    net.population(20, LIFDelta(i_bias=25.0), name="cells")
    net.record_spikes(str(path))
    net.run(100.0)
    st = spike_stats(str(path), "cells", t_start=0.0, t_stop=100.0)   # SWMR read while the writer is open
    assert st.n_spikes == net.populations["cells"].spikes()[0].size
    net.close()


def test_first_chunks_probe_the_speed_so_flushes_stay_bounded(tmp_path):
    """Before any timing exists, chunks start at 0.1 ms and double, so even the first chunk of
    a huge network cannot hold the log unflushed for long."""
    net = es.Network(seed=0)
    net.population(10, LIFDelta(i_bias=25.0), name="cells")
    assert net._chunk_step(100.0, 1.0) == 0.1
    assert net._chunk_step(100.0, 1.0, 0.1) == 0.2
    assert net._chunk_step(100.0, None) == 100.0
    net.record_spikes(str(tmp_path / "s.h5"))
    net.run(50.0)
    assert getattr(net, "_wall_per_ms", None) is None or net._wall_per_ms > 0
