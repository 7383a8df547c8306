"""`eventsim train-grad` config validation: unknown sections and keys (with a suggestion),
bad values and types, a network that does not fit the data, and [train] checked before any
data are loaded. Every bad input prints one line and exits with status 2 (no training, no
real data: each test runs in well under a second)."""
from __future__ import annotations

import glob
import os
import re

import numpy as np
import pytest

from eventsim.cli import main
from eventsim.learning.surrogate import SurrogateConfigError, TrainConfig
from eventsim.learning.surrogate import cli as sg_cli
from eventsim.learning.surrogate.data import mnist_dataset

NETWORK = ('[network]\nn_in = 6\nn_out = 3\nn_steps = 15\n[[network.layers]]\nsize = 10\ntau_mem = 10.0\n'
           'tau_syn = 5.0\n')
INIT = '[init]\nmethod = "fluctuation"\nseed = 0\n'
TRAIN = '[train]\nepochs = 1\nbatch_size = 10\nlr = 0.003\nband = 0.2\n'
DATA = '[data]\nkind = "synthetic"\nn_samples = 40\ndensity = 0.15\nval_fraction = 0.25\n'


def _config(tmp_path, *, network=NETWORK, init=INIT, train=TRAIN, data=DATA) -> str:
    p = tmp_path / "c.toml"
    p.write_text(network + init + train + data)
    return str(p)


def _bad(capsys, tmp_path, path: str, *extra: str) -> str:
    """Run train-grad on `path`; assert exit status 2 and one error line; return that line."""
    code = main(["train-grad", path, "--out", str(tmp_path / "out"), "--no-progress", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("eventsim: error: "), err
    return err


def _mnist(tmp_path, extra: str) -> str:
    """A [data] section of kind mnist whose root holds no data: the key checks must fire
    before anything is read."""
    return f'[data]\nkind = "mnist"\nroot = "{tmp_path / "no_mnist"}"\n{extra}'


def _npz(path, labels, n_units: int = 6, n_steps: int = 15) -> str:
    labels = np.asarray(labels)
    n = len(labels)
    np.savez(path, sample=np.arange(n), step=np.zeros(n, np.int64), unit=np.zeros(n, np.int64), labels=labels,
             n_steps=n_steps, n_units=n_units)
    return str(path)


# -- 1. unknown sections and keys ----------------------------------------------------------

def test_surrogate_cli_unknown_data_key_is_named_with_suggestion(capsys, tmp_path) -> None:
    err = _bad(capsys, tmp_path, _config(tmp_path, data=_mnist(tmp_path, "limit_trian = 100\n")))
    assert "limit_trian" in err and "did you mean 'limit_train'" in err and "[data]" in err


def test_surrogate_cli_key_of_another_data_kind_is_refused(capsys, tmp_path) -> None:
    err = _bad(capsys, tmp_path, _config(tmp_path, data=DATA + "limit_train = 10\n"))
    assert "'limit_train'" in err and "synthetic" in err


def test_surrogate_cli_unknown_section_is_named_with_suggestion(capsys, tmp_path) -> None:
    err = _bad(capsys, tmp_path, _config(tmp_path, data=DATA.replace("[data]", "[dat]")))
    assert "unknown config section 'dat'; did you mean 'data'?" in err


@pytest.mark.parametrize("section, typo, right", [
    ("train", "batch_sise", "batch_size"), ("init", "methd", "method"),
    ("network", "n_outt", "n_out"), ("layers", "tau_mme", "tau_mem")])
def test_surrogate_cli_unknown_keys_in_other_sections(capsys, tmp_path, section, typo, right) -> None:
    sections = {"train": TRAIN, "init": INIT, "network": NETWORK}
    if section == "layers":
        kw = {"network": NETWORK.replace("tau_mem", typo)}
    else:
        kw = {section: sections[section].replace(right, typo, 1)}
    err = _bad(capsys, tmp_path, _config(tmp_path, **kw))
    assert f"'{typo}'; did you mean '{right}'?" in err


def test_surrogate_cli_data_kind_typo_gets_a_suggestion(capsys, tmp_path) -> None:
    err = _bad(capsys, tmp_path, _config(tmp_path, data='[data]\nkind = "mnsit"\n'))
    assert "data.kind" in err and "did you mean 'mnist'" in err


# -- 2. limits -----------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("limit_train", "-5"), ("limit_train", "0"), ("limit_test", "2.5"),
                                        ("limit_test", '"10"')])
def test_surrogate_cli_limits_must_be_positive_whole_numbers(capsys, tmp_path, key, value) -> None:
    err = _bad(capsys, tmp_path, _config(tmp_path, data=_mnist(tmp_path, f"{key} = {value}\n")))
    assert f"data.{key} must be a whole number >= 1" in err


def test_surrogate_mnist_dataset_refuses_a_negative_limit_before_reading(tmp_path) -> None:
    with pytest.raises(SurrogateConfigError, match="limit must be a whole number >= 1, got -5"):
        mnist_dataset(str(tmp_path / "no_mnist"), limit=-5)


@pytest.mark.parametrize("data, match", [
    (DATA.replace("val_fraction = 0.25", "val_fraction = 1.5"), r"data.val_fraction=1.5 is out of range"),
    (DATA.replace("n_samples = 40", 'n_samples = "many"'), "data.n_samples must be a whole number"),
    (DATA.replace("density = 0.15", 'density = "high"'), "data.density='high' is not a number"),
    ('[data]\nkind = "mnist"\ntrain_split = "train60k"\n', "data.train_split 'train60k'"),
    ('[data]\nkind = "shd"\n', "data.path is missing"),
])
def test_surrogate_cli_bad_data_values_are_named(capsys, tmp_path, data, match) -> None:
    assert match in _bad(capsys, tmp_path, _config(tmp_path, data=data))


# -- 3. bad [train] / [init] values and types ---------------------------------------------

@pytest.mark.parametrize("train, match", [
    (TRAIN.replace("band = 0.2", 'band = "wide"'), "band (B_th)='wide' is not a number; allowed (0.0, inf]"),
    (TRAIN.replace("epochs = 1", "epochs = 2.5"), "epochs must be a whole number >= 1, got 2.5"),
    (TRAIN.replace("lr = 0.003", 'lr = "fast"'), "lr='fast' is not a number"),
    (TRAIN + 'train_theta = "yes"\n', "train_theta='yes' is invalid; allowed true or false"),
    (TRAIN + "seed = -1\n", "seed must be a whole number >= 0, got -1"),
    (TRAIN + 'band_max = "x"\n', "band_max='x' is not a number"),
])
def test_surrogate_cli_bad_train_values_name_the_field(capsys, tmp_path, train, match) -> None:
    assert match in _bad(capsys, tmp_path, _config(tmp_path, train=train))


@pytest.mark.parametrize("init, match", [
    (INIT.replace('"fluctuation"', '"flucutation"'), "init.method='flucutation' is invalid; allowed"),
    (INIT + 'xi = "two"\n', "init.xi='two' is not a number"),
    (INIT + 'gain = "x"\n', "init.gain='x' is not a number"),
    (INIT + 'hidden_rate = "tail"\n', "init.hidden_rate='tail' is invalid; allowed ('simulated', 'gaussian')"),
    (INIT.replace("seed = 0", "seed = -3"), "init.seed must be a whole number >= 0"),
])
def test_surrogate_cli_bad_init_values_name_the_field(capsys, tmp_path, init, match) -> None:
    assert match in _bad(capsys, tmp_path, _config(tmp_path, init=init))


def test_surrogate_train_config_validate_refuses_wrong_types() -> None:
    with pytest.raises(SurrogateConfigError, match="B_th"):
        TrainConfig(band="wide").validate()
    with pytest.raises(SurrogateConfigError, match="batch_size must be a whole number >= 1"):
        TrainConfig(batch_size="32").validate()
    with pytest.raises(SurrogateConfigError, match="keep_best"):
        TrainConfig(keep_best=1).validate()


# -- 4. the network does not fit the data: name the network.* field -----------------------

def test_surrogate_cli_n_out_too_small_names_network_n_out(capsys, tmp_path) -> None:
    data = f'[data]\nkind = "npz"\npath = "{_npz(tmp_path / "d.npz", [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])}"\n'
    err = _bad(capsys, tmp_path, _config(tmp_path, data=data))
    assert "network.n_out=3" in err and "labels in [0, 4]" in err and "network.n_out >= 5" in err


def test_surrogate_cli_test_set_labels_and_n_in_are_checked(capsys, tmp_path) -> None:
    good = _npz(tmp_path / "train.npz", [0, 1, 2] * 4)
    data = f'[data]\nkind = "npz"\npath = "{good}"\ntest_path = "{_npz(tmp_path / "t.npz", [0, 7])}"\n'
    err = _bad(capsys, tmp_path, _config(tmp_path, data=data))
    assert "network.n_out=3" in err and "test data" in err
    data = f'[data]\nkind = "npz"\npath = "{_npz(tmp_path / "w.npz", [0, 1, 2] * 4, n_units=9)}"\n'
    err = _bad(capsys, tmp_path, _config(tmp_path, data=data))
    assert "network.n_in=6" in err and "allowed network.n_in = 9" in err


@pytest.mark.parametrize("arrays, match", [
    ({"sample": [0, 99]}, r"sample ids must be whole numbers in \[0, 1\]"),
    ({"step": [0]}, "event arrays must have equal lengths"),
    ({"n_steps": [15, 15]}, "n_steps must be one whole number"),
    ({"labels": np.zeros(0, np.int64), "sample": np.zeros(0, np.int64), "step": np.zeros(0, np.int64),
      "unit": np.zeros(0, np.int64)}, "holds no samples")])
def test_surrogate_cli_malformed_npz_arrays_are_named(capsys, tmp_path, arrays, match) -> None:
    """Out-of-range sample ids were dropped silently (an empty set then failed on an init option),
    unequal arrays gave an IndexError and an array n_steps a TypeError, both "internal error"."""
    base = {"sample": [0, 1], "step": [0, 0], "unit": [0, 0], "labels": [0, 1], "n_steps": 15, "n_units": 6}
    path = tmp_path / "bad.npz"
    np.savez(path, **{**base, **arrays})
    err = _bad(capsys, tmp_path, _config(tmp_path, data=f'[data]\nkind = "npz"\npath = "{path}"\n'))
    assert re.search(match, err), err


# -- 5. [train] is validated before the data are loaded -----------------------------------

@pytest.mark.parametrize("train, extra, match", [
    (TRAIN.replace("band = 0.2", "band = 0.0"), (), "B_th"),
    (TRAIN, ("--epochs", "0"), "epochs must be a whole number >= 1"),
    (TRAIN.replace("batch_size = 10", "batch_size = 0"), (), "batch_size"),
])
def test_surrogate_cli_train_config_is_checked_before_loading_data(capsys, tmp_path, monkeypatch, train, extra,
                                                                   match) -> None:
    def no_loading(*_a, **_k):
        raise AssertionError("data loaded before the [train] values were checked")
    monkeypatch.setattr(sg_cli, "load_data", no_loading)
    err = _bad(capsys, tmp_path, _config(tmp_path, train=train), *extra)
    assert match in err


def test_surrogate_cli_config_shipped_configs_pass_the_checks() -> None:
    """The benchmark configs (and the JSON null meaning "default") are still accepted."""
    root = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "surrogate", "configs")
    paths = sorted(glob.glob(os.path.join(root, "*.toml")))
    assert paths
    for p in paths:
        cfg = sg_cli.read_config(p)
        sg_cli.check_data_section(cfg.get("data", {}))
        TrainConfig(**cfg.get("train", {})).validate()
    sg_cli.check_data_section({"kind": "mnist", "limit_train": None, "test_split": ""})


def test_surrogate_cli_npz_files_are_checked(capsys, tmp_path) -> None:
    """Float labels are refused (they were truncated to int64), and an .npz that lacks an
    array or is not an .npz at all gives one line naming data.path."""
    frac = _npz(tmp_path / "frac.npz", [0.5, 1.0, 2.0])
    err = _bad(capsys, tmp_path, _config(tmp_path, data=f'[data]\nkind = "npz"\npath = "{frac}"\n'))
    assert "labels" in err and "not a whole number" in err
    np.savez(tmp_path / "nounit.npz", sample=np.arange(2), step=np.zeros(2, np.int64), labels=np.arange(2),
             n_steps=15, n_units=6)
    err = _bad(capsys, tmp_path, _config(tmp_path, data=f'[data]\nkind = "npz"\npath = "{tmp_path / "nounit.npz"}"\n'))
    assert "lacks the arrays ['unit']" in err
    (tmp_path / "junk.npz").write_text("not an npz")
    err = _bad(capsys, tmp_path, _config(tmp_path, data=f'[data]\nkind = "npz"\npath = "{tmp_path / "junk.npz"}"\n'))
    assert "is not an .npz file that numpy can read" in err


# -- time bins and input width of audio data -------------------------------------------------

def _shd(path, max_unit: int, n: int = 4) -> str:
    """A tiny SHD-layout file (no n_units attribute, as in real SHD) whose largest unit id is max_unit."""
    import h5py
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        t = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.float32))
        u = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(n):
            t[i] = np.sort(rng.uniform(0.0, 0.014, 20)).astype(np.float32)
            uu = rng.integers(0, max_unit + 1, 20)
            uu[0] = max_unit
            u[i] = uu.astype(np.uint16)
        f.create_dataset("labels", data=(np.arange(n) % 3).astype(np.uint16))
    return str(path)


def test_surrogate_cli_audio_bins_must_be_the_network_step(capsys, tmp_path) -> None:
    """data.dt_ms is the width of one step: a value other than network.dt made every tau act
    dt_ms/dt times longer, silently."""
    data = f'[data]\nkind = "shd"\npath = "{_shd(tmp_path / "a.h5", 5)}"\ndt_ms = 10.0\nval_fraction = 0.0\n'
    err = _bad(capsys, tmp_path, _config(tmp_path, data=data))
    assert "data.dt_ms=10.0 differs from network.dt=1.0" in err
    for d in ({"kind": "fsdd", "root": "/nonexistent"}, {"kind": "shd", "path": "/nonexistent.h5"}):
        with pytest.raises(SurrogateConfigError, match="differs from network.dt"):   # before any data is read
            sg_cli.load_data({**d, "dt_ms": 8.0}, {"n_steps": 10, "dt": 1.0})


def test_surrogate_cli_audio_bins_default_to_the_network_step(tmp_path) -> None:
    path = _shd(tmp_path / "a.h5", 5)
    for dt, steps_used in ((1.0, 14), (2.0, 7)):     # spikes in [0, 14) ms
        train, _ = sg_cli.load_data({"kind": "shd", "path": path}, {"n_steps": 15, "dt": dt})
        last = max(int(s.max()) for s, _ in train.samples)
        assert last < steps_used


def test_surrogate_shd_n_units_sets_the_input_width(capsys, tmp_path) -> None:
    """A file that uses only units 0..5 of 700 is 6 wide unless data.n_units says otherwise."""
    path = _shd(tmp_path / "a.h5", 5)
    train, _ = sg_cli.load_data({"kind": "shd", "path": path, "n_units": 700}, {"n_steps": 15})
    assert train.n_units == 700
    assert sg_cli.load_data({"kind": "shd", "path": path}, {"n_steps": 15})[0].n_units == 6
    with pytest.raises(SurrogateConfigError, match="data.n_units=4 is too small .* allowed >= 6"):
        sg_cli.load_data({"kind": "shd", "path": path, "n_units": 4}, {"n_steps": 15})
    with pytest.raises(SurrogateConfigError, match="data.n_units"):
        sg_cli.load_data({"kind": "shd", "path": path, "n_units": 0}, {"n_steps": 15})


def test_surrogate_cli_divergence_keeps_the_finished_epochs_summary(capsys, tmp_path, monkeypatch) -> None:
    """A divergence kept the checkpoint but wrote no summary or curves, so the curve that led up
    to it was lost."""
    import dataclasses
    import json
    from eventsim.learning.surrogate import TrainingDivergedError
    real = sg_cli.train

    def diverging(model, data, tc, val, log=None, resume=None):
        hist = real(model, data, dataclasses.replace(tc, epochs=1), val, log=log)
        err = TrainingDivergedError("loss not finite in epoch 2, step 3")
        err.history = hist
        raise err
    monkeypatch.setattr(sg_cli, "train", diverging)
    err = _bad(capsys, tmp_path, _config(tmp_path, train=TRAIN.replace("epochs = 1", "epochs = 3")))
    assert "not finite" in err
    summary = json.loads((tmp_path / "out" / "train_summary.json").read_text())
    assert len(summary["epoch_loss"]) == 1 and "not finite" in summary["diverged"] and "test_acc" not in summary
    assert (tmp_path / "out" / "curves.png").exists()
