"""Input robustness from the reliability review (items 8, 10, 11, 14, 16): values that hung a run or
gave an internal error are refused with one line naming the field and the range (exit 2), and
checks come before any run starts."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import eventsim as es
from eventsim import cli, guards
from eventsim import config as cfgmod
from eventsim import sweep as sweepmod
from eventsim.models import AdaptiveLIFExp, LIFDelta, LIFExp

TINY = """\
seed = 1
duration = 20.0
[populations.a]
size = 5
model = "LIFDelta"
params = { tau_m = 20.0, v_rest = 0.0, v_reset = 0.0, v_th = 10.0, t_ref = 1.0 }
[sources.s]
type = "poisson"
size = 3
rate = 200.0
[[projections]]
pre = "s"
post = "a"
connector = { type = "fixed_indegree", k = 2 }
weight = 12.0
delay = 1.0
"""


def tiny(tmp_path: Path, old: str = "", new: str = "", name: str = "tiny.toml") -> str:
    path = tmp_path / name
    path.write_text(TINY.replace(old, new) if old else TINY)
    return str(path)


def one_error(capsys, argv: list[str], *expected: str) -> str:
    """main(argv) exits 2 with one 'eventsim: error:' line on stderr that contains every `expected`."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eventsim: error: "), err
    for text in expected:
        assert text in err, err
    return err


# --- item 8: tiny positive values hung the run ---------------------------------------------------

@pytest.mark.parametrize("model, field", [(LIFDelta, "tau_m"), (LIFExp, "tau_syn_e"), (LIFExp, "tau_syn_i"),
                                          (AdaptiveLIFExp, "tau_theta")])
def test_time_constants_below_one_microsecond_are_refused(model, field):
    net = es.Network(seed=0)
    with pytest.raises(es.EventsimError, match=rf"{model.__name__}\.{field} must lie in \[0\.001, inf\)"):
        net.population(3, model(**{field: 1e-9}))
    with pytest.raises(es.EventsimError, match=rf"{field} must lie in \[0\.001, inf\).*at index 1"):
        net.population(2, model(**{field: np.array([5.0, 1e-12])}))


def test_the_smallest_time_constant_runs_fast():
    net = es.Network(seed=1)
    a = net.population(10, LIFDelta(tau_m=1e-3, v_rest=0.0, v_reset=0.0, v_th=10.0, t_ref=1.0), name="a")
    net.connect(net.spike_source(1, [5.0], [0], name="s"), a, es.all_to_all(), weight=20.0, delay=1.0)
    t0 = time.perf_counter()
    net.run(100.0, progress=False)
    assert time.perf_counter() - t0 < 3.0
    assert a.spikes()[0].size == 10


def test_tiny_tau_chunk_and_checkpoint_interval_are_refused_by_the_cli(tmp_path, capsys):
    out = str(tmp_path / "out")
    one_error(capsys, ["run", tiny(tmp_path, "tau_m = 20.0", "tau_m = 1e-12"), "--out", out, "--no-plot"],
              "LIFDelta.tau_m must lie in [0.001, inf)", "got 1e-12 at index 0")
    one_error(capsys, ["run", tiny(tmp_path, "duration = 20.0", "duration = 20.0\nchunk = 1e-320"), "--out", out],
              "chunk (ms) must lie in [0.001, inf)")
    one_error(capsys, ["run", tiny(tmp_path), "--checkpoint-every", "1e-300", "--out", out],
              "--checkpoint-every (ms) must lie in [1, inf)")
    # a long run may not be cut into more than MAX_CHUNKS chunks either
    with pytest.raises(es.EventsimError, match=r"chunk \(ms\) must lie in \[10, inf\)"):
        cfgmod.run_settings({"duration": 1e9, "chunk": 1.0})
    assert cfgmod.run_settings({"duration": 50.0, "chunk": 1e-3}) == (50.0, 1e-3)


# --- item 10: inputs that gave "internal error", exit 1 ------------------------------------------

INTERNAL_ERROR_CASES = [
    ("binary", "not UTF-8 text"),
    ("utf16", "not UTF-8 text"),
    ("deep", "nested too deeply"),
    ("k_huge", "projections[0].connector: fixed_indegree k must be a whole number in [0, 2**63 - 1], got 1e+308"),
    ("p_list", "projections[0].connector.p must be a number, got [1.0]"),
    ("p_true", "projections[0].connector.p must be a number, got True"),
    ("allow_number", "projections[0].connector.allow_autapses must be true or false"),
    ("source_huge", "sources.s.size must lie in [1, 2147483647]"),
    ("population_zero", "populations.a.size must lie in [1, 2147483647]"),
]


@pytest.mark.parametrize("case, expected", INTERNAL_ERROR_CASES, ids=[case for case, _ in INTERNAL_ERROR_CASES])
def test_config_inputs_that_gave_internal_errors(tmp_path, capsys, case, expected):
    bern = '{ type = "pairwise_bernoulli", p = %s }'
    indegree = '{ type = "fixed_indegree", k = 2 }'
    path = tmp_path / f"{case}.toml"
    if case == "binary":
        path.write_bytes(bytes(range(128, 256)) * 3)
    elif case == "utf16":
        path.write_bytes(TINY.encode("utf-16"))
    elif case == "deep":
        path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    else:
        old, new = {"k_huge": ("k = 2", "k = 1e308"), "p_list": (indegree, bern % "[1.0]"),
                    "p_true": (indegree, bern % "true"),
                    "allow_number": (indegree, '{ type = "all_to_all", allow_autapses = 1 }'),
                    "source_huge": ("size = 3", "size = 10000000000000"),
                    "population_zero": ("size = 5", "size = 0")}[case]
        path = Path(tiny(tmp_path, old, new, f"{case}.toml"))
    one_error(capsys, ["run", str(path), "--out", str(tmp_path / "out"), "--no-plot"], expected)


def test_zero_duration_is_refused(tmp_path, capsys):
    one_error(capsys, ["run", tiny(tmp_path), "--duration", "0", "--out", str(tmp_path / "out")],
              "duration (ms) must lie in (0, inf)")


def test_booleans_are_not_numbers_in_the_api():
    with pytest.raises(es.EventsimError, match="pairwise_bernoulli p must be a single number"):
        es.pairwise_bernoulli(True)
    with pytest.raises(es.EventsimError, match=r"fixed_indegree k must be a whole number in \[0, 2\*\*63 - 1\], got 1e\+308"):
        es.fixed_indegree(1e308)


def test_config_checks_memory_before_allocating_sources(tmp_path, monkeypatch):
    """A huge source used to be allocated (rate array) before the memory guard ran."""
    monkeypatch.setattr(guards, "mem_available", lambda *a: 10**6)
    monkeypatch.setattr(es.Network, "poisson", lambda *a, **k: pytest.fail("allocated before the check"))
    cfg = cfgmod.load(tiny(tmp_path, "size = 3", "size = 1000000"))
    with pytest.raises(es.SimulationError, match="does not fit in memory"):
        cfgmod.build(cfg)


# --- item 11: the sweep checks every point (and --out) before any run -----------------------------

@pytest.mark.parametrize("param, expected", [
    ("duration=20,-1", "sweep point duration=-1: duration (ms) must lie in (0, inf)"),
    ("chunk=10,0", "sweep point chunk=0: chunk (ms) must lie in [0.001, inf)"),
], ids=["duration", "chunk"])
def test_sweep_checks_duration_and_chunk_before_any_run(tmp_path, capsys, monkeypatch, param, expected):
    monkeypatch.setattr(sweepmod, "run_point", lambda p: pytest.fail("a point ran before the checks"))
    one_error(capsys, ["sweep", tiny(tmp_path), "--param", param], expected)


def test_sweep_checks_out_before_any_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweepmod, "run_point", lambda p: pytest.fail("a point ran before --out was checked"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_error(capsys, ["sweep", tiny(tmp_path), "--param", "seed=1,2", "--out", str(blocker)],
              "--out: cannot create the output directory")
    one_error(capsys, ["sweep", tiny(tmp_path), "--param", "seed=1", "--duration", "0"],
              "--duration (ms) must lie in (0, inf)")


# --- item 14: Ctrl-C while the command starts -----------------------------------------------------

def test_ctrl_c_while_the_commands_load_is_one_line(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "make_parser", interrupted)
    assert cli.main(["run"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("eventsim: interrupted"), err


def test_the_console_entry_imports_nothing_heavy_before_main():
    """The console script imports eventsim.cli and calls entry(); everything heavy (numpy,
    numba, h5py) must load inside main(), whose Ctrl-C handler then answers in one line. A
    module-level import anywhere on that path brings the traceback back."""
    import subprocess
    import sys
    code = ("import sys; from eventsim.cli import entry; "
            "print(sorted(m for m in ('numpy', 'numba', 'h5py') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


# --- item 16: warnings of `eventsim run` are one line; --checkpoint folder is made up front -------

def test_run_on_a_silent_population_warns_in_one_line(tmp_path, capsys):
    path = tiny(tmp_path, "weight = 12.0", "weight = 0.0")
    assert cli.main(["run", path, "--out", str(tmp_path / "out"), "--no-plot", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err == f"eventsim: warning: {tmp_path / 'out' / 'spikes.h5'}, population 'a': no spikes in [0.0, 20.0) ms\n"


def test_checkpoint_folder_is_made_before_the_run(tmp_path, capsys, monkeypatch):
    ck = tmp_path / "new" / "dir" / "ck.h5"
    assert cli.main(["run", tiny(tmp_path), "--checkpoint-every", "10", "--checkpoint", str(ck),
                     "--out", str(tmp_path / "out"), "--no-plot", "--no-progress"]) == 0
    assert ck.is_file() and capsys.readouterr().err == ""
    # a folder that cannot be made, or a checkpoint path that is a folder, stops before the build
    monkeypatch.setattr(cfgmod, "build", lambda *a, **k: pytest.fail("built before --checkpoint was checked"))
    (tmp_path / "file").write_text("")
    one_error(capsys, ["run", tiny(tmp_path), "--checkpoint", str(tmp_path / "file" / "ck.h5"),
                       "--out", str(tmp_path / "out")], "--checkpoint: cannot create the output directory")
    one_error(capsys, ["run", tiny(tmp_path), "--checkpoint", str(tmp_path), "--out", str(tmp_path / "out")],
              f"--checkpoint: '{tmp_path}' is a directory")


# --- follow-ups in the Python API (network, rules, connectors) and the CLI --------------------------

def test_api_refuses_a_chunk_that_would_never_end():
    net = es.Network(seed=1)
    net.population(3, LIFDelta())
    with pytest.raises(es.EventsimError, match=r"chunk \(ms\) must lie in \[0.001, inf\)"):
        net.run(10.0, chunk=1e-320)


@pytest.mark.parametrize("make", [
    lambda: __import__("eventsim.learning", fromlist=["additive"]).additive(tau_minus=1e-12),
    lambda: __import__("eventsim.learning", fromlist=["TripletSTDP"]).TripletSTDP(tau_y=1e-9),
])
def test_rule_time_constants_below_one_microsecond_are_refused(make):
    """A post-trace tau of 1e-12 ms set the rebase interval and the run never ended."""
    with pytest.raises(es.EventsimError, match=r"must lie in \[0.001, inf\)"):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: es.pairwise_bernoulli([1.0]), "pairwise_bernoulli p must be a single number"),
    (lambda: es.pairwise_bernoulli(True), "pairwise_bernoulli p must be a single number"),
    (lambda: es.fixed_indegree(2, allow_autapses="no"), "FixedIndegree.allow_autapses must be True or False"),
    (lambda: es.all_to_all(allow_autapses=0), "AllToAll.allow_autapses must be True or False"),
])
def test_connector_arguments_are_checked_in_python(make, match):
    with pytest.raises(es.EventsimError, match=match):
        make()


def test_checkpoint_onto_the_log_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "o"
    one_error(capsys, ["run", tiny(tmp_path), "--out", str(out), "--checkpoint-every", "5",
                       "--checkpoint", str(out / "spikes.h5"), "--no-plot"], "is the run's spike log")
    assert not (out / "spikes.h5").exists()
