"""Errors and warnings raised while reading spike logs."""
from __future__ import annotations

from eventsim.errors import EventsimError


class LogFormatError(EventsimError):
    """A spike log cannot be analysed (missing, not HDF5, malformed, inconsistent).

    ``EventsimError`` is a ``ValueError`` subclass. The message is one line and names
    the file, the population (when known) and the problem.
    """


class UnknownSizeError(LogFormatError):
    """A population has no spike and no ``n_nodes`` attribute, so its size is unknown
    (``eventsim analyze`` skips it when analysing every population)."""


class MissingDependencyError(EventsimError):
    """An optional package needed for a feature (e.g. pynwb) is not installed."""


class LogFormatWarning(UserWarning):
    """A spike log has a defect the analysis can work around (e.g. inferred size)."""


def where(path: str, population: str | None = None) -> str:
    """Return the "file[, population P]" prefix used in error messages."""
    return f"{path}" if population is None else f"{path}, population {population!r}"
