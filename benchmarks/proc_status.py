"""Reading /proc/self/status (Linux), stdlib only, so that the reference venvs' workers can import it."""
from __future__ import annotations


def status_kb(field: str) -> int:
    """A kB field of /proc/self/status, e.g. 'VmRSS' or 'VmHWM' (the peak since the last reset)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (write 5 to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_above(fn):
    """(fn(), the peak RSS during the call above the RSS before it, in MiB)."""
    reset_peak()
    base = status_kb("VmRSS")
    res = fn()
    return res, (status_kb("VmHWM") - base) / 1024
