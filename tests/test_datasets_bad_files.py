"""Malformed dataset files give a DatasetFormatError naming the path and the problem (never a raw traceback)."""
import struct

import h5py
import numpy as np
import pytest

import eventsim.datasets as ds


def test_idx_shape_whose_byte_count_overflows_int64(tmp_path):
    p = tmp_path / "ovf.idx"   # 65536**4 bytes: np.prod in int64 wraps to 0 and matched the empty data
    p.write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">IIII", 65536, 65536, 65536, 65536))
    with pytest.raises(ds.DatasetFormatError, match=rf"ovf\.idx: truncated idx data: .* needs {2**64} bytes"):
        ds.read_idx(p)


@pytest.mark.parametrize("n_bytes", [0, 20])
def test_wav_too_short_for_a_header_says_so(tmp_path, n_bytes):
    ok = tmp_path / "ok.wav"
    ds.write_wav(ok, np.zeros(10))
    p = tmp_path / "hdr.wav"
    p.write_bytes(ok.read_bytes()[:n_bytes])
    with pytest.raises(ds.DatasetFormatError, match=rf"hdr\.wav: .*too short for a wav header \({n_bytes} bytes\)"):
        ds.read_wav(p)


VLEN_F8, VLEN_I8 = h5py.vlen_dtype(np.float64), h5py.vlen_dtype(np.int64)


def _vlen(values, dtype):
    out = np.empty(len(values), object)
    out[:] = [np.asarray(v) for v in values]
    return {"data": out, "dtype": dtype}


def _write(path, times=None, units=None, labels=None, n_units=None, speaker=None):
    """One valid sample (two spikes) unless a dataset is overridden by {"data": ..., "dtype": ...} kwargs."""
    with h5py.File(path, "w") as f:
        f.create_dataset("spikes/times", **(times or _vlen([[0.1, 0.2]], VLEN_F8)))
        f.create_dataset("spikes/units", **(units or _vlen([[1, 2]], VLEN_I8)))
        f.create_dataset("labels", **(labels or {"data": np.array([3], np.uint16)}))
        if speaker is not None:
            f.create_dataset("extra/speaker", **speaker)
        if n_units is not None:
            f.attrs["n_units"] = n_units


def test_valid_file_still_reads(tmp_path):
    _write(tmp_path / "ok.h5", n_units=10)
    d = ds.read_shd(tmp_path / "ok.h5")
    assert d.n_units == 10 and list(d.units[0]) == [1, 2] and np.allclose(d.times_ms[0], [100.0, 200.0])


@pytest.mark.parametrize("bad, message", [
    ({"units": _vlen([[-1, 2]], VLEN_I8)}, r"sample 0: spikes/units holds unit id -1"),
    ({"units": _vlen([[1, 50]], VLEN_I8), "n_units": 10}, r"sample 0: spikes/units holds unit id 50: .*\[0, 9\]"),
    ({"units": _vlen([[1.5, 2.0]], VLEN_F8)}, r"spikes/units .*dtype vlen float64.*integer unit ids"),
    ({"times": {"data": [0.1, 0.2]}, "units": {"data": [1, 2]}, "labels": {"data": [1, 2]}},
     r"spikes/times has shape \(2,\) and dtype float64: .*variable-length"),
    ({"times": {"data": [b"a"]}, "units": {"data": [1]}, "labels": {"data": [1]}}, r"spikes/times .*dtype vlen bytes"),
    ({"times": {"data": np.array([b"a"])}}, r"spikes/times .*dtype \|S1"),
    ({"labels": {"data": 3}}, r"labels has shape \(\) .*1-D array"),
    ({"labels": {"data": [0.5]}}, r"labels .*integer labels"),
    ({"speaker": {"data": 7}}, r"extra/speaker has shape \(\)"),
    ({"n_units": "many"}, r"root attribute n_units = 'many'"),
])
def test_bad_shd_file_names_path_and_problem(tmp_path, bad, message):
    p = tmp_path / "bad.h5"
    _write(p, **bad)
    with pytest.raises(ds.DatasetFormatError, match=r"bad\.h5: " + message):
        ds.read_shd(p)
