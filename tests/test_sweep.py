"""Parameter sweeps: grids over config paths, parallel processes, the CLI, clear errors."""
import csv
import json
import subprocess
import sys

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
    assert all(r.pop("wall_s") > 0 for r in serial + parallel)
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
    with pytest.raises(es.ConfigError, match=r"'projections' is an array of 1; index it"):
        grid(cfg, [parse_param("projections.weight=1")])
    with pytest.raises(es.ConfigError, match="populations.a.size must be a whole number, got 'many'"):
        grid(cfg, [parse_param("populations.a.size=10,many")])
    with pytest.raises(es.ConfigError, match="parameter of LIFDelta.*'tau_mm'; did you mean 'tau_m'"):
        grid(cfg, [parse_param("populations.a.params.tau_mm=10")])
    with pytest.raises(es.ConfigError, match="given more than once"):
        grid(cfg, [parse_param("seed=1"), parse_param("seed=2")])
    big = ",".join(str(k) for k in range(1, 202))                  # 201 x 50 > 10,000: refused at once
    with pytest.raises(es.ConfigError, match=r"grid has 10,050 points \(201 x 50\), more than 10,000"):
        grid(cfg, [parse_param(f"seed={big}"), parse_param("duration=" + ",".join(str(k) for k in range(1, 51)))])


def test_sweep_cli_writes_a_table(tmp_path, capsys):
    from eventsim.cli import main
    cfg = tmp_path / "c.toml"
    cfg.write_text(CFG)
    out = tmp_path / "sw"
    assert main(["sweep", str(cfg), "--param", "populations.a.params.i_bias=22,30", "--param", "seed=1,2",
                 "--duration", "100", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 runs in" in printed and "a.rate_hz" in printed
    rows = list(csv.DictReader(open(out / "sweep.csv")))
    assert [(r["populations.a.params.i_bias"], r["seed"]) for r in rows] == [("22", "1"), ("22", "2"),
                                                                            ("30", "1"), ("30", "2")]
    assert float(rows[0]["a.rate_hz"]) < float(rows[2]["a.rate_hz"])
    assert int(rows[0]["a.spikes"]) > 0 and float(rows[0]["wall_s"]) > 0
    data = json.loads((out / "sweep.json").read_text())
    assert len(data["runs"]) == 4 and data["params"] == ["populations.a.params.i_bias", "seed"]
    # errors: one line, exit status 2, naming the field
    assert main(["sweep", str(cfg), "--param", "populations.a.size=ten"]) == 2
    assert "populations.a.size must be a whole number, got 'ten'" in capsys.readouterr().err
    assert main(["sweep", str(cfg)]) == 2
    assert "at least one --param" in capsys.readouterr().err


def test_cli_does_not_import_mpi4py_outside_mpiexec(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CFG)
    code = ("import sys; from eventsim.cli import main; "
            f"assert main(['sweep', {str(cfg)!r}, '--param', 'seed=1', '--duration', '10']) == 0; "
            "assert 'mpi4py' not in sys.modules, 'mpi4py imported'")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("PMI", "OMPI", "HYDRA", "MPI"))}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]


def test_sweep_over_mpi_ranks_deals_out_points_and_gathers_in_grid_order(tmp_path, monkeypatch):
    """The rank logic of run_sweep with a stand-in communicator (the real mpiexec path is the same code)."""
    import eventsim.distributed as dist
    cfg = load(tmp_path)
    params = [parse_param("seed=1,2,3"), parse_param("duration=50")]
    serial = run_sweep(cfg, params, jobs=1)
    sent = {}

    class Comm:
        def __init__(self, rank):
            self.rank = rank

        def Get_rank(self):
            return self.rank

        def Get_size(self):
            return 2

        def gather(self, obj, root=0):
            sent[self.rank] = obj
            return [sent[0], sent[1]] if self.rank == 0 else None

    monkeypatch.setattr(dist, "world", lambda: Comm(1))
    assert run_sweep(cfg, params) == []                           # rank 1 returns nothing
    assert [k for k, _ in sent[1]] == [1]
    monkeypatch.setattr(dist, "world", lambda: Comm(0))
    got = run_sweep(cfg, params)
    assert [k for k, _ in sent[0]] == [0, 2]
    for a, b in zip(got, serial):
        a.pop("wall_s"), b.pop("wall_s")
    assert got == serial
