"""Weight-file plots: `eventsim plot weights|rf|whist` and the functions behind them."""
from __future__ import annotations

import os

import numpy as np
import pytest

import eventsim as es
from eventsim.analysis import cli, plots
from eventsim.learning import additive
from eventsim.models import LIFExp


@pytest.fixture(scope="module")
def weight_file(tmp_path_factory):
    """A 16-input -> 5-neuron plastic projection saved at three snapshots, plus a static one."""
    path = str(tmp_path_factory.mktemp("w") / "weights.h5")
    net = es.Network(seed=3)
    cells = net.population(5, LIFExp(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_th=-55.0, t_ref=2.0),
                           name="cells")
    src = net.poisson(16, 40.0, name="src")
    net.connect(src, cells, es.all_to_all(), weight=es.uniform(0.0, 3.0), delay=1.0, name="in",
                plasticity=additive(lambda_=0.05, w_max=3.0))
    net.connect(cells, cells, es.pairwise_bernoulli(0.5), weight=-1.0, delay=1.0, name="rec")
    for k in range(3):
        net.run(200.0, progress=False)
        net.save_weights(path, f"t{k}")
    return path


def test_dense_weights_marks_missing_synapses():
    w = plots.dense_weights([0, 1, 1], [1, 0, 0], [2.0, 1.0, 0.5], 2, 2)
    assert w[0, 1] == 2.0 and w[1, 0] == 1.5                      # multapses summed
    assert np.isnan(w[0, 0]) and np.isnan(w[1, 1])
    assert plots.dense_weights([0], [0], [1.0], 1, 2, missing=0.0)[0, 1] == 0.0


def test_receptive_field_mosaic_places_each_neuron_as_a_tile():
    n_pre, n_post = 9, 5
    w = np.arange(n_pre * n_post, dtype=float).reshape(n_pre, n_post)
    m = plots.receptive_field_mosaic(w, gap=1)
    # 5 tiles -> 3 columns, 2 rows of 3x3 tiles with 1-pixel gaps
    assert m.shape == (2 * 4 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(m[0:3, 0:3], w[:, 0].reshape(3, 3))
    np.testing.assert_array_equal(m[4:7, 4:7], w[:, 4].reshape(3, 3))
    assert np.isnan(m[3]).all() and np.isnan(m[4:7, 8:11]).all()   # gap row, empty 6th tile
    assert plots.tile_shape(784) == (28, 28)
    assert plots.tile_shape(6, (2, 3)) == (2, 3)
    with pytest.raises(ValueError, match="square"):
        plots.tile_shape(10)
    with pytest.raises(ValueError):
        plots.tile_shape(10, (3, 3))


def test_weight_histograms_share_bins():
    fig = plots.plot_weight_histograms([("a", np.zeros(10)), ("b", np.linspace(0, 1, 20))], bins=10)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 or len(ax.get_children()) > 2
    assert ax.get_xlabel() == "weight"


@pytest.mark.parametrize("kind,extra", [("weights", []), ("rf", []), ("whist", ["--bins", "20"]),
                                        ("whist", ["--snapshots", "0", "-1", "--log"])])
def test_cli_plots_write_png(weight_file, tmp_path, kind, extra, capsys):
    out = str(tmp_path / f"{kind}.png")
    code = cli.main(["plot", kind, weight_file, "--projection", "in", "--out", out, *extra])
    assert code == 0, capsys.readouterr().err
    with open(out, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(out) > 1000


def test_cli_rf_shape_and_snapshot(weight_file, tmp_path):
    out = str(tmp_path / "rf.png")
    assert cli.main(["plot", "rf", weight_file, "--projection", "in", "--shape", "2", "8",
                     "--snapshot", "0", "--out", out]) == 0
    assert os.path.exists(out)


def test_cli_weight_plot_errors_are_one_line(weight_file, tmp_path, capsys):
    out = str(tmp_path / "x.png")
    assert cli.main(["plot", "weights", weight_file, "--projection", "nope", "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no projection 'nope'" in err[0]
    # recurrent projection: 5 pre neurons is not square
    assert cli.main(["plot", "rf", weight_file, "--projection", "rec", "--out", out]) == 2
    assert "square" in capsys.readouterr().err
    assert cli.main(["plot", "rf", str(tmp_path / "missing.h5"), "--projection", "in", "--out", out]) == 2
    assert cli.main(["plot", "weights", weight_file, "--projection", "in", "--snapshot", "7",
                     "--out", out]) == 2


def test_main_cli_has_weight_plots(weight_file, tmp_path):
    from eventsim.cli import main
    out = str(tmp_path / "w.png")
    assert main(["plot", "weights", weight_file, "--projection", "rec", "--out", out]) == 0
    assert os.path.exists(out)
