"""eventsim: exact continuous-time, event-driven simulation of spiking neural networks.

Time in ms, voltage in mV, synaptic currents as voltage equivalents (mV).

The public names are imported on first use (PEP 562), not when the package is: importing the
engine loads numba (about 0.4 s), and the `eventsim` command must be able to answer Ctrl-C in
one line from its first instruction, which it cannot while the package itself is importing.
"""
from __future__ import annotations

import importlib
from typing import Any

# public name -> (module, attribute in that module)
_EXPORTS = {
    "Network": ("network", "Network"),
    "Population": ("network", "Population"),
    "PopulationView": ("network", "PopulationView"),
    "Projection": ("network", "Projection"),
    "StateSampler": ("network", "StateSampler"),
    "__version__": ("network", "__version__"),
    "pairwise_bernoulli": ("connectors", "pairwise_bernoulli"),
    "fixed_indegree": ("connectors", "fixed_indegree"),
    "fixed_outdegree": ("connectors", "fixed_outdegree"),
    "all_to_all": ("connectors", "all_to_all"),
    "one_to_one": ("connectors", "one_to_one"),
    "explicit": ("connectors", "explicit"),
    "constant": ("distributions", "constant"),
    "uniform": ("distributions", "uniform_dist"),
    "normal_clipped": ("distributions", "normal_clipped"),
    "EventsimError": ("errors", "EventsimError"),
    "ConfigError": ("errors", "ConfigError"),
    "SimulationError": ("errors", "SimulationError"),
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name, or a submodule (`eventsim.checks`), on first access."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
