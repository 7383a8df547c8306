"""Gradient checks for eventsim.learning.surrogate (tiny networks, fast)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from eventsim.learning.surrogate import (EventBatch, LayerSpec, NetworkSpec, Regularizer, SNN, Surrogate,
                                         synthetic_dataset)


def _model(rec: bool, syn: bool, kind: str = "fast_sigmoid", detach: bool = True, readout: str = "max",
           n_steps: int = 30, size: int = 6, n_in: int = 5) -> SNN:
    layers = [LayerSpec(size, recurrent=rec, tau_mem=8.0, tau_syn=4.0 if syn else None, tau_mem_spread=0.3)
              for _ in range(2)]
    spec = NetworkSpec(n_in=n_in, layers=layers, n_out=3, n_steps=n_steps, readout=readout,
                       surrogate=Surrogate(kind, 5.0 if kind != "stdb" else 0.3), detach_reset=detach)
    return SNN(spec, init="micheli", seed=1, input_rate=0.2)


def _batch(n_in: int = 5, n_steps: int = 30, seed: int = 2) -> EventBatch:
    return synthetic_dataset(4, 3, n_in, n_steps, 0.2, seed=seed).batch(range(4))


@pytest.fixture(params=["buffered", "history", "history-per-sample"])
def weight_grad_strategy(request, monkeypatch):
    """The sparse backward forms dW/dR either in per-sample slot-ordered buffers (small
    layers, as in these tiny tests) or from the recorded gI history (large layers):
    BUFFER_MAX = 0 forces the history so both code paths are checked. HIST_MAX = 1 (and no
    share of the gradients' size) also
    empties the history after every sample (large batches), instead of once per batch."""
    from eventsim.learning.surrogate import kernels
    if request.param.startswith("history"):
        monkeypatch.setattr(kernels, "BUFFER_MAX", 0)
    if request.param == "history-per-sample":
        monkeypatch.setattr(kernels, "HIST_MAX", 1)
        monkeypatch.setattr(kernels, "HIST_PER_GRAD", 0.0)
    return request.param


@pytest.mark.parametrize("rec", [False, True])
@pytest.mark.parametrize("syn", [False, True])
@pytest.mark.parametrize("kind", ["fast_sigmoid", "triangle", "stdb"])
def test_sparse_equals_dense_band_truncated(rec: bool, syn: bool, kind: str, weight_grad_strategy: str) -> None:
    model, batch = _model(rec, syn, kind, detach=not rec), _batch()
    reg = Regularizer(0.1, 0.02)
    rs = model.loss_and_grad(batch, method="sparse", band=0.3, reg=reg)
    rd = model.loss_and_grad(batch, method="dense", band=0.3, reg=reg)
    assert sum(rs.stats["stored_entries"]) < sum(rd.stats["stored_entries"])
    assert sum(rs.stats["stored_entries"]) > 0
    assert rs.stats["bytes_backward"] < rd.stats["bytes_backward"]
    assert rs.loss == pytest.approx(rd.loss, rel=1e-12)
    for name, gd in rd.grads.items():
        scale = np.max(np.abs(gd))
        assert scale > 0 or name.endswith("alpha"), name
        np.testing.assert_allclose(rs.grads[name], gd, rtol=0, atol=1e-5 * max(scale, 1e-30), err_msg=name)


@pytest.mark.parametrize("fallback", [False, True])
def test_threaded_backward_equals_dense(weight_grad_strategy: str, fallback: bool) -> None:
    """n_threads = 2 runs the backward over two sample chunks, each with its own history (and,
    with HIST_MAX = 1, emptied after each of its samples); the sum equals the dense gradient,
    also with the regulariser (added to gs in place before the threads start) and the
    closest-approach fallback (a narrow band, so that some neurons need it)."""
    model, batch = _model(True, True), _batch()
    reg, band = Regularizer(0.1, 0.02), 0.05 if fallback else 0.3
    rt = model.loss_and_grad(batch, method="sparse", band=band, n_threads=2, reg=reg, fallback=fallback)
    rd = model.loss_and_grad(batch, method="dense", band=band, reg=reg, fallback=fallback)
    assert rt.loss == pytest.approx(rd.loss, rel=1e-12)
    for name, gd in rd.grads.items():
        scale = max(np.max(np.abs(gd)), 1e-30)
        np.testing.assert_allclose(rt.grads[name], gd, rtol=0, atol=1e-5 * scale, err_msg=name)


def test_float32_weights_sparse_equals_dense_and_tracks_float64(weight_grad_strategy: str) -> None:
    """weight_dtype='float32': both methods read the same float32 copies of W and R, so
    sparse still equals dense; the result differs from float64 only by that rounding."""
    from eventsim.learning.surrogate import SurrogateConfigError
    model, batch = _model(True, True), _batch()
    rs = model.loss_and_grad(batch, method="sparse", band=0.3, weight_dtype="float32")
    rd = model.loss_and_grad(batch, method="dense", band=0.3, weight_dtype="float32")
    r64 = model.loss_and_grad(batch, method="dense", band=0.3)
    assert rs.stats["spikes"] == r64.stats["spikes"]
    assert rd.loss == pytest.approx(r64.loss, rel=1e-5)
    for name, gd in rd.grads.items():
        assert gd.dtype == np.float64, name
        scale = max(np.max(np.abs(gd)), 1e-30)
        np.testing.assert_allclose(rs.grads[name], gd, rtol=0, atol=1e-5 * scale, err_msg=name)
        np.testing.assert_allclose(gd, r64.grads[name], rtol=0, atol=1e-4 * scale, err_msg=name)
    with pytest.raises(SurrogateConfigError, match="weight_dtype='float16'.*allowed"):
        model.loss_and_grad(batch, weight_dtype="float16")


def test_band_changes_gradient_and_inf_band_is_full_bptt() -> None:
    model, batch = _model(True, True), _batch()
    full = model.loss_and_grad(batch, method="dense", band=math.inf)
    wide = model.loss_and_grad(batch, method="sparse", band=1e6)
    narrow = model.loss_and_grad(batch, method="sparse", band=0.05)
    for name in full.grads:
        np.testing.assert_allclose(wide.grads[name], full.grads[name], rtol=1e-9, atol=1e-12)
    assert not np.allclose(narrow.grads["h0.W"], full.grads["h0.W"])


@pytest.mark.parametrize("rec,syn", [(False, False), (True, True)])
def test_dense_gradient_matches_finite_differences_smooth_forward(rec: bool, syn: bool) -> None:
    """With the Heaviside replaced by sigmoid(k x) in the forward and the reset not
    detached, the dense gradient is the exact gradient of a smooth function."""
    model = _model(rec, syn, detach=False, readout="mean", n_steps=12, size=4, n_in=3)
    batch = _batch(n_in=3, n_steps=12, seed=5)
    reg, k = Regularizer(0.2, 0.05), 4.0
    res = model.loss_and_grad(batch, method="dense", band=math.inf, smooth_k=k, reg=reg)
    rng = np.random.default_rng(0)
    h = 1e-6
    for name, p in model.params.items():
        flat = p.reshape(-1)
        picks = rng.choice(flat.size, size=min(6, flat.size), replace=False)
        for ix in picks:
            old = flat[ix]
            flat[ix] = old + h
            lp = model.loss_and_grad(batch, method="dense", band=math.inf, smooth_k=k, reg=reg).loss
            flat[ix] = old - h
            lm = model.loss_and_grad(batch, method="dense", band=math.inf, smooth_k=k, reg=reg).loss
            flat[ix] = old
            num = (lp - lm) / (2 * h)
            got = res.grads[name].reshape(-1)[ix]
            assert got == pytest.approx(num, rel=1e-5, abs=1e-8), (name, ix)


def test_grad_norms_logged_per_layer() -> None:
    res = _model(False, False).loss_and_grad(_batch(), method="sparse", band=0.3)
    assert set(res.stats["grad_norms"]) == {"h0", "h1", "out"}
    assert all(v >= 0 for v in res.stats["grad_norms"].values())


def test_numpy_blas_dense_reference_agrees() -> None:
    from eventsim.learning.surrogate.dense_blas import blas_backward, readout_grad, to_dense
    model, batch = _model(True, True), _batch()
    res = model.loss_and_grad(batch, method="dense", band=0.3)
    recs, U = model.forward(batch, band=0.3, store_all=True)
    grads, _ = blas_backward(model, to_dense(model, batch, recs), readout_grad(model, batch, U))
    for name, g in res.grads.items():
        np.testing.assert_allclose(grads[name], g, rtol=0, atol=1e-9 * max(np.max(np.abs(g)), 1e-30), err_msg=name)


@pytest.mark.parametrize("rec,syn,kind", [(False, True, "fast_sigmoid"), (True, False, "stdb")])
def test_fallback_gives_each_silent_neuron_its_closest_approach(rec: bool, syn: bool, kind: str,
                                                                weight_grad_strategy: str) -> None:
    """fallback: every (sample, neuron) that never comes within the band stores exactly one
    entry, at its closest approach to threshold; the sparse gradient then equals the dense
    one with the surrogate kept at the same entries."""
    model, batch = _model(rec, syn, kind, detach=not rec), _batch()
    band, B, T = 0.05, batch.batch_size, model.spec.n_steps
    plain = model.loss_and_grad(batch, method="sparse", band=band)
    fb = model.loss_and_grad(batch, method="sparse", band=band, fallback=True)
    dense = model.loss_and_grad(batch, method="dense", band=band, fallback=True)
    recs_all, _ = model.forward(batch, band=math.inf, store_all=True)
    recs_fb, _ = model.forward(batch, band=band, store_all=False, fallback=True)
    for k, (full, got) in enumerate(zip(recs_all, recs_fb)):
        n = model.spec.layers[k].size
        x = (full.st_v - model.params[f"h{k}.theta"][full.st_idx]).reshape(B, T, n)
        inband = np.abs(x) < band
        silent = ~inband.any(axis=1)                              # [B, n]
        assert silent.any() and (~silent).any()
        bt = np.repeat(np.arange(B * T), np.diff(got.st_ptr))
        stored = np.zeros((B, T, n), bool)
        stored[bt // T, bt % T, got.st_idx] = True
        assert np.array_equal(stored & inband, inband)            # the band entries are all still there
        extra = stored & ~inband
        assert np.array_equal(extra.sum(axis=1), silent.astype(int))   # one extra entry per silent pair
        b_s, j_s = np.nonzero(silent)
        t_best = np.argmin(np.abs(x[b_s, :, j_s]), axis=1)
        assert np.all(extra[b_s, t_best, j_s])                    # ... at its closest approach
        assert got.n_entries == plain.stats["stored_entries"][k] + int(silent.sum())
    assert fb.stats["stored_entries"] == [r.n_entries for r in recs_fb]
    for name, gd in dense.grads.items():
        scale = np.max(np.abs(gd))
        np.testing.assert_allclose(fb.grads[name], gd, rtol=0, atol=1e-9 * max(scale, 1e-30), err_msg=name)
    assert not np.allclose(fb.grads["h0.W"], plain.grads["h0.W"])
