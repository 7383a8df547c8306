"""Bad input to the surrogate-gradient learner's Python API gives a clear
`SurrogateConfigError` / `TrainingDivergedError` naming the field and what is allowed, never a
raw numpy/h5py traceback or a silently wrong result."""
from __future__ import annotations

import dataclasses
import math
import os

import h5py
import numpy as np
import pytest

from eventsim.learning.surrogate import (EventBatch, EventDataset, LayerSpec, NetworkSpec, SNN, SurrogateConfigError,
                                         TrainConfig, TrainingDivergedError, load_checkpoint, save_checkpoint,
                                         synthetic_dataset, train)


def _spec() -> NetworkSpec:
    return NetworkSpec(n_in=6, layers=[LayerSpec(5, recurrent=True, tau_syn=5.0)], n_out=3, n_steps=10)


def _data(n: int = 8) -> EventDataset:
    return synthetic_dataset(n, 3, 6, 10, 0.2, seed=1)


def _cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "batch_size": 4, **kw})


# --------------------------------------------------------------- divergence (train.py)
def test_weight_that_overflows_float32_is_divergence() -> None:
    """1e39 is finite in float64 but inf in the float32 copy the kernels read."""
    model = SNN(_spec(), seed=0)
    assert model.nonfinite_params("float64") == []
    model.params["h0.W"][0, 0] = 1e39
    assert model.nonfinite_params("float32") == ["h0.W"]
    with pytest.raises(TrainingDivergedError, match="parameter h0.W not finite.*float32"):
        train(model, _data(), _cfg(weight_dtype="float32"))


def test_update_that_overflows_float32_is_divergence() -> None:
    """lr=1e100 gives finite float64 weights that are inf in float32 (the network then
    went dead with loss ln(3) instead of stopping)."""
    model = SNN(_spec(), seed=0)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(TrainingDivergedError, match="h0.W after the update.*restored to those used at step 0"):
        train(model, _data(), _cfg(lr=1e100, weight_dtype="float32"))
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)


def test_divergence_before_any_checkpoint_says_so(tmp_path) -> None:
    ck = str(tmp_path / "E.h5")
    model = SNN(_spec(), seed=0)
    model.params["out.W"] *= 1e308      # inf readout -> non-finite loss at the first step
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(TrainingDivergedError) as exc:
        train(model, _data(), _cfg(checkpoint_path=ck))
    msg = str(exc.value)
    assert "step -1" not in msg and "initial ones" in msg and "no epoch finished" in msg and "does not exist" in msg
    assert not os.path.exists(ck)
    for k, v in before.items():
        np.testing.assert_array_equal(model.params[k], v)


def test_divergence_keeps_an_existing_checkpoint_and_names_the_epoch(tmp_path) -> None:
    ck = str(tmp_path / "ck.h5")
    model = SNN(_spec(), seed=0)
    train(model, _data(), _cfg(checkpoint_path=ck))           # an earlier run's checkpoint
    old = open(ck, "rb").read()
    with pytest.raises(TrainingDivergedError, match="so '.*ck.h5' is unchanged"):
        train(model, _data(), _cfg(lr=1e100, checkpoint_path=ck))
    assert open(ck, "rb").read() == old
    # diverging in the 2nd epoch: the checkpoint holds epoch 1 of this run
    calls = {"n": 0}
    real = model.loss_and_grad

    def nan_in_epoch_2(*a, **kw):
        r = real(*a, **kw)
        calls["n"] += 1
        return r if calls["n"] <= 2 else dataclasses.replace(r, loss=math.nan)

    model.loss_and_grad = nan_in_epoch_2
    with pytest.raises(TrainingDivergedError, match="loss=nan not finite in epoch 2, step 2.*holds the parameters after epoch 1"):
        train(model, _data(), _cfg(epochs=2, checkpoint_path=ck))
    assert load_checkpoint(ck)[1]["epoch"] == 1


def test_divergence_after_a_resume_says_the_resumed_checkpoint_is_kept(tmp_path) -> None:
    """A resumed run that diverges before finishing an epoch wrote nothing, and the checkpoint it
    resumed from is kept (the message used to say that no epoch had finished at all)."""
    from eventsim.learning.surrogate import load_train_state
    ck = str(tmp_path / "ck.h5")
    model = SNN(_spec(), seed=0)
    train(model, _data(), _cfg(checkpoint_path=ck))
    old = open(ck, "rb").read()
    resumed, _ = load_checkpoint(ck)
    real = resumed.loss_and_grad
    resumed.loss_and_grad = lambda *a, **kw: dataclasses.replace(real(*a, **kw), loss=math.nan)
    with pytest.raises(TrainingDivergedError, match=r"in epoch 2, step 2.*No epoch finished since the run resumed "
                                                    r"after epoch 1, so this run wrote no checkpoint: '.*ck.h5' is "
                                                    r"unchanged"):
        train(resumed, _data(), _cfg(epochs=2, checkpoint_path=ck), resume=load_train_state(ck))
    assert open(ck, "rb").read() == old


# --------------------------------------------------------------- parameters (model.py, checkpoint.py)
@pytest.mark.parametrize("name, index, value, match", [
    ("h0.W", (0, 0), np.nan, r"param h0.W must be finite"),
    ("h0.alpha", 0, 1.5, r"param h0.alpha must lie in \[0.001, 0.999999\]"),
    ("h0.beta", 1, 0.0, r"param h0.beta must lie in \[0.001, 0.999999\]"),
    ("h0.theta", 2, -1.0, r"param h0.theta must lie in \[0.001, inf\)"),
    ("out.W", (1, 1), np.inf, r"param out.W must be finite"),
])
def test_snn_rejects_bad_parameters(name, index, value, match) -> None:
    params = {k: v.copy() for k, v in SNN(_spec(), seed=0).params.items()}
    params[name][index] = value
    with pytest.raises(SurrogateConfigError, match=match):
        SNN(_spec(), params)


def test_snn_rejects_unknown_parameter() -> None:
    params = dict(SNN(_spec(), seed=0).params, **{"h7.W": np.zeros((2, 2))})
    with pytest.raises(SurrogateConfigError, match="unknown parameter 'h7.W'"):
        SNN(_spec(), params)


def test_spec_derived_decays_are_clamped_into_the_allowed_range() -> None:
    spec = NetworkSpec(n_in=6, layers=[LayerSpec(5, tau_mem=0.05)], n_out=3, n_steps=10)   # alpha = e^-20
    assert SNN(spec, seed=0).params["h0.alpha"].min() == pytest.approx(1e-3)


def test_layers_must_be_layer_specs() -> None:
    with pytest.raises(SurrogateConfigError, match=r"layers\[0\]=.*allowed a LayerSpec"):
        NetworkSpec(6, [dict(size=4)], 3, 10)


def _weight_file(path) -> str:
    """An HDF5 file that is not a checkpoint (e.g. an eventsim weight file)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("W", data=np.zeros(3))
    return str(path)


def _bad_checkpoint(tmp_path, kind: str) -> str:
    good = str(tmp_path / "good.h5")
    save_checkpoint(good, SNN(_spec(), seed=0), step=1, epoch=1, loss=1.0)
    path = tmp_path / f"{kind}.h5"
    if kind == "directory":
        return str(tmp_path)
    if kind == "weights":
        return _weight_file(path)
    data = open(good, "rb").read()
    path.write_bytes({"garbage": b"not an hdf5 file" * 10, "truncated": data[: len(data) // 2]}.get(kind, data))
    if kind == "json":
        with h5py.File(path, "a") as f:
            f.attrs["spec"] = "{not json"
    return str(path)


@pytest.mark.parametrize("kind, match", [
    ("directory", "is a directory"),
    ("garbage", "cannot be read as HDF5"),
    ("truncated", "cannot be read as HDF5"),
    ("weights", "has no attribute 'spec'.*group 'params'"),
    ("json", "has an invalid 'spec' attribute \\(not JSON"),
])
def test_load_checkpoint_errors_name_path_and_problem(tmp_path, kind, match) -> None:
    path = _bad_checkpoint(tmp_path, kind)
    with pytest.raises(SurrogateConfigError, match=f"checkpoint path='{path}' {match}.*allowed an HDF5 file"):
        load_checkpoint(path)


def test_load_checkpoint_rejects_nan_parameter(tmp_path) -> None:
    ck = str(tmp_path / "ck.h5")
    save_checkpoint(ck, SNN(_spec(), seed=0))
    with h5py.File(ck, "a") as f:
        f["params/h0.theta"][0] = np.nan
    with pytest.raises(SurrogateConfigError, match="ck.h5.*invalid network: param h0.theta must lie in"):
        load_checkpoint(ck)


def test_save_checkpoint_to_a_directory(tmp_path) -> None:
    with pytest.raises(SurrogateConfigError, match="cannot be written"):
        save_checkpoint(str(tmp_path), SNN(_spec(), seed=0))
    assert not os.path.exists(f"{tmp_path}.tmp")


# --------------------------------------------------------------- B_th and other arguments (model.py)
def test_band_is_checked_the_same_everywhere() -> None:
    model = SNN(_spec(), seed=0)
    b = _data().batch(range(4))
    assert model.loss_and_grad(b, band=np.float32(0.1)).loss == model.loss_and_grad(b, band=0.1).loss
    for band in (True, "0.1", None, 0.0, -1.0, math.nan):
        for run in (model.loss_and_grad, model.forward):
            with pytest.raises(SurrogateConfigError, match=r"band \(B_th\)=.*allowed \(0.0, inf\]"):
                run(b, band=band)


@pytest.mark.parametrize("kw, match", [
    (dict(n_threads=0), "n_threads must be a whole number >= 1"),
    (dict(n_threads=-3), "n_threads must be a whole number >= 1"),
    (dict(band_max=-1.0, min_active=0.5), r"band_max=-1.0 is out of range; allowed \(0.0, inf\]"),
    (dict(smooth_k=-1.0), "smooth_k=-1.0 is out of range"),
])
def test_loss_and_grad_arguments(kw, match) -> None:
    with pytest.raises(SurrogateConfigError, match=match):
        SNN(_spec(), seed=0).loss_and_grad(_data().batch(range(4)), **kw)


# --------------------------------------------------------------- events (events.py)
def test_dataset_lengths_checked_at_construction() -> None:
    d = _data(5)
    with pytest.raises(SurrogateConfigError, match="got 5 samples, 3 labels; must be equal"):
        EventDataset(d.samples, np.array([0, 1, 2]), 10, 6)
    with pytest.raises(SurrogateConfigError, match="got 5 samples, 5 labels, 2 counts"):
        EventDataset(d.samples, d.labels, 10, 6, counts=[np.ones(1)] * 2)


def test_labels_and_indices_must_be_integers() -> None:
    d = _data(3)
    with pytest.raises(SurrogateConfigError, match=r"labels has a value that is not a whole number \(0.5 at index 0\)"):
        EventDataset(d.samples, np.array([0.5, 1, 2]), 10, 6)
    assert EventDataset(d.samples, np.array([0.0, 1.0, 2.0]), 10, 6).labels.dtype == np.int64
    bad = EventDataset([(np.array([1.5]), np.array([1]))], np.array([0]), 10, 6)
    with pytest.raises(SurrogateConfigError, match=r"events.step has a value that is not a whole number \(1.5"):
        bad.batch([0])
    ok = EventDataset([(np.array([1.0]), np.array([1]))], np.array([0]), 10, 6).batch([0])
    assert ok.ptr[2] - ok.ptr[1] == 1


def test_from_dense_label_count_must_match_batch() -> None:
    with pytest.raises(SurrogateConfigError, match="got 2 samples, 3 labels; must be equal"):
        EventBatch.from_dense(np.ones((2, 10, 6)), np.array([0, 1, 2]))
    assert EventBatch.from_dense(np.ones((2, 10, 6)), np.array([0, 1])).batch_size == 2
