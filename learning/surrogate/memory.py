"""Keep freed memory in the process heap between training steps (glibc malloc only).

Every training step allocates and frees the same large arrays (the weight gradients, the
backward's history of dL/dI, the forward record). glibc hands blocks above its mmap
threshold (128 KiB at start) straight back to the kernel when they are freed, and trims
the top of the heap, so the next step page-faults all of them in again: about 2,300 page
faults per backward pass at 400 hidden neurons, a third of its time on this VM.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1   # mallopt parameter numbers from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20   # glibc's upper limit for M_MMAP_THRESHOLD on 64-bit systems


def retain_freed_memory(keep_bytes: int = 512 << 20) -> bool:
    """Make glibc serve blocks up to 32 MiB from the heap and keep up to `keep_bytes` of
    freed heap memory for reuse instead of returning it to the kernel.

    Process-wide and permanent: the cost is that the process may hold up to `keep_bytes`
    more resident memory than it uses. Returns False (and changes nothing) where the C
    library is not glibc."""
    if not isinstance(keep_bytes, int) or isinstance(keep_bytes, bool) or keep_bytes < 0:
        raise ValueError(f"keep_bytes={keep_bytes!r} is out of range; allowed an int >= 0")
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) == 1
    return ok and mallopt(_M_TRIM_THRESHOLD, min(keep_bytes, 2**31 - 1)) == 1
