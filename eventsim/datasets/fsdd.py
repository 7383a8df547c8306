"""Free Spoken Digit Dataset: file listing with the dataset's split convention, and batch encoding.

Files are ``{digit}_{speaker}_{index}.wav``; indices 0-4 of every digit and speaker form the test
split (the dataset's own convention), the rest the train split.
"""
from __future__ import annotations

import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._checks import as_generator
from .audio import add_white_noise, read_wav
from .cochlea import CochleaParams, encode_waveform
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError, EmptyRecordingError, SampleRateError

FSDD_SPLITS = ("train", "test", "all")
FSDD_TEST_INDICES = range(0, 5)
_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")

__all__ = ["FSDD_SPLITS", "FsddFiles", "load_fsdd", "encode_fsdd", "EncodedUtterances"]


@dataclass
class FsddFiles:
    """A listing: paths, digit labels (uint8), speaker names, speaker ids (uint16), recording indices.

    ``speaker_names[speaker_ids[i]] == speakers[i]``; ids index the sorted speakers of the whole
    folder, so they do not change when ``speakers`` or ``split`` select a subset.
    """

    paths: list[Path]
    digits: np.ndarray
    speakers: list[str]
    speaker_ids: np.ndarray
    indices: np.ndarray
    speaker_names: list[str]

    def __len__(self) -> int:
        return len(self.paths)


def _recordings_dir(root: Path) -> Path:
    for d in (root / "fsdd" / "recordings", root / "recordings", root):
        if d.is_dir() and any(_NAME.match(p.name) for p in d.glob("*.wav")):
            return d
    if not root.is_dir():
        raise DatasetNotFoundError(f"FSDD folder not found: {root}")
    raise DatasetNotFoundError(f"no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {root}, "
                               f"{root / 'recordings'} or {root / 'fsdd' / 'recordings'}")


def load_fsdd(root: str | Path, speakers: list[str] | None = None, split: str = "all") -> FsddFiles:
    """List FSDD recordings under ``root`` (the data folder, ``fsdd/`` or ``fsdd/recordings/``).

    ``split``: "train" (indices >= 5), "test" (indices 0-4) or "all". ``speakers``: names to keep
    (default all). Sorted by (speaker, digit, index). wav files whose names do not follow the
    pattern are ignored with one warning.
    """
    if split not in FSDD_SPLITS:
        raise DatasetError(f"split = {split!r}: allowed values are {FSDD_SPLITS}")
    rec = _recordings_dir(Path(root))
    rows, odd = [], 0
    for p in rec.glob("*.wav"):
        m = _NAME.match(p.name)
        if m is None:
            odd += 1
            continue
        rows.append((m.group(2), int(m.group(1)), int(m.group(3)), p))
    if odd:
        warnings.warn(f"{rec}: ignored {odd} wav file(s) not named {{digit}}_{{speaker}}_{{index}}.wav",
                      stacklevel=2)
    names = sorted({r[0] for r in rows})
    if speakers is not None:
        unknown = sorted(set(speakers) - set(names))
        if unknown:
            raise DatasetError(f"speakers = {unknown}: not in {rec}; allowed: {names}")
        rows = [r for r in rows if r[0] in set(speakers)]
    if split != "all":
        want_test = split == "test"
        rows = [r for r in rows if (r[2] in FSDD_TEST_INDICES) == want_test]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    ids = {n: i for i, n in enumerate(names)}
    return FsddFiles(paths=[r[3] for r in rows], digits=np.array([r[1] for r in rows], np.uint8),
                     speakers=[r[0] for r in rows], speaker_ids=np.array([ids[r[0]] for r in rows], np.uint16),
                     indices=np.array([r[2] for r in rows], np.int64), speaker_names=names)


@dataclass
class EncodedUtterances:
    """Spike-encoded recordings: per-sample times (ms) and channel ids, labels and speaker ids.

    ``kept`` indexes the files of the listing that were encoded (skipped files are missing).
    """

    times_ms: list[np.ndarray]
    units: list[np.ndarray]
    labels: np.ndarray
    speaker_ids: np.ndarray
    speaker_names: list[str]
    durations_ms: np.ndarray
    kept: np.ndarray
    params: CochleaParams


def encode_fsdd(files: FsddFiles, params: CochleaParams = CochleaParams(), snr_db: float | None = None,
                seed: int = 0, on_error: str = "raise") -> EncodedUtterances:
    """Encode every file of a listing with the cochlea front end.

    ``snr_db``: if given, white noise at that SNR is added to each waveform before encoding, with
    a per-file stream of ``seed`` (reproducible, independent of which files are selected).
    ``on_error``: "raise" stops at the first unreadable file; "skip" leaves out unreadable,
    wrong-rate and empty (0 samples) files, and silent ones (all samples 0) when noise is added
    (they have no SNR), and warns once with the count per reason. Without noise a silent file is
    kept (0 spikes) with a warning that counts such files.
    """
    if on_error not in ("raise", "skip"):
        raise DatasetError(f"on_error = {on_error!r}: allowed 'raise', 'skip'")
    times, units, kept, durations, silent = [], [], [], [], []
    reasons: Counter[str] = Counter()
    first: dict[str, Path] = {}
    for i, path in enumerate(files.paths):
        try:
            x, _ = read_wav(path, params.sample_rate_hz)
        except DatasetFormatError as exc:
            if on_error == "raise":
                raise
            why = ("wrong sample rate" if isinstance(exc, SampleRateError) else
                   "empty" if isinstance(exc, EmptyRecordingError) else "unreadable")
            reasons[why] += 1
            first.setdefault(why, path)
            continue
        if snr_db is not None and not np.any(x):   # no SNR is defined for a silent recording
            if on_error == "raise":
                raise EmptyRecordingError(f"{path}: silent recording (all {x.size} samples are 0): no signal "
                                          f"power for snr_db = {snr_db:g}")
            reasons["silent (no SNR)"] += 1
            first.setdefault("silent (no SNR)", path)
            continue
        if not np.any(x):   # valid, and encoded (0 spikes), but worth knowing about
            silent.append(path)
        if snr_db is not None:
            key = (seed, int(files.speaker_ids[i]), int(files.digits[i]), int(files.indices[i]))
            x = add_white_noise(x, snr_db, as_generator(np.random.SeedSequence(key)))
        t, u = encode_waveform(x, params)
        times.append(t)
        units.append(u)
        kept.append(i)
        durations.append(1000.0 * x.size / params.sample_rate_hz)
    if reasons:
        detail = ", ".join(f"{n} {why} (e.g. {first[why]})" for why, n in reasons.items())
        warnings.warn(f"skipped {sum(reasons.values())} of {len(files)} recordings: {detail}", stacklevel=2)
    if silent:
        warnings.warn(f"{len(silent)} of {len(files)} recordings are silent (every sample 0; e.g. {silent[0]}): "
                      "they are kept and give no spikes", stacklevel=2)
    kept_a = np.array(kept, np.int64)
    return EncodedUtterances(times_ms=times, units=units, labels=files.digits[kept_a].astype(np.uint16),
                             speaker_ids=files.speaker_ids[kept_a], speaker_names=list(files.speaker_names),
                             durations_ms=np.array(durations), kept=kept_a, params=params)
