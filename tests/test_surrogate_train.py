"""Training loop, checkpoints, initialisers and bad input for the surrogate learner."""
from __future__ import annotations

import importlib
import math
import resource
import sys

import numpy as np
import pytest

from eventsim.errors import EventsimError
from eventsim.learning.surrogate import (Adam, EventBatch, EventDataset, LayerSpec, NetworkSpec, SNN, Surrogate,
                                         SurrogateConfigError, TrainConfig, TrainingDivergedError, init_weights,
                                         load_checkpoint, psp_moments, synthetic_dataset, train)
from eventsim.learning.surrogate.network import init_neuron_params
from eventsim.learning.surrogate.train import evaluate


def _spec(n_in: int = 20, n_steps: int = 30, rec: bool = True) -> NetworkSpec:
    return NetworkSpec(n_in=n_in, layers=[LayerSpec(32, recurrent=rec, tau_mem=10.0, tau_syn=5.0)], n_out=3,
                       n_steps=n_steps, readout="max")


def test_training_reduces_loss_and_checkpoints(tmp_path) -> None:
    ds = synthetic_dataset(90, 3, 20, 30, 0.08, seed=1)
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    ck = str(tmp_path / "ck.h5")
    hist = train(model, ds, TrainConfig(epochs=4, batch_size=15, lr=3e-3, band=0.25, reg_strength=0.1,
                                        checkpoint_path=ck))
    assert hist.epoch_loss[-1] < hist.epoch_loss[0]
    assert len(hist.grad_norms) == len(hist.loss) > 0 and "h0" in hist.grad_norms[0]
    assert np.all(model.params["h0.theta"] > 0)
    assert np.all((model.params["h0.alpha"] > 0) & (model.params["h0.alpha"] < 1))
    loaded, attrs = load_checkpoint(ck)
    assert attrs["epoch"] == 4
    assert attrs["weight_dtype"] == "float32"      # the training default: the trained network reads float32
    for k, v in model.params.items():
        np.testing.assert_array_equal(loaded.params[k], v)


def test_training_reads_float32_weights_and_evaluates_the_same_network() -> None:
    """train() reads W and R as float32 by default (as snnTorch does), and its validation and
    evaluate() score that network: every forward pass asks layer_weights for the training's
    precision. float64 remains available for the exact float64 network."""
    assert TrainConfig().weight_dtype == "float32"
    ds = synthetic_dataset(30, 3, 20, 30, 0.08, seed=2)
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    asked = []
    layer_weights = model.layer_weights
    model.layer_weights = lambda dt="float64": (asked.append(dt), layer_weights(dt))[1]
    hist = train(model, ds, TrainConfig(epochs=2, batch_size=15, lr=3e-3, band=0.25), val=ds)
    assert len(hist.val_acc) == 2 and asked and set(asked) == {"float32"}    # gradient steps and validation
    asked.clear()
    acc = evaluate(model, ds, batch_size=15, weight_dtype="float64")
    assert set(asked) == {"float64"} and 0.0 <= acc <= 1.0
    asked.clear()
    assert evaluate(model, ds, batch_size=15, weight_dtype="float32") == hist.val_acc[-1]
    assert set(asked) == {"float32"}
    with pytest.raises(SurrogateConfigError, match="weight_dtype='half'.*allowed"):
        evaluate(model, ds, weight_dtype="half")


def test_cosine_schedule_and_keep_best(tmp_path, monkeypatch) -> None:
    """The cosine schedule takes Adam's step size from lr to lr_final over all steps; keep_best
    ends with (and checkpoints) the parameters of the first epoch with the highest validation
    accuracy, whatever came after."""
    train_mod = importlib.import_module("eventsim.learning.surrogate.train")   # the package's `train` is the function
    cfg = TrainConfig(epochs=4, batch_size=15, lr=4e-3, lr_final=1e-4, lr_schedule="cosine")
    lrs = [train_mod.scheduled_lr(cfg, s, 100) for s in range(101)]
    assert lrs[0] == 4e-3 and lrs[50] == pytest.approx((4e-3 + 1e-4) / 2) and lrs[100] == pytest.approx(1e-4)
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert train_mod.scheduled_lr(TrainConfig(lr=3e-3), 7, 10) == 3e-3          # 'constant', the default

    ds = synthetic_dataset(60, 3, 20, 30, 0.08, seed=1)
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    scores, seen = iter([0.5, 0.9, 0.9, 0.7]), []

    def fake_evaluate(m, data, batch_size=64, weight_dtype="float64"):
        seen.append({k: v.copy() for k, v in m.params.items()})
        return next(scores)
    monkeypatch.setattr(train_mod, "evaluate", fake_evaluate)
    ck = str(tmp_path / "ck.h5")
    hist = train(model, ds, TrainConfig(epochs=4, batch_size=15, lr=4e-3, lr_final=1e-4, lr_schedule="cosine",
                                        keep_best=True, checkpoint_path=ck), val=ds)
    assert hist.val_acc == [0.5, 0.9, 0.9, 0.7] and hist.best_epoch == 2
    assert hist.lr[0] < 4e-3 and all(a > b for a, b in zip(hist.lr, hist.lr[1:]))
    assert hist.lr[-1] == pytest.approx(1e-4 + 0.5 * 3.9e-3 * (1 + math.cos(math.pi * 15 / 16)))   # step 16 of 16
    assert not np.array_equal(seen[1]["h0.W"], seen[3]["h0.W"])
    loaded, attrs = load_checkpoint(ck)
    assert attrs["epoch"] == 2 and attrs["step"] == 8          # 4 steps per epoch
    for k, v in seen[1].items():
        np.testing.assert_array_equal(model.params[k], v)
        np.testing.assert_array_equal(loaded.params[k], v)

    with pytest.raises(SurrogateConfigError, match="keep_best.*validation"):
        train(model, ds, TrainConfig(epochs=1, keep_best=True))
    with pytest.raises(SurrogateConfigError, match="lr_schedule='step'.*allowed"):
        TrainConfig(lr_schedule="step").validate()
    with pytest.raises(SurrogateConfigError, match="lr_final"):
        TrainConfig(lr=1e-3, lr_final=2e-3).validate()


def test_nan_loss_stops_and_keeps_last_good(tmp_path) -> None:
    ds = synthetic_dataset(40, 3, 20, 30, 0.08, seed=1)
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    ck = str(tmp_path / "ck.h5")
    train(model, ds, TrainConfig(epochs=1, batch_size=20, lr=1e-3, checkpoint_path=ck))
    before = {k: v.copy() for k, v in model.params.items()}
    model.params["out.W"][:, :] = np.inf  # readout inf -> inf - inf -> NaN loss
    with pytest.raises(TrainingDivergedError, match="not finite"):
        train(model, ds, TrainConfig(epochs=1, batch_size=20, checkpoint_path=ck))
    loaded, _ = load_checkpoint(ck)
    for k, v in before.items():
        np.testing.assert_array_equal(loaded.params[k], v)


def test_rouse_revives_dead_neurons() -> None:
    """Neurons whose thresholds are far out of reach never spike and get no gradient (sparse
    band); rouse lowers their thresholds after each epoch until they fire again."""
    ds = synthetic_dataset(60, 3, 20, 30, 0.08, seed=1)
    hists = {}
    for rouse in (0.0, 0.5):
        model = SNN(_spec(rec=False), init="fluctuation", seed=0, input_rate=ds.mean_rate())
        model.params["h0.theta"][:8] *= 8.0             # 8 silent units (besides the naturally silent ones)
        hists[rouse] = train(model, ds, TrainConfig(epochs=6, batch_size=20, lr=1e-3, band=0.1, rouse=rouse))
    assert hists[0.0].dead_frac[-1][0] >= 8 / 32 and hists[0.0].roused[-1] == [0]
    assert hists[0.5].roused[0][0] >= 8
    assert hists[0.5].dead_frac[-1][0] <= hists[0.0].dead_frac[-1][0] - 0.15
    with pytest.raises(SurrogateConfigError, match="rouse"):
        TrainConfig(rouse=1.0).validate()


def test_adam_minimises_quadratic() -> None:
    p = {"x": np.array([3.0, -2.0])}
    opt = Adam(lr=0.1)
    for _ in range(300):
        opt.step(p, {"x": 2 * p["x"]})
    assert np.all(np.abs(p["x"]) < 1e-2)


@pytest.mark.parametrize("method", ["kaiming", "micheli", "fluctuation"])
def test_initialisers(method: str) -> None:
    spec = _spec(n_in=200)
    w = init_weights(spec, method, np.random.default_rng(0), input_rate=0.05)
    assert w["h0.W"].shape == (200, 32) and w["h0.R"].shape == (32, 32) and w["out.W"].shape == (32, 3)
    if method == "micheli":
        assert np.var(w["h0.W"]) == pytest.approx(0.8 / (200 * 0.05), rel=0.15)
    if method == "fluctuation":
        a, b = math.exp(-0.1), math.exp(-0.2)
        _, ehat = psp_moments(a, b)
        assert np.var(w["h0.W"]) == pytest.approx(0.8 * 0.25 / (200 * 0.05 * ehat), rel=0.15)



def _deep_spec(depth: int, recurrent: bool = False) -> NetworkSpec:
    return NetworkSpec(n_in=300, layers=[LayerSpec(100, recurrent=recurrent, tau_mem=20.0, tau_syn=5.0)] * depth,
                       n_out=2, n_steps=60)


def test_fluctuation_hidden_rate_is_measured_and_carries_activity_through_depth() -> None:
    """hidden_rate='simulated' takes each hidden layer's rate from a calibration run, not from
    the Gaussian tail (which overestimates a resetting neuron's rate about 3x, so activity died
    within a few layers). The calibration uses a child generator: the first layer and the
    readout draw the same numbers either way, and only the scale of later layers changes."""
    spec = _deep_spec(6)
    sim = init_weights(spec, "fluctuation", np.random.default_rng(3), input_rate=0.05)
    gau = init_weights(spec, "fluctuation", np.random.default_rng(3), input_rate=0.05, hidden_rate="gaussian")
    np.testing.assert_array_equal(sim["h0.W"], gau["h0.W"])
    np.testing.assert_array_equal(sim["out.W"], gau["out.W"])
    ratio = sim["h1.W"] / gau["h1.W"]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)
    assert ratio.flat[0] > 1.2   # the measured rate is lower than the Gaussian estimate
    batch = synthetic_dataset(4, 2, 300, 60, 0.05, seed=1).batch(range(4))
    rates = {}
    for name, w in (("simulated", sim), ("gaussian", gau)):
        model = SNN(spec, {**init_neuron_params(spec, np.random.default_rng(0)), **w})
        recs, _ = model.forward(batch, band=1e-9, store_all=False)
        rates[name] = [r.spk_val.sum() / (4 * 60 * 100) for r in recs]
    assert min(rates["simulated"]) > 0.002, rates
    assert rates["gaussian"][-1] < 0.1 * rates["simulated"][-1], rates


def test_fluctuation_calibration_grows_for_quiet_layers_and_warns_when_silent() -> None:
    """A layer that fires few spikes in the first 8 calibration trains gets more trains (so its
    rate does not rest on a handful of spikes); one that stays silent falls back to the Gaussian
    estimate with a warning that names it."""
    from eventsim.learning.surrogate import init as I
    seen = []
    spec = NetworkSpec(n_in=300, layers=[LayerSpec(50, tau_mem=20.0, tau_syn=5.0)] * 3, n_out=2, n_steps=40)
    orig = I._Calibration.rate

    def rate(self, k, W, R):
        out = orig(self, k, W, R)
        seen.append((self.B, out[1]))
        return out
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(I._Calibration, "rate", rate)
        init_weights(spec, "fluctuation", np.random.default_rng(0), input_rate=0.05, xi=3.0)
    assert seen and all(n >= I.CALIBRATION_MIN_SPIKES for _, n in seen) and max(b for b, _ in seen) > 8
    with pytest.warns(UserWarning, match=r"h0, h1 fired no spike, so their rate is the Gaussian estimate"):
        w = init_weights(spec, "fluctuation", np.random.default_rng(0), input_rate=0.05, xi=12.0)
    assert all(np.all(np.isfinite(v)) for v in w.values())


def test_fluctuation_hidden_rate_single_feedforward_layer_unchanged_and_bad_value() -> None:
    spec = _spec(n_in=200, rec=False)
    a = init_weights(spec, "fluctuation", np.random.default_rng(0), input_rate=0.05)
    b = init_weights(spec, "fluctuation", np.random.default_rng(0), input_rate=0.05, hidden_rate="gaussian")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # a recurrent layer: W is drawn before any rate is needed; R for the measured rate of the layer
    # driven by W, which is below the Gaussian tail's, so R comes out wider by sqrt of their ratio
    spec_r = _deep_spec(1, recurrent=True)
    rec = init_weights(spec_r, "fluctuation", np.random.default_rng(0), input_rate=0.05)
    rec_g = init_weights(spec_r, "fluctuation", np.random.default_rng(0), input_rate=0.05, hidden_rate="gaussian")
    np.testing.assert_array_equal(rec["h0.W"], rec_g["h0.W"])
    ratio = rec["h0.R"] / rec_g["h0.R"]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)
    assert 1.2 < ratio.flat[0] < 4.0
    with pytest.raises(SurrogateConfigError, match="hidden_rate='tail' is invalid; allowed"):
        init_weights(spec, "fluctuation", np.random.default_rng(0), hidden_rate="tail")

def test_psp_moments_no_synapse() -> None:
    ebar, ehat = psp_moments(0.5, None)
    assert ebar == pytest.approx(2.0) and ehat == pytest.approx(4.0 / 3.0)


def test_bad_input_errors() -> None:
    model = SNN(_spec(), init="kaiming")
    good = synthetic_dataset(4, 3, 20, 30, 0.1).batch(range(4))
    with pytest.raises(SurrogateConfigError, match="n_units=21"):
        model.loss_and_grad(synthetic_dataset(4, 3, 21, 30, 0.1).batch(range(4)))
    with pytest.raises(SurrogateConfigError, match="n_steps"):
        model.loss_and_grad(synthetic_dataset(4, 3, 20, 31, 0.1).batch(range(4)))
    with pytest.raises(SurrogateConfigError, match="empty"):
        EventBatch.from_samples([], [], 30, 20)
    for bad in (0.0, -0.1, float("nan")):
        with pytest.raises(SurrogateConfigError, match="B_th"):
            model.loss_and_grad(good, band=bad)
    with pytest.raises(SurrogateConfigError, match="B_th"):
        TrainConfig(band=0.0).validate()
    with pytest.raises(SurrogateConfigError, match="weight_dtype='half'.*allowed"):
        TrainConfig(weight_dtype="half").validate()
    with pytest.raises(SurrogateConfigError, match="unit"):
        EventBatch.from_samples([(np.array([0]), np.array([25]))], [0], 30, 20)
    with pytest.raises(SurrogateConfigError, match="labels"):
        model.loss_and_grad(EventBatch.from_samples([(np.array([0]), np.array([1]))], [7], 30, 20))
    with pytest.raises(SurrogateConfigError, match="surrogate.slope"):
        Surrogate("triangle", slope=0.0)
    with pytest.raises(SurrogateConfigError, match="tau_mem"):
        LayerSpec(4, tau_mem=-1.0).validate(0)
    with pytest.raises(SurrogateConfigError, match="shape"):
        SNN(_spec(), params={**model.params, "h0.W": np.zeros((3, 3))})
    with pytest.raises(SurrogateConfigError, match="empty"):
        train(model, EventDataset([], np.zeros(0, np.int64), 30, 20), TrainConfig())
    assert issubclass(SurrogateConfigError, EventsimError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_retain_freed_memory_keeps_large_blocks_paged_in() -> None:
    """A step that allocates and frees 8, 3 and 1 MiB arrays (as a training step frees its
    gradients and records) page-faults them in again each time under glibc's defaults
    (about half of the 3,072 pages here); after retain_freed_memory the heap keeps them."""
    from eventsim.learning.surrogate import retain_freed_memory

    def step() -> float:
        a, b, c = np.ones(8 << 17), np.ones(3 << 17), np.ones(1 << 17)
        return float(a.sum() + b.sum() + c.sum())

    assert retain_freed_memory() is True
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 100, faults   # 5 steps x 3,072 pages without reuse
    with pytest.raises(ValueError, match="keep_bytes=-1 is out of range"):
        retain_freed_memory(-1)


def test_logged_grad_norms_leave_out_frozen_parameters() -> None:
    """The per-layer norm describes what is trained: with alpha, theta and beta frozen it is the
    norm of the weight gradients alone (it included the frozen ones, 11% high in the review)."""
    from eventsim.learning.surrogate.model import layer_grad_norms
    ds = synthetic_dataset(40, 3, 20, 30, 0.1, seed=1)
    cfg = TrainConfig(epochs=1, batch_size=20, lr=1e-3, band=0.3, train_alpha=False, train_theta=False,
                      train_beta=False, seed=5)
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    first = next(ds.batches(cfg.batch_size, np.random.default_rng(cfg.seed)))
    r = model.loss_and_grad(first, method="sparse", band=cfg.band, weight_dtype=cfg.weight_dtype)
    want = layer_grad_norms({n: g for n, g in r.grads.items() if n.endswith(".W") or n.endswith(".R")})
    everything = r.stats["grad_norms"]
    hist = train(model, ds, cfg)
    assert hist.grad_norms[0].keys() == want.keys()
    for k in want:
        assert hist.grad_norms[0][k] == pytest.approx(want[k], rel=1e-12)
    assert hist.grad_norms[0]["h0"] < everything["h0"]
    assert hist.epoch_grad_norms[0]["h0"] == pytest.approx(np.mean([g["h0"] for g in hist.grad_norms]))


def test_predict_runs_each_layer_once(monkeypatch) -> None:
    """Prediction stores nothing for backward, so the empty-active-set widening must not re-run
    layers (it re-ran each about 20 times, evaluation 11-26x slower)."""
    from eventsim.learning.surrogate import kernels as K
    spec = NetworkSpec(n_in=20, layers=[LayerSpec(16, recurrent=True), LayerSpec(16)], n_out=3, n_steps=30)
    model = SNN(spec, init="kaiming", seed=0)
    batch = synthetic_dataset(8, 3, 20, 30, 0.05, seed=0).batch(range(8))
    calls = []
    orig = K.layer_forward
    monkeypatch.setattr(K, "layer_forward", lambda *a, **k: calls.append(1) or orig(*a, **k))
    pred = model.predict(batch)
    assert len(calls) == 2
    _, U = model.forward(batch)
    np.testing.assert_array_equal(pred, model.logits(U)[0].argmax(axis=1))


def _same_params(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("kw", [dict(lr_schedule="cosine"), dict(keep_best=True, train_theta=False)])
def test_resume_continues_exactly_as_an_uninterrupted_run(tmp_path, kw) -> None:
    """A run of 3 epochs that dies after epoch 1, resumed from its checkpoint, ends as the run that
    did not die: Adam's moments and step count, the shuffling and the history come back (a
    restart used to reset Adam and repeat epoch 1's order)."""
    from eventsim.learning.surrogate import load_train_state
    from eventsim.learning.surrogate.events import EventDataset as _ED
    ds = synthetic_dataset(60, 3, 20, 30, 0.1, seed=2)
    val = _ED(ds.samples[:15], ds.labels[:15], ds.n_steps, ds.n_units)

    def cfg(epochs: int, path: str) -> TrainConfig:
        return TrainConfig(epochs=epochs, batch_size=16, lr=5e-3, band=0.3, seed=4, checkpoint_path=path, **kw)

    straight = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    h_straight = train(straight, ds, cfg(3, str(tmp_path / "a.h5")), val)
    first = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    ck = str(tmp_path / "b.h5")

    def die(line: str) -> None:      # called after the epoch's checkpoint is written
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(first, ds, cfg(3, ck), val, log=die)
    resumed, attrs = load_checkpoint(ck)
    assert attrs["epoch"] == 1
    h_resumed = train(resumed, ds, cfg(3, ck), val, resume=load_train_state(ck))
    _same_params(resumed.params, straight.params)
    assert h_resumed.loss == h_straight.loss and h_resumed.val_acc == h_straight.val_acc
    assert h_resumed.best_epoch == h_straight.best_epoch
    _same_params(load_checkpoint(ck)[0].params, load_checkpoint(str(tmp_path / "a.h5"))[0].params)


def test_resume_after_keep_best_continues_from_the_last_parameters(tmp_path) -> None:
    """A finished keep_best run stores the best parameters; training on resumes from the last ones."""
    from eventsim.learning.surrogate import load_train_state
    from eventsim.learning.surrogate.events import EventDataset as _ED
    ds = synthetic_dataset(60, 3, 20, 30, 0.1, seed=2)
    val = _ED(ds.samples[:15], ds.labels[:15], ds.n_steps, ds.n_units)
    cfg = lambda e, p: TrainConfig(epochs=e, batch_size=16, lr=5e-3, band=0.3, seed=4, keep_best=True,  # noqa: E731
                                   checkpoint_path=p)
    straight = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    train(straight, ds, cfg(4, str(tmp_path / "a.h5")), val)
    first = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    ck = str(tmp_path / "b.h5")
    train(first, ds, cfg(2, ck), val)
    resumed, _ = load_checkpoint(ck)
    train(resumed, ds, cfg(4, ck), val, resume=load_train_state(ck))
    _same_params(resumed.params, straight.params)


def test_resume_refuses_what_would_not_continue_the_run(tmp_path) -> None:
    from eventsim.learning.surrogate import load_train_state, save_checkpoint
    ds = synthetic_dataset(40, 3, 20, 30, 0.1, seed=2)
    ck = str(tmp_path / "ck.h5")
    model = SNN(_spec(), init="fluctuation", seed=0, input_rate=ds.mean_rate())
    train(model, ds, TrainConfig(epochs=2, batch_size=16, lr=5e-3, band=0.3, checkpoint_path=ck))
    state = load_train_state(ck)
    with pytest.raises(SurrogateConfigError, match=r"resume: train.lr=0.001 differs from the checkpoint's 0.005"):
        train(load_checkpoint(ck)[0], ds, TrainConfig(epochs=3, batch_size=16, lr=1e-3, band=0.3), resume=state)
    with pytest.raises(SurrogateConfigError, match=r"finished 2 epochs; allowed epochs > 2"):
        train(load_checkpoint(ck)[0], ds, TrainConfig(epochs=2, batch_size=16, lr=5e-3, band=0.3), resume=state)
    with pytest.raises(SurrogateConfigError, match=r"has 30 samples, the checkpoint's 40"):
        train(load_checkpoint(ck)[0], synthetic_dataset(30, 3, 20, 30, 0.1, seed=2),
              TrainConfig(epochs=3, batch_size=16, lr=5e-3, band=0.3), resume=state)
    plain = str(tmp_path / "plain.h5")
    save_checkpoint(plain, model)
    with pytest.raises(SurrogateConfigError, match="holds no training state"):
        load_train_state(plain)


def test_train_grad_cli_resume(tmp_path, capsys) -> None:
    """`eventsim train-grad CFG --epochs 1` then `--resume --epochs 2` gives the summary and the
    parameters of a straight 2-epoch run; a changed config or nothing to resume is one error line."""
    import json
    from eventsim.cli import main
    cfg = tmp_path / "c.toml"
    cfg.write_text('[network]\nn_in = 6\nn_out = 3\nn_steps = 15\n[[network.layers]]\nsize = 10\ntau_mem = 10.0\n'
                   '[train]\nbatch_size = 10\nlr = 0.005\nband = 0.3\n'
                   '[data]\nkind = "synthetic"\nn_samples = 40\ndensity = 0.15\nval_fraction = 0.25\n')
    run = lambda out, *extra: main(["train-grad", str(cfg), "--out", str(out), "--no-progress", *extra])  # noqa: E731
    assert run(tmp_path / "a", "--epochs", "2") == 0
    assert run(tmp_path / "b", "--epochs", "1") == 0
    assert run(tmp_path / "b", "--epochs", "2", "--resume") == 0
    summary = [json.loads((tmp_path / d / "train_summary.json").read_text()) for d in ("a", "b")]
    assert summary[1]["epoch_loss"] == summary[0]["epoch_loss"] and len(summary[1]["epoch_loss"]) == 2
    _same_params(load_checkpoint(str(tmp_path / "b" / "checkpoint.h5"))[0].params,
                 load_checkpoint(str(tmp_path / "a" / "checkpoint.h5"))[0].params)
    capsys.readouterr()
    for out, extra, match in ((tmp_path / "b", ["--epochs", "3", "--lr", "0.001"], "train.lr=0.001 differs"),
                              (tmp_path / "none", ["--epochs", "3"], "does not exist")):
        assert run(out, "--resume", *extra) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and match in err, err
