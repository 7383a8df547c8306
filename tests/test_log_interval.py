"""Spike logs record the simulated interval (root attributes t_start, t_stop in ms), and the
analysis defaults to it: unbiased rates, silent populations, across runs, failures and resume.
Also the log's user-facing errors: choosing a population, node id ranges, missing directories."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim import checkpoint
from eventsim.analysis import LogFormatError, LogFormatWarning, SpikeLog, cli, spike_stats, summarize
from eventsim.errors import EventsimError
from eventsim.recording import SonataWriter, SpikeRecorder

from test_analysis import write_log


def once_each(path=None, n: int = 10, **log_options) -> es.Network:
    """n recorded sources firing once each, at 1, 11, ..., 91 ms; logged to path if given."""
    net = es.Network(seed=1)
    net.spike_source(n, times=np.arange(n) * 10.0 + 1.0, ids=np.arange(n), record=True, name="src")
    if path is not None:
        net.record_spikes(str(path), **log_options)
    return net


def recorded(path) -> tuple[float, float]:
    with SpikeLog(path) as log:
        return log.recorded_interval()


def two_populations(path, t_stop: float = 200.0) -> str:
    """A log written by SonataWriter: 'loud' (10 nodes) fires, 'quiet' (50 nodes) never does."""
    w = SonataWriter(str(path), {"loud": 10, "quiet": 50}, {})
    t = np.arange(5.0, t_stop, 5.0)
    w.append("loud", t, np.arange(t.size) % 10)
    w.close(t_stop)
    return str(path)


def test_rates_use_the_simulated_duration_not_the_last_spike(tmp_path):
    path = tmp_path / "spikes.h5"
    net = once_each(path)
    net.run(1000.0)
    net.close()
    with h5py.File(path, "r") as f:
        assert f.attrs["t_start"] == 0.0 and f.attrs["t_stop"] == 1000.0
        assert f.attrs["t_stop"].dtype == np.float64
    s = summarize(str(path), bin=10.0)
    assert s.stats.t_stop == 1000.0 and s.stats.t_stop_source == "recorded"
    assert s.stats.mean_rate == pytest.approx(1.0)          # 1 spike per source in 1 s
    assert s.fano.n_windows == 100 and s.population_rate.edges[-1] == 1000.0
    out = tmp_path / "an"
    assert cli.main(["analyze", str(path), "--out", str(out), "--no-figures"]) == 0
    row = json.loads((out / "summary.json").read_text())["populations"][0]
    assert row["t_stop_ms"] == 1000.0 and row["t_stop_source"] == "recorded"
    assert row["mean_rate_hz"] == pytest.approx(1.0) and row["fano_windows"] == 100


def test_interval_advances_at_flushes_runs_and_resume(tmp_path, monkeypatch):
    path = tmp_path / "spikes.h5"
    net = once_each(path)
    monkeypatch.setattr(SpikeRecorder, "maybe_flush", SpikeRecorder.flush)  # flush at every chunk
    seen = []

    def on_chunk(n: es.Network) -> bool:
        seen.append((n.t, recorded(path)[1]))
        return False

    net.run(50.0, chunk=10.0, on_chunk=on_chunk)
    assert len(seen) >= 2 and all(t_log == t for t, t_log in seen)                   # live, while running
    net.run(30.0)
    assert recorded(path) == (0.0, 80.0)
    net.checkpoint(tmp_path / "ck.h5")
    net.run(500.0)
    net.close()
    assert recorded(path) == (0.0, 580.0)
    again = checkpoint.resume(tmp_path / "ck.h5", lambda: once_each(path))
    assert recorded(path) == (0.0, 80.0)                                   # rebuilt up to the checkpoint
    again.run(20.0)
    again.close()
    assert recorded(path) == (0.0, 100.0)
    assert spike_stats(str(path)).n_spikes == 10


def test_failed_run_records_the_interval_it_completed(tmp_path, monkeypatch):
    path = tmp_path / "spikes.h5"
    net = once_each(path)
    net.build()
    real = net._engine.run_until

    def failing(t_stop, on_spikes, samp=None, **kw):
        if t_stop > 40.0:
            raise RuntimeError("simulated crash")
        real(t_stop, on_spikes, samp, **kw)

    monkeypatch.setattr(net._engine, "run_until", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        net.run(100.0, chunk=20.0)
    t_stop = recorded(path)[1]
    assert 0.0 < t_stop <= 40.0 and t_stop == net.t
    assert spike_stats(str(path)).n_spikes == int(np.ceil(t_stop / 10.0))  # sources at 1, 11, ...


def test_log_without_interval_falls_back_to_last_spike_visibly(tmp_path, capsys):
    p = write_log(tmp_path / "old.h5", {"exc": ([1.0, 2.0, 8.0], [0, 1, 0], 2)})
    with pytest.warns(LogFormatWarning, match="no recorded interval.*--t-stop.*t_stop="):
        s = spike_stats(p)
    assert s.t_stop == 8.0 and s.t_stop_source == "last spike" and s.n_spikes == 3
    out = tmp_path / "an"
    assert cli.main(["analyze", p, "--out", str(out), "--no-figures"]) == 0
    assert "no recorded interval" in capsys.readouterr().err
    row = json.loads((out / "summary.json").read_text())["populations"][0]
    assert row["t_stop_source"] == "last spike"
    assert spike_stats(p, t_stop=10.0).t_stop_source == "argument"


def test_silent_population_is_analysed_and_plotted(tmp_path, capsys):
    p = two_populations(tmp_path / "sil.h5")
    out = tmp_path / "an"
    assert cli.main(["analyze", p, "--out", str(out), "--no-figures"]) == 0
    rows = {r["population"]: r for r in json.loads((out / "summary.json").read_text())["populations"]}
    quiet, loud = rows["quiet"], rows["loud"]
    assert loud["n_spikes"] == 39 and loud["mean_rate_hz"] == pytest.approx(39 / (10 * 0.2))
    assert quiet["n_spikes"] == 0 and quiet["mean_rate_hz"] == 0.0 and quiet["t_stop_ms"] == 200.0
    assert quiet["mean_cv"] is None and quiet["mean_fano"] is None and quiet["n_silent"] == 50
    fig = tmp_path / "q.png"
    assert cli.main(["plot", "raster", p, "--population", "quiet", "--out", str(fig)]) == 0
    assert fig.read_bytes()[:4] == b"\x89PNG"
    from eventsim.analysis.plots import plot_raster
    assert [t.get_text() for t in plot_raster({}).axes[0].texts] == ["no spikes"]


def test_choosing_a_population_names_the_option(tmp_path, capsys):
    p = two_populations(tmp_path / "two.h5")
    assert cli.main(["plot", "raster", p, "--out", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--population" in err and "loud" in err
    with pytest.raises(LogFormatError, match=r"choose one with --population \(CLI\) / population="):
        spike_stats(p)


def test_load_spikes_rejects_node_ids_out_of_range(tmp_path):
    p = two_populations(tmp_path / "two.h5")
    with SpikeLog(p) as log:
        for ids, bad in (([5, 50, 10 ** 6], 10 ** 6), ([-1, 3], -1), ([50], 50)):
            with pytest.raises(EventsimError, match=rf"'quiet'.*node_ids must lie in \[0, 49\].* {bad}$"):
                log.load_spikes("quiet", ids)
        assert {k: v.size for k, v in log.load_spikes("quiet", [0, 49]).items()} == {0: 0, 49: 0}


def test_record_spikes_creates_missing_directories(tmp_path):
    path = tmp_path / "new" / "sub" / "spikes.h5"
    net = once_each(path)
    net.run(20.0)
    net.close()
    assert recorded(path) == (0.0, 20.0)
    blocked = tmp_path / "file"
    blocked.write_text("")
    net = once_each(blocked / "spikes.h5")
    with pytest.raises(EventsimError, match="cannot create the output directory"):
        net.run(1.0)


def test_record_spikes_after_the_build_is_an_error(tmp_path):
    net = once_each()
    net.run(10.0)
    with pytest.raises(EventsimError, match=r"before the first run.*"):
        net.record_spikes(str(tmp_path / "late.h5"))
