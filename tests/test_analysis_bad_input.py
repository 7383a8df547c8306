"""The analysis review of 2026-11-24: intervals outside the recorded one, populations of unknown
size, seconds-unit bounds, and `eventsim plot` arguments (one line, exit 2, the option named)."""
from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim.analysis import LogFormatError, spike_stats
from eventsim.analysis.cli import analyze
from eventsim.cli import main
from eventsim.models import LIFExp

from test_analysis import write_log


def _recorded(path, t_stop: float = 500.0) -> str:
    p = write_log(path, {"exc": (np.linspace(0, 490, 50), np.arange(50) % 10, 10)})
    with h5py.File(p, "a") as f:
        f.attrs["t_start"], f.attrs["t_stop"] = 0.0, t_stop
    return p


@pytest.mark.parametrize("kw", [dict(t_stop=5000.0), dict(t_start=-100.0)])
def test_interval_outside_the_recorded_one_is_refused(tmp_path, kw):
    """A 500 ms log analysed up to 5 s gave 0.8 Hz for 8 Hz, and the NWB export claimed 5 s."""
    p = _recorded(tmp_path / "r.h5")
    with pytest.raises(ValueError, match=r"reaches outside the recorded \[0.0, 500.0\) ms"):
        spike_stats(p, **kw)
    assert spike_stats(p, t_stop=250.0).duration == 250.0        # inside: fine


def test_population_size_is_inferred_from_the_whole_file(tmp_path):
    """Without n_nodes, [0, 500) ms saw 2 neurons and [0, 1000) ms 100: rates 50x apart."""
    t = np.array([10.0, 20.0, 900.0])
    p = write_log(tmp_path / "n.h5", {"exc": (t, [0, 1, 99], None)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert spike_stats(p, t_stop=500.0).n_nodes == spike_stats(p, t_stop=1000.0).n_nodes == 100


def test_analyze_skips_a_population_of_unknown_size(tmp_path):
    p = write_log(tmp_path / "s.h5", {"cortex": (np.linspace(0, 900, 100), np.arange(100) % 50, None),
                                      "thalamus": (np.zeros(0), np.zeros(0, np.int64), None)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        target = analyze(p, out=str(tmp_path / "out"), t_stop=1000.0, figures=False)
    import json
    doc = json.load(open(target))
    assert [r["population"] for r in doc["populations"]] == ["cortex"]
    assert doc["skipped"][0]["population"] == "thalamus" and "size unknown" in doc["skipped"][0]["reason"]
    assert any("skipped" in str(w.message) for w in caught)
    with pytest.raises(LogFormatError, match="size unknown"):       # asked for by name: an error
        analyze(p, populations=["thalamus"], out=str(tmp_path / "out2"), t_stop=1000.0, figures=False)


def test_seconds_log_bound_counts_the_same_whatever_the_sorting(tmp_path):
    counts = []
    for sorting in ("by_time", "none"):
        p = write_log(tmp_path / f"{sorting}.h5", {"exc": ([0.1, 0.1471, 0.2], [0, 0, 0], 1)},
                      sorting=sorting, units="s")
        t0 = 0.1471 * 1000.0              # the time the reader reports for that spike
        counts.append(spike_stats(p, t_start=t0, t_stop=300.0).n_spikes)
    assert counts == [2, 2]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    log = _recorded(d / "log.h5", 1000.0)
    net = es.Network(seed=1)
    src = net.poisson(16, 10.0, name="inp")
    exc = net.population(4, LIFExp(v_rest=-65.0, v_th=-50.0, v_reset=-65.0), name="exc")
    net.connect(src, exc, es.all_to_all(), weight=es.uniform(0, 1), delay=1.0, name="inp_exc")
    weights = str(d / "w.h5")
    for label in ("first", "second"):
        net.run(10.0)
        net.save_weights(weights, label=label)
    return log, weights, d


@pytest.mark.parametrize("args, match", [
    (["whist", "{w}", "--projection", "inp_exc", "--snapshots", "7"], "--snapshots: index 7 is out of range"),
    (["whist", "{w}", "--projection", "inp_exc", "--max-snapshots", "0"], "--max-snapshots: must be an integer"),
    (["whist", "{w}", "--projection", "inp_exc", "--bins", "0"], "--bins: must be an integer >= 1"),
    (["rf", "{w}", "--projection", "inp_exc", "--max-tiles", "-1"], "--max-tiles: must be an integer >= 1"),
    (["raster", "{log}", "--neurons", "-3"], "--neurons: must be an integer >= 1"),
    (["rates", "{log}", "--bin", "1e-9"], "allowed a larger bin"),
    (["rates", "{log}", "--bin", "nan"], "--bin: must be a number of ms > 0"),
    (["raster", "{w}"], "is an eventsim weight file, not a spike log"),
])
def test_bad_plot_arguments_are_one_line(files, capsys, args, match):
    log, w, d = files
    argv = ["plot"] + [a.format(log=log, w=w) for a in args] + ["--out", str(d / "fig.png")]
    try:
        code = main(argv)
    except SystemExit as exc:          # argparse
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and match in err, err


def test_plot_out_without_extension_reports_the_file_written(files, capsys):
    log, _, d = files
    assert main(["plot", "rates", log, "--out", str(d / "fig")]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {d / 'fig.png'}"
    assert (d / "fig.png").exists()


@pytest.mark.parametrize("block", [1, 7, 1 << 20])
def test_nwb_grouping_sorts_out_of_order_neurons_block_by_block(tmp_path, monkeypatch, block):
    """The out-of-order scan runs in blocks (a whole-array diff cost 9 bytes per spike more)."""
    from eventsim.analysis import SpikeLog, nwb
    monkeypatch.setattr(nwb, "SCAN_BLOCK", block)
    rng = np.random.default_rng(1)
    t, i = rng.uniform(0, 100, 3000), rng.integers(0, 30, 3000)
    p = write_log(tmp_path / "u.h5", {"exc": (t, i, 30)}, sorting="none", chunk=64)
    with SpikeLog(p) as lg:
        times, off = nwb.group_by_node(lg, "exc", 30)
    for k in range(30):
        np.testing.assert_array_equal(times[off[k]:off[k + 1]], np.sort(t[i == k]))


def test_corrupted_dataset_header_is_an_error_not_a_skip_or_hang(tmp_path):
    """Bytes flipped in a dataset's object header: one line naming the dataset as corrupted
    (it read as 'missing' and analyze skipped the population, exit 0), never a hang."""
    import subprocess
    import sys
    p = write_log(tmp_path / "c.h5", {"exc": (np.linspace(0, 100, 50), np.arange(50) % 5, 5),
                                      "inh": (np.linspace(0, 100, 10), np.zeros(10, int), 2)}, chunk=16)
    with h5py.File(p, "r") as f:
        addr = h5py.h5o.get_info(f["spikes/exc/timestamps"].id).addr
    outcomes = []
    for off in range(4, 40, 4):
        b = bytearray(open(p, "rb").read())
        b[addr + off] ^= 0xFF
        bad = tmp_path / f"bad{off}.h5"
        bad.write_bytes(bytes(b))
        r = subprocess.run([sys.executable, "-m", "eventsim.cli", "analyze", str(bad), "--no-figures",
                            "--out", str(tmp_path / "an"), "--t-stop", "100"],
                           capture_output=True, text=True, timeout=60)
        errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
        assert r.returncode in (0, 2) and "Traceback" not in r.stderr and len(errors) <= 1, r.stderr
        outcomes.append(r.returncode == 2 and "is corrupted" in r.stderr)
    assert any(outcomes)


def test_a_recorded_bound_with_float_rounding_is_accepted(tmp_path):
    """Ten net.run(0.1) record t_stop = 0.9999999999999999: asking for [0, 1) ms is the same interval."""
    p = _recorded(tmp_path / "r.h5", 0.9999999999999999)
    assert spike_stats(p, t_stop=1.0).n_nodes == 10
