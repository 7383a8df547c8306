"""Resource guards: memory estimate and refusal, runaway-rate stop, bounded flush interval."""
import re

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim import cli, guards
from eventsim.learning import additive
from eventsim.models import LIFDelta, LIFExp
from eventsim.recording import open_log_for_reading


def engine_bytes(net) -> int:
    e = net._engine
    arrays = [e.P, e.S, e.rec_flag, e.buf_t, e.buf_id, *e.checks, *e.graph, *e.sources, *e.queue, *e.plast,
              net.graph.grp_proj]
    return sum(a.nbytes for a in arrays)


def make(n=200, plastic=False, variable_delay=False):
    net = es.Network(seed=2)
    a = net.population(n, LIFExp(i_bias=21.0), v_init=es.uniform(-70.0, -50.0), name="a")
    src = net.poisson(50, 10.0, name="src")
    delay = es.uniform(0.5, 2.0) if variable_delay else 1.0
    net.connect(src, a, es.pairwise_bernoulli(0.3), weight=es.uniform(0.0, 1.0), delay=delay,
                plasticity=additive(w_max=1.0) if plastic else None)
    net.connect(a, a, es.fixed_indegree(20), weight=0.5, delay=1.5)
    return net


@pytest.mark.parametrize("plastic, variable_delay", [(False, False), (True, False), (False, True)])
def test_memory_estimate_matches_built_engine(plastic, variable_delay):
    net = make(plastic=plastic, variable_delay=variable_delay)
    before = guards.estimate_network(net)
    net.build()
    actual = engine_bytes(net)
    assert 0.9 * actual <= before.total <= 1.6 * actual, (before.parts, actual)
    assert before.peak > before.total
    assert before.parts["synapses"] == pytest.approx(8 * net.graph.n_synapses, rel=0.1)   # expected count
    assert guards.estimate_network(net).parts["synapses"] == 8 * net.graph.n_synapses      # exact once built


def test_check_memory_refuses_with_the_estimate_in_the_message():
    net = make()
    with pytest.raises(es.SimulationError, match=r"does not fit in memory: it needs an estimated [\d.]+ [kMG]?B "
                                                 r"\(neurons .*synapses .*\), but only 1.0 kB are available"):
        guards.check_memory(net, available=1000)
    assert guards.check_memory(net).total > 0            # fits in this machine's MemAvailable
    huge = guards.estimate_memory(n_neurons=10 ** 7, n_synapses=10 ** 11)
    assert huge.parts["synapses"] == 8 * 10 ** 11
    with pytest.raises(es.SimulationError, match=r"needs an estimated [\d.]+ TB"):
        guards.check_memory(huge)
    with pytest.raises(es.EventsimError, match="n_synapses must be >= 0"):
        guards.estimate_memory(10, -1)


def test_mem_available_reads_proc_meminfo(tmp_path):
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal:       24684096 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n")
    assert guards.mem_available(str(fake)) == 2048 * 1024
    fake.write_text("MemTotal: 1 kB\n")
    assert guards.mem_available(str(fake)) is None
    assert guards.mem_available(str(tmp_path / "missing")) is None
    real = guards.mem_available()
    assert real is None or real > 0


def runaway(log=None, record=True, buffer_size=1 << 16):
    """Recurrent excitation with no refractoriness: every spike triggers more."""
    net = es.Network(seed=1, buffer_size=buffer_size)
    a = net.population(50, LIFDelta(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=0.1),
                       v_init=-70.0, name="a", record=record)
    kick = net.spike_source(1, times=[5.0], ids=[0])
    net.connect(kick, a, es.all_to_all(), weight=30.0, delay=1.0)
    net.connect(a, a, es.all_to_all(), weight=25.0, delay=0.2)
    if log is not None:
        net.record_spikes(str(log), in_memory=False)
    return net


def test_runaway_activity_stops_with_simulation_error_and_flushed_log(tmp_path):
    log = tmp_path / "s.h5"
    net = runaway(log)
    with pytest.raises(es.SimulationError, match=r"runaway activity: 50 neurons fired [\d,]+ spikes in .* above "
                                                 r"max_rate 200 Hz; the run stopped at t = ([\d.]+) ms; spikes up "
                                                 r"to then are flushed to") as info:
        net.run(1000.0, chunk=20.0, max_rate_hz=200.0)
    msg = str(info.value)
    t_stop = float(re.search(r"stopped at t = ([\d.]+) ms", msg).group(1))
    assert t_stop <= 40.0
    # the rate quoted is the spike count over the interval quoted
    count, t0, t1, rate = re.search(r"fired ([\d,]+) spikes in \[([\d.]+), ([\d.]+)\] ms, ([\d,.]+) Hz", msg).groups()
    count, rate = int(count.replace(",", "")), float(rate.replace(",", ""))
    assert rate == pytest.approx(count / (50 * (float(t1) - float(t0)) / 1000.0), rel=1e-3)
    with h5py.File(log, "r") as f:                      # closed cleanly
        t = f["spikes/a/timestamps"][()]
    assert t.size > 0 and np.all(np.diff(t) >= 0) and t.max() <= t_stop + 1e-6   # the message rounds t (%g)
    with pytest.raises(es.EventsimError, match="cannot checkpoint: the last run stopped abnormally"):
        net.checkpoint(tmp_path / "ck.h5")


def test_runaway_is_caught_within_a_chunk_at_buffer_drains(tmp_path):
    net = runaway(buffer_size=256)
    with pytest.raises(es.SimulationError, match="runaway activity") as info:
        net.run(1000.0, chunk=1000.0, max_rate_hz=500.0)   # one chunk: caught when the buffer fills
    assert float(re.search(r"stopped at t = ([\d.]+) ms", str(info.value)).group(1)) < 100.0


def burst():
    """50 recorded neurons that each fire 5 times between 2 and 4 ms (one spike per input), then
    stay quiet, and 5 silent ones."""
    net = es.Network(seed=1)
    a = net.population(50, LIFDelta(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-50.0, t_ref=0.1),
                       v_init=-70.0, name="a", record=True)
    net.population(5, LIFDelta(), name="quiet")
    times = np.repeat([1.0, 1.5, 2.0, 2.5, 3.0], 50)
    src = net.spike_source(50, times=times, ids=np.tile(np.arange(50), 5))
    net.connect(src, a, es.one_to_one(), weight=30.0, delay=1.0)
    return net


def test_runaway_message_quotes_the_time_the_run_reached():
    # 250 spikes by 4 ms, none after: over the 20 ms chunk 227 Hz per neuron (55 neurons), above
    # 100 Hz. The guard trips when the chunk's spikes are handed over at its end; it used to quote
    # (and measure its window to) the last recorded spike, 4 ms, while the run had reached 20 ms.
    net = burst()
    with pytest.raises(es.SimulationError, match="runaway activity") as info:
        net.run(100.0, chunk=20.0, max_rate_hz=100.0)
    msg = str(info.value)
    assert net.t == 20.0
    assert float(re.search(r"stopped at t = ([\d.]+) ms", msg).group(1)) == net.t
    count, t0, t1, rate = re.search(r"fired ([\d,]+) spikes in \[([\d.]+), ([\d.]+)\] ms, ([\d,.]+) Hz", msg).groups()
    assert (int(count), float(t0), float(t1)) == (250, 0.0, net.t)
    assert float(rate.replace(",", "")) == pytest.approx(250 / (55 * 0.020), abs=0.05)   # 55 neurons, 20 ms


def test_guard_window_at_a_buffer_drain_ends_at_the_time_reached():
    # The same 250 spikes, judged over the 20 ms they were counted in: 227 Hz, within 300 Hz, at
    # the drain as at the chunk boundary. Measured to the last recorded spike (4 ms, so the 10 ms
    # minimum window: 455 Hz) the drain check stopped the run, which the chunk boundary would not.
    net = burst()
    net.run(100.0, chunk=20.0, max_rate_hz=300.0)
    assert net.t == 100.0 and net.stats["spikes"] == 250


def test_normal_activity_passes_the_guard():
    net = make()
    net.run(200.0, max_rate_hz=100.0)
    net.max_rate_hz = 1e-3                              # the attribute is the default bound
    with pytest.raises(es.SimulationError, match="runaway"):
        net.run(200.0)
    with pytest.raises(es.EventsimError, match=r"max_rate_hz \(Hz\) must lie in \(0, inf\)"):
        make().run(1.0, max_rate_hz=-1.0)


def test_cli_max_rate_prints_one_line(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('duration = 500.0\n[populations.a]\nsize = 20\nmodel = "LIFDelta"\n'
                   'params = { i_bias = 40.0, t_ref = 0.0 }\n')
    out = tmp_path / "o"
    code = cli.main(["run", str(cfg), "--out", str(out), "--max-rate", "50", "--no-progress", "--no-plot"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "runaway activity" in err[0], err
    with h5py.File(out / "spikes.h5", "r") as f:
        assert f["spikes/a/timestamps"].shape[0] > 0


def test_flush_interval_bounds_wall_time_between_flushes(tmp_path):
    """A chunk that takes longer than the flush interval is split, and the log on disk grows
    during the run (read while written, as a crash would leave it)."""
    log = tmp_path / "s.h5"
    net = es.Network(seed=0)
    a = net.population(300, LIFExp(i_bias=25.0, t_ref=1.0), v_init=es.uniform(-70.0, -50.0), name="a")
    net.connect(a, a, es.fixed_indegree(30), weight=es.uniform(-1.0, 1.0), delay=es.uniform(0.5, 1.5))
    net.record_spikes(str(log), flush_interval_s=0.005, in_memory=False)
    on_disk, times = [], []

    def probe(n):
        with open_log_for_reading(str(log)) as f:
            on_disk.append(f["spikes/a/timestamps"].shape[0])
        times.append(n.t)
        return False
    net.run(2000.0, chunk=500.0, on_chunk=probe)        # 4 chunks asked for
    net.close()
    assert len(times) > 4, times                        # they were split
    assert 0 < on_disk[len(on_disk) // 2] < on_disk[-1], on_disk    # flushed while running
    assert times[-1] == 2000.0
    with pytest.raises(es.EventsimError, match="flush_interval_s"):
        net.record_spikes(str(log), flush_interval_s=0.0)


def test_guard_bounds_recorded_source_spikes_too():
    net = es.Network(seed=0)
    net.poisson(5, 1e6, name="flood", record=True)      # the largest allowed rate, recorded
    net.population(2, LIFDelta(), name="a")
    with pytest.raises(es.SimulationError, match=r"7 recorded neurons and sources fired [\d,]+ spikes in"):
        net.run(1000.0, chunk=100.0, max_rate_hz=1000.0)
