"""Multimodal ensembles (models/multimodal.py, learning/crossmodal.py): tiny networks, no real data."""
from dataclasses import replace

import numpy as np
import pytest

import eventsim as es
from eventsim.errors import EventsimError
from eventsim.learning.crossmodal import CrossParams, class_blocks, order_by_class
from eventsim.learning.weights import ProjectionWeights
from eventsim.models import LIFDelta
from eventsim.models.diehl_cook import DCParams
from eventsim.models.multimodal import (AudioParams, Multimodal, audio_features, class_scores, fuse,
                                        pair_by_class, pixel_dropout, pixel_noise)

TINY_AUDIO = AudioParams(n_channels=4, n_bins=2)
FAST = replace(DCParams(), t_present=60.0, t_rest=20.0, intensity=8.0, max_retries=1, theta_plus=0.5)


# features, degradations, pairing, read-out ----------------------------------------------------
def test_audio_features_peak_scaling_and_bins():
    t = [np.array([0.0, 10.0, 20.0, 90.0, 100.0]), np.zeros(0)]
    u = [np.array([0, 0, 1, 3, 3]), np.zeros(0, np.int64)]
    with pytest.warns(UserWarning, match="1 of 2 samples have no spikes"):
        f = audio_features(t, u, replace(TINY_AUDIO, lo_pct=0.0, hi_pct=100.0, power=1.0))
    assert f.shape == (2, 8)
    # first half of the span: channel 0 twice, channel 1 once; second half: channel 3 twice
    assert np.allclose(f[0], [1.0, 0.5, 0, 0, 0, 0, 0, 1.0])
    assert not f[1].any()                               # no spikes: all zeros, no NaN
    g = audio_features(t[:1], u[:1], replace(TINY_AUDIO, lo_pct=0.0, hi_pct=100.0, power=1.0, scale="sum"))
    assert np.isclose(g[0].sum(), 1.0)


@pytest.mark.parametrize("kw, match", [({"n_bins": 0}, "n_bins"), ({"lo_pct": 50.0, "hi_pct": 40.0}, "lo_pct"),
                                       ({"scale": "max"}, "scale"), ({"power": 0.0}, "power"),
                                       ({"rate_hz": -1.0}, "rate_hz")])
def test_audio_params_checked(kw, match):
    with pytest.raises(EventsimError, match=match):
        AudioParams(**kw)


def test_audio_features_bad_units():
    with pytest.raises(EventsimError, match="n_channels - 1 = 3"):
        audio_features([np.array([1.0])], [np.array([4])], TINY_AUDIO)
    with pytest.raises(EventsimError, match="len"):
        audio_features([np.array([1.0])], [], TINY_AUDIO)


def test_pixel_noise_and_dropout_fractions():
    img = np.full((20, 784), 100, np.uint8)
    d = pixel_dropout(img, 0.5, seed=1)
    assert abs((d == 0).mean() - 0.5) < 0.02 and d.dtype == np.uint8 and img.min() == 100
    n = pixel_noise(img, 0.25, seed=1)
    assert abs((n != 100).mean() - 0.25) < 0.02
    assert np.array_equal(pixel_noise(img, 0.0), img)
    with pytest.raises(EventsimError, match="fraction"):
        pixel_dropout(img, 1.5)


def test_pair_by_class_cycles_within_class():
    a = np.array([0, 1, 0, 0, 1, 0])
    b = np.array([1, 0, 0, 1])
    j = pair_by_class(a, b, seed=0)
    assert np.array_equal(b[j], a)
    assert sorted(j[a == 0][:2]) == [1, 2]              # each B sample used once before any repeats
    with pytest.raises(EventsimError, match="class 2"):
        pair_by_class(np.array([2]), b)


def test_class_scores_and_fuse():
    assign = np.array([0, 0, 1, -1])
    r = np.array([[2, 0, 1, 9], [0, 0, 3, 0]])
    s = class_scores(r, assign, n_classes=3)
    assert np.allclose(s, [[1.0, 1.0, 0.0], [0.0, 3.0, 0.0]])
    # a confident second ensemble overrides an unsure first one; a silent one adds nothing
    a = np.array([[0.6, 0.4], [0.0, 0.0]])
    b = np.array([[0.0, 5.0], [1.0, 3.0]])
    assert np.array_equal(fuse(a, b), [1, 1])
    assert np.array_equal(fuse(a), [0, -1])  # every ensemble silent: not classified


def test_class_blocks_and_order():
    w = np.arange(16.0).reshape(4, 4)
    blocks = class_blocks(w, np.array([0, 0, 1, -1]), np.array([1, 0, 0, 1]), n_classes=2)
    assert np.isclose(blocks[0, 0], np.mean([1, 2, 5, 6])) and np.isclose(blocks[1, 1], (8 + 11) / 2)
    s = class_blocks(w, np.array([0, 0, 1, -1]), np.array([1, 0, 0, 1]), n_classes=3, reduce="sum")
    assert s[2, 2] == 0 and s[0, 1] == 0 + 3 + 4 + 7
    assert np.array_equal(order_by_class(np.array([2, -1, 0, 2])), [2, 0, 3, 1])


def test_cross_params_checked():
    with pytest.raises(EventsimError, match="w_init"):
        CrossParams(w_init=5.0, w_max=1.0)
    with pytest.raises(EventsimError, match="x_tar"):
        CrossParams(x_tar=2.0)
    rule = CrossParams(w_max=2.0, w_scale=60.0).rule()
    assert rule.w_min == 0.0 and rule.w_max == 120.0


# cross-modal STDP inside the event loop ---------------------------------------------------
def test_cross_rule_potentiates_co_active_pairs_only():
    """A (pre) and B (post) populations forced to spike by sources: A0 fires with B0 in every
    'presentation', A1 fires alone 200 ms earlier. STDP grows A0->B0 and shrinks A1->B0."""
    net = es.Network(seed=1)
    a = net.population(2, LIFDelta(tau_m=10.0, v_rest=0.0, v_reset=0.0, v_th=1.0, t_ref=1.0), name="a")
    b = net.population(1, LIFDelta(tau_m=10.0, v_rest=0.0, v_reset=0.0, v_th=1.0, t_ref=1.0), name="b")
    times, ids = [], []
    for k in range(10):
        t0 = 500.0 * k
        times += [t0 + 10.0, t0 + 210.0, t0 + 220.0]
        ids += [1, 0, 2]                                 # src1 -> A1, src0 -> A0, src2 -> B0
    src = net.spike_source(3, np.array(times), np.array(ids), name="src")
    net.connect(src[[0]], a[[0]], es.one_to_one(), weight=5.0, delay=0.5)
    net.connect(src[[1]], a[[1]], es.one_to_one(), weight=5.0, delay=0.5)
    net.connect(src[[2]], b, es.one_to_one(), weight=5.0, delay=0.5)
    cp = CrossParams(w_max=1.0, w_scale=1.0, w_init=0.5, tau_pre=80.0, x_tar=0.3, eta_post=0.1)
    proj = net.connect(a, b, es.all_to_all(), weight=0.5 * cp.w_scale, delay=1.0, plasticity=cp.rule(),
                       receptor="excitatory")
    net.run(5000.0, progress=False)
    pre, _, w = proj.weights()
    w = dict(zip(pre.tolist(), w.tolist()))
    assert w[0] > 0.6 and w[1] < 0.35 and min(w.values()) >= 0.0


def _tiny(plastic=True, **kw):
    rng = np.random.default_rng(0)
    params = dict(n_image=6, n_audio=5, image_params=FAST, audio_params=FAST, audio=TINY_AUDIO,
                  cross=CrossParams(w_init=0.05, norm_total=1.0), seed=3, plastic=plastic)
    params.update(kw)
    m = Multimodal(**params)
    imgs = (rng.random((4, 784)) < 0.2) * 255.0
    aud = rng.random((4, TINY_AUDIO.n_inputs))
    return m, imgs, aud


def test_tiny_network_train_modes_save_and_freeze(tmp_path):
    m, imgs, aud = _tiny()
    names = {p.name for p in m.net.projections}
    assert {"img_input_exc", "aud_input_exc", "img_aud", "aud_img", "img_inh_exc", "aud_exc_inh"} <= names
    c0 = [c.get() for c in m.cross]
    # cross "off": no cross input and the cross weights come back unchanged; inputs still learn
    w_in0 = m.img.input_w.get()
    m.train(imgs[:2], aud[:2], cross="off")
    assert all(np.array_equal(c.get(), w) for c, w in zip(m.cross, c0))
    assert not np.array_equal(m.img.input_w.get(), w_in0)
    assert m.img.exc.get("theta").sum() > 0                                        # thresholds adapt
    # cross "learn" with inputs fixed: input weights restored, cross weights learn (>= 0, normalised)
    w_in1 = [e.input_w.get() for e in m.ensembles]
    info = m.train(imgs, aud, cross="learn", inputs="fixed")
    assert info["samples"] == 4
    assert all(np.array_equal(e.input_w.get(), w) for e, w in zip(m.ensembles, w_in1))
    W = m.cross_matrices()
    assert W["img_aud"].shape == (6, 5) and W["aud_img"].shape == (5, 6)
    assert min(W["img_aud"].min(), W["aud_img"].min()) >= 0.0
    assert W["img_aud"].std() > 0 or W["aud_img"].std() > 0            # no longer uniform
    path = str(tmp_path / "w.h5")
    m.save(path)
    f = Multimodal.frozen_from(path, n_image=6, n_audio=5, image_params=FAST, audio_params=FAST,
                               audio=TINY_AUDIO, cross=CrossParams(w_init=0.05, norm_total=1.0))
    assert np.allclose(f.cross_matrices()["img_aud"], W["img_aud"], rtol=1e-6)
    assert np.allclose(f.img.exc.get("v_th") + f.img.exc.get("theta"),
                       m.img.exc.get("v_th") + m.img.exc.get("theta"), rtol=1e-9)   # thresholds reloaded
    r = f.responses(imgs[:2], aud[:2], cross="fixed")
    assert r["img"].shape == (2, 6) and r["aud"].shape == (2, 5)
    r_img = f.responses(images=imgs[:2], cross="off")
    assert set(r_img) == {"img", "aud"} and r_img["img"].shape == (2, 6)
    with pytest.raises(EventsimError, match="plastic"):
        f.train(imgs[:1], aud[:1])
    with pytest.raises(EventsimError, match="'off' or 'fixed'"):
        f.responses(imgs[:1], aud[:1], cross="learn")


def test_projections_that_must_not_learn_stay_fixed_during_the_presentation(monkeypatch):
    """cross="off" holds the cross weights at 0 and inputs="fixed" holds the input weights for the
    whole presentation, not only after it: with STDP running, zeroed cross weights grew back to
    0.6-1.6 units within one presentation, so the "unimodal" phase was not unimodal."""
    m, imgs, aud = _tiny()
    m.train(imgs[:2], aud[:2], cross="learn")             # non-trivial cross weights and traces
    seen = []
    run = m.net.run

    def watched(duration, **kw):
        run(duration, **kw)
        seen.append((max(float(np.abs(c.get()).max()) for c in m.cross),
                     [e.input_w.get() for e in m.ensembles]))
    monkeypatch.setattr(m.net, "run", watched)
    w_in = [e.input_w.get() for e in m.ensembles]
    rules = [p.plasticity for p in m.net.projections]
    for i in range(len(imgs)):
        m.present(imgs[i], aud[i], cross="off", inputs="fixed")
    assert seen and all(cross_max == 0.0 for cross_max, _ in seen)
    # (the kernel still clips a weight above w_max that it visits: the tiny audio ensemble's
    # normalisation target is beyond 8 inputs x w_max, so only in-bound weights are compared)
    inside = [w0 <= e.p_in.plasticity.w_max for w0, e in zip(w_in, m.ensembles)]
    assert all(k.sum() > 0 for k in inside)
    assert all(np.array_equal(w[k], w0[k]) for _, ws in seen for w, w0, k in zip(ws, w_in, inside))
    assert [p.plasticity for p in m.net.projections] == rules          # the rules are back afterwards


@pytest.mark.parametrize("rule", [es.learning.additive(), es.learning.TripletSTDP(),
                                  es.learning.PowerLawSTDP(), es.learning.multiplicative()])
def test_frozen_rules_have_zero_rates_only(rule):
    f = rule.frozen()
    assert type(f) is type(rule) and f.tau_plus == rule.tau_plus and f.w_max == rule.w_max
    v, v0 = f.vector(), rule.vector()
    from eventsim import plasticity as pk
    rate_cols = {"PairSTDP": [pk.P1], "TripletSTDP": [pk.P1, pk.P2, pk.P3, pk.P4],
                 "PowerLawSTDP": [pk.P1, pk.P2]}[type(rule).__name__]
    assert not v[rate_cols].any()
    others = [c for c in range(v.size) if c not in rate_cols]
    assert np.array_equal(v[others], v0[others])


def test_tiny_network_bad_arguments():
    m, imgs, aud = _tiny()
    with pytest.raises(EventsimError, match="needs an image"):
        m.present()
    with pytest.raises(EventsimError, match=r"shape \(3,\)"):
        m.present(audio=np.ones(3))
    for bad in (-1.0, np.nan):                      # features are scaled to [0, 1]
        with pytest.raises(EventsimError, match=r"audio feature values must lie in \[0, 1\]"):
            m.present(audio=np.full(TINY_AUDIO.n_inputs, bad))
    with pytest.raises(EventsimError, match="expected 784"):
        m.present(image=np.ones((20, 20)))
    with pytest.raises(EventsimError, match="cross = 'on'"):
        m.present(imgs[0], cross="on")
    with pytest.raises(EventsimError, match="pairs must match"):
        m.train(imgs[:2], aud[:3])
    with pytest.raises(EventsimError, match="at least one"):
        Multimodal(n_image=0, n_audio=0)
    solo = Multimodal(n_image=0, n_audio=4, audio_params=FAST, audio=TINY_AUDIO)
    assert solo.cross == [] and solo.img is None
    with pytest.raises(EventsimError, match="no image ensemble"):
        solo.present(imgs[0])
    c = solo.present(audio=aud[0])
    assert set(c) == {"aud"} and c["aud"].shape == (4,)


def test_projection_weights_set_rejects_negative():
    m, _, _ = _tiny()
    pw = ProjectionWeights(m.net, m.p_ia)
    pw.set(0.25)
    assert np.allclose(pw.get(), 0.25) and pw.matrix().shape == (6, 5)
    with pytest.raises(EventsimError):
        pw.set(-1.0)


def test_audio_features_from_an_shd_layout_file(tmp_path):
    """Encoded audio in the SHD layout (ours or the real SHD files) feeds the audio ensemble the same way."""
    import eventsim.datasets as ds
    rng = np.random.default_rng(2)
    times = [np.sort(rng.uniform(0, 400, 30)) for _ in range(3)]
    units = [rng.integers(0, 4, 30) for _ in range(3)]
    ds.write_shd(tmp_path / "x.h5", times, units, [1, 2, 3], speakers=[0, 0, 1], n_units=4, time_dtype=np.float64)
    shd = ds.read_shd(tmp_path / "x.h5")
    f = audio_features(shd.times_ms, shd.units, replace(TINY_AUDIO, n_channels=shd.n_units))
    assert np.allclose(f, audio_features(times, units, TINY_AUDIO))
    m = Multimodal(n_image=0, n_audio=3, audio_params=FAST, audio=TINY_AUDIO)
    assert m.present(audio=f[0])["aud"].shape == (3,)


def test_an_unreachable_normalisation_target_warns_once():
    m, _, _ = _tiny()                       # audio: 8 inputs per neuron, target 78 units, w_max 1 unit
    with pytest.warns(UserWarning, match=r"beyond the reach of 8 synapses x w_max 60 mV for 5 neuron"):
        m.aud.normalizer()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.aud.normalizer()                  # once per normaliser
        m.img.normalizer()                  # 784 inputs: reachable, silent
