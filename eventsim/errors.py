"""Exceptions that users see. Every message names the field and the allowed range."""
from __future__ import annotations


class EventsimError(ValueError):
    """Base class for every error caused by user input (parameters, configs, files)."""


class ConfigError(EventsimError):
    """A config file or key is invalid."""


class SimulationError(EventsimError):
    """A run could not continue (runaway activity, memory, corrupted state)."""
