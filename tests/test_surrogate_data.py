"""Data adapters, empty-active-set handling, training statistics and the train-grad CLI
of eventsim.learning.surrogate (small, fast)."""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from eventsim.learning.surrogate import (EventDataset, LayerSpec, NetworkSpec, SNN, SurrogateConfigError, TrainConfig,
                                         synthetic_dataset, train)
from eventsim.learning.surrogate import kernels as K
from eventsim.learning.surrogate.data import (mnist_dataset, shd_dataset, spikes_to_dataset, split_holdout)


def test_fsdd_dataset_warns_of_late_spikes_also_from_its_cache(tmp_path) -> None:
    """The late-spike warning comes with the dataset whether it was encoded or read from the
    cache; a cache written before the count was stored is encoded again, not trusted."""
    import pathlib
    import warnings

    from eventsim.learning.surrogate.data import fsdd_dataset
    root = pathlib.Path(__file__).parent / "fixtures"
    cache = str(tmp_path / "fsdd.npz")
    kw = dict(split="test", n_steps=5, dt_ms=8.0, n_channels=8, cache=cache)   # 40 ms: most spikes are late
    with pytest.warns(UserWarning, match=r"spikes .* lie at or after n_steps x dt_ms = 40 ms") as first:
        ds = fsdd_dataset(root, **kw)
    with pytest.warns(UserWarning, match=r"spikes .* lie at or after n_steps x dt_ms = 40 ms") as again:
        ds2 = fsdd_dataset(root, **kw)
    assert str(first[0].message) == str(again[0].message)
    assert [s[0].tolist() for s in ds.samples] == [s[0].tolist() for s in ds2.samples]
    z = dict(np.load(cache))
    del z["late"]
    np.savez(cache, **z)                                    # a cache from before the count was stored
    with pytest.warns(UserWarning, match="lie at or after"):
        fsdd_dataset(root, **kw)
    assert "late" in np.load(cache).files
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # 1000 x 8 ms: nothing is late, no warning
        long = dict(kw, n_steps=1000, cache=str(tmp_path / "long.npz"))
        fsdd_dataset(root, **long)
        fsdd_dataset(root, **long)


def test_spikes_to_dataset_bins_counts_and_drops_late_spikes() -> None:
    times = [np.array([0.2, 0.7, 1.5, 9.9, 10.0, 25.0]), np.array([3.0])]
    units = [np.array([1, 1, 0, 2, 2, 0]), np.array([2])]
    with pytest.warns(UserWarning, match=r"2 of 7 spikes .* in 1 of 2 samples\) lie at or after .* 10 ms"):
        ds = spikes_to_dataset(times, units, [0, 1], n_units=3, n_steps=5, dt_ms=2.0)
    st, un = ds.samples[0]
    # steps: 0.2,0.7 -> 0 (unit 1, twice); 1.5 -> 0 (unit 0); 9.9 -> 4; 10.0, 25.0 dropped (>= 5 steps)
    assert st.tolist() == [0, 0, 4] and un.tolist() == [0, 1, 2]
    assert ds.counts[0].tolist() == [1.0, 2.0, 1.0]
    b = ds.batch([0, 1])
    assert b.n_steps == 5 and b.n_units == 3 and b.ptr[-1] == 4
    assert sorted(b.val.tolist()) == [1.0, 1.0, 1.0, 2.0]
    with pytest.raises(SurrogateConfigError, match="unit ids"):
        spikes_to_dataset([np.array([1.0])], [np.array([3])], [0], n_units=3, n_steps=5)
    with pytest.raises(SurrogateConfigError, match="must be equal"):
        spikes_to_dataset([np.array([1.0])], [np.array([0])], [0, 1], n_units=3, n_steps=5)


def test_shd_file_round_trip(tmp_path) -> None:
    from eventsim.datasets import write_shd
    times = [np.array([0.5, 12.0, 35.0]), np.array([5.0, 5.5])]
    units = [np.array([0, 3, 1]), np.array([2, 2])]
    path = tmp_path / "x.h5"
    write_shd(path, times, units, [4, 7], n_units=4)
    with pytest.warns(UserWarning, match="1 of 5 spikes"):
        ds = shd_dataset(str(path), n_steps=3, dt_ms=10.0)
    assert ds.n_units == 4 and ds.n_steps == 3 and ds.labels.tolist() == [4, 7]
    assert ds.samples[0][0].tolist() == [0, 1] and ds.samples[0][1].tolist() == [0, 3]  # 35 ms dropped (>= 3 steps of 10 ms)
    assert ds.samples[1][0].tolist() == [0] and ds.counts[1].tolist() == [2.0]


def test_mnist_latency_adapter(tmp_path) -> None:
    from eventsim.datasets import write_idx
    rng = np.random.default_rng(0)
    imgs = np.zeros((6, 28, 28), np.uint8)
    imgs[:, 10:12, 10:12] = rng.integers(1, 256, (6, 2, 2))
    write_idx(tmp_path / "train5k-images-idx3-ubyte", imgs)
    write_idx(tmp_path / "train5k-labels-idx1-ubyte", np.arange(6, dtype=np.uint8))
    ds = mnist_dataset(str(tmp_path), "train5k", n_steps=20, limit=4)
    assert len(ds) == 4 and ds.n_units == 784 and ds.n_steps == 20
    for st, un in ds.samples:
        assert len(st) == 4 and set(un.tolist()) <= {10 * 28 + 10, 10 * 28 + 11, 11 * 28 + 10, 11 * 28 + 11}
        assert st.min() >= 0 and st.max() < 20


def test_split_holdout_is_stratified_and_disjoint() -> None:
    ds = synthetic_dataset(100, 4, 5, 10, 0.1, seed=3)
    tr, va = split_holdout(ds, 0.25, seed=1)
    assert len(tr) + len(va) == 100
    for c in range(4):
        n = int(np.sum(ds.labels == c))
        assert int(np.sum(va.labels == c)) == int(round(0.25 * n))
    ids = {id(s[0]) for s in tr.samples} & {id(s[0]) for s in va.samples}
    assert not ids
    assert split_holdout(ds, 0.0)[1] is None
    with pytest.raises(SurrogateConfigError, match="val_fraction"):
        split_holdout(ds, 1.0)


def _silent_model(size: int = 8) -> tuple[SNN, object]:
    spec = NetworkSpec(n_in=5, layers=[LayerSpec(size, tau_mem=10.0, tau_syn=5.0)], n_out=3, n_steps=20,
                       readout="mean")  # (a silent net under "max" readout gets dL/dU only at t=0)
    model = SNN(spec, init="kaiming", seed=0)
    model.params["h0.W"][:] = 0.01  # far below threshold: |V - theta| > 0.5 everywhere
    return model, synthetic_dataset(4, 3, 5, 20, 0.1, seed=0).batch(range(4))


def test_empty_active_set_is_detected_and_band_widened() -> None:
    model, batch = _silent_model()
    off = model.loss_and_grad(batch, method="sparse", band=0.05, band_max=0.05)
    assert off.stats["stored_entries"] == [0] and off.stats["bands"] == [0.05]
    assert np.all(off.grads["h0.W"] == 0)  # no active entry: no gradient at all (collapse)
    on = model.loss_and_grad(batch, method="sparse", band=0.05, band_max=4.0)  # default min_active: >= 1 entry
    assert on.stats["stored_entries"][0] > 0 and on.stats["bands"][0] > 0.05
    assert np.any(on.grads["h0.W"] != 0) and np.any(on.grads["h0.theta"] != 0)
    # the widened gradient equals the dense gradient truncated to the widened band
    dense = model.loss_and_grad(batch, method="dense", band=on.stats["bands"][0])
    for k, g in dense.grads.items():
        np.testing.assert_allclose(on.grads[k], g, rtol=0, atol=1e-9 * max(1e-30, np.max(np.abs(g))))
    frac = model.loss_and_grad(batch, method="sparse", band=0.05, band_max=8.0, min_active=0.2)
    assert frac.stats["stored_entries"][0] >= 0.2 * 4 * 20 * 8
    with pytest.raises(SurrogateConfigError, match="min_active"):
        model.loss_and_grad(batch, min_active=1.5)


def test_training_records_dead_neurons_and_widening() -> None:
    model, _ = _silent_model()
    ds = synthetic_dataset(24, 3, 5, 20, 0.1, seed=0)
    h = train(model, ds, TrainConfig(epochs=2, batch_size=12, band=0.05, band_max=4.0, progress=True))
    assert len(h.dead_frac) == 2 and h.dead_frac[0][0] == 1.0  # silent at the start
    assert h.widened_steps[0] == 2 and h.band_used[0][0] > 0.05
    assert len(h.active_frac) == 2 and h.active_frac[0][0] > 0
    assert len(h.epoch_time_s) == 2


def test_parallel_backward_matches_serial() -> None:
    spec = NetworkSpec(n_in=6, layers=[LayerSpec(7, recurrent=True, tau_syn=4.0), LayerSpec(5)], n_out=3, n_steps=15)
    model = SNN(spec, init="micheli", seed=2, input_rate=0.2)
    batch = synthetic_dataset(5, 3, 6, 15, 0.2, seed=1).batch(range(5))
    a = model.loss_and_grad(batch, band=0.3)
    b = model.loss_and_grad(batch, band=0.3, n_threads=2)
    for k in a.grads:
        np.testing.assert_allclose(b.grads[k], a.grads[k], rtol=1e-12, atol=1e-14)
    assert K.layer_backward is not None


def _tiny_config(tmp_path, fmt: str) -> str:
    net = {"n_in": 6, "n_out": 3, "n_steps": 15, "readout": "max",
           "layers": [{"size": 10, "recurrent": False, "tau_mem": 10.0, "tau_syn": 5.0}]}
    cfg = {"network": net, "init": {"method": "fluctuation", "seed": 0},
           "train": {"epochs": 2, "batch_size": 10, "lr": 0.003, "band": 0.2},
           "data": {"kind": "synthetic", "n_samples": 40, "density": 0.15, "val_fraction": 0.25}}
    if fmt == "json":
        p = tmp_path / "c.json"
        p.write_text(json.dumps(cfg))
    else:
        p = tmp_path / "c.toml"
        p.write_text('[network]\nn_in = 6\nn_out = 3\nn_steps = 15\nreadout = "max"\n[[network.layers]]\nsize = 10\n'
                     'tau_mem = 10.0\ntau_syn = 5.0\n[init]\nmethod = "fluctuation"\n[train]\nepochs = 2\n'
                     'batch_size = 10\nlr = 0.003\nband = 0.2\n[data]\nkind = "synthetic"\nn_samples = 40\n'
                     'density = 0.15\nval_fraction = 0.25\n')
    return str(p)


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_train_grad_cli_writes_summary_and_png(tmp_path, fmt: str) -> None:
    from eventsim.cli import main
    out = tmp_path / "out"
    code = main(["train-grad", _tiny_config(tmp_path, fmt), "--out", str(out), "--method", "dense", "--band", "inf",
                 "--epochs", "1", "--no-progress", "--lr", "0.005", "--fallback", "--weight-dtype", "float32",
                 "--lr-schedule", "cosine", "--keep-best"])
    assert code == 0
    s = json.loads((out / "train_summary.json").read_text())
    assert s["method"] == "dense" and math.isinf(s["band"]) and s["epochs"] == 1
    assert s["lr"] == 0.005 and s["fallback"] is True and s["weight_dtype"] == "float32"
    assert s["lr_schedule"] == "cosine" and s["keep_best"] is True and s["best_epoch"] == 1
    assert 0.0 < s["epoch_lr"][0] < 0.005
    assert s["n_train"] == 30 and s["n_val"] == 10 and len(s["dead_frac"]) == 1
    png = (out / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 200_000


def test_cli_rejects_bad_data_kind(tmp_path) -> None:
    from eventsim.learning.surrogate.cli import run_train_grad
    p = tmp_path / "c.toml"
    p.write_text('[network]\nn_in = 2\nn_out = 2\nn_steps = 3\n[[network.layers]]\nsize = 2\n[data]\nkind = "wav"\n')
    with pytest.raises(SurrogateConfigError, match="data.kind"):
        run_train_grad(argparse.Namespace(config=str(p), out=str(tmp_path), method=None, band=None, epochs=None,
                                          seed=None, progress=False))
    assert EventDataset([], np.zeros(0, np.int64), 3, 2).counts is None


def test_a_validation_fraction_that_rounds_to_nothing_warns() -> None:
    ds = spikes_to_dataset([np.array([1.0])] * 4, [np.array([0])] * 4, [0, 1, 2, 3], n_units=1, n_steps=5)
    with pytest.warns(UserWarning, match="rounds to no validation sample"):
        train, val = split_holdout(ds, 0.2)
    assert val is None and len(train) == 4


def test_event_batch_to_dense_and_head() -> None:
    """to_dense inverts from_dense, adds events of one unit in one step (as the forward pass
    does), and head(n) is the batch of the first n samples."""
    from eventsim.learning.surrogate import EventBatch
    rng = np.random.default_rng(3)
    x = rng.random((3, 4, 5)) * (rng.random((3, 4, 5)) < 0.3)
    b = EventBatch.from_dense(x, np.array([0, 1, 2]))
    np.testing.assert_array_equal(b.to_dense(), x)
    dup = EventBatch.from_arrays(np.array([0, 0, 1]), np.array([2, 2, 0]), np.array([1, 1, 3]), np.array([0, 1]),
                                 n_steps=3, n_units=4, val=np.array([0.5, 2.0, 1.0]))
    d = dup.to_dense()
    assert d[0, 2, 1] == 2.5 and d[1, 0, 3] == 1.0 and d.sum() == 3.5
    h = b.head(2)
    assert h.batch_size == 2 and h.labels.tolist() == [0, 1]
    np.testing.assert_array_equal(h.to_dense(), x[:2])
    assert b.head(10).batch_size == 3
    with pytest.raises(SurrogateConfigError, match="n"):
        b.head(0)
