"""Parameter sweeps: grids over config paths, parallel processes, clear errors."""
import pytest

import eventsim as es
from eventsim import config as cfgmod
from eventsim.sweep import grid, parse_param, run_sweep

CFG = """
duration = 200.0
seed = 1
[populations.a]
size = 50
model = "LIFDelta"
params = { i_bias = 25.0, v_rest = -70.0, v_reset = -70.0, v_th = -50.0, tau_m = 20.0, t_ref = 2.0 }
[[projections]]
pre = "a"
post = "a"
connector = { type = "fixed_indegree", k = 5 }
weight = -1.0
delay = 1.0
"""


def load(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(CFG)
    return cfgmod.load(p)


def test_sweep_over_a_parameter_changes_the_rate_and_runs_in_parallel(tmp_path):
    cfg = load(tmp_path)
    params = [parse_param("populations.a.params.i_bias=22,25,30"), parse_param("projections[0].weight=-1,-3")]
    assert len(grid(cfg, params)) == 6
    serial = run_sweep(cfg, params, jobs=1)
    parallel = run_sweep(cfg, params, jobs=2)
    assert serial == parallel
    rates = [r["populations"]["a"]["rate_hz"] for r in serial]
    assert rates[0] < rates[2] < rates[4]                 # stronger bias, higher rate (weight -1)
    assert serial[0]["point"] == {"populations.a.params.i_bias": 22, "projections[0].weight": -1}


def test_bad_sweep_parameters(tmp_path):
    cfg = load(tmp_path)
    with pytest.raises(es.ConfigError, match="name=v1,v2"):
        parse_param("i_bias")
    with pytest.raises(es.ConfigError, match="no key 'popultions'"):
        grid(cfg, [parse_param("popultions.a.size=1,2")])
    with pytest.raises(es.ConfigError, match=r"index \[3\] out of range"):
        grid(cfg, [parse_param("projections[3].weight=1")])
