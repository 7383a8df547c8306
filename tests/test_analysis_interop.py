"""Interoperability of eventsim spike logs and eventsim.analysis with other tools:
libsonata (reads eventsim's SONATA logs), pynwb (``eventsim export --nwb``) and
Elephant (same rates, ISI CV and Fano factors). Each test runs when its library is
installed (the ``test`` extra installs them) and is skipped otherwise."""
from __future__ import annotations

import sys
import warnings

import h5py
import numpy as np
import pytest

from eventsim.analysis import SpikeLog, cli, fano_factor, spike_stats, summarize
from eventsim.analysis.nwb import export_nwb, group_by_node

from test_analysis import poisson_log, write_log

T_STOP = 2000.0  # ms simulated
pytestmark = pytest.mark.filterwarnings(  # Elephant 1.2 with quantities >= 0.16
    "ignore:The 'copy' argument in Quantity is deprecated")


@pytest.fixture(scope="module")
def sim_log(tmp_path_factory):
    """A log written by eventsim's own SonataWriter: 40 LIF neurons driven by 50
    recorded Poisson sources. Returns (path, {population: (times, ids, n_nodes)})."""
    import eventsim as es
    from eventsim.models import LIFDelta

    path = str(tmp_path_factory.mktemp("sim") / "spikes.h5")
    net = es.Network(seed=3)
    cells = net.population(40, LIFDelta(i_bias=es.uniform(10.0, 30.0)), name="cells",
                           v_init=es.uniform(-70.0, -55.0))
    inp = net.poisson(50, 20.0, name="input", record=True)
    net.connect(inp, cells, es.pairwise_bernoulli(0.3), weight=es.uniform(0.5, 2.0),
                delay=es.uniform(0.5, 3.0))
    net.record_spikes(path)
    net.run(T_STOP, progress=False)
    net.close()
    mem = {}
    for pop in (cells, inp):
        t, i = pop.spikes()
        assert t.size > 500
        mem[pop.name] = (np.asarray(t, np.float64), np.asarray(i, np.int64), len(pop))
    return path, mem


# -- libsonata ---------------------------------------------------------------------
def test_libsonata_reads_eventsim_log(sim_log):
    libsonata = pytest.importorskip("libsonata")
    path, mem = sim_log
    reader = libsonata.SpikeReader(path)
    assert sorted(reader.get_population_names()) == sorted(mem)
    with h5py.File(path, "r") as f:
        assert f["spikes/cells/timestamps"].attrs["units"] == "ms"
    for name, (t, ids, _) in mem.items():
        pop = reader[name]
        assert pop.sorting == "by_time"
        assert pop.time_units == "ms"
        d = pop.get_dict()
        # exactly the recorded spikes, in file (time) order, bit for bit
        np.testing.assert_array_equal(d["timestamps"], t)
        np.testing.assert_array_equal(d["node_ids"].astype(np.int64), ids)
        got = pop.get()
        assert len(got) == t.size
        assert [(int(n), float(x)) for n, x in got[:50]] == list(zip(ids[:50].tolist(),
                                                                       t[:50].tolist()))
        assert pop.times == (t[0], t[-1])
        # libsonata's node/time selection agrees with eventsim's reader
        nodes, t0, t1 = [1, 3, 7], 250.25, 1250.75
        sel = pop.get(node_ids=nodes, tstart=t0, tstop=t1)
        with SpikeLog(path) as log:
            ours = log.load_spikes(name, nodes, t_start=t0, t_stop=t1)
        for n in nodes:
            np.testing.assert_array_equal(sorted(x for k, x in sel if k == n), ours[n])


def test_libsonata_reads_eventsim_log_written_by_readme_example(tmp_path):
    libsonata = pytest.importorskip("libsonata")
    import eventsim as es
    from eventsim.models import LIFDelta

    path = str(tmp_path / "spikes.h5")
    net = es.Network(seed=0)
    cells = net.population(20, LIFDelta(i_bias=25.0), name="cells")
    net.record_spikes(path)
    net.run(100.0, progress=False)
    net.close()
    t, ids = cells.spikes()
    d = libsonata.SpikeReader(path)["cells"].get_dict()
    np.testing.assert_array_equal(d["timestamps"], t)
    np.testing.assert_array_equal(d["node_ids"], ids)
    assert t.size == 40


# -- SONATA files written the bmtk way -----------------------------------------------
@pytest.mark.parametrize("value, expect", [
    ("by_time", "by_time"), (b"by_time", "by_time"), ("time", "by_time"),
    ("by_id", "by_id"), ("id", "by_id"), ("none", "none"), ("unknown", "none")])
def test_bmtk_string_sorting_spellings(tmp_path, value, expect):
    # bmtk's write_sonata: magic/version as uint32, `sorting` a plain (variable-length)
    # string, timestamps float64 with units, node_ids uint64, no n_nodes attribute
    t = np.array([1.0, 2.0, 4.0, 7.0])
    ids = np.array([0, 1, 0, 0])
    if expect == "by_id":
        o = np.lexsort((t, ids))
        t, ids = t[o], ids[o]
    p = write_log(tmp_path / "bmtk.h5", {"v1": (t, ids, None)}, sorting=("str", value))
    with h5py.File(p, "r") as f:  # really a string attribute, not the enum
        assert h5py.check_enum_dtype(f["spikes/v1"].attrs.get_id("sorting").dtype) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # inferred n_nodes
        with SpikeLog(p) as log:
            assert log.info().sorting == expect
        s = spike_stats(p, t_stop=10.0)
    np.testing.assert_array_equal(s.counts, [3, 1])
    assert s.cv[0] == pytest.approx(np.std([3.0, 3.0]) / 3.0)


# -- NWB ---------------------------------------------------------------------------
def test_export_nwb_cli_roundtrip(sim_log, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    path, mem = sim_log
    out = str(tmp_path / "spikes.nwb")
    assert cli.main(["export", "--nwb", path, "--out", out, "--chunk-rows", "97"]) == 0
    assert pynwb.validate(path=out) == []
    with pynwb.NWBHDF5IO(out, "r") as io:
        nwb = io.read()
        units = nwb.units
        df = units.to_dataframe()
        assert len(df) == sum(n for _, _, n in mem.values())
        assert set(df.columns) >= {"spike_times", "population", "node_id"}
        assert '"seed": 3' in nwb.notes
        for name, (t, ids, n) in mem.items():
            rows = df[df["population"] == name]
            assert rows["node_id"].tolist() == list(range(n))
            for node, got in zip(rows["node_id"], rows["spike_times"]):
                want = t[ids == node] / 1000.0  # seconds
                np.testing.assert_array_equal(np.asarray(got), want)


def test_export_nwb_window_population_and_safety(sim_log, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    path, mem = sim_log
    out = str(tmp_path / "w.nwb")
    export_nwb(path, out, populations=["cells"], t_start=500.0, t_stop=1500.0)
    t, ids, n = mem["cells"]
    with pynwb.NWBHDF5IO(out, "r") as io:
        units = io.read().units
        assert len(units) == n and set(units["population"][:]) == {"cells"}
        for k in range(n):
            want = t[(ids == k) & (t >= 500.0) & (t < 1500.0)] / 1000.0
            np.testing.assert_array_equal(units["spike_times"][k], want)
            np.testing.assert_array_equal(units["obs_intervals"][k], [[0.5, 1.5]])
    with pytest.raises(ValueError, match="output file exists"):
        export_nwb(path, out)
    with pytest.raises(ValueError, match="overwrite the input log"):
        export_nwb(path, path, overwrite=True)
    export_nwb(path, out, overwrite=True, populations=["input"])


def test_export_nwb_uses_the_recorded_interval(sim_log, tmp_path):
    """Without --t-start/--t-stop the export covers the interval the log records (its
    obs_intervals say so); a window that starts after the recorded end is an error, not an
    empty file."""
    pynwb = pytest.importorskip("pynwb")
    path, mem = sim_log
    out = str(tmp_path / "r.nwb")
    assert cli.main(["export", "--nwb", path, "--out", out]) == 0
    with pynwb.NWBHDF5IO(out, "r") as io:
        units = io.read().units
        np.testing.assert_array_equal(units["obs_intervals"][0], [[0.0, T_STOP / 1000.0]])
    with pytest.raises(ValueError, match=r"t_start \(2100.0 ms\) is not before the end of the recorded interval "
                                         r"\[0.0, 2000.0\) ms"):
        export_nwb(path, str(tmp_path / "late.nwb"), t_start=T_STOP + 100.0)
    assert not (tmp_path / "late.nwb").exists()


def test_export_nwb_without_pynwb_is_one_line_error(sim_log, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pynwb", None)  # import pynwb -> ImportError
    path, _ = sim_log
    out = tmp_path / "x.nwb"
    assert cli.main(["export", "--nwb", path, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install pynwb" in err and err.startswith("eventsim: error:")
    assert not out.exists()


def test_group_by_node_unsorted_log(tmp_path):
    p, ts = poisson_log(tmp_path / "r.h5", n=6, order="random", sorting="none", seed=2)
    with SpikeLog(p) as log:
        times, offsets = group_by_node(log, "exc", 6, chunk_rows=13)
        sub, sub_off = group_by_node(log, "exc", 6, t_start=1000.0, t_stop=2000.0)
    for k, want in enumerate(ts):
        np.testing.assert_array_equal(times[offsets[k]:offsets[k + 1]], want)
        np.testing.assert_array_equal(sub[sub_off[k]:sub_off[k + 1]],
                                      want[(want >= 1000.0) & (want < 2000.0)])


# -- Elephant ----------------------------------------------------------------------
def _elephant():
    pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    es_stats = pytest.importorskip("elephant.statistics")
    return es_stats, pq


@pytest.mark.parametrize("source", ["poisson", "eventsim"])
def test_rates_cv_fano_equal_elephant(tmp_path, sim_log, source):
    """Like for like:

    - rate: eventsim counts spikes in [t_start, t_stop) / duration; Elephant's
      ``mean_firing_rate(st)`` = len(st) / (st.t_stop - st.t_start) on a SpikeTrain
      spanning the same interval.
    - CV: both std(ISI, ddof=0) / mean(ISI). eventsim reports NaN for neurons with fewer
      than 3 spikes (1 ISI), where Elephant's ``cv`` returns 0 (and NaN for no ISI).
    - Fano: Elephant's ``fanofactor`` is over a list of trains (trials): var(counts,
      ddof=0) / mean(counts). eventsim's per-neuron Fano is over consecutive complete
      windows [t_start + k*bin, t_start + (k+1)*bin) of one neuron, so each window is
      passed to Elephant as one trial (half-open, cut with numpy: neo's ``time_slice``
      would include spikes on both window edges). The population Fano uses the pooled
      population spikes of each window as the trial. eventsim: NaN for silent neurons.
    """
    es_stats, pq = _elephant()
    import neo

    if source == "poisson":
        path, trains = poisson_log(tmp_path / "p.h5", n=15, rate_hz=30.0, t_stop=5000.0,
                                   order="time")
        name, t_stop, n = "exc", 5000.0, 15
    else:
        path, mem = sim_log
        name, t_stop = "cells", T_STOP
        t, ids, n = mem[name]
        trains = [t[ids == k] for k in range(n)]
    t_start, width = 0.0, 100.0
    summ = summarize(path, name, t_start=t_start, t_stop=t_stop, bin=width, chunk_rows=61)
    st_ours, ff_ours = summ.stats, summ.fano
    assert ff_ours.n_windows == int((t_stop - t_start) // width)

    rates, n_cv = [], 0
    for k, tk in enumerate(trains):
        st = neo.SpikeTrain(tk * pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms)
        rate = float(es_stats.mean_firing_rate(st).rescale(pq.Hz).magnitude)
        rates.append(rate)
        assert st_ours.rates[k] == pytest.approx(rate, rel=1e-12, abs=0)
        isi = es_stats.isi(st)
        if tk.size >= 3:
            cv = float(es_stats.cv(isi))
            assert st_ours.cv[k] == pytest.approx(cv, rel=1e-12, abs=1e-15)
            isi_ms = isi.rescale(pq.ms).magnitude
            assert st_ours.isi_mean[k] == pytest.approx(isi_ms.mean(), rel=1e-12)
            n_cv += 1
        else:
            assert np.isnan(st_ours.cv[k])
        windows = [neo.SpikeTrain(tk[(tk >= a) & (tk < a + width)] * pq.ms, t_start=a * pq.ms,
                                  t_stop=(a + width) * pq.ms)
                   for a in t_start + width * np.arange(ff_ours.n_windows)]
        if sum(len(w) for w in windows):
            ff = float(es_stats.fanofactor(windows))
            assert ff_ours.per_neuron[k] == pytest.approx(ff, rel=1e-12, abs=1e-15)
        else:
            assert np.isnan(ff_ours.per_neuron[k])
    assert n_cv > n // 2
    assert st_ours.mean_rate == pytest.approx(np.mean(rates), rel=1e-12)
    pooled = np.sort(np.concatenate(trains))
    pop_windows = [pooled[(pooled >= a) & (pooled < a + width)] * pq.ms
                   for a in t_start + width * np.arange(ff_ours.n_windows)]
    assert ff_ours.population == pytest.approx(float(es_stats.fanofactor(pop_windows)),
                                               rel=1e-12)
    # the standalone function gives the same per-neuron values
    np.testing.assert_array_equal(fano_factor(path, name, bin=width, t_stop=t_stop).per_neuron,
                                  ff_ours.per_neuron)
