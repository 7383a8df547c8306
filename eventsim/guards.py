"""Resource guards: refuse networks that cannot fit in memory, stop runaway activity.

Memory: `estimate_memory` counts the bytes of the engine arrays a network will hold once built
(neurons, synapses at 8 B each plus their delay groups, sources, plasticity, event queue, spike
buffer) and the transient peak while `Network.build` sorts the synapses. `check_memory(net)`
compares the build peak with MemAvailable from /proc/meminfo and raises SimulationError with the
estimate when it does not fit. Spikes kept in memory (record_spikes(in_memory=True), the default
without a log) grow with activity and are not included.

Activity: `RateGuard` stops a run whose neurons fire faster than a bound (Hz per neuron, mean over
a window of at least `min_window_ms` of model time). Network.run checks it at every chunk
boundary and at every drain of the engine's spike buffer, so the log is flushed and the error
is raised within one chunk (or one buffer of recorded spikes) of the runaway.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import heap, neuron
from .builder import stage_bytes
from .errors import EventsimError, SimulationError

SYNAPSE_BYTES = 8           # int32 target + float32 weight
GROUP_BYTES = 8 + 8 + 4     # start (int64), delay (float64), projection (int32)
QUEUE_ENTRY_BYTES = 8 * 4   # time, code, aux, t0
# transient bytes per synapse while building: the memory-lean builder (eventsim.builder) needs a
# float64 delay per synapse for projections whose delays vary; counted for all (an upper bound).
# Its staging buffers (builder.stage_bytes, at most 640 MB) come on top.
BUILD_BYTES_PER_SYNAPSE = 8


@dataclass
class MemoryEstimate:
    """Bytes per component of a built network; `total` at rest, `peak` during build()."""
    parts: dict[str, int] = field(default_factory=dict)
    build_extra: int = 0

    @property
    def total(self) -> int:
        return int(sum(self.parts.values()))

    @property
    def peak(self) -> int:
        return self.total + int(self.build_extra)

    def describe(self) -> str:
        parts = ", ".join(f"{k} {format_bytes(v)}" for k, v in self.parts.items() if v)
        return f"{format_bytes(self.total)} ({parts}; build peak {format_bytes(self.peak)})"


def format_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"


def estimate_memory(n_neurons: int, n_synapses: int, n_groups: int | None = None, n_sources: int = 0,
                    n_source_spikes: int = 0, max_group: int = 0, n_plastic_synapses: int = 0,
                    n_plastic_groups: int = 0, buffer_size: int = 1 << 16) -> MemoryEstimate:
    """Bytes a built network occupies. n_groups (delay groups) defaults to the worst case
    min(n_synapses, ...) = n_synapses: one group per synapse when every delay differs."""
    for name, v in (("n_neurons", n_neurons), ("n_synapses", n_synapses), ("n_sources", n_sources),
                    ("n_source_spikes", n_source_spikes), ("max_group", max_group)):
        if v < 0:
            raise EventsimError(f"{name} must be >= 0 (got {v})")
    n_groups = n_synapses if n_groups is None else n_groups
    n_nodes = n_neurons + n_sources
    parts = {
        "neurons": n_neurons * 8 * (neuron.NP + neuron.NS) + heap.check_tree_bytes(n_neurons),  # P, S, checks
        "synapses": n_synapses * SYNAPSE_BYTES,
        "groups": n_groups * GROUP_BYTES + (n_nodes + 2) * 8,                # + grp_ptr
        "sources": n_sources * (1 + 8 * 5) + n_source_spikes * 8 + n_nodes,  # + rec_flag
        "queue": max(1024, 4 * n_nodes + 4 * max_group + 16) * QUEUE_ENTRY_BYTES,
        "buffers": max(buffer_size, 2 * max_group + 8) * 16,
        "plasticity": (n_groups * 4 + (n_neurons + 1) * 8
                       + (n_plastic_groups * 24 + n_neurons * 40 + n_plastic_synapses * 8
                          if n_plastic_synapses else 0)),
    }
    return MemoryEstimate(parts, n_synapses * BUILD_BYTES_PER_SYNAPSE)


def _expected_synapses(pr) -> tuple[int, int, bool]:
    """(expected synapses, presynaptic view size, constant delay) of a projection, from its
    generating spec when it has one (nothing is generated), else from its synapses."""
    spec = getattr(pr, "spec", None)
    if spec is None:
        d = pr.delay
        return int(pr.n_synapses), int(pr.pre.size), bool(d.size == 0 or np.all(d == d[0]))
    return spec.expected_synapses, int(np.size(pr.pre_view)), bool(spec.constant_delay)


def estimate_network(net) -> MemoryEstimate:
    """estimate_memory for a Network from its populations and projections, without generating
    any synapse (expected counts from the connectors; exact counts once built)."""
    n_neurons = sum(p.size for p in net.populations.values() if p.kind == "neuron")
    n_sources = sum(p.size for p in net.populations.values() if p.kind == "source")
    n_source_spikes = sum(spec[0].size for kind, spec in net._source_specs.values() if spec is not None)
    buffer_size = getattr(net, "buffer_size", 1 << 16)
    if net._engine is not None:
        g = net.graph
        pl = net._engine.plast
        sizes = np.diff(g.grp_start)
        n_plastic = int(pl[6].size) if len(pl) > 6 else 0
        est = estimate_memory(n_neurons, g.n_synapses, int(g.grp_delay.size), n_sources, n_source_spikes,
                              int(sizes.max()) if sizes.size else 0, n_plastic,
                              int(np.count_nonzero(pl[0] >= 0)), buffer_size)
        est.build_extra = 0
        return est
    n_syn = n_groups = max_group = n_plastic = n_plastic_groups = max_proj = 0
    var_delay = False
    for pr in net.projections:
        n, n_pre, constant = _expected_synapses(pr)
        n_syn += n
        max_proj = max(max_proj, n)
        var_delay |= not constant
        groups = min(n_pre, n) if constant else n
        n_groups += groups
        max_group = max(max_group, int(np.ceil(2.0 * n / max(n_pre, 1))) if constant else 1)
        if pr.plasticity is not None:
            n_plastic += n
            n_plastic_groups += groups
    est = estimate_memory(n_neurons, n_syn, n_groups, n_sources, n_source_spikes, max_group, n_plastic,
                          n_plastic_groups, buffer_size)
    est.build_extra += stage_bytes(n_neurons + n_sources, max_proj, var_delay) if net.projections else 0
    return est


def scalar(name: str, value) -> float:
    """A single real number (not a bool, string, array or None), else EventsimError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise EventsimError(f"{name} must be a number, got {value!r}"[:300])
    return float(value)


def mem_available(meminfo: str = "/proc/meminfo") -> int | None:
    """MemAvailable in bytes from /proc/meminfo (None where it is unavailable)."""
    try:
        with open(meminfo) as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    parts = line.split()
                    scale = {"kB": 1024, "mB": 1024 ** 2, "MB": 1024 ** 2, "B": 1}.get(parts[2] if len(parts) > 2
                                                                                      else "B", 1024)
                    return int(parts[1]) * scale
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(net_or_estimate, available: int | None = None, fraction: float = 0.9) -> MemoryEstimate:
    """Raise SimulationError if the network's build peak exceeds `fraction` of the available
    memory (default: MemAvailable); returns the estimate otherwise. Call before building."""
    est = net_or_estimate if isinstance(net_or_estimate, MemoryEstimate) else estimate_network(net_or_estimate)
    available = mem_available() if available is None else available
    if available is None:
        return est
    if est.peak > fraction * available:
        raise SimulationError(f"the network does not fit in memory: it needs an estimated {est.describe()}, "
                              f"but only {format_bytes(available)} are available (MemAvailable); "
                              f"reduce its size or connectivity")
    return est


class RateGuard:
    """Stop a run whose neurons fire faster than max_rate_hz on average over a window.

    check(spikes, t) is given the engine's total neuron-spike count and the model time reached;
    windows of at least min_window_ms are compared against the bound."""

    def __init__(self, max_rate_hz: float, n_neurons: int, spikes: int, t: float, min_window_ms: float = 10.0,
                 log_path: str | None = None):
        from . import checks
        self.max_rate_hz = float(checks.positive("max_rate_hz (Hz)", max_rate_hz))
        self.n = max(int(n_neurons), 1)
        self.spikes0 = int(spikes)
        self.t0 = float(t)
        self.min_window_ms = float(min_window_ms)
        self.log_path = log_path

    def check_recorded(self, n_recorded_spikes: int, n_recorded_nodes: int, t: float) -> None:
        """Bound recorded spikes (neurons and sources, e.g. a Poisson source with an absurd
        rate) the same way, since the first check of a run; keeps memory from running away."""
        if not hasattr(self, "rec0"):
            self.rec0, self.rec_t0 = int(n_recorded_spikes), self.t0
            return
        count = int(n_recorded_spikes) - self.rec0
        window = max(float(t) - self.rec_t0, self.min_window_ms)
        if n_recorded_nodes and count > self.max_rate_hz * n_recorded_nodes * window / 1000.0:
            self._stop("recorded neurons and sources", count, n_recorded_nodes, self.rec_t0, float(t))

    def _stop(self, who: str, count: int, n: int, t0: float, t: float) -> None:
        """Raise the runaway error, quoting the count and the rate over [t0, t] itself (the
        bound is tested over at least min_window_ms, so a short interval reads well above it)."""
        rate = count / (n * max(t - t0, 1e-12) / 1000.0)
        where = f"; spikes up to then are flushed to '{self.log_path}'" if self.log_path else ""
        raise SimulationError(f"runaway activity: {n:,} {who} fired {count:,} spikes in [{t0:g}, {t:g}] ms, "
                              f"{rate:,.1f} Hz on average, above max_rate {self.max_rate_hz:g} Hz; the run "
                              f"stopped at t = {t:g} ms{where}")

    def check(self, spikes: int, t: float, end_of_chunk: bool = True) -> None:
        count = int(spikes) - self.spikes0
        span = float(t) - self.t0
        window = max(span, self.min_window_ms)
        if count > self.max_rate_hz * self.n * window / 1000.0:
            self._stop("neurons", count, self.n, self.t0, float(t))
        if end_of_chunk and span >= self.min_window_ms:
            self.spikes0 = int(spikes)
            self.t0 = float(t)
