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


def open_read_only(path: str, writer_failed_ok: bool = False) -> h5py.File:
    """Open `path` read-only.

    A plain open comes first: only it runs HDF5's check that the file is complete (a truncated
    file then fails with "truncated file"). Only a file whose consistency flags say that a
    writer has it open in SWMR mode, or was killed while it had, is opened in SWMR-read mode,
    which skips that check (a live file's end moves) and reads what the writer has flushed.
    Otherwise HDF5's OSError is raised.

    writer_failed_ok: also open in SWMR mode a flagged file whose end lies before its recorded
    end: a writer that failed (a full disk) or was killed while extending it leaves that, and its
    rows up to the last flush are intact (resume reads only those). Such a file may also be a
    cut copy of a live log, where HDF5's SWMR reads can retry for minutes, so the analysis does
    not do this."""
    errors = []
    for kwargs in _LOCKING:
        try:
            return h5py.File(path, "r", **kwargs)
        except OSError as exc:
            errors.append(exc)
    # a writer that failed or was killed while extending a dataset leaves the end-of-file address
    # beyond the file's end, and the file flagged as open for write (see writer_failed_ok)
    if not any(_OPEN_FOR_WRITE in str(e) or (writer_failed_ok and "truncated" in str(e) and flagged_for_write(path))
               for e in errors):
        raise errors[0]
    for kwargs in _LOCKING:
        try:
            return h5py.File(path, "r", swmr=True, **kwargs)
        except OSError as exc:
            errors.append(exc)
    raise errors[0]


_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_WRITE_FLAGS = 0x01 | 0x04      # superblock v2/v3 consistency flags: write access, SWMR write access


def flagged_for_write(path: str) -> bool:
    """True if the file's superblock (version 2 or 3, at offset 0) says a writer has it open, or
    had it open when it was killed or failed."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[:8] == _SIGNATURE and head[8] >= 2 and bool(head[11] & _WRITE_FLAGS)


def hdf5_reason(exc: BaseException) -> str:
    """One line saying why an HDF5 call failed: the OS error text when HDF5 quotes one (its
    message spans lines and repeats the file name, time and buffer address), else the message
    with its whitespace collapsed."""
    text = str(exc)
    m = re.search(r"errno = (\d+), error message = '([^']*)'", text)
    if m:
        return f"{m.group(2)} (errno {m.group(1)})"
    return " ".join(text.split())[:300] or type(exc).__name__
