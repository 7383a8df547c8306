"""Checkpoint and resume: bit-identical continuation (static and STDP), log truncation, signals,
kill -9 crash safety, and rejection of corrupted or foreign checkpoints."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import eventsim as es
from eventsim import checkpoint as ckmod
from eventsim import cli
from eventsim import config as cfgmod
from eventsim.engine import Engine
from eventsim.learning import TripletSTDP, additive
from eventsim.models import AdaptiveLIFExp, LIFDelta, LIFExp
from eventsim.recording import open_log_for_reading

# A small CUBA-like network with Poisson drive (recorded), per-synapse and constant delays.
# Each presynaptic population with per-synapse delays has a single projection (see the
# builder's group-order bug in the report: groups of one node must be in delay order).
KILL_CONFIG = """
seed = 11
duration = 600.0
chunk = 50.0
[populations.exc]
size = 800
model = "LIFExp"
params = { tau_m = 20.0, tau_syn_e = 5.0, tau_syn_i = 10.0, v_rest = -60.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0 }
v_init = { dist = "uniform", low = -60.0, high = -50.0 }
[populations.inh]
size = 200
model = "LIFExp"
params = { tau_m = 20.0, tau_syn_e = 5.0, tau_syn_i = 10.0, v_rest = -60.0, i_bias = 8.0, v_th = -50.0, v_reset = -60.0, t_ref = 5.0 }
v_init = { dist = "uniform", low = -60.0, high = -50.0 }
[sources.ext]
type = "poisson"
size = 200
rate = 50.0
record = true
[[projections]]
pre = "ext"
post = "exc"
connector = { type = "fixed_indegree", k = 20 }
weight = 2.0
delay = { dist = "uniform", low = 0.5, high = 3.0 }
[[projections]]
pre = "exc"
post = "exc"
connector = { type = "pairwise_bernoulli", p = 0.05 }
weight = 0.5
delay = 1.5
[[projections]]
pre = "exc"
post = "inh"
connector = { type = "pairwise_bernoulli", p = 0.1 }
weight = 0.5
delay = 1.5
[[projections]]
pre = "inh"
post = "exc"
connector = { type = "pairwise_bernoulli", p = 0.05 }
weight = -2.5
delay = 0.8
[[projections]]
pre = "inh"
post = "inh"
connector = { type = "pairwise_bernoulli", p = 0.05 }
weight = -2.5
delay = 0.8
"""
POPS = ("exc", "inh", "ext")
N_KILLS = int(os.environ.get("EVENTSIM_KILL_TRIALS", "20"))


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def small_net(log=None, seed=3, plastic=False, in_memory=True):
    net = es.Network(seed=seed)
    exc = net.population(40, LIFExp(tau_m=20.0, tau_syn_e=5.0, tau_syn_i=10.0, v_rest=-60.0, v_th=-50.0,
                                     v_reset=-60.0, t_ref=2.0), v_init=es.uniform(-60.0, -50.0), name="exc")
    ad = net.population(10, AdaptiveLIFExp(theta_plus=0.5, tau_theta=200.0, i_bias=12.0), name="ad")
    ext = net.poisson(30, 40.0, name="ext", record=True)
    arr = net.spike_source(5, times=[1.0, 2.5, 7.0, 33.0, 80.0], ids=[0, 1, 2, 3, 4], name="arr")
    rule = additive(lambda_=0.05, w_max=4.0) if plastic else None
    net.connect(ext, exc, es.fixed_indegree(8), weight=es.uniform(0.5, 3.0), delay=es.uniform(0.3, 2.0),
                plasticity=rule)
    net.connect(exc, exc, es.pairwise_bernoulli(0.2), weight=1.0, delay=1.0)
    net.connect(exc, ad, es.pairwise_bernoulli(0.2), weight=2.0, delay=1.0)
    net.connect(ad, exc, es.all_to_all(), weight=-3.0, delay=0.5)
    net.connect(arr, ad, es.all_to_all(), weight=5.0, delay=2.0)
    if log is not None:
        net.record_spikes(str(log), in_memory=in_memory)
    return net


def spikes_of(net, names=None):
    names = names or [p.name for p in net.populations.values() if p.record]
    return {n: net.populations[n].spikes() for n in names}


def log_spikes(path, names):
    with open_log_for_reading(str(path)) as f:
        return {n: (f[f"spikes/{n}/timestamps"][()], f[f"spikes/{n}/node_ids"][()].astype(np.int64))
                for n in names}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for n in a:
        np.testing.assert_array_equal(a[n][0], b[n][0], err_msg=n)
        np.testing.assert_array_equal(a[n][1], b[n][1], err_msg=n)


# ----------------------------------------------------------------------------------------------
# API
# ----------------------------------------------------------------------------------------------
def test_resume_is_bit_identical_and_truncates_the_log(tmp_path):
    ref = small_net()
    ref.run(300.0, chunk=37.0)
    want = spikes_of(ref)
    assert sum(t.size for t, _ in want.values()) > 200

    log = tmp_path / "spikes.h5"
    net = small_net(log)
    net.run(120.0, chunk=50.0)
    net.checkpoint(tmp_path / "ck.h5")
    net.run(100.0)                      # these spikes reach the log and must be dropped on resume
    net.close()
    net2 = ckmod.resume(tmp_path / "ck.h5", lambda: small_net(log))
    assert net2.t == 120.0
    net2.run(180.0, chunk=25.0)         # another chunk size: results do not depend on it
    net2.close()
    assert_same(spikes_of(net2), want)  # memory: prefix reloaded from the log
    assert_same(log_spikes(log, want), want)
    assert net2.stats == ref.stats


def test_resume_of_memory_only_network_and_rate_and_parameter_changes(tmp_path):
    def scripted(net, upto_ck):
        net.run(60.0)
        net.populations["ext"].set_rate(90.0)
        net.populations["ad"].set(v_th=-52.0)
        net.run(40.0)
        if upto_ck:
            return net
        net.run(150.0)
        return net
    want = spikes_of(scripted(small_net(), False))
    net = scripted(small_net(), True)
    net.checkpoint(tmp_path / "ck.h5")
    net2 = ckmod.resume(tmp_path / "ck.h5", small_net)
    net2.run(150.0)
    assert_same(spikes_of(net2), want)
    np.testing.assert_array_equal(net2.populations["ad"].get("v_th"), -52.0)


@pytest.mark.parametrize("rule", [additive(lambda_=0.05, w_max=4.0),
                                  TripletSTDP(a2_plus=0.02, a3_plus=0.01, a2_minus=0.02, a3_minus=0.0, w_max=4.0)])
def test_stdp_resume_gives_identical_spikes_and_final_weights(tmp_path, rule):
    def make(log=None):
        net = small_net(log, plastic=False)
        inp = net.poisson(20, 30.0, name="inp")
        net.connect(inp, net.populations["exc"], es.pairwise_bernoulli(0.5), weight=es.uniform(0.5, 3.5),
                    delay=1.2, plasticity=rule, name="plastic")
        return net
    ref = make()
    ref.run(400.0)
    w_ref = ref.projections[-1].weights()[2]
    net = make(tmp_path / "s.h5")
    net.run(170.0)
    net.checkpoint(tmp_path / "ck.h5")
    net.close()
    net2 = ckmod.resume(tmp_path / "ck.h5", lambda: make(tmp_path / "s.h5"))
    net2.run(230.0)
    net2.close()
    assert_same(spikes_of(net2), spikes_of(ref))
    w = net2.projections[-1].weights()[2]
    assert not np.array_equal(w, make().projections[-1].weight.astype(np.float32))   # learning happened
    np.testing.assert_array_equal(w, w_ref)
    np.testing.assert_array_equal(net2._engine.plast[2], ref._engine.plast[2])   # pre traces
    np.testing.assert_array_equal(net2._engine.plast[3], ref._engine.plast[3])   # post traces


def test_every_engine_attribute_is_checkpointed_or_declared_transient():
    net = small_net()
    net.run(5.0)
    attrs = set(vars(net._engine))
    stored = set(ckmod._engine_items(net._engine))
    assert attrs == stored | (attrs & set(ckmod.ENGINE_TRANSIENT)), attrs - stored
    import dataclasses
    for f in dataclasses.fields(Engine):
        assert f.name in stored or f.name in ckmod.ENGINE_TRANSIENT, f.name
    for name in ("P", "S", "checks", "queue", "sources", "graph", "plast", "epoch", "stats", "t"):
        assert name in stored


def test_checkpoint_is_atomic_and_records_fingerprint(tmp_path):
    net = small_net(tmp_path / "s.h5")
    net.run(30.0)
    path = tmp_path / "ck.h5"
    net.checkpoint(path)
    first = path.read_bytes()
    (tmp_path / "ck.h5.tmp").write_bytes(b"garbage from an interrupted save")
    net.run(10.0)
    net.checkpoint(path)
    assert path.read_bytes() != first and not (tmp_path / "ck.h5.tmp").exists()
    ck = ckmod.read(path)
    assert ck.t == 40.0 and ck.seed == 3
    assert ck.fingerprint["populations"][0] == ["exc", "neuron", 40, True]
    assert ck.log["rows"]["exc"] == net.populations["exc"].spikes()[0].size
    net.close()


# ----------------------------------------------------------------------------------------------
# corrupted and foreign inputs: one clear line each
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    net = small_net(d / "s.h5")
    net.run(50.0)
    net.checkpoint(d / "ck.h5")
    net.close()
    return d


def one_line(exc_info):
    msg = str(exc_info.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


def test_rejects_truncated_foreign_and_corrupt_files(good_ckpt, tmp_path):
    data = (good_ckpt / "ck.h5").read_bytes()
    cases = {}
    for frac in (0.02, 0.5, 0.97):
        p = tmp_path / f"trunc{frac}.h5"
        p.write_bytes(data[:int(len(data) * frac)])
        cases[p] = r"not a readable HDF5 file|corrupt or truncated|corrupt"
    text = tmp_path / "text.h5"
    text.write_text("this is not HDF5\n")
    cases[text] = "not a readable HDF5 file"
    cases[good_ckpt / "s.h5"] = "not an eventsim checkpoint \\(it is an eventsim spike log\\)"
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    cases[other] = "not an eventsim checkpoint \\(it is an HDF5 file of another kind\\)"
    weights = tmp_path / "w.h5"
    wnet = small_net()
    wnet.run(1.0)
    wnet.save_weights(str(weights))
    cases[weights] = "not an eventsim checkpoint \\(it is an eventsim weight file\\)"
    flipped = tmp_path / "flipped.h5"
    flipped.write_bytes(data)
    with h5py.File(flipped, "r+") as f:
        f["engine/S"][0, 0] += 1.0                          # silent damage: caught by the checksum
    cases[flipped] = "corrupt \\(checksum mismatch\\)"
    cases[tmp_path / "missing.h5"] = "does not exist"
    for path, match in cases.items():
        with pytest.raises(es.EventsimError, match=match) as info:
            ckmod.resume(path, small_net)
        one_line(info)


def test_rejects_checkpoints_of_other_networks_versions_and_configs(good_ckpt, tmp_path):
    ck = good_ckpt / "ck.h5"
    with pytest.raises(es.EventsimError, match="different network: seed is 3") as info:
        ckmod.resume(ck, lambda: small_net(seed=4))
    one_line(info)

    def bigger():
        net = small_net()
        net.population(3, LIFDelta(), name="extra")
        return net
    with pytest.raises(es.EventsimError, match="different network: population 'extra'") as info:
        ckmod.resume(ck, bigger)
    one_line(info)

    def rewired():
        net = small_net()
        net.connect(net.populations["exc"], net.populations["exc"], es.one_to_one(), weight=0.1, delay=3.0)
        return net
    with pytest.raises(es.EventsimError, match="different network") as info:
        ckmod.resume(ck, rewired)
    one_line(info)

    def built():
        net = small_net()
        net.build()
        return net
    with pytest.raises(es.EventsimError, match="not been built"):
        ckmod.resume(ck, built)
    with pytest.raises(es.EventsimError, match="must return an eventsim.Network"):
        ckmod.resume(ck, lambda: 42)
    with pytest.raises(es.EventsimError, match="stores no config"):
        ckmod.resume(ck, None)

    old = tmp_path / "old.h5"
    old.write_bytes(ck.read_bytes())
    with h5py.File(old, "r+") as f:
        f.attrs["eventsim_version"] = "0.0.1"
    with pytest.raises(es.EventsimError, match="written by eventsim 0.0.1 .*this is eventsim") as info:
        ckmod.resume(old, small_net)
    one_line(info)
    incomplete = tmp_path / "incomplete.h5"
    incomplete.write_bytes(ck.read_bytes())
    with h5py.File(incomplete, "r+") as f:
        del f.attrs["complete"]
    with pytest.raises(es.EventsimError, match="incomplete"):
        ckmod.resume(incomplete, small_net)


def write_cfg(tmp_path, text=KILL_CONFIG, name="net.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def cli_run(*args):
    return subprocess.run([sys.executable, "-m", "eventsim.cli", "run", "--no-progress", "--no-plot", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.filterwarnings("ignore:.*population 'inh'. no spikes in")   # 40 ms: too short for inh to fire
def test_cli_rejects_bad_resume_inputs_with_one_line(good_ckpt, tmp_path, capsys):
    small = KILL_CONFIG.replace("size = 800", "size = 80").replace("size = 200", "size = 20")
    small = small.replace("duration = 1000.0", "duration = 40.0")
    cfg = write_cfg(tmp_path, small)
    out = tmp_path / "o"
    assert cli.main(["run", str(cfg), "--out", str(out), "--checkpoint-every", "20", "--no-progress",
                     "--no-plot"]) == 0
    ck = out / "checkpoint.h5"
    other_cfg = write_cfg(tmp_path, small.replace("p = 0.05", "p = 0.06"), "other.toml")
    bad_types = write_cfg(tmp_path, small.replace("size = 80", 'size = "80"'), "bad.toml")
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(ck.read_bytes()[:3000])
    cases = [
        (["--resume", str(trunc)], "not a readable HDF5 file"),
        (["--resume", str(out / "spikes.h5")], "not an eventsim checkpoint"),
        (["--resume", str(good_ckpt / "ck.h5")], "stores no config"),
        ([str(other_cfg), "--resume", str(ck)], "another config"),
        (["--resume", str(ck), "--seed", "12"], "seed 11, not 12"),
        ([str(bad_types), "--resume", str(ck)], "populations.exc.size must be a whole number"),
        ([str(bad_types)], "populations.exc.size must be a whole number"),
        (["--resume", str(ck), "--duration", "10"], "after the end of the run"),
        ([str(cfg), "--checkpoint-every", "-5"], "checkpoint-every"),
        ([str(cfg), "--max-rate", "0"], "max-rate"),
    ]
    capsys.readouterr()
    for k, (args, match) in enumerate(cases):
        if k == 0:                       # one in a real process, the others in this one (faster)
            r = cli_run(*args, "--out", str(tmp_path / "o2"))
            code, err = r.returncode, r.stderr
        else:
            code = cli.main(["run", "--no-progress", "--no-plot", *args, "--out", str(tmp_path / "o2")])
            err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("eventsim: error:"), (args, err)
        assert match in lines[0], (args, lines[0])


# ----------------------------------------------------------------------------------------------
# command line: signals and kill -9
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Spikes of an uninterrupted run of KILL_CONFIG (in-process, in memory)."""
    d = tmp_path_factory.mktemp("ref")
    cfg_path = write_cfg(d)
    cfg = cfgmod.load(cfg_path)
    net = cfgmod.build(cfg)
    net.run(float(cfg["duration"]), chunk=50.0)
    return cfg_path, spikes_of(net, POPS)


def resume_cli(ck, out):
    code = cli.main(["run", "--resume", str(ck), "--out", str(out), "--no-progress", "--no-plot"])
    assert code == 0


def wait_for(path, proc, timeout=120.0):
    t0 = time.monotonic()
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.stderr.read()}")
        assert time.monotonic() - t0 < timeout
        time.sleep(0.01)


def start_cli(cfg_path, out, *extra):
    return subprocess.Popen([sys.executable, "-m", "eventsim.cli", "run", str(cfg_path), "--out", str(out),
                             "--no-progress", "--no-plot", "--checkpoint-every", "50", "--flush-interval", "0.2",
                             *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_checkpoints_flushes_and_exits_cleanly(reference, tmp_path, sig):
    cfg_path, want = reference
    out = tmp_path / "o"
    proc = start_cli(cfg_path, out)
    wait_for(out / "spikes.h5", proc)
    time.sleep(0.15)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived (very fast machine)")
    assert proc.returncode == 128 + sig, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"stopped by {signal.Signals(sig).name}" in lines[0] and "--resume" in lines[0]
    ck = ckmod.read(out / "checkpoint.h5")
    assert 0 < ck.t < 600.0
    with h5py.File(out / "spikes.h5", "r") as f:          # closed cleanly: opens without SWMR
        assert all(f[f"spikes/{n}/timestamps"].shape[0] == ck.log["rows"][n] for n in POPS)
    resume_cli(out / "checkpoint.h5", out)
    assert_same(log_spikes(out / "spikes.h5", POPS), want)


def _kill_trial(cfg_path, out, delay, want):
    """Start a run, SIGKILL it `delay` s after its log appeared; check the log; return the checkpoint."""
    proc = start_cli(cfg_path, out)
    wait_for(out / "spikes.h5", proc)              # the run has started
    t0 = time.monotonic()
    time.sleep(delay)
    proc.kill()
    proc.wait()
    got = log_spikes(out / "spikes.h5", POPS)      # must open after SIGKILL
    ck_path = out / "checkpoint.h5"
    ck = ckmod.read(ck_path) if ck_path.exists() else None
    for n in POPS:
        k = got[n][0].size
        np.testing.assert_array_equal(got[n][0], want[n][0][:k], err_msg=f"{out.name} {n}")
        np.testing.assert_array_equal(got[n][1], want[n][1][:k], err_msg=f"{out.name} {n}")
        if ck is not None:
            assert k >= ck.log["rows"][n], (out.name, n, k, ck.log["rows"][n])
    return ck, sum(v[0].size for v in got.values()), time.monotonic() - t0


def test_kill9_at_random_moments_loses_and_duplicates_nothing(reference, tmp_path):
    """SIGKILL `eventsim run --checkpoint-every` at random moments of its run: the log must open
    and hold an exact prefix of the reference, at least up to the last checkpoint; resuming from
    that checkpoint must reproduce the reference exactly. Two trials run at a time."""
    from concurrent.futures import ThreadPoolExecutor
    cfg_path, want = reference
    # calibration: an uninterrupted CLI run gives the reference log and the length of the run phase
    out = tmp_path / "full"
    proc = start_cli(cfg_path, out)
    wait_for(out / "spikes.h5", proc)
    t0 = time.monotonic()
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    run_s = time.monotonic() - t0
    assert_same(log_spikes(out / "spikes.h5", POPS), want)
    rng = random.Random(int(os.environ.get("EVENTSIM_KILL_SEED", "20261122")))
    delays = [rng.uniform(0.0, 0.8 * run_s) for _ in range(N_KILLS)]   # run_s includes the summary
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(_kill_trial, cfg_path, tmp_path / f"k{i}", d, want) for i, d in enumerate(delays)]
        outcomes = [f.result() for f in futures]
    results = []
    for i, (ck, rows, alive) in enumerate(outcomes):
        out = tmp_path / f"k{i}"
        if ck is not None:                              # else killed before the first checkpoint: rerun
            resume_cli(out / "checkpoint.h5", out)
            assert_same(log_spikes(out / "spikes.h5", POPS), want)
        results.append((round(alive, 2), rows, None if ck is None else ck.t))
    resumed = [r for r in results if r[2] is not None]
    print(f"\nkill -9: run phase {run_s:.2f} s; {len(results)} trials (killed after s, rows in log, checkpoint ms): "
          f"{results}; resumed bit-identically: {len(resumed)}")
    assert len(resumed) >= N_KILLS // 2


@pytest.mark.filterwarnings("ignore:.*population 'inh'. no spikes in")
def test_resumed_run_summary_reports_its_own_segment(tmp_path):
    """After --resume the summary divided the whole run's synaptic events by the resumed
    segment's wall time (1374 M events/s for a run with nothing left to do)."""
    small = KILL_CONFIG.replace("size = 800", "size = 80").replace("size = 200", "size = 20")
    cfg = write_cfg(tmp_path, small.replace("duration = 600.0", "duration = 40.0"))
    out = tmp_path / "o"
    assert cli.main(["run", str(cfg), "--out", str(out), "--checkpoint-every", "20", "--no-progress",
                     "--no-plot"]) == 0
    first = json.loads((out / "summary.json").read_text())
    assert first["t_begin_ms"] == 0.0
    assert cli.main(["run", "--resume", str(out / "checkpoint.h5"), "--duration", "40", "--no-progress",
                     "--no-plot"]) == 0
    again = json.loads((out / "summary.json").read_text())
    assert again["t_begin_ms"] == 40.0 and again["syn_events_per_s"] == 0.0
    assert again["syn_events"] == first["syn_events"]          # whole-run counters carry over
