"""Offline analysis of SONATA spike logs (times in ms, rates in Hz).

Everything streams over the HDF5 datasets in chunks with O(n_neurons) memory; files
are opened read-only (SWMR, no locking) and never modified. Plotting lives in
:mod:`eventsim.analysis.plots` (imports matplotlib), NWB export in
:mod:`eventsim.analysis.nwb` (imports pynwb when called), the command line in
:mod:`eventsim.analysis.cli`.
"""
from .correlation import (Correlograms, PairCorrelations, correlograms, count_correlations,
                          cross_correlograms, spike_count_correlations)
from .errors import LogFormatError, LogFormatWarning, MissingDependencyError
from .nwb import export_nwb
from .reader import Interval, PopulationInfo, SpikeLog, open_log
from .stats import (FanoFactors, PopulationRate, SpikeStats, Summary, fano_factor,
                    firing_rates, population_rate, spike_stats, summarize)

__all__ = [
    "Correlograms", "FanoFactors", "Interval", "LogFormatError", "LogFormatWarning", "MissingDependencyError",
    "PairCorrelations",
    "PopulationInfo", "PopulationRate", "SpikeLog", "SpikeStats", "Summary",
    "correlograms", "count_correlations", "cross_correlograms", "export_nwb", "fano_factor",
    "firing_rates", "open_log", "population_rate",
    "spike_count_correlations", "spike_stats", "summarize",
]
