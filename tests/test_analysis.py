"""Tests of eventsim.analysis: exact statistics on small synthetic SONATA logs,
chunking invariance, bmtk compatibility, bad input and read-only access."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings

import h5py
import numpy as np
import pytest

from eventsim.analysis import (LogFormatError, LogFormatWarning, SpikeLog, cross_correlograms,
                               fano_factor, firing_rates, population_rate,
                               spike_count_correlations, spike_stats, summarize)
from eventsim.analysis import cli
from eventsim.analysis.correlation import correlogram
from eventsim.analysis.kernels import HAVE_NUMBA

SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
BACKENDS = ["numpy"] + (["numba"] if HAVE_NUMBA else [])
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_log(path, pops, *, sorting="by_time", magic=True, units="ms", id_dtype=np.uint64,
              chunk=4):
    """pops: {name: (times, ids, n_nodes or None)}; sorting: an enum name, ("str", value)
    for a bmtk-style plain string attribute, or None for no attribute."""
    with h5py.File(path, "w") as f:
        if magic:
            f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
            f.attrs.create("version", [0, 1], dtype=np.uint32)
        for name, (t, i, n_nodes) in pops.items():
            g = f.create_group(f"spikes/{name}")
            if isinstance(sorting, tuple):
                g.attrs["sorting"] = sorting[1]
            elif sorting is not None:
                g.attrs.create("sorting", ["none", "by_id", "by_time"].index(sorting), dtype=SORTING)
            if n_nodes is not None:
                g.attrs["n_nodes"] = np.uint64(n_nodes)
            t = np.asarray(t, np.float64)
            kw = dict(maxshape=(None,), chunks=(chunk,)) if len(t) else dict(maxshape=(None,), chunks=(4,))
            d = g.create_dataset("timestamps", data=t, **kw)
            if units is not None:
                d.attrs["units"] = units
            g.create_dataset("node_ids", data=np.asarray(i, id_dtype), **kw)
    return str(path)


def poisson_log(path, n=20, rate_hz=30.0, t_stop=5000.0, seed=0, sorting="by_time", order=None):
    rng = np.random.default_rng(seed)
    ts, ids = [], []
    for k in range(n):
        t = np.cumsum(rng.exponential(1e3 / rate_hz, int(3 * rate_hz * t_stop / 1e3) + 50))
        t = t[t < t_stop]
        ts.append(t)
        ids.append(np.full(t.size, k))
    t, i = np.concatenate(ts), np.concatenate(ids)
    if order == "time":
        o = np.argsort(t, kind="stable")
    elif order == "random":
        o = rng.permutation(t.size)
    else:
        o = np.arange(t.size)  # by id, time-sorted within each neuron
    return write_log(path, {"exc": (t[o], i[o], n)}, sorting=sorting, chunk=64), ts


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest(), os.stat(path).st_mtime_ns


# -- exact values --------------------------------------------------------------
@pytest.fixture
def small(tmp_path):
    # neuron 0: ISIs 1, 2, 4 ms; neuron 1: two spikes; neurons 2, 3 silent (n_nodes=4)
    t = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
    i = [0, 0, 1, 0, 1, 0]
    return write_log(tmp_path / "small.h5", {"exc": (t, i, 4)})


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_computed_rates_isi_cv(small, backend):
    s = spike_stats(small, t_stop=10.0, backend=backend)
    assert s.n_nodes == 4 and s.n_spikes == 6
    np.testing.assert_array_equal(s.counts, [4, 2, 0, 0])
    np.testing.assert_allclose(s.rates, [400.0, 200.0, 0.0, 0.0], rtol=1e-12)
    assert s.mean_rate == pytest.approx(150.0, rel=1e-12)  # 6 spikes / (4 neurons * 10 ms)
    isi = np.array([1.0, 2.0, 4.0])
    assert s.isi_mean[0] == pytest.approx(7 / 3, rel=1e-12)
    assert s.cv[0] == pytest.approx(isi.std() / isi.mean(), rel=1e-12)
    assert s.isi_mean[1] == 3.0 and np.isnan(s.cv[1])  # 2 spikes: an ISI but no CV
    assert np.isnan(s.cv[2:]).all() and s.n_cv == 1
    assert s.mean_cv == pytest.approx(isi.std() / isi.mean(), rel=1e-12)
    assert s.isi_hist_counts.sum() == 4  # 3 + 1 ISIs


def test_hand_computed_fano_and_population_rate(small):
    # 5 ms windows [0,5), [5,10): neuron 0 counts (3, 1) -> var 1 / mean 2; neuron 1 (1, 1) -> 0
    f = fano_factor(small, bin=5.0, t_stop=10.0)
    assert f.n_windows == 2
    np.testing.assert_allclose(f.per_neuron[:2], [0.5, 0.0], rtol=1e-12)
    assert np.isnan(f.per_neuron[2:]).all()
    assert f.mean == pytest.approx(0.25)
    assert f.population == pytest.approx(1 / 3)  # population counts (4, 2)
    r = population_rate(small, bin=5.0, t_stop=10.0)
    np.testing.assert_array_equal(r.counts, [4, 2])
    np.testing.assert_allclose(r.rate, [200.0, 100.0])  # 4 / (4 neurons * 5 ms)
    np.testing.assert_allclose(r.edges, [0.0, 5.0, 10.0])


def test_t_start_t_stop_window(small):
    s = spike_stats(small, t_start=2.0, t_stop=7.0)  # spikes 2, 3, 4, 6
    np.testing.assert_array_equal(s.counts, [2, 2, 0, 0])
    np.testing.assert_allclose(s.rates, [400.0, 400.0, 0.0, 0.0])
    assert s.isi_mean[0] == 2.0 and s.isi_mean[1] == 3.0
    # default t_stop: the last spike (8 ms), which is included
    d = spike_stats(small)
    assert d.t_stop == 8.0 and d.n_spikes == 6


@pytest.mark.parametrize("backend", BACKENDS)
def test_regular_trains_cv_zero(tmp_path, backend):
    # neuron k fires exactly every periods[k] ms (binary-exact times) -> CV 0, Fano 0
    ts, ids = [], []
    periods = [5.0, 10.0, 20.0, 25.0]
    for k, period in enumerate(periods):
        t = np.arange(0.0, 1000.0, period)
        ts.append(t)
        ids.append(np.full(t.size, k))
    t, i = np.concatenate(ts), np.concatenate(ids)
    o = np.argsort(t, kind="stable")
    p = write_log(tmp_path / "reg.h5", {"exc": (t[o], i[o], 4)})
    s = spike_stats(p, t_stop=1000.0, backend=backend, chunk_rows=5)
    np.testing.assert_array_equal(s.cv, np.zeros(4))
    np.testing.assert_allclose(s.rates, [200.0, 100.0, 50.0, 40.0], rtol=1e-12)
    np.testing.assert_array_equal(s.isi_mean, periods)
    f = fano_factor(p, bin=100.0, t_stop=1000.0, chunk_rows=5)  # whole periods per window
    np.testing.assert_array_equal(f.per_neuron, np.zeros(4))


def test_poisson_cv_near_one(tmp_path):
    p, ts = poisson_log(tmp_path / "p.h5", n=10, rate_hz=50.0, t_stop=20000.0, order="time")
    s = spike_stats(p, t_stop=20000.0)
    assert s.mean_cv == pytest.approx(1.0, abs=0.03)
    assert s.mean_rate == pytest.approx(50.0, rel=0.03)
    f = fano_factor(p, bin=100.0, t_stop=20000.0)
    assert f.mean == pytest.approx(1.0, abs=0.1)
    ref = [np.diff(t).std() / np.diff(t).mean() for t in ts]
    np.testing.assert_allclose(s.cv, ref, rtol=1e-10)


# -- streaming invariance --------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_chunked_equals_single_chunk(tmp_path, backend):
    p, _ = poisson_log(tmp_path / "p.h5", n=15, order="time")
    whole = summarize(p, bin=50.0, t_stop=5000.0, chunk_rows=10**9, backend=backend)
    for rows in (1, 7, 100):
        part = summarize(p, bin=50.0, t_stop=5000.0, chunk_rows=rows, backend=backend)
        a, b = whole.stats, part.stats
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.isi_count, b.isi_count)
        np.testing.assert_array_equal(a.isi_hist_counts, b.isi_hist_counts)
        np.testing.assert_allclose(a.isi_mean, b.isi_mean, rtol=1e-12)
        np.testing.assert_allclose(a.cv, b.cv, rtol=1e-12)
        np.testing.assert_array_equal(whole.fano.per_neuron, part.fano.per_neuron)
        assert whole.fano.population == part.fano.population
        np.testing.assert_array_equal(whole.population_rate.counts, part.population_rate.counts)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_numba_and_numpy_backends_agree(tmp_path):
    p, _ = poisson_log(tmp_path / "p.h5", n=12, order="time")
    a = spike_stats(p, backend="numpy", chunk_rows=33)
    b = spike_stats(p, backend="numba", chunk_rows=33)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.isi_hist_counts, b.isi_hist_counts)
    np.testing.assert_allclose(a.cv, b.cv, rtol=1e-12)


def test_large_population_id_split(tmp_path):
    # ids above 2**16 take the split radix path; compare with a direct computation
    rng = np.random.default_rng(3)
    ids = np.concatenate([rng.integers(0, 5, 400), rng.integers(150_000, 150_005, 400)])
    t = np.sort(rng.uniform(0, 1000, ids.size))
    p = write_log(tmp_path / "big.h5", {"exc": (t, ids, 200_000)})
    s = spike_stats(p, backend="numpy", chunk_rows=50)
    for n in np.unique(ids):
        d = np.diff(t[ids == n])
        assert s.cv[n] == pytest.approx(d.std() / d.mean(), rel=1e-12)
    assert s.counts.sum() == ids.size


def test_by_id_and_unsorted_files_give_same_results(tmp_path):
    by_time, _ = poisson_log(tmp_path / "t.h5", order="time", seed=5)
    by_id, _ = poisson_log(tmp_path / "i.h5", order="id", sorting="by_id", seed=5)
    shuffled, _ = poisson_log(tmp_path / "r.h5", order="random", sorting="none", seed=5)
    ref = summarize(by_time, bin=50.0, t_stop=5000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # by_id with time-ordered neurons streams silently
        got = summarize(by_id, bin=50.0, t_stop=5000.0, chunk_rows=16)
    with pytest.warns(LogFormatWarning, match="not in time order"):
        shuf = summarize(shuffled, bin=50.0, t_stop=5000.0, chunk_rows=16)
    for other in (got, shuf):
        np.testing.assert_array_equal(ref.stats.counts, other.stats.counts)
        np.testing.assert_allclose(ref.stats.cv, other.stats.cv, rtol=1e-12)
        np.testing.assert_array_equal(ref.fano.per_neuron, other.fano.per_neuron)


def test_bmtk_string_sorting_and_seconds(tmp_path):
    t = np.array([0.001, 0.002, 0.004])  # seconds
    p = write_log(tmp_path / "bmtk.h5", {"v1": (t, [0, 1, 0], 2)}, sorting=("str", "by_time"),
                  units="s")
    with SpikeLog(p) as log:
        assert log.info().sorting == "by_time"
    s = spike_stats(p, t_stop=10.0)
    assert s.isi_mean[0] == pytest.approx(3.0)  # ms
    np.testing.assert_allclose(s.rates, [200.0, 100.0])
    p2 = write_log(tmp_path / "bmtk2.h5", {"v1": (t, [0, 1, 0], 2)}, sorting=("str", b"by_id"))
    with SpikeLog(p2) as log:
        assert log.info().sorting == "by_id"


# -- correlations ----------------------------------------------------------------
def test_correlogram_by_hand():
    c = correlogram(np.array([10.0]), np.array([7.5, 12.0, 30.0]), window=5.0, bin=1.0)
    expect = np.zeros(10, np.int64)
    expect[2] += 1  # lag -2.5 -> bin [-3, -2)
    expect[7] += 1  # lag +2 -> bin [2, 3)
    np.testing.assert_array_equal(c, expect)
    auto = correlogram(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 5.0, 1.0, same=True)
    assert auto.sum() == 2 and auto[4] == 1 and auto[6] == 1  # zero lag excluded


def test_count_correlation_identical_and_ccg_from_log(tmp_path):
    t = np.array([1.0, 1.0, 3.0, 3.0, 25.0, 25.0, 27.0])
    i = np.array([0, 1, 0, 1, 0, 1, 2])
    p = write_log(tmp_path / "c.h5", {"exc": (t, i, 3)})
    c = spike_count_correlations(p, neurons=[0, 1], n_pairs=1, bin=10.0, t_stop=30.0)
    np.testing.assert_array_equal(c.pairs, [[0, 1]])
    assert c.coefficients[0] == pytest.approx(1.0)
    cc = cross_correlograms(p, pairs=[(0, 1), (0, 2)], window=4.0, bin=2.0)
    np.testing.assert_array_equal(cc.counts[0], [0, 1, 3, 1])  # lags -2, 0, 0, 0, +2
    np.testing.assert_array_equal(cc.counts[1], [0, 0, 0, 1])  # 27 - 25 = +2
    np.testing.assert_allclose(cc.lags, [-3.0, -1.0, 1.0, 3.0])


# -- bad input -------------------------------------------------------------------
def one_line_error(fn, *args, match, **kw):
    with pytest.raises(LogFormatError, match=match) as info:
        fn(*args, **kw)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_missing_and_non_hdf5_and_truncated(tmp_path, small):
    missing = str(tmp_path / "nope.h5")
    assert missing in one_line_error(spike_stats, missing, match="file not found")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5\n")
    one_line_error(spike_stats, str(text), match="not an HDF5 file")
    big, _ = poisson_log(tmp_path / "big.h5", n=20, order="time")
    data = open(big, "rb").read()
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(data[: len(data) // 2])
    one_line_error(spike_stats, str(trunc), match="trunc.h5.*(truncated|corrupted)")


@pytest.mark.parametrize("n_pops", [1, 2])
def test_log_cut_inside_a_data_chunk_is_refused(tmp_path, n_pops):
    """Cut just after the start of node_ids' first chunk, with every metadata block intact. The
    SWMR-read open skips HDF5's truncation check: two populations gave node 0 every spike (exit 0),
    one hung in HDF5's retry loop. The plain open checks the file's end first."""
    rng = np.random.default_rng(3)
    t, i = np.sort(rng.uniform(0, 1000, 4000)), rng.integers(0, 200, 4000)
    pops = {"exc": (t, i, 200)}
    if n_pops == 2:
        pops["inh"] = (t[:300], i[:300] % 50, 50)
    full = write_log(tmp_path / "full.h5", pops, chunk=1 << 12)
    with h5py.File(full, "r") as f:
        cut = f["spikes/exc/node_ids"].id.get_chunk_info(0).byte_offset + 16
    trunc = tmp_path / "cut.h5"
    trunc.write_bytes(open(full, "rb").read()[:cut])
    code = ("import sys; from eventsim.analysis import spike_stats\n"
            "try:\n    spike_stats(sys.argv[1], population='exc')\nexcept Exception as e:\n    print(e)")
    res = subprocess.run([sys.executable, "-c", code, str(trunc)], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert "truncated" in res.stdout, res.stdout + res.stderr


def test_structural_errors(tmp_path):
    p = tmp_path / "nospikes.h5"
    with h5py.File(p, "w") as f:
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        f.create_group("other")
    one_line_error(spike_stats, str(p), match="no /spikes group")
    p = tmp_path / "noids.h5"
    with h5py.File(p, "w") as f:
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        f.create_dataset("spikes/exc/timestamps", data=[1.0])
    msg = one_line_error(spike_stats, str(p), match="missing dataset /spikes/exc/node_ids")
    assert "'exc'" in msg
    good = write_log(tmp_path / "g.h5", {"exc": ([1.0], [0], 1), "inh": ([2.0], [0], 1)})
    one_line_error(spike_stats, good, "gaba", match="unknown population 'gaba'.*exc, inh")
    one_line_error(spike_stats, good, match="choose one")
    bad_magic = tmp_path / "magic.h5"
    with h5py.File(bad_magic, "w") as f:
        f.attrs["magic"] = np.uint32(1234)
        f.create_group("spikes/exc")
    one_line_error(spike_stats, str(bad_magic), match="magic")


def test_content_errors(tmp_path):
    p = write_log(tmp_path / "unsorted.h5", {"exc": ([1.0, 3.0, 2.0, 4.0], [0, 1, 0, 1], 2)})
    one_line_error(spike_stats, p, match="'exc'.*by_time.*decrease at row 2")
    one_line_error(spike_stats, p, chunk_rows=2, match="decrease at row 2")  # across chunks
    p = write_log(tmp_path / "neg.h5", {"exc": ([1.0, 2.0], [0, -3], 2)}, id_dtype=np.int64)
    one_line_error(spike_stats, p, match="negative node id -3 at row 1")
    p = write_log(tmp_path / "big_id.h5", {"exc": ([1.0, 2.0], [0, 5], 2)})
    one_line_error(spike_stats, p, match="node id 5 >= n_nodes=2")
    p = write_log(tmp_path / "nan.h5", {"exc": ([1.0, np.nan], [0, 1], 2)})
    one_line_error(spike_stats, p, match="non-finite timestamp at row 1")
    p = write_log(tmp_path / "units.h5", {"exc": ([1.0], [0], 1)}, units="furlongs")
    one_line_error(spike_stats, p, match="units 'furlongs'")


def test_empty_population_and_inferred_size(tmp_path):
    p = write_log(tmp_path / "empty.h5", {"exc": ([], [], 5)})
    with pytest.warns(LogFormatWarning, match="no spikes"):
        s = spike_stats(p, t_stop=100.0)
    np.testing.assert_array_equal(s.rates, np.zeros(5))
    assert s.mean_rate == 0.0 and np.isnan(s.mean_cv)
    one_line_error(spike_stats, p, match="no spikes at t >= 0.0 ms; pass t_stop")
    p = write_log(tmp_path / "empty2.h5", {"exc": ([], [], None)})
    one_line_error(spike_stats, p, t_stop=100.0, match="population size unknown")
    p = write_log(tmp_path / "nosize.h5", {"exc": ([1.0, 2.0, 3.0], [0, 4, 0], None)})
    with pytest.warns(LogFormatWarning, match="inferred n_nodes=5"):
        s = spike_stats(p, t_stop=10.0)
    assert s.n_nodes == 5 and s.mean_rate == pytest.approx(60.0)


def test_missing_magic_warns(tmp_path):
    p = write_log(tmp_path / "m.h5", {"exc": ([1.0, 2.0], [0, 0], 1)}, magic=False)
    with pytest.warns(LogFormatWarning, match="no 'magic'"):
        assert firing_rates(p, t_stop=10.0)[0] == pytest.approx(200.0)


# -- read-only access, CLI ---------------------------------------------------------
def test_file_unchanged_by_analysis_and_cli(tmp_path):
    p, _ = poisson_log(tmp_path / "p.h5", n=8, order="time")
    before = digest(p)
    summarize(p, bin=20.0)
    spike_count_correlations(p, n_pairs=5)
    cross_correlograms(p, pairs=[(0, 1)])
    out = tmp_path / "out"
    assert cli.main(["analyze", p, "--out", str(out), "--bin", "20"]) == 0
    assert cli.main(["plot", "raster", p, "--out", str(tmp_path / "r.png")]) == 0
    assert digest(p) == before
    doc = json.loads((out / "summary.json").read_text())
    row = doc["populations"][0]
    assert row["population"] == "exc" and row["n_nodes"] == 8
    assert row["mean_cv"] == pytest.approx(summarize(p).stats.mean_cv)
    for kind in ("raster", "distributions", "correlograms"):
        assert os.path.getsize(row["figures"][kind]) > 1000
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_csv_and_errors(tmp_path, capsys):
    p, _ = poisson_log(tmp_path / "p.h5", n=4, order="time")
    out = tmp_path / "o"
    assert cli.main(["analyze", p, "--out", str(out), "--format", "csv", "--no-figures",
                     "--t-start", "100", "--t-stop", "4000"]) == 0
    lines = (out / "summary.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("population,n_nodes,n_spikes,t_start_ms")
    assert lines[1].startswith("exc,4,") and ",100.0,4000.0," in lines[1]
    capsys.readouterr()
    assert cli.main(["analyze", str(tmp_path / "missing.h5"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.h5: file not found" in err
    assert cli.main(["plot", "rates", p, "--population", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert "unknown population 'nope'" in capsys.readouterr().err


def test_swmr_file_being_written_is_readable(tmp_path):
    p = str(tmp_path / "live.h5")
    with h5py.File(p, "w", libver="latest") as f:  # a writer that keeps the file open
        f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
        g = f.create_group("spikes/exc")
        g.attrs.create("sorting", 2, dtype=SORTING)
        g.attrs["n_nodes"] = np.uint64(2)
        ts = g.create_dataset("timestamps", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=(8,))
        ts.attrs["units"] = "ms"
        ids = g.create_dataset("node_ids", shape=(0,), maxshape=(None,), dtype=np.uint64, chunks=(8,))
        f.swmr_mode = True
        for d, v in ((ts, [1.0, 2.0, 4.0]), (ids, [0, 1, 0])):
            d.resize((3,))
            d[:] = v
            d.flush()
        env = dict(os.environ, PYTHONPATH=ROOT)
        code = ("import sys; from eventsim.analysis import spike_stats; "
                "s = spike_stats(sys.argv[1], t_stop=10.0); print(s.counts.tolist())")
        res = subprocess.run([sys.executable, "-c", code, p], capture_output=True, text=True,
                             env=env, timeout=60)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == "[2, 1]"


@pytest.mark.parametrize("width", [49.0, 98.0, 103.0, 0.1, 0.3])
def test_spike_on_a_bin_edge_is_in_the_bin_that_starts_there(tmp_path, width):
    """Counts agree with the edges the result reports (a multiply by the rounded 1/width put
    spikes at 49, 98, 147 ms into the bin before for width 49)."""
    t = width * np.array([1.0, 2.0, 3.0])
    p = write_log(tmp_path / "edge.h5", {"exc": (t, [0, 0, 0], 1)})
    pr = population_rate(p, bin=width, t_stop=4 * width)
    np.testing.assert_array_equal(pr.counts, np.histogram(t, pr.edges)[0])
    np.testing.assert_array_equal(pr.counts, [0, 1, 1, 1])
    ff = fano_factor(p, bin=width, t_stop=4 * width)     # counts 0, 1, 1, 1: var/mean = 0.1875/0.75
    assert ff.per_neuron[0] == pytest.approx(0.25)


def test_count_correlations_leave_out_a_partial_last_bin(tmp_path):
    """Independent trains over 10.5 bins: the partial bin is low for every neuron at once and
    gave r = 0.25 (Elephant, which drops it: 0.02)."""
    rng = np.random.default_rng(5)
    ts, ids = [], []
    for k in range(30):
        m = rng.poisson(0.04 * (k % 5 + 1) * 1050.0)
        ts.append(rng.uniform(0, 1050.0, m))
        ids.append(np.full(m, k))
    t, i = np.concatenate(ts), np.concatenate(ids)
    order = np.argsort(t)
    p = write_log(tmp_path / "c.h5", {"exc": (t[order], i[order], 30)}, chunk=1024)
    full = spike_count_correlations(p, neurons=np.arange(30), n_pairs=435, bin=100.0, t_stop=1050.0)
    whole = spike_count_correlations(p, neurons=np.arange(30), n_pairs=435, bin=100.0, t_stop=1000.0)
    assert full.t_stop == 1000.0
    np.testing.assert_array_equal(full.coefficients, whole.coefficients)
    assert abs(full.mean) < 0.06
    with pytest.raises(ValueError, match="fewer than 2 complete bins of 600 ms"):
        spike_count_correlations(p, neurons=np.arange(30), n_pairs=10, bin=600.0, t_stop=1050.0)


def test_rate_histogram_with_too_many_bins_is_refused(tmp_path, small):
    with pytest.raises(ValueError, match="allowed a larger bin or a shorter interval"):
        population_rate(small, bin=1e-9, t_stop=10.0)
