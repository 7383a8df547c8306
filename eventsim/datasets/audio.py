"""Waveform utilities: wav reading/writing with the standard library, and seeded white noise.

Sample-rate policy: ``read_wav(path, sample_rate_hz=8000)`` raises :class:`SampleRateError`
for any other rate; we never resample (a resampler would change the spectra the cochlea
front end is tuned for). Batch encoders (``eventsim.datasets.fsdd``) can instead skip such
files and warn once with counts per reason (``on_error="skip"``).

For the cochlea front end and FSDD listing see ``cochlea.py`` and ``fsdd.py`` (re-exported here).
"""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from ._checks import as_generator
from .errors import (DatasetError, DatasetFormatError, DatasetNotFoundError, EmptyRecordingError,
                     SampleRateError)

__all__ = ["read_wav", "write_wav", "add_white_noise", "snr_db",
           "CochleaParams", "encode_waveform", "cochleagram", "erb_space", "load_fsdd"]


def read_wav(path: str | Path, sample_rate_hz: int | None = 8000) -> tuple[np.ndarray, int]:
    """Read a PCM wav file as (samples float64 in [-1, 1), sample rate in Hz).

    8-bit (unsigned), 16-, 24- and 32-bit signed PCM are read; several channels are
    averaged to mono. ``sample_rate_hz=None`` accepts any rate. Raises
    DatasetNotFoundError, DatasetFormatError (not a wav, compressed or truncated),
    SampleRateError or EmptyRecordingError, each naming the path.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"wav file not found: {path}")
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, n_ch, n_frames = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            raw = w.readframes(n_frames)
    except (wave.Error, EOFError) as exc:   # the wave module raises a bare EOFError() on a short header
        why = str(exc) or f"{type(exc).__name__}: file too short for a wav header ({path.stat().st_size} bytes)"
        raise DatasetFormatError(f"{path}: not a readable PCM wav file ({why})") from None
    except OSError as exc:   # e.g. permission denied, I/O error: counted as unreadable by encode_fsdd
        raise DatasetFormatError(f"{path}: cannot read the file ({exc})") from None
    if sample_rate_hz is not None and rate != sample_rate_hz:
        raise SampleRateError(f"{path}: sample rate {rate} Hz; required {sample_rate_hz} Hz (no resampling)")
    if n_ch < 1 or width not in (1, 2, 3, 4):
        raise DatasetFormatError(f"{path}: sample width {width} bytes: allowed 1, 2, 3 or 4")
    frame = width * n_ch
    if len(raw) < n_frames * frame:
        raise DatasetFormatError(
            f"{path}: truncated: header says {n_frames} frames, file holds {len(raw) // frame}")
    if n_frames == 0:
        raise EmptyRecordingError(f"{path}: empty recording (0 samples)")
    if width == 1:
        x = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (v - ((v & 0x800000) << 1)).astype(np.float64) / 2.0**23
    else:
        x = np.frombuffer(raw, f"<i{width}").astype(np.float64) / 2.0 ** (8 * width - 1)
    if n_ch > 1:
        x = x.reshape(-1, n_ch).mean(axis=1)
    return x, rate


def write_wav(path: str | Path, samples: np.ndarray, sample_rate_hz: int = 8000) -> None:
    """Write mono float samples in [-1, 1] as 16-bit PCM (clipped)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise DatasetError(f"samples.shape = {x.shape}: expected a mono 1-D waveform")
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate_hz))
        w.writeframes(pcm.tobytes())


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio 10 log10(mean(signal^2) / mean(noise^2)) in dB."""
    return float(10.0 * np.log10(np.mean(np.square(signal)) / np.mean(np.square(noise))))


def add_white_noise(samples: np.ndarray, snr: float, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Return ``samples`` plus Gaussian white noise at exactly ``snr`` dB (e.g. 10, 0, -5).

    Signal power is the mean square of the whole waveform (silences included); the drawn
    noise is rescaled to the exact target power, so the realised SNR equals ``snr``.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise DatasetError(f"samples.shape = {x.shape}: expected a non-empty 1-D waveform")
    snr = float(snr)
    if not np.isfinite(snr):
        raise DatasetError(f"snr = {snr!r} dB: allowed range is (-inf, inf), finite")
    p_sig = float(np.mean(np.square(x)))
    if not p_sig > 0.0:
        raise DatasetError("samples: signal power is 0 (all-zero waveform); SNR is undefined")
    noise = as_generator(seed).standard_normal(x.size)
    noise *= np.sqrt(p_sig / 10.0 ** (snr / 10.0) / np.mean(np.square(noise)))
    return x + noise


from .cochlea import CochleaParams, cochleagram, encode_waveform, erb_space  # noqa: E402
from .fsdd import load_fsdd  # noqa: E402
