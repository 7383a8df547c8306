"""HDF5 helpers: opening files read-only (complete files checked, live SWMR files still
readable), and one-line reasons for HDF5's multi-line errors."""
from __future__ import annotations

import re

import h5py

# HDF5's message when the file's consistency flags say a writer has it open (or was killed)
_OPEN_FOR_WRITE = "already open for write"
# without locking first; with the default locking when this process itself has the file open
# (HDF5 then requires the same locking flags as the open handle)
_LOCKING = ({"locking": False}, {})


def open_read_only(path: str) -> h5py.File:
    """Open `path` read-only.

    A plain open comes first: only it runs HDF5's check that the file is complete (a truncated
    file then fails with "truncated file"). Only a file whose consistency flags say that a
    writer has it open in SWMR mode, or was killed while it had, is opened in SWMR-read mode,
    which skips that check (a live file's end moves) and reads what the writer has flushed.
    Otherwise HDF5's OSError is raised."""
    errors = []
    for kwargs in _LOCKING:
        try:
            return h5py.File(path, "r", **kwargs)
        except OSError as exc:
            errors.append(exc)
    if not any(_OPEN_FOR_WRITE in str(e) for e in errors):
        raise errors[0]
    for kwargs in _LOCKING:
        try:
            return h5py.File(path, "r", swmr=True, **kwargs)
        except OSError as exc:
            errors.append(exc)
    raise errors[0]


def hdf5_reason(exc: BaseException) -> str:
    """One line saying why an HDF5 call failed: the OS error text when HDF5 quotes one (its
    message spans lines and repeats the file name, time and buffer address), else the message
    with its whitespace collapsed."""
    text = str(exc)
    m = re.search(r"errno = (\d+), error message = '([^']*)'", text)
    if m:
        return f"{m.group(2)} (errno {m.group(1)})"
    return " ".join(text.split())[:300] or type(exc).__name__
