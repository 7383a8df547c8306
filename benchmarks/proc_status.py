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
