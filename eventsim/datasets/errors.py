"""Exceptions raised by the dataset loaders and encoders. Every message names the path or field."""
from __future__ import annotations

from ..errors import EventsimError


class DatasetError(EventsimError):
    """A dataset file, folder or encoder parameter is invalid."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset file or folder does not exist; the message names every path tried."""


class DatasetFormatError(DatasetError):
    """A file exists but its content is not what the format requires (magic, sizes, truncation)."""


class SampleRateError(DatasetFormatError):
    """A recording's sample rate differs from the one required (we never resample silently)."""


class EmptyRecordingError(DatasetFormatError):
    """A recording holds no samples."""
