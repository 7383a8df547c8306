"""eventsim: exact continuous-time, event-driven simulation of spiking neural networks.

Time in ms, voltage in mV, synaptic currents as voltage equivalents (mV).
"""
from .connectors import (all_to_all, explicit, fixed_indegree, fixed_outdegree, one_to_one,
                         pairwise_bernoulli)
from .distributions import constant, normal_clipped
from .distributions import uniform_dist as uniform
from .errors import ConfigError, EventsimError, SimulationError
from .network import Network, Population, PopulationView, Projection, StateSampler, __version__

__all__ = ["Network", "Population", "PopulationView", "Projection", "StateSampler",
           "pairwise_bernoulli", "fixed_indegree", "fixed_outdegree", "all_to_all", "one_to_one",
           "explicit", "constant", "uniform", "normal_clipped",
           "EventsimError", "ConfigError", "SimulationError", "__version__"]
