"""Bad command-line input to the experiment scripts under benchmarks/diehl_cook and
benchmarks/multimodal: one "error: ..." line on stderr naming the option, exit status 2, no
traceback, and no result file written. Every case fails before any data is loaded (a few seconds each)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")

CASES = [
    ("multimodal/loso.py", ["--epochs", "-1"], "--epochs"),
    ("multimodal/evaluate.py", ["--experiment", "multimodal", "--n-test", "-5"], "--n-test"),
    ("multimodal/evaluate.py", ["--experiment", "multimodal", "--tag", "no_such_tag_xyz"], "--tag"),
    ("multimodal/train.py", ["--pairs", "-5"], "--pairs"),
    ("multimodal/train.py", ["--n-img", "0"], "--n-img"),
    ("multimodal/train.py", ["--set-cross", "nosuch=1"], "--set-cross"),
    ("multimodal/tune_audio.py", ["n=0"], "n must be"),
    ("multimodal/tune_audio.py", ["theta_plus"], "name=value"),
    ("diehl_cook/tune.py", ["--n", "10", "--train", "-5"], "--train"),
    ("diehl_cook/throughput.py", ["--n", "10", "--samples", "-5"], "--samples"),
    ("diehl_cook/train_eval.py", ["--set", "nosuch=1"], "--set"),
    ("diehl_cook/train_eval.py", ["--set", "theta_plus"], "--set"),
    ("diehl_cook/train_eval.py", ["--epochs", "0"], "--epochs"),
    ("diehl_cook/train_eval.py", ["--n", "-5"], "--n"),
    ("diehl_cook/train_eval.py", ["--prune", "2"], "--prune"),
    ("diehl_cook/train_eval.py", ["--eta-decay", "0"], "--eta-decay"),
    ("diehl_cook/test_time.py", ["README.md", "--n", "4", "--grid", "1,x"], "--grid"),
    ("diehl_cook/test_time.py", ["README.md", "--n", "4", "--grid", "1,0"], "--grid"),
    ("diehl_cook/prune_quant.py", ["--weights", "/nonexistent/w.h5"], "--weights"),
    ("diehl_cook/song_stdp.py", ["-3"], "seconds"),
]


def _results_state():
    out = {}
    for sub in ("diehl_cook", "multimodal"):
        d = os.path.join(BENCH, sub, "results")
        if os.path.isdir(d):
            for name in os.listdir(d):
                st = os.stat(os.path.join(d, name))
                out[(sub, name)] = (st.st_mtime_ns, st.st_size)
    return out


def _run(script, args, env=None):
    return subprocess.run([sys.executable, os.path.join(BENCH, script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "MPLBACKEND": "Agg", **(env or {})})


@pytest.mark.parametrize("script,args,option", CASES, ids=[f"{s} {' '.join(a)}" for s, a, _ in CASES])
def test_bad_input_is_one_line_exit_2(script, args, option):
    before = _results_state()
    r = _run(script, args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and option in lines[0], r.stderr
    assert _results_state() == before


def test_missing_data_is_one_line_exit_2():
    r = _run("diehl_cook/train_eval.py", ["--n", "10", "--tag", "argcheck_no_data"],
             env={"EVENTSIM_DATA": "/nonexistent/eventsim-data"})
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: ")


@pytest.mark.parametrize("script", ["diehl_cook/song_stdp.py", "multimodal/tune_audio.py", "multimodal/loso.py"])
def test_help(script):
    r = _run(script, ["--help"])
    assert r.returncode == 0 and "usage:" in r.stdout and not r.stderr


def test_helpers():
    sys.path.insert(0, BENCH)
    try:
        import script_args as sa
    finally:
        sys.path.remove(BENCH)
    assert sa.positive_int("3") == 3 and sa.non_negative_int("0") == 0 and sa.positive_float("0.5") == 0.5
    for fn, bad in ((sa.positive_int, "0"), (sa.positive_int, "1.5"), (sa.non_negative_int, "-1"),
                    (sa.positive_float, "0"), (sa.positive_float, "nan"), (sa.positive_float, "inf")):
        with pytest.raises(argparse.ArgumentTypeError):
            fn(bad)
    assert sa.parse_overrides(["a=1", "b=x=y"], {"a", "b"}, lambda k, v: v) == {"a": "1", "b": "x=y"}
    for items in (["a"], ["=1"], ["c=1"], ["a=x"]):
        with pytest.raises(sa.UsageError):
            sa.parse_overrides(items, {"a", "b"}, lambda k, v: int(v))
