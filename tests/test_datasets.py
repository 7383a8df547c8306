"""eventsim.datasets: idx/MNIST, wav/FSDD + cochlea front end, SHD HDF5 (fixtures: tests/fixtures)."""
import shutil
import wave
from pathlib import Path

import h5py
import numpy as np
import pytest

import eventsim as es
import eventsim.datasets as ds
from eventsim.datasets import cochlea

FIX = Path(__file__).parent / "fixtures"
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_real_mnist = pytest.mark.skipif(not (REAL / "mnist").is_dir(), reason=f"no real MNIST at {REAL}")
needs_real_fsdd = pytest.mark.skipif(not (REAL / "fsdd").is_dir(), reason=f"no real FSDD at {REAL}")


# ---------------------------------------------------------------- idx / MNIST
def test_load_mnist_fixture_gzip_and_plain():
    x, y = ds.load_mnist(FIX, "train5k")  # root's mnist/ subfolder, gzip files
    assert x.shape == (20, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert list(y) == [i % 10 for i in range(20)]
    x2, y2 = ds.load_mnist(FIX / "mnist", "t10k")  # the folder itself, plain idx files
    assert x2.shape == (10, 28, 28) and list(y2) == list(range(10))
    assert x[0, 2, -1] == 255 and x[0, 2, 0] == 0


def test_idx_write_read_roundtrip(tmp_path):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    for name in ("a.idx", "a.idx.gz"):
        ds.write_idx(tmp_path / name, a)
        b = ds.read_idx(tmp_path / name)
        assert b.dtype == np.int32 and np.array_equal(a, b)


@pytest.mark.parametrize("name, match", [("truncated-images-idx3-ubyte.gz", "truncated idx data"),
                                         ("wrong-magic-idx3-ubyte", "magic"),
                                         ("corrupt-gzip-idx3-ubyte.gz", "gzip")])
def test_bad_idx_files(name, match):
    with pytest.raises(ds.DatasetFormatError, match=match) as info:
        ds.read_idx(FIX / "bad" / name)
    assert name in str(info.value) and isinstance(info.value, es.EventsimError)


def test_idx_trailing_bytes_and_short_header(tmp_path):
    p = tmp_path / "x-idx1-ubyte"
    ds.write_idx(p, np.arange(5, dtype=np.uint8))
    p.write_bytes(p.read_bytes() + b"\0\0")
    with pytest.raises(ds.DatasetFormatError, match="2 trailing bytes"):
        ds.read_idx(p)
    p.write_bytes(b"\0\0\x08\x02\0\0")
    with pytest.raises(ds.DatasetFormatError, match="truncated idx header"):
        ds.read_idx(p)


def test_mnist_missing_folder_and_files(tmp_path):
    with pytest.raises(ds.DatasetNotFoundError, match="nowhere") as info:
        ds.load_mnist(tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, es.EventsimError)
    with pytest.raises(ds.DatasetNotFoundError, match="train5k-images-idx3-ubyte.gz"):
        ds.load_mnist(tmp_path)
    with pytest.raises(ds.DatasetError, match="split.*train5k"):
        ds.load_mnist(FIX, "train60k")


def test_mnist_count_mismatch(tmp_path):
    shutil.copy(FIX / "mnist" / "train5k-images-idx3-ubyte.gz", tmp_path)
    ds.write_idx(tmp_path / "train5k-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(ds.DatasetFormatError, match="7 labels but"):
        ds.load_mnist(tmp_path)


@needs_real_mnist
def test_real_mnist():
    x, y = ds.load_mnist(REAL, "train5k")
    assert x.shape == (5000, 28, 28) and np.all(np.bincount(y) == 500)
    x, y = ds.load_mnist(REAL, "t10k")
    assert x.shape == (10000, 28, 28) and y.shape == (10000,) and x.max() == 255


def test_poisson_rates_and_determinism():
    img = np.full((28, 28), 128, np.uint8)
    t, i = ds.poisson_encode(img, duration_ms=1000.0, seed=3)
    expected = 784 * 128 / 8 * 2.0  # Hz * 1 s
    assert abs(t.size - expected) < 4 * np.sqrt(expected)
    assert np.all(np.diff(t) >= 0) and t.min() >= 0 and t.max() < 1000.0
    bright = np.full(784, 255, np.uint8)
    t, _ = ds.poisson_encode(bright, duration_ms=10_000.0, seed=1)
    rate = t.size / 784 / 10.0
    assert abs(rate - 63.75) < 0.01 * 63.75  # ~500k spikes: 1 % is > 7 sigma
    t1, i1 = ds.poisson_encode(img, seed=7)
    t2, i2 = ds.poisson_encode(img, seed=7)
    t3, _ = ds.poisson_encode(img, seed=8)
    assert np.array_equal(t1, t2) and np.array_equal(i1, i2) and not np.array_equal(t1, t3)
    half = ds.poisson_encode(img, duration_ms=1000.0, intensity=1.0, seed=3)[0].size
    assert abs(half - expected / 2) < 4 * np.sqrt(expected / 2)


def test_poisson_silent_pixels_and_bad_args():
    img = np.zeros((28, 28), np.uint8)
    img[3, 4] = 255
    _, ids = ds.poisson_encode(img, duration_ms=2000.0, seed=0)
    assert ids.size > 0 and set(ids.tolist()) == {3 * 28 + 4}
    with pytest.raises(ds.DatasetError, match="duration_ms"):
        ds.poisson_encode(img, duration_ms=0.0)
    with pytest.raises(ds.DatasetError, match=r"\[0, 255\]"):
        ds.poisson_encode(img.astype(float) * 2.0)


def test_latency_order_one_spike_per_pixel():
    x, _ = ds.load_mnist(FIX)
    img = x[3]
    steps, ids = ds.latency_encode(img, n_steps=100, threshold=10)
    flat = img.reshape(-1).astype(int)
    assert np.array_equal(np.sort(ids), np.flatnonzero(flat > 10))  # one spike per pixel > threshold
    assert steps.min() >= 0 and steps.max() <= 99 and np.all(np.diff(steps) >= 0)
    v = flat[ids]
    order = np.argsort(-v, kind="stable")
    assert np.all(np.diff(steps[order]) >= 0)  # brighter never later
    assert steps[v == 255].max() == 0
    s2, i2 = ds.latency_encode(img, n_steps=100, threshold=10)
    assert np.array_equal(steps, s2) and np.array_equal(ids, i2)
    with pytest.raises(ds.DatasetError, match="threshold"):
        ds.latency_encode(img, threshold=300)


# ---------------------------------------------------------------- wav / noise
def test_read_wav_fixture():
    x, rate = ds.read_wav(FIX / "fsdd" / "recordings" / "1_alice_5.wav")
    assert rate == 8000 and x.shape == (800,) and x.dtype == np.float64
    assert abs(np.abs(x).max() - 0.35) < 0.01


@pytest.mark.parametrize("name, exc, match", [
    ("not_a_wav.wav", ds.DatasetFormatError, "not a readable PCM wav"),
    ("rate16k.wav", ds.SampleRateError, "16000 Hz; required 8000"),
    ("empty.wav", ds.EmptyRecordingError, "empty"),
    ("truncated.wav", ds.DatasetFormatError, "truncated"),
    ("missing.wav", ds.DatasetNotFoundError, "not found")])
def test_bad_wavs(name, exc, match):
    with pytest.raises(exc, match=match) as info:
        ds.read_wav(FIX / "bad" / name)
    assert name in str(info.value)


def test_wav_rate_none_and_stereo(tmp_path):
    x, rate = ds.read_wav(FIX / "bad" / "rate16k.wav", sample_rate_hz=None)
    assert rate == 16000 and x.size == 800
    p = tmp_path / "st.wav"
    pcm = np.array([[1000, 3000], [-2000, 0]], "<i2")
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(8000), w.writeframes(pcm.tobytes())
    y, _ = ds.read_wav(p)
    assert np.allclose(y, np.array([2000, -1000]) / 32768)


@pytest.mark.parametrize("snr", [10.0, 0.0, -5.0])
def test_white_noise_snr(snr):
    x, _ = ds.read_wav(FIX / "fsdd" / "recordings" / "2_bob_6.wav")
    y = ds.add_white_noise(x, snr, seed=1)
    assert abs(ds.snr_db(x, y - x) - snr) < 0.1
    assert np.array_equal(y, ds.add_white_noise(x, snr, seed=1))
    assert not np.array_equal(y, ds.add_white_noise(x, snr, seed=2))
    with pytest.raises(ds.DatasetError, match="signal power is 0"):
        ds.add_white_noise(np.zeros(10), snr)


# ---------------------------------------------------------------- cochlea
def test_erb_space_and_params():
    p = ds.CochleaParams()
    fc = p.centre_frequencies_hz
    assert fc.size == 32 and np.isclose(fc[0], 100.0) and np.isclose(fc[-1], 3500.0)
    steps = np.diff(21.4 * np.log10(1 + 0.00437 * fc))
    assert np.all(np.diff(fc) > 0) and np.allclose(steps, steps[0])
    with pytest.raises(ds.DatasetError, match=r"f_max_hz.*0.45 \* sample_rate_hz = 3600"):
        ds.CochleaParams(f_max_hz=3900.0)
    with pytest.raises(ds.DatasetError, match=r"CochleaParams.threshold.*\(0, inf\)"):
        ds.CochleaParams(threshold=-1.0)
    with pytest.raises(ds.DatasetError, match="n_channels"):
        ds.CochleaParams(n_channels=0)


def test_tone_at_centre_frequency_excites_its_channel_most():
    p = ds.CochleaParams()
    t = np.arange(1600) / 8000.0
    for k, f in enumerate(p.centre_frequencies_hz):
        x = 0.3 * np.sin(2 * np.pi * f * t)
        env = ds.gammatone_envelopes(x, p)[:, 400:].mean(axis=1)
        assert env.argmax() == k, (k, f)
        _, ch = ds.encode_waveform(x, p)
        n = np.bincount(ch, minlength=p.n_channels)
        assert n[k] > np.delete(n, k).max(), (k, f, n)


def test_encode_waveform_properties():
    x, _ = ds.read_wav(FIX / "fsdd" / "recordings" / "2_alice_0.wav")
    t, c = ds.encode_waveform(x)
    assert t.size > 0 and np.all(np.diff(t) >= 0) and 0 <= t.min() and t.max() <= 100.0
    assert c.dtype == np.int32 and 0 <= c.min() and c.max() < 32
    t2, c2 = ds.encode_waveform(3.0 * x)  # RMS normalisation: level-invariant
    assert np.allclose(t, t2) and np.array_equal(c, c2)
    assert ds.encode_waveform(np.zeros(400))[0].size == 0
    refr = ds.CochleaParams().refractory_ms
    for ch in np.unique(c):
        assert np.all(np.diff(t[c == ch]) >= refr)
    cg = ds.cochleagram(x, frame_ms=1.0)
    assert cg.shape == (100, 32) and cg.dtype == np.float32
    with pytest.raises(ds.DatasetError, match="1-D"):
        ds.encode_waveform(np.zeros((2, 10)))


# ---------------------------------------------------------------- FSDD listing and batch encoding
def test_load_fsdd_fixture_splits():
    allf = ds.load_fsdd(FIX)  # finds fsdd/recordings under the data root
    assert len(allf) == 24 and allf.speaker_names == ["alice", "bob"]
    test = ds.load_fsdd(FIX / "fsdd", split="test")
    assert len(test) == 12 and set(test.indices.tolist()) == {0, 1}
    train = ds.load_fsdd(FIX / "fsdd" / "recordings", split="train", speakers=["bob"])
    assert len(train) == 6 and set(train.speakers) == {"bob"} and set(train.speaker_ids.tolist()) == {1}
    assert set(train.indices.tolist()) == {5, 6} and sorted(train.digits.tolist()) == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ds.DatasetError, match=r"\['carol'\].*allowed: \['alice', 'bob'\]"):
        ds.load_fsdd(FIX, speakers=["carol"])
    with pytest.raises(ds.DatasetError, match="split"):
        ds.load_fsdd(FIX, split="valid")


def test_load_fsdd_missing(tmp_path):
    with pytest.raises(ds.DatasetNotFoundError, match="absent"):
        ds.load_fsdd(tmp_path / "absent")
    with pytest.raises(ds.DatasetNotFoundError, match="no FSDD recordings"):
        ds.load_fsdd(tmp_path)


def test_encode_fsdd_skip_and_raise(tmp_path):
    rec = tmp_path / "recordings"
    shutil.copytree(FIX / "fsdd" / "recordings", rec)
    shutil.copy(FIX / "bad" / "rate16k.wav", rec / "3_alice_7.wav")
    shutil.copy(FIX / "bad" / "empty.wav", rec / "3_alice_8.wav")
    shutil.copy(FIX / "bad" / "not_a_wav.wav", rec / "3_alice_9.wav")
    files = ds.load_fsdd(tmp_path)
    with pytest.raises(ds.DatasetFormatError):
        ds.encode_fsdd(files)
    with pytest.warns(UserWarning, match=r"skipped 3 of 27.*1 wrong sample rate.*1 empty.*1 unreadable"):
        enc = ds.encode_fsdd(files, on_error="skip")
    assert len(enc.times_ms) == 24 and 3 not in enc.labels
    noisy = ds.encode_fsdd(ds.load_fsdd(FIX, speakers=["alice"]), snr_db=0.0, seed=5)
    noisy2 = ds.encode_fsdd(ds.load_fsdd(FIX), snr_db=0.0, seed=5)  # same per-file noise in a bigger set
    assert all(np.array_equal(a, b) for a, b in zip(noisy.times_ms, noisy2.times_ms[:12]))


@needs_real_fsdd
def test_real_fsdd_listing_and_encoding():
    allf = ds.load_fsdd(REAL)
    assert len(allf) == 2500 and len(allf.speaker_names) == 5
    assert len(ds.load_fsdd(REAL, split="test")) == 250 and len(ds.load_fsdd(REAL, split="train")) == 2250
    few = ds.load_fsdd(REAL, speakers=["george"], split="test")
    enc = ds.encode_fsdd(few)
    counts = np.array([t.size for t in enc.times_ms])
    assert len(counts) == 50 and np.median(counts) > 50


# ---------------------------------------------------------------- SHD layout
def _samples(rng, n=5, n_units=40):
    times, units = [], []
    for _ in range(n):
        k = int(rng.integers(0, 30))
        times.append(np.sort(rng.uniform(0, 500, k)))
        units.append(rng.integers(0, n_units, k).astype(np.int32))
    return times, units


def test_shd_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    times, units = _samples(rng)
    labels, speakers = np.array([0, 3, 9, 1, 2]), np.array([4, 4, 0, 1, 2])
    keys = [f"k{i}" for i in range(10)]
    p = tmp_path / "a.h5"
    ds.write_shd(p, times, units, labels, speakers=speakers, keys=keys, n_units=40, time_dtype=np.float64,
                 attrs={"note": "x", "params": {"a": 1}})
    d = ds.read_shd(p)
    assert len(d) == 5 and d.n_units == 40 and d.keys == keys and d.attrs["note"] == "x"
    assert np.array_equal(d.labels, labels) and np.array_equal(d.speakers, speakers)
    for i in range(5):
        t, u = d[i]
        np.testing.assert_allclose(t, times[i], rtol=1e-14, atol=1e-12)
        assert np.array_equal(u, units[i]) and u.dtype == np.int32
    ds.write_shd(p, times, units, labels)  # default float32 seconds
    d = ds.read_shd(p)
    assert d.speakers is None and d.n_units == max(int(u.max()) for u in units if u.size) + 1
    for i in range(5):
        np.testing.assert_allclose(d.times_ms[i], times[i], atol=1e-4)
    with h5py.File(p) as f:  # stored in seconds, like the real SHD
        assert f["spikes/times"][1].max() < 0.5 and f["spikes/units"][1].dtype == np.uint16


def test_read_real_shd_layout_written_by_h5py(tmp_path):
    """A file laid out like Zenke lab's shd_train.h5: float16 seconds, no attrs, meta_info group."""
    p = tmp_path / "shd_like.h5"
    times = [np.array([0.0078125, 0.25, 0.875], np.float16), np.array([], np.float16), np.array([0.5], np.float16)]
    units = [np.array([699, 0, 350], np.uint16), np.array([], np.uint16), np.array([12], np.uint16)]
    with h5py.File(p, "w") as f:
        f.create_dataset("spikes/times", data=np.array(times, dtype=object), dtype=h5py.vlen_dtype(np.float16))
        f.create_dataset("spikes/units", data=np.array(units, dtype=object), dtype=h5py.vlen_dtype(np.uint16))
        f.create_dataset("labels", data=np.array([0, 19, 7], np.uint16))
        f.create_dataset("extra/speaker", data=np.array([1, 2, 11], np.uint16))
        f.create_dataset("extra/keys", data=np.array([b"null", b"eins", b"zwei"]))
        f.create_dataset("extra/meta_info/gender", data=np.array([b"female", b"male"]))
    d = ds.read_shd(p)
    assert len(d) == 3 and list(d.labels) == [0, 19, 7] and list(d.speakers) == [1, 2, 11]
    assert d.keys == ["null", "eins", "zwei"] and d.n_units == 700
    np.testing.assert_allclose(d.times_ms[0], times[0].astype(np.float64) * 1000.0)
    assert d.times_ms[1].size == 0 and list(d.units[0]) == [699, 0, 350]
    dense = ds.bin_spikes(*d[0], n_units=700, dt_ms=10.0, duration_ms=1000.0)
    assert dense.shape == (100, 700) and dense[0, 699] == 1 and dense[87, 350] == 1 and dense.sum() == 3


def test_read_shd_bad_files(tmp_path):
    p = tmp_path / "bad.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("labels", data=np.zeros(2, np.uint16))
        f.create_dataset("spikes/times", (2,), dtype=h5py.vlen_dtype(np.float32))
    with pytest.raises(ds.DatasetFormatError, match="missing dataset 'spikes/units'"):
        ds.read_shd(p)
    with pytest.raises(ds.DatasetFormatError, match="not a readable HDF5"):
        ds.read_shd(FIX / "bad" / "not_a_wav.wav")
    with pytest.raises(ds.DatasetNotFoundError, match="nope.h5"):
        ds.read_shd(tmp_path / "nope.h5")
    with pytest.raises(ds.DatasetError, match="units"):
        ds.write_shd(p, [np.array([1.0])], [np.array([70000])], [0])


def test_bin_spikes():
    t = np.array([0.0, 0.99, 1.0, 2.5, 2.6, 9.9])
    u = np.array([0, 0, 1, 2, 2, 1])
    b = ds.bin_spikes(t, u, n_units=3, dt_ms=1.0)
    assert b.shape == (10, 3) and b.sum() == 6 and b[0, 0] == 2 and b[1, 1] == 1 and b[2, 2] == 2
    b = ds.bin_spikes(t, u, n_units=3, dt_ms=2.0, duration_ms=5.0)
    assert b.shape == (3, 3) and b.sum() == 5  # 9.9 ms dropped
    with pytest.raises(ds.DatasetError, match=r"units.*\[0, n_units - 1 = 1\]"):
        ds.bin_spikes(t, u, n_units=2)
    with pytest.raises(ds.DatasetError, match="dt_ms"):
        ds.bin_spikes(t, u, n_units=3, dt_ms=0)
    stack = ds.bin_samples([t, t[:2]], [u, u[:2]], n_units=3, dt_ms=1.0)
    assert stack.shape == (2, 10, 3) and stack[1].sum() == 2


def test_encode_fsdd_to_shd(tmp_path):
    out = tmp_path / "fsdd_shd.h5"
    summary = ds.encode_fsdd_to_shd(FIX, out, split="train")
    assert summary["n_samples"] == 12 and summary["n_skipped"] == 0
    d = ds.read_shd(out)
    enc = ds.encode_fsdd(ds.load_fsdd(FIX, split="train"))
    assert d.n_units == 32 and d.keys[0] == "zero" and np.array_equal(d.labels, enc.labels)
    assert np.array_equal(d.speakers, enc.speaker_ids)
    for i in range(12):
        np.testing.assert_allclose(d.times_ms[i], enc.times_ms[i], atol=1e-4)
        assert np.array_equal(d.units[i], enc.units[i])
    # each fixture "digit" has its own spectrum: the 1200 Hz tone drives channels near 1200 Hz
    fc = cochlea.CochleaParams().centre_frequencies_hz
    i1 = int(np.flatnonzero(d.labels == 1)[0])
    top = np.bincount(d.units[i1], minlength=32).argmax()
    assert abs(fc[top] - 1200) < 150


def test_unreadable_wav_os_error_is_a_format_error(tmp_path, monkeypatch):
    """An OS-level read failure (permission, I/O) becomes DatasetFormatError naming the path, so that
    encode_fsdd(on_error="skip") counts it as unreadable instead of crashing."""
    import eventsim.datasets.audio as audio_mod
    p = tmp_path / "recordings"
    shutil.copytree(FIX / "fsdd" / "recordings", p)
    real_open = audio_mod.wave.open

    def fake_open(name, mode="rb"):
        if name.endswith("1_alice_5.wav"):
            raise PermissionError(13, "Permission denied", name)
        return real_open(name, mode)

    monkeypatch.setattr(audio_mod.wave, "open", fake_open)
    with pytest.raises(ds.DatasetFormatError, match=r"1_alice_5\.wav: cannot read the file"):
        ds.read_wav(p / "1_alice_5.wav")
    files = ds.load_fsdd(tmp_path)
    with pytest.warns(UserWarning, match=r"skipped 1 of 24.*1 unreadable"):
        enc = ds.encode_fsdd(files, on_error="skip")
    assert len(enc.times_ms) == 23


def test_encode_fsdd_skips_or_names_a_silent_recording_when_noise_is_added(tmp_path):
    """An all-zero recording has no SNR for added noise: it is skipped and counted, or named in
    the error (before, it aborted the whole batch with an error that named no file). Without
    noise it is valid: kept with 0 spikes, and counted in a warning."""
    rec = tmp_path / "recordings"
    shutil.copytree(FIX / "fsdd" / "recordings", rec)
    ds.write_wav(rec / "3_alice_8.wav", np.zeros(4000))
    files = ds.load_fsdd(tmp_path)
    with pytest.raises(ds.EmptyRecordingError, match=r"3_alice_8.wav: silent recording.*snr_db = 0"):
        ds.encode_fsdd(files, snr_db=0.0)
    with pytest.warns(UserWarning, match=r"skipped 1 of 25.*1 silent \(no SNR\) \(e.g. .*3_alice_8.wav\)"):
        enc = ds.encode_fsdd(files, snr_db=0.0, on_error="skip")
    assert len(enc.times_ms) == 24
    with pytest.warns(UserWarning, match=r"1 of 25 recordings are silent .*3_alice_8.wav.*kept"):
        enc = ds.encode_fsdd(files)
    assert len(enc.times_ms) == 25 and sum(t.size == 0 for t in enc.times_ms) == 1
