"""Bad input gives clear errors that name the field and the range; the CLI prints one line."""
import subprocess
import sys

import numpy as np
import pytest

import eventsim as es
from eventsim import config as cfgmod
from eventsim.models import LIFDelta, LIFExp


def two_pops():
    net = es.Network(seed=0)
    return net, net.population(5, LIFDelta(), name="a"), net.population(5, LIFDelta(), name="b")


@pytest.mark.parametrize("delay, match", [(-1.0, "delay"), (np.nan, "delay"), (np.inf, "delay"), (0.0, "delay")])
def test_bad_delays(delay, match):
    net, a, b = two_pops()
    with pytest.raises(es.EventsimError, match=match + r".*\(0, inf\)"):
        net.connect(a, b, es.all_to_all(), weight=1.0, delay=delay)


@pytest.mark.parametrize("weight", [np.nan, np.inf, -np.inf])
def test_bad_weights(weight):
    net, a, b = two_pops()
    with pytest.raises(es.EventsimError, match="weight"):
        net.connect(a, b, es.all_to_all(), weight=weight)


@pytest.mark.parametrize("field, value", [("tau_m", -5.0), ("tau_m", np.nan), ("tau_m", np.inf),
                                          ("tau_syn_e", 0.0), ("tau_syn_i", np.nan), ("t_ref", -1.0)])
def test_bad_time_constants(field, value):
    net = es.Network(seed=0)
    with pytest.raises(es.EventsimError, match=f"LIFExp.{field}"):
        net.population(3, LIFExp(**{field: value}))


def test_bad_heterogeneous_parameter_names_index():
    net = es.Network(seed=0)
    with pytest.raises(es.EventsimError, match=r"tau_m.*at index 2"):
        net.population(3, LIFDelta(tau_m=np.array([10.0, 20.0, -1.0])))


def test_tau_syn_equal_tau_m_and_reset_above_threshold():
    net = es.Network(seed=0)
    with pytest.raises(es.EventsimError, match="tau_syn_e must differ from tau_m"):
        net.population(3, LIFExp(tau_m=5.0, tau_syn_e=5.0))
    # near tau_m the exact solution loses precision (1e-9 ms at a 1e-5 gap): a 0.1% gap is required
    with pytest.raises(es.EventsimError, match=r"tau_syn_i must differ from tau_m by at least 0.1% .*index 1"):
        net.population(2, LIFExp(tau_m=np.array([10.0, 20.0]), tau_syn_i=np.array([5.0, 20.01])))
    net.population(2, LIFExp(tau_m=20.0, tau_syn_e=20.03))
    with pytest.raises(es.EventsimError, match="v_reset must be < v_th"):
        net.population(3, LIFDelta(v_reset=-40.0, v_th=-50.0))


def test_set_keeps_reset_below_threshold():
    """set() checks v_reset < v_th as the constructor does (a reset at or above threshold
    made the neuron fire at every refractory end, or hang the run with t_ref = 0)."""
    net = es.Network(seed=0)
    cells = net.population(4, LIFExp(v_th=-50.0, v_reset=-60.0, t_ref=0.0), name="c")
    net.run(1.0)
    with pytest.raises(es.EventsimError, match=r"c.v_reset must be < v_th \(neuron 0: v_reset=-60 mV, v_th=-70"):
        cells.set(v_th=-70.0)
    with pytest.raises(es.EventsimError, match=r"neuron 2: v_reset=-50 mV, v_th=-50"):
        cells.set(v_reset=np.array([-60.0, -55.0, -50.0, -65.0]))
    np.testing.assert_array_equal(cells.get("v_th"), -50.0)       # nothing was applied
    np.testing.assert_array_equal(cells.get("v_reset"), -60.0)
    cells.set(v_th=-70.0, v_reset=-75.0)                             # both at once is fine
    np.testing.assert_array_equal(cells.get("v_th"), -70.0)


def test_empty_population_and_bad_p_and_negative_duration():
    net = es.Network(seed=0)
    with pytest.raises(es.EventsimError, match="size must be a whole number >= 1"):
        net.population(0, LIFDelta())
    for p in (-0.1, 1.5, np.nan):
        with pytest.raises(es.EventsimError, match=r"p must lie in \[0, 1\]"):
            es.pairwise_bernoulli(p)
    net.population(2, LIFDelta())
    with pytest.raises(es.EventsimError, match="duration"):
        net.run(-1.0)


def test_structure_is_frozen_after_first_run():
    net, a, b = two_pops()
    net.run(1.0)
    with pytest.raises(es.EventsimError, match="already built"):
        net.population(3, LIFDelta())


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


BASE = """
[populations.a]
size = 10
model = "LIFDelta"
"""


def test_unknown_config_keys_suggest_nearest(tmp_path):
    with pytest.raises(es.ConfigError, match="unknown config key 'duraton'; did you mean 'duration'"):
        cfgmod.load(write(tmp_path, "duraton = 5.0\n" + BASE))
    with pytest.raises(es.ConfigError, match="did you mean 'model'"):
        cfgmod.load(write(tmp_path, BASE.replace("model =", "modl =")))


def test_unknown_model_connector_and_param(tmp_path):
    cfg = cfgmod.load(write(tmp_path, BASE.replace("LIFDelta", "LIFExpo")))
    with pytest.raises(es.ConfigError, match="did you mean 'LIFExp'"):
        cfgmod.build(cfg)
    proj = BASE + '\n[[projections]]\npre = "a"\npost = "a"\nconnector = { type = "pairwise_bernouli", p = 0.1 }\n'
    with pytest.raises(es.ConfigError, match="did you mean 'pairwise_bernoulli'"):
        cfgmod.load(write(tmp_path, proj))
    cfg = cfgmod.load(write(tmp_path, BASE + "params = { tau_mem = 5.0 }\n"))
    with pytest.raises(es.ConfigError, match="did you mean 'tau_m'"):
        cfgmod.build(cfg)


def test_wrong_types_in_config(tmp_path):
    with pytest.raises(es.ConfigError, match="populations.a.size must be a whole number"):
        cfgmod.load(write(tmp_path, BASE.replace("size = 10", 'size = "ten"')))


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "eventsim.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_cli_bad_input_prints_one_line_and_exits_nonzero(tmp_path):
    bad = write(tmp_path, BASE + "params = { tau_m = -3.0 }\n")
    for args in (["run", str(bad)], ["run", "nope.toml"], ["run", "cuba", "--duration", "-5"]):
        r = run_cli(*args, "--out", str(tmp_path / "o"))
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("eventsim: error:"), r.stderr
        assert "Traceback" not in r.stderr


def test_cli_out_that_is_a_file_names_the_option(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    r = run_cli("run", "cuba", "--duration", "1", "--out", str(blocker))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eventsim: error: --out: cannot create the output directory"), r.stderr


def test_cli_runs_a_small_config(tmp_path):
    cfg = write(tmp_path, BASE.replace("size = 10", "size = 20") + "params = { i_bias = 25.0 }\nduration = 100.0\n"
                .replace("duration = 100.0\n", "") )
    cfg.write_text("duration = 100.0\n" + cfg.read_text())
    out = tmp_path / "out"
    r = run_cli("run", str(cfg), "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "spikes.h5").exists() and (out / "raster.png").exists() and (out / "summary.json").exists()
    assert "rate" in r.stdout
