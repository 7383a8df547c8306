"""The user's API: Network, Population, PopulationView, Projection.

Vocabulary follows PyNN/NEST: populations of neurons or sources, projections made by
connectors, `run(duration_ms)`. The network is assembled into engine arrays at the first
run; after that its structure is fixed, but parameters and source rates may change between
runs (learning schedules, stimulus switching).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import builder, checks, engine as eng, heap, neuron
from . import plasticity as plasticity_mod
from .connectors import Connector
from .distributions import NORMAL_CLIPPED, Distribution, as_distribution, realise
from .errors import EventsimError
from .recording import SonataWriter, SpikeRecorder, config_attrs
from .rng import STREAM_INIT

__version__ = "0.1.0"
STATE_VARS = ("v", "i_e", "i_i", "theta")
MAX_NEURONS = 2**31 - 1          # post targets are int32
F32_MAX = float(np.finfo(np.float32).max)   # weights are stored as float32
MAX_RATE_HZ = 1e6                # one spike per microsecond per source
SETTABLE = ("v_th", "v_rest", "v_reset", "i_bias", "t_ref", "theta_plus", "tau_theta")


class Population:
    """A group of neurons of one model, or a group of spike sources."""

    def __init__(self, net: "Network", name: str, size: int, kind: str, model=None,
                 v_init=None, record: bool = False):
        self.net = net
        self.name = name
        self.size = size
        self.kind = kind                   # "neuron" or "source"
        self.model = model
        self.v_init = v_init
        self.record = record
        self.offset = -1                   # global node id of element 0 (set at build)
        self.model_state_vars: tuple[str, ...] = STATE_VARS   # those of the model as constructed

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"Population({self.name!r}, size={self.size}, kind={self.kind})"

    def __getitem__(self, key) -> "PopulationView":
        idx = np.arange(self.size)[key]
        return PopulationView(self, np.atleast_1d(idx).astype(np.int64))

    @property
    def ids(self) -> np.ndarray:
        return np.arange(self.size, dtype=np.int64)

    def all(self) -> "PopulationView":
        return PopulationView(self, self.ids)

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """(times ms, local ids) of recorded spikes, in time order."""
        if not self.record:
            raise EventsimError(f"population '{self.name}' is not recorded; create it with record=True")
        if self.net._recorder is None:
            return np.zeros(0), np.zeros(0, np.int64)
        return self.net._recorder.spikes(self.name)

    # parameters and state (neurons) ------------------------------------------------
    def _neuron_ids(self, local: np.ndarray | None = None) -> np.ndarray:
        if self.kind != "neuron":
            raise EventsimError(f"population '{self.name}' holds sources, not neurons")
        self.net._ensure_built()
        local = self.ids if local is None else local
        return self.offset + local

    def get(self, name: str) -> np.ndarray:
        """Current value of a parameter (e.g. 'v_th') or state variable ('v', 'theta'), per neuron.

        State variables are evaluated exactly at the network's current time."""
        ids = self._neuron_ids()
        eng_ = self.net._engine
        if name in neuron.PARAM_NAMES:
            return eng_.P[ids, neuron.param_column(name)].copy()
        if name in STATE_VARS:
            return eng_.state(ids)[:, STATE_VARS.index(name)]
        checks.known_key("parameter", name, neuron.PARAM_NAMES + STATE_VARS)
        raise AssertionError  # unreachable

    def _per_neuron(self, name: str, value, n: int, where: str | None = None) -> np.ndarray:
        """value as n float64 numbers (a scalar is broadcast), or a clear error naming the field."""
        try:
            return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
        except (TypeError, ValueError):
            raise EventsimError(f"{where or self.name}.{name} must be a number or {n} numbers, "
                                f"got {_short(value)}") from None

    def set(self, **params) -> None:
        """Change neuron parameters between runs, e.g. set(theta_plus=0.0, tau_theta=np.inf).

        The physical state (v, currents, theta) stays continuous at the current time."""
        ids = self._neuron_ids()
        for name, arr in self.validated(params).items():
            self.net._engine.set_params(ids, neuron.param_column(name), arr)

    def validated(self, params: dict, where: str | None = None) -> dict[str, np.ndarray]:
        """Settable parameters (mV, ms) as per-neuron float64 arrays, checked as `set` requires;
        errors name `where` (default: the population) and the field."""
        where = self.name if where is None else where
        new = {}
        for name, value in params.items():
            checks.known_key("settable parameter", name, SETTABLE)
            arr = self._per_neuron(name, value, self.size, where)
            if name == "tau_theta":
                checks.time_constant(f"{where}.tau_theta", arr, allow_inf=True)
            elif name in ("t_ref", "theta_plus"):
                checks.non_negative(f"{where}.{name}", arr)
            else:
                checks.finite(f"{where}.{name}", arr)
            new[name] = arr
        # the reset must lie below the threshold (as the models require at construction):
        # otherwise a neuron fires again the instant its refractory period ends
        v_th = new["v_th"] if "v_th" in new else self.get("v_th")
        v_reset = new["v_reset"] if "v_reset" in new else self.get("v_reset")
        bad = np.flatnonzero(~(v_reset < v_th))
        if bad.size:
            k = int(bad[0])
            raise EventsimError(f"{where}.v_reset must be < v_th (neuron {k}: v_reset={v_reset[k]:g} mV, "
                                f"v_th={v_th[k]:g} mV)")
        return new

    def state_variables(self) -> tuple[str, ...]:
        """The state variables this population's neurons have: v (mV); i_e, i_i (mV) unless
        inputs are voltage jumps (LIFDelta); theta (mV) if the threshold adapts (theta_plus > 0
        or finite tau_theta, in the model or as set() has made it)."""
        ids = self._neuron_ids()
        now = _state_variables(*self.net._engine.P[ids][:, [neuron.param_column(n) for n in KIND_PARAMS]].T)
        return tuple(v for v in STATE_VARS if v in self.model_state_vars or v in now)

    def set_state(self, **values) -> None:
        """Set state variables at the current time, between runs: v (mV), i_e, i_i (mV, the
        synaptic currents in voltage units) or theta (mV), e.g. set_state(v=-65.0, i_e=0.0, i_i=0.0).
        A variable the model lacks (not in state_variables()) may only be set to 0, so that "reset
        to rest" code works for every model; another value is refused, since it would act where
        the model says nothing acts (a current on a LIFDelta, a threshold shift that never decays).
        A neuron in its refractory period stays clamped at v_reset until it ends."""
        ids = self._neuron_ids()
        state = self.net._engine.state(ids)
        has = self.state_variables()
        for name, value in values.items():
            checks.known_key("state variable", name, STATE_VARS)
            arr = self._per_neuron(name, value, ids.size)
            checks.finite(f"{self.name}.{name}", arr)
            if name not in has and np.any(arr != 0.0):
                why = ("its threshold does not adapt: theta_plus = 0, tau_theta = inf" if name == "theta"
                       else "its inputs are voltage jumps, not synaptic currents")
                raise EventsimError(f"{self.name}.{name}: the model {type(self.model).__name__} has no state "
                                    f"variable '{name}' ({why}), so it can only be set to 0; its state variables "
                                    f"are {', '.join(has)}")
            state[:, STATE_VARS.index(name)] = arr
        self.net._engine.set_state(ids, state)

    # sources -------------------------------------------------------------------------
    def set_rate(self, rate_hz) -> None:
        """Set Poisson rates (Hz, scalar or per source). Takes effect at the current time."""
        if self.kind != "source" or self.net._source_kind(self) != eng.POISSON:
            raise EventsimError(f"population '{self.name}' is not a Poisson source")
        rate = checks.in_range(f"{self.name}.rate (Hz)", rate_hz, 0.0, MAX_RATE_HZ)
        rate = np.broadcast_to(rate, (self.size,)).astype(np.float64)
        self.net._rates[self.name] = rate
        if self.net._engine is not None:
            first = self.offset - self.net._n_neurons
            ids = np.arange(first, first + self.size)
            self.net._engine.sources[1][ids] = rate / 1000.0
            self.net._engine.restart_sources(ids)


KIND_PARAMS = ("delta", "theta_plus", "tau_theta")     # the parameters that decide a model's state variables


def _state_variables(delta: np.ndarray, theta_plus: np.ndarray, tau_theta: np.ndarray) -> tuple[str, ...]:
    """The state variables (STATE_VARS) of neurons with these parameters (per neuron): delta
    inputs (voltage jumps) mean no synaptic currents; theta_plus (mV) = 0 with tau_theta (ms) =
    inf means no adaptive threshold."""
    names = ["v"]
    if not np.all(delta != 0):
        names += ["i_e", "i_i"]
    if np.any((theta_plus > 0) | (tau_theta < np.inf)):
        names.append("theta")
    return tuple(names)


def _short(value) -> str:
    """A value for an error message: arrays by shape, not by content."""
    if isinstance(value, np.ndarray) and value.ndim:
        return f"an array of shape {value.shape}"
    return repr(value)


class _ViewAttributeError(EventsimError, AttributeError):
    """A population method called on a view: a clear message for users, and still an
    AttributeError for hasattr() and getattr(obj, name, default)."""


@dataclass
class PopulationView:
    """A subset of a population, by local index."""
    parent: Population
    local: np.ndarray

    def __len__(self) -> int:
        return int(self.local.size)

    @property
    def size(self) -> int:
        return int(self.local.size)

    def spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """(times ms, position in this view) of the recorded spikes of the view's neurons, in
        time order (the parent population must be recorded). A neuron listed twice contributes
        each spike twice, once per position."""
        t, ids = self.parent.spikes()
        # a neuron listed at several positions contributes its spikes at each of them
        order = np.argsort(self.local, kind="stable")
        sorted_local = self.local[order]
        lo = np.searchsorted(sorted_local, ids, side="left")
        n = np.searchsorted(sorted_local, ids, side="right") - lo
        t, lo = np.repeat(t, n), np.repeat(lo, n)
        offset = np.arange(t.size) - np.repeat(np.cumsum(n) - n, n)
        return t, order[lo + offset]

    def get(self, name: str) -> np.ndarray:
        """Population.get for the view's neurons, in view order."""
        return self.parent.get(name)[self.local]

    def __eq__(self, other) -> bool:
        """Views are equal when they list the same neurons of the same population in the same order."""
        if not isinstance(other, PopulationView):
            return NotImplemented
        return self.parent is other.parent and np.array_equal(self.local, other.local)

    __hash__ = None

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("parent", "local"):
            raise AttributeError(name)
        raise _ViewAttributeError(f"a view of population '{self.parent.name}' has no '{name}' (views support "
                                  f"size, spikes() and get()); call it on the population itself, view.parent")


@dataclass
class Projection:
    """Synapses from one population (or view) to another.

    Nothing is generated at connect time: the builder generates the synapses straight into the
    network's CSR at build. pre_local/post_local/weight (mV)/delay (ms) are the current synapses:
    after the build those of the network (after learning and pruning); before it, this
    projection alone is generated on demand (for inspection and small networks)."""
    name: str
    pre: Population
    post: Population
    pre_view: np.ndarray                   # local ids of the pre view
    post_view: np.ndarray
    spec: "builder.Spec"
    index: int = 0
    plasticity: object = None              # the current eventsim.learning rule, or None (static)
    net: "Network" = None
    _edges: tuple = None
    receptor: str | None = None            # as given to connect: fixes the sign of every weight
    connected_plasticity: object = field(default=None, init=False)   # the rule given at connect

    def __post_init__(self) -> None:
        self.connected_plasticity = self.plasticity

    def _standalone(self) -> tuple:
        if self._edges is None:
            s = self.spec
            # rows are the pre population's local ids (its view's map before the build): local ids
            # identify neurons, as the builder's autapse test needs
            g = builder.build_graph(self.pre.size, [s], self.net.seed)
            self._edges = g.edges()
        return self._edges

    def _current(self) -> tuple:
        """(pre local id, post local id, weight mV, delay ms) of the synapses as they are now."""
        net = self.net
        if net is None or net._engine is None:
            return self._standalone()
        g = net.graph
        pre, post, w, d = g.edges(np.flatnonzero(g.grp_proj == self.index))
        return pre - self.pre.offset, post - self.post.offset, w, d

    @property
    def pre_local(self) -> np.ndarray:
        return self._current()[0]

    @property
    def post_local(self) -> np.ndarray:
        return self._current()[1]

    @property
    def weight(self) -> np.ndarray:
        """Current weights (mV), after any learning or pruning (as weights()[2])."""
        return self._current()[2]

    @property
    def delay(self) -> np.ndarray:
        return self._current()[3]

    @property
    def n_synapses(self) -> int:
        if self.net is not None and self.net._engine is not None:
            g = self.net.graph
            return int(np.diff(g.grp_start)[g.grp_proj == self.index].sum())
        return int(self.pre_local.size)

    def set_plasticity(self, rule) -> None:
        """Replace the learning rule of a plastic projection between runs (a learning-rate or
        target schedule). The new rule must be the same kind with the same time constants,
        trace mode, weight bounds and weight dependence (mu), because traces and weights carry
        over unchanged."""
        if self.plasticity is None:
            raise EventsimError(f"{self.name}: set_plasticity needs a projection made plastic at connect time")
        if not hasattr(rule, "vector"):
            raise EventsimError(f"{self.name}: plasticity must be a rule from eventsim.learning, got {rule!r}")
        new, old = rule.vector(), self.plasticity.vector()
        fixed = (plasticity_mod.KIND, plasticity_mod.TAU_PLUS, plasticity_mod.TAU_MINUS, plasticity_mod.W_MIN,
                 plasticity_mod.W_MAX, plasticity_mod.TAU_X, plasticity_mod.TAU_Y, plasticity_mod.MODE)
        names = ("kind", "tau_plus", "tau_minus", "w_min", "w_max", "tau_x", "tau_y", "nearest")
        # the weight dependence is the rule's form, not a rate: pair rules' mu_plus/mu_minus, power law's mu
        if old[plasticity_mod.KIND] == plasticity_mod.PAIR:
            fixed, names = fixed + (plasticity_mod.P3, plasticity_mod.P4), names + ("mu_plus", "mu_minus")
        elif old[plasticity_mod.KIND] == plasticity_mod.POWER:
            fixed, names = fixed + (plasticity_mod.P4,), names + ("mu",)
        for col, nm in zip(fixed, names):
            if new[col] != old[col]:
                raise EventsimError(f"{self.name}: set_plasticity may change learning rates and targets only; "
                                    f"{nm} differs ({old[col]:g} -> {new[col]:g})")
        self.plasticity = rule
        net = self.net
        if net is not None and net._engine is not None:
            net._engine.plast[1][net._plastic_projections().index(self)] = new

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Current synapses (pre local id, post local id, weight mV), after any learning."""
        return tuple(a.copy() for a in self._current()[:3])


@dataclass
class StateSampler:
    """Exact samples of (v, i_e, i_i, theta) of chosen neurons at chosen times."""
    population: Population
    local: np.ndarray
    times: np.ndarray
    values: np.ndarray = field(default=None)          # float64[n_times, n_neurons, 4]
    taken: np.ndarray = field(default=None)

    def __post_init__(self):
        self.values = np.full((self.times.size, self.local.size, 4), np.nan)
        self.taken = np.zeros(self.times.size, dtype=bool)

    def __getitem__(self, name: str) -> np.ndarray:
        """Array [n_times, n_neurons] of 'v', 'i_e', 'i_i' or 'theta'."""
        checks.known_key("state variable", name, ("v", "i_e", "i_i", "theta"))
        return self.values[:, :, ("v", "i_e", "i_i", "theta").index(name)]


def _per_synapse(name: str, value, kind: int, shape: tuple[int, int]) -> tuple:
    """The builder's spec of a weight or delay (builder.value_spec), with a per-synapse array in
    the connector's generation order: a 2-D [n_pre, n_post] matrix for all_to_all becomes
    post-major; any other array must be 1-D (a flattened matrix would otherwise be applied in an
    order the caller did not mean)."""
    return builder.value_spec(_synapse_layout(name, as_distribution(name, value), kind, shape))


def _synapse_layout(name: str, value, kind: int, shape: tuple[int, int]):
    """`value` (a number, distribution or array) with its array, if any, laid out as _per_synapse says."""
    if not isinstance(value, np.ndarray) or value.ndim <= 1 or value.size == 1:
        return value                              # (a single value in any shape is a scalar)
    if kind == builder.ALL and value.shape == shape:
        return np.ascontiguousarray(value.T).ravel()
    allowed = f"a 1-D array or, for all_to_all, a matrix of shape {shape} (n_pre, n_post)"
    raise EventsimError(f"{name}: per-synapse values must be {allowed}; got shape {value.shape}")


def _check_values(name: str, spec: tuple, n_expected: float, kind: int,
                  positive: bool = False) -> tuple[float, float]:
    """Validate a weight or delay spec (code, a, b, low, high, array); returns its (min, max).

    positive: values must lie in (0, inf) (delays)."""
    check = checks.positive if positive else checks.finite
    code, a, b, low, high, arr = spec
    if arr.size and kind == builder.BERNOULLI:
        # the number of synapses is random, so no array can match them (values were read past
        # its end, or left unused); all_to_all() is pairwise_bernoulli(1.0) with a layout
        raise EventsimError(f"{name}: per-synapse arrays need a connector with a known number of synapses "
                            "(explicit, one_to_one, all_to_all, fixed_indegree, fixed_outdegree); "
                            "pairwise_bernoulli takes a number or a distribution")
    if arr.size:
        check(name, arr)
        if kind != builder.EXPLICIT and arr.size != int(round(n_expected)):
            raise EventsimError(f"{name} has {arr.size} values but the connector makes "
                                f"{n_expected:g} synapses; per-synapse arrays need explicit or fixed-count connectors")
        return float(arr.min()), float(arr.max())
    if code == 0:
        check(name, a)
        return a, a
    return Distribution(code, a, b, low, high).bounds()


def _check_float32(name: str, spec: tuple, lo: float, hi: float) -> None:
    """Weights are stored as float32: every value the spec can produce must fit (a weight of
    1e39 became inf, and the targets' potentials NaN, silently). An unbounded normal counts
    as mean +- 40 std."""
    code, a, b = spec[:3]
    if code == NORMAL_CLIPPED and not spec[5].size:
        lo, hi = max(lo, a - 40.0 * b), min(hi, a + 40.0 * b)
    if max(abs(lo), abs(hi)) > F32_MAX:
        raise EventsimError(f"{name} must lie in [{-F32_MAX:g}, {F32_MAX:g}] (weights are float32; "
                            f"got values up to {max(abs(lo), abs(hi)):g})")


def _most_matches(owner: np.ndarray, other: np.ndarray) -> int:
    """The most entries of `other` equal to one entry of `owner` (local ids of one population):
    how many candidates a neuron of `owner` loses when autapses are excluded."""
    if owner.size == 0 or other.size == 0:
        return 0
    if np.array_equal(owner, other) and np.all(owner[1:] > owner[:-1]):
        return 1                                 # the common case: one view, each neuron once
    ids, counts = np.unique(other, return_counts=True)
    pos = np.minimum(np.searchsorted(ids, owner), ids.size - 1)
    hit = ids[pos] == owner
    return int(counts[pos[hit]].max()) if hit.any() else 0


def _as_view(obj, role: str) -> PopulationView:
    if isinstance(obj, Population):
        return obj.all()
    if isinstance(obj, PopulationView):
        return obj
    raise EventsimError(f"{role} must be a Population or a slice of one, got {type(obj).__name__}")


class Network:
    """A spiking network simulated exactly, event by event.

    seed: every random choice (connectivity, initial values, Poisson spikes) follows from it.
    """

    def __init__(self, seed: int = 0, buffer_size: int = 1 << 16):
        self.seed = checks.count("seed", seed, 0)
        if self.seed >= 2**63:
            raise EventsimError(f"seed must be a whole number in [0, 2**63 - 1] (got {self.seed})")
        self.populations: dict[str, Population] = {}
        self.projections: list[Projection] = []
        self.samplers: list[StateSampler] = []
        self.config: dict = {}
        self.buffer_size = buffer_size
        self._source_specs: dict[str, tuple] = {}
        self._rates: dict[str, np.ndarray] = {}
        self._engine: eng.Engine | None = None
        self._recorder: SpikeRecorder | None = None
        self._writer: SonataWriter | None = None
        self._log_spec: tuple | None = None
        self._n_neurons = 0

    # construction --------------------------------------------------------------------
    def _new_name(self, name: str | None, prefix: str) -> str:
        if self._engine is not None:
            raise EventsimError("the network is already built (it has run); create every population "
                                "and projection before the first run")
        name = f"{prefix}{len(self.populations)}" if name is None else name
        if not isinstance(name, str) or not name:
            raise EventsimError(f"population name must be a non-empty string, got {name!r}")
        if name in self.populations:
            raise EventsimError(f"population name '{name}' is already used")
        return name

    def population(self, size: int, model, v_init=None, name: str | None = None,
                   record: bool = True) -> Population:
        """Neurons of one model. v_init (mV): scalar, array or distribution; default v_rest."""
        name = self._new_name(name, "pop")
        size = checks.count(f"population '{name}' size", size, 1, MAX_NEURONS)
        if not hasattr(model, "parameter_table"):
            raise EventsimError(f"model must be a neuron model such as eventsim.models.LIFExp(), "
                                f"got {model!r}")
        table = model.parameter_table(size, self.seed, 0)   # validate early (per-neuron arrays too)
        pop = Population(self, name, size, "neuron", model, v_init, record)
        pop.model_state_vars = _state_variables(*table[[neuron.PARAM_NAMES.index(n) for n in KIND_PARAMS]])
        self.populations[name] = pop
        return pop

    def poisson(self, size: int, rate_hz, name: str | None = None, record: bool = False) -> Population:
        """Independent Poisson spike sources; rate in Hz (scalar or per source)."""
        name = self._new_name(name, "poisson")
        size = checks.count(f"source '{name}' size", size, 1, MAX_NEURONS)
        rate = checks.in_range(f"source '{name}' rate_hz", rate_hz, 0.0, MAX_RATE_HZ)
        try:
            rate = np.broadcast_to(rate, (size,)).astype(np.float64)
        except ValueError:
            raise EventsimError(f"source '{name}' rate_hz has {rate.size} values for {size} sources") from None
        pop = Population(self, name, size, "source", record=record)
        self._source_specs[name] = (eng.POISSON, None)
        self._rates[name] = rate
        self.populations[name] = pop
        return pop

    def spike_source(self, size: int, times, ids, name: str | None = None,
                     record: bool = False) -> Population:
        """Sources that replay given spikes: times (ms) and source ids, paired element-wise."""
        name = self._new_name(name, "source")
        size = checks.count(f"source '{name}' size", size, 1, MAX_NEURONS)
        times = checks.non_negative(f"source '{name}' times", times).ravel()
        ids = np.asarray(ids).ravel()
        if ids.size != times.size:
            raise EventsimError(f"source '{name}': times and ids must have equal length "
                                f"({times.size} != {ids.size})")
        if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= size):
            raise EventsimError(f"source '{name}' ids must be integers in [0, {size - 1}]")
        order = np.lexsort((times, ids))
        pop = Population(self, name, size, "source", record=record)
        self._source_specs[name] = (eng.ARRAY, (times[order], ids[order].astype(np.int64)))
        self.populations[name] = pop
        return pop

    def connect(self, pre, post, connector: Connector, weight=1.0, delay=1.0,
                receptor: str | None = None, name: str | None = None, plasticity=None) -> Projection:
        """Create synapses from pre to post.

        weight (mV): scalar, array (one per synapse) or distribution. Its sign selects the
        current for exponential-current neurons; receptor='inhibitory' negates positive weights
        (PyNN convention) and receptor='excitatory' requires weights >= 0.
        delay (ms): > 0; scalar, array or distribution; may differ per synapse.
        plasticity: an STDP rule from eventsim.learning (weights then stay within its bounds).

        A 1-D per-synapse array follows the order in which the connector makes synapses:
        explicit() the order of its pairs; one_to_one() by index; all_to_all() post-major
        (entry post * n_pre + pre); fixed_indegree(k) k entries per post neuron in turn;
        fixed_outdegree(k) k per pre neuron in turn; pairwise_bernoulli() takes none (its
        synapse count is random). all_to_all() also takes a 2-D matrix
        [n_pre, n_post] (entry [i, j] for pre i -> post j). `proj.weight` reads back in the
        graph's own order: pair it with `proj.pre_local` and `proj.post_local`.
        """
        if self._engine is not None:
            raise EventsimError("the network is already built (it has run); connect before the first run")
        pre_v, post_v = _as_view(pre, "pre"), _as_view(post, "post")
        if post_v.parent.kind != "neuron":
            raise EventsimError(f"post must be neurons; '{post_v.parent.name}' holds sources")
        if not isinstance(connector, Connector):
            raise EventsimError(f"connector must be one of eventsim's connectors "
                                f"(pairwise_bernoulli, fixed_indegree, ...), got {connector!r}")
        if receptor not in (None, "excitatory", "inhibitory"):
            checks.known_key("receptor", str(receptor), ("excitatory", "inhibitory"))
        key = len(self.projections) + 1
        if name is None:                  # the first free proj<k>: a user may have named one so
            taken = {p.name for p in self.projections}
            name = next(f"proj{k}" for k in range(key, key + len(taken) + 1) if f"proj{k}" not in taken)
        if not isinstance(name, str) or not name:
            raise EventsimError(f"projection name must be a non-empty string, got {name!r}")
        if any(p.name == name for p in self.projections):
            raise EventsimError(f"projection name '{name}' is already used (checkpoints, weight files and "
                                f"pruning find projections by name)")
        # without autapses, no synapse joins a neuron to itself, however the two views overlap
        no_self = pre_v.parent is post_v.parent and not getattr(connector, "allow_autapses", True)
        excluded = ((_most_matches(post_v.local, pre_v.local), _most_matches(pre_v.local, post_v.local))
                    if no_self else (0, 0))
        connector.validate(pre_v.size, post_v.size, *excluded)
        kind = builder.kind_of(connector)
        shape = (pre_v.size, post_v.size)
        wspec = _per_synapse(f"{name} weight", weight, kind, shape)
        dspec = _per_synapse(f"{name} delay", delay, kind, shape)
        n_expected = connector.expected_count(pre_v.size, post_v.size)
        w_lo, w_hi = _check_values(f"{name} weight", wspec, n_expected, kind)
        _check_float32(f"{name} weight (mV)", wspec, w_lo, w_hi)
        d_lo, _ = _check_values(f"{name} delay (ms)", dspec, n_expected, kind, positive=True)
        if not d_lo >= checks.MIN_DELAY_MS:
            raise EventsimError(f"{name} delay (ms) must lie in [{checks.MIN_DELAY_MS:g}, inf) (smallest possible "
                                f"value {d_lo:g}); shorter delays vanish in the rounding of spike times")
        sign = 1.0
        if receptor == "inhibitory":
            sign = -1.0
            mags = (abs(w_lo), abs(w_hi))
            w_lo, w_hi = -max(mags), (-min(mags) if w_lo * w_hi > 0 else 0.0)
        elif receptor == "excitatory" and w_lo < 0:
            raise EventsimError(f"{name}: excitatory weights must be >= 0 (got {w_lo:g})")
        if plasticity is not None:
            if not hasattr(plasticity, "vector"):
                raise EventsimError(f"{name}: plasticity must be a rule from eventsim.learning, got {plasticity!r}")
            vec = plasticity.vector()
            lo_w, hi_w = vec[plasticity_mod.W_MIN], vec[plasticity_mod.W_MAX]
            if w_lo < lo_w or w_hi > hi_w:
                raise EventsimError(f"{name}: initial weights must lie in the rule's [w_min, w_max] = "
                                    f"[{lo_w:g}, {hi_w:g}] (got {w_lo:g}..{w_hi:g})")
        ex_pre = ex_post = np.zeros(0, np.int64)
        if kind == builder.EXPLICIT:
            ex_pre, ex_post = connector.pre.astype(np.int64), connector.post.astype(np.int64)
        p = float(getattr(connector, "p", 0.0))
        k = int(getattr(connector, "k", 0))
        multapses = bool(getattr(connector, "allow_multapses", True))
        spec = builder.Spec(key - 1, kind, p, k, no_self, multapses, pre_v.local.copy(), post_v.local.copy(),
                            ex_pre, ex_post, wspec, dspec, sign)
        proj = Projection(name, pre_v.parent, post_v.parent, pre_v.local, post_v.local, spec, key - 1,
                          plasticity, self, receptor=receptor)
        self.projections.append(proj)
        return proj

    def connect_networkx(self, graph, pre, post, weight: str = "weight", delay: str = "delay",
                         default_weight: float = 1.0, default_delay: float = 1.0,
                         receptor: str | None = None, name: str | None = None) -> Projection:
        """Projection from a networkx DiGraph whose nodes are local indices: edge (i, j) is
        pre[i] -> post[j]; edge attributes `weight` and `delay` override the defaults."""
        from .nx_adapters import edges_from_networkx
        from .connectors import explicit
        pre_i, post_i, w, d = edges_from_networkx(graph, weight, delay, default_weight, default_delay)
        return self.connect(pre, post, explicit(pre_i, post_i), weight=w, delay=d, receptor=receptor,
                            name=name)

    def to_networkx(self):
        """Every synapse as a networkx MultiDiGraph; nodes are (population, local id)."""
        from .nx_adapters import network_to_networkx
        return network_to_networkx(self)

    def sample_state(self, target, times) -> StateSampler:
        """Record v, i_e, i_i and theta of the neurons in target exactly at `times` (ms,
        non-decreasing; row k of the sampler is times[k]).

        A sample at t includes every event at t. Register before the run that reaches t: times
        before the network's current time (ms) are refused, since that state is gone."""
        view = _as_view(target, "target")
        if view.parent.kind != "neuron":
            raise EventsimError("sample_state needs neurons, not sources")
        name = f"sample times (ms; the network is at t = {self.t:.17g} ms, the earliest time it can sample)"
        times = checks.in_range(name, times, self.t, np.inf).ravel()
        if np.any(np.diff(times) < 0):
            raise EventsimError("sample times must be in increasing order (the sampler's rows follow them); "
                                f"got {times[:5].tolist()}{' ...' if times.size > 5 else ''}")
        sampler = StateSampler(view.parent, view.local, times)
        self.samplers.append(sampler)
        return sampler

    def record_spikes(self, path: str, flush_interval_s: float = 1.0, in_memory: bool = True,
                      compression: str | None = None) -> None:
        """Stream the spikes of recorded populations to a SONATA HDF5 log at `path` (missing
        directories are created when the network is built). Call it before the first run.

        flush_interval_s: wall time (s) between writes to disk. in_memory: also keep the spikes
        in memory for `pop.spikes()` (False bounds memory for long runs; `pop.spikes()` then
        refuses, and the log holds them). compression: None (default, readable by libsonata),
        "gzip" or "lzf"."""
        checks.positive("flush_interval_s", flush_interval_s)
        if compression not in (None, "gzip", "lzf"):
            checks.known_key("compression", str(compression), ("gzip", "lzf"))
        if self._engine is not None:
            raise EventsimError(f"record_spikes('{path}'): the network is already built (t = {self.t:g} ms); "
                                f"call record_spikes before the first run or build")
        self._log_spec = (str(path), flush_interval_s, in_memory, compression)

    # assembly ------------------------------------------------------------------------
    def _source_kind(self, pop: Population) -> int:
        return self._source_specs[pop.name][0]

    def _plastic_projections(self) -> list[Projection]:
        """The plastic projections in the order of the engine's rule rows (plasticity.assemble)."""
        return [pr for pr in self.projections if pr.plasticity is not None]

    def _ensure_built(self) -> None:
        if self._engine is None:
            self.build()

    def build(self, local: tuple[int, int] | None = None) -> None:
        """Assemble populations and projections into engine arrays (done by the first run).

        local = (lo, hi): this process owns neurons lo..hi-1 only (a partitioned run, see
        eventsim.distributed): only their incoming synapses are built and only they are scheduled."""
        if self._engine is not None:
            return
        from .guards import check_memory
        check_memory(self)                      # refuse, with the estimate, what cannot fit
        neurons = [p for p in self.populations.values() if p.kind == "neuron"]
        sources = [p for p in self.populations.values() if p.kind == "source"]
        offset = 0
        for p in neurons + sources:
            p.offset = offset
            offset += p.size
        n_neurons = sum(p.size for p in neurons)
        n_nodes = offset
        self._n_neurons = n_neurons
        P = neuron.aligned_zeros((n_neurons, neuron.NP))
        S = neuron.aligned_zeros((n_neurons, neuron.NS))
        v_init = np.empty(n_neurons)
        for k, p in enumerate(neurons):
            sl = slice(p.offset, p.offset + p.size)
            P[sl, neuron.PARAM_COLUMNS] = p.model.parameter_table(p.size, self.seed, k + 1).T
            v0 = P[sl, neuron.V_REST] if p.v_init is None else realise(
                f"population '{p.name}' v_init", p.v_init, self.seed, STREAM_INIT,
                np.full(p.size, 1 << 20 | k), np.arange(p.size))
            checks.finite(f"population '{p.name}' v_init", v0)
            v_init[sl] = v0
        S[:, neuron.REF_END] = -np.inf
        S[:, neuron.NEXT] = np.inf
        specs = []
        for pr in self.projections:
            s_ = pr.spec
            specs.append(builder.Spec(s_.index, s_.kind, s_.p, s_.k, s_.no_self, s_.multapses,
                                      pr.pre.offset + pr.pre_view, pr.post.offset + pr.post_view,
                                      s_.ex_pre, s_.ex_post, s_.weight, s_.delay, s_.sign))
        g = builder.build_graph(n_nodes, specs, self.seed, local)
        for pr in self.projections:
            pr._edges = None
        plastic = self._plastic_projections()
        if plastic:
            rules = np.array([pr.plasticity.vector() for pr in plastic])
            taus = np.array([pr.plasticity.post_taus() for pr in plastic], dtype=np.float64)
            pl = plasticity_mod.assemble(g.grp_start, g.grp_proj, g.post, n_neurons,
                                         {pr.index: r for r, pr in enumerate(plastic)}, rules, taus,
                                         [pr.name for pr in plastic])
        else:
            pl = plasticity_mod.empty(n_neurons, g.grp_proj.size)
        self.graph = g
        kinds, rates, ptr, times = [], [], [0], []
        for p in sources:
            kind, spec = self._source_specs[p.name]
            kinds.append(np.full(p.size, kind, np.int8))
            if kind == eng.POISSON:
                rates.append(self._rates[p.name] / 1000.0)
                ptr.append(np.zeros(p.size, np.int64))
            else:
                t_arr, ids = spec
                rates.append(np.zeros(p.size))
                counts = np.bincount(ids, minlength=p.size)
                ptr.append(counts)
                times.append(t_arr)
        counts = np.concatenate(ptr[1:]) if len(ptr) > 1 else np.zeros(0, np.int64)
        src_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        m = src_ptr.size - 1
        sources_t = (np.concatenate(kinds) if kinds else np.zeros(0, np.int8),
                     np.concatenate(rates) if rates else np.zeros(0),
                     src_ptr, np.concatenate(times) if times else np.zeros(0),
                     src_ptr[:-1].copy(), np.zeros(m, np.int64), np.zeros(m, np.int64))
        rec_flag = np.zeros(n_nodes, np.uint8)
        for p in neurons + sources:
            if p.record:
                rec_flag[p.offset:p.offset + p.size] = 1
        self._engine = eng.Engine(self.seed, n_neurons, P, S, heap.make_checks(n_neurons),
                                  (g.grp_ptr, g.grp_start, g.grp_delay, g.post, g.weight),
                                  sources_t, rec_flag, g.max_group_size, self.buffer_size, plast=pl)
        initial = np.zeros((n_neurons, 4))
        initial[:, 0] = v_init
        eng.restore(P, S, np.arange(n_neurons), 0.0, 0.0, initial)
        self._engine.prime(None if local is None else np.arange(local[0], local[1]))
        recorded = [p for p in neurons + sources if p.record]
        writer = None
        in_memory = True
        if self._log_spec is not None:
            path, interval, in_memory, compression = self._log_spec
            writer = SonataWriter(path, {p.name: p.size for p in recorded},
                                  config_attrs(self.config, self.seed, __version__), compression)
        self._writer = writer
        self._recorder = SpikeRecorder([p.name for p in recorded],
                                       np.array([p.offset for p in recorded], np.int64),
                                       np.array([p.size for p in recorded], np.int64),
                                       in_memory, writer,
                                       self._log_spec[1] if self._log_spec else 1.0,
                                       clock=lambda e=self._engine: e.t)

    # running -------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Current model time (ms)."""
        return 0.0 if self._engine is None else self._engine.t

    @property
    def stats(self) -> dict[str, int]:
        """Counters: events, synaptic events, spikes, threshold checks."""
        s = self._engine.stats if self._engine is not None else np.zeros(4, np.int64)
        return {"events": int(s[0]), "syn_events": int(s[1]), "spikes": int(s[2]), "checks": int(s[3])}

    def run(self, duration: float, chunk: float | None = None, progress: bool | None = None,
            on_chunk=None, max_rate_hz: float | None = None) -> bool:
        """Advance the model by `duration` ms, in chunks of `chunk` ms of model time (default
        checks.default_chunk(duration): 100 ms, more for runs beyond 1e10 ms).

        progress: show a progress bar (None: only on a terminal). Spikes recorded so far are
        flushed to the log even if the run fails midway, and at least every flush_interval_s of
        wall time while it runs (chunks are shortened when one takes longer; the chunk size never
        changes the result).
        on_chunk(net) -> bool: called at every chunk boundary; returning True stops the run there
        (e.g. after a checkpoint on a signal); run() then returns False.
        max_rate_hz: stop with SimulationError (log flushed) when neurons fire faster than this
        on average (Hz per neuron, see eventsim.guards.RateGuard); default net.max_rate_hz."""
        from .guards import RateGuard, scalar
        duration = float(checks.non_negative("duration (ms)", scalar("duration (ms)", duration)))
        chunk = checks.default_chunk(duration) if chunk is None else chunk
        chunk = checks.interval("chunk (ms)", scalar("chunk (ms)", chunk), duration)
        if max_rate_hz is not None:
            checks.positive("max_rate_hz (Hz)", scalar("max_rate_hz (Hz)", max_rate_hz))
        max_rate_hz = getattr(self, "max_rate_hz", None) if max_rate_hz is None else max_rate_hz
        self._ensure_built()
        if self._writer is not None and self._writer.failed:
            raise EventsimError(f"{self._writer.failed}; the log stays as it was at its last flush: resume from a "
                                f"checkpoint (after freeing space) or build a new network")
        if self._writer is not None and not self._writer.file.id.valid:
            why = f"the last run stopped abnormally ({self._broken})" if getattr(self, "_broken", None) \
                else "net.close()"
            raise EventsimError(f"the spike log '{self._writer.path}' is closed ({why}); a network whose log is "
                                f"closed cannot run on: resume from a checkpoint or build a new network")
        e = self._engine
        t_end = e.t + float(duration)
        samp = self._sample_arrays(t_end)
        bar = _progress_bar(duration, progress)
        wall0 = time.perf_counter()
        spikes0 = int(e.stats[eng.SPIKES])
        rec = self._recorder
        guard = None if max_rate_hz is None else RateGuard(
            max_rate_hz, self._n_neurons, spikes0, e.t, log_path=self._writer.path if self._writer else None)
        on_spikes = rec.on_spikes
        if guard is not None:
            n_rec_nodes = int(rec.sizes.sum())
            guard.check_recorded(rec.n_spikes, n_rec_nodes, e.t)

            def guarded(times, ids):
                rec.on_spikes(times, ids)
                try:
                    # the time the run has reached (net.t if the guard stops it here), not the last
                    # recorded spike: the spike count covers every neuron up to that time
                    t_now = e.t_reached
                    guard.check(e.stats[eng.SPIKES], t_now, end_of_chunk=False)
                    guard.check_recorded(rec.n_spikes, n_rec_nodes, t_now)
                except Exception:
                    e.buf_n[0] = 0                   # these spikes are recorded: do not drain them again
                    raise
            on_spikes = guarded
        flush_s = rec.flush_interval_s if self._writer is not None else None
        # with a log, chunks are shortened so that each takes about half the flush interval
        # (from the wall time per model ms of the last chunk): flushes stay about
        # flush_interval_s apart. Without an estimate yet, chunks start at 0.1 ms and double.
        step = self._chunk_step(chunk, flush_s)
        finished = True
        try:
            while e.t < t_end:
                t_prev = e.t
                t_next = min(max(e.t + step, np.nextafter(e.t, np.inf)), t_end)   # always progress
                w0 = time.perf_counter()
                e.run_until(t_next, on_spikes, samp)
                if flush_s is not None:          # keep the wall time between flushes bounded
                    wall_chunk = time.perf_counter() - w0
                    if t_next > t_prev and wall_chunk >= 1e-3:       # long enough to time
                        self._wall_per_ms = wall_chunk / (t_next - t_prev)
                    step = self._chunk_step(chunk, flush_s, step)
                    rec.maybe_flush()
                if guard is not None:
                    guard.check(e.stats[eng.SPIKES], e.t)
                if bar is not None:
                    wall = time.perf_counter() - wall0
                    bar.update(t_next - bar.n)
                    bar.set_postfix_str(f"{(int(e.stats[eng.SPIKES]) - spikes0) / max(wall, 1e-9):,.0f} spikes/s")
                if on_chunk is not None and on_chunk(self) and e.t < t_end:
                    finished = False
                    break
        except BaseException as exc:
            # keep what was recorded: flush it and close the log cleanly, then re-raise
            self._broken = f"{type(exc).__name__} at t <= {e.t:g} ms"
            e.drain(self._recorder.on_spikes)
            self.close()
            raise
        finally:
            if bar is not None:
                bar.close()
        e.drain(self._recorder.on_spikes)
        self._recorder.flush()
        self._scatter_samples(samp)
        return finished

    def _chunk_step(self, chunk: float, flush_s: float | None, previous: float | None = None) -> float:
        """Model time (ms) of the next chunk: about half a flush interval of wall time."""
        rate = getattr(self, "_wall_per_ms", None)
        if flush_s is None:
            return chunk
        if not rate:                            # no timing yet: probe with short, doubling chunks
            return min(chunk, 0.1 if previous is None else 2.0 * previous)
        return min(chunk, max(chunk / 4096.0, 0.5 * flush_s / rate))

    def checkpoint(self, path: str, meta: dict | None = None) -> str:
        """Save the full simulation state to an HDF5 checkpoint (see eventsim.checkpoint)."""
        from . import checkpoint
        return checkpoint.save(self, path, meta)

    def memory_estimate(self):
        """Estimated bytes of the built network (eventsim.guards.estimate_network)."""
        from .guards import estimate_network
        return estimate_network(self)

    def _sample_arrays(self, t_end: float):
        pending = [(s, np.flatnonzero(~s.taken & (s.times <= t_end))) for s in self.samplers]
        pending = [(s, k) for s, k in pending if k.size]
        if not pending:
            return None
        times = np.unique(np.concatenate([s.times[k] for s, k in pending]))
        ids = np.unique(np.concatenate([s.population.offset + s.local for s, _ in pending]))
        self._pending_samples = pending
        return (times, np.zeros(1, np.int64), ids.astype(np.int64), np.full((times.size, ids.size, 4), np.nan))

    def _scatter_samples(self, samp) -> None:
        if samp is None:
            return
        times, pos, ids, out = samp
        for s, k in self._pending_samples:
            rows = np.searchsorted(times, s.times[k])
            cols = np.searchsorted(ids, s.population.offset + s.local)
            done = rows < pos[0]
            s.values[k[done]] = out[rows[done]][:, cols]
            s.taken[k[done]] = True

    def save_weights(self, path: str, label: str = "") -> str:
        """Append a snapshot of all weights, neuron parameters and thresholds to an HDF5 file."""
        from .weights_io import save
        return save(self, path, label)

    def load_weights(self, path: str, snapshot: int | str = -1, state: bool = True) -> None:
        """Restore weights (and neuron parameters and theta) from a weight-file snapshot:
        snapshot is an index (-1: the last), a name ('00000') or a label given to save_weights."""
        from .weights_io import load
        load(self, path, snapshot, state)

    def close(self) -> None:
        """Flush and close the spike log (also done when the network is garbage collected)."""
        if self._writer is not None:
            self._writer.close(self.t)          # the log then covers the simulated time so far

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def population_rate(self, pop: Population | PopulationView, bin_ms: float, t_start: float = 0.0,
                        t_stop: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Population rate from recorded spikes: (bin edges in ms, n + 1 values; rate in Hz per
        neuron, n values). Bins of bin_ms (ms) cover [t_start, t_stop] (default t_stop: the network's
        current time; it may not lie beyond it). The last bin ends at t_stop, so it may be shorter
        than bin_ms; its rate uses its real width. Spikes at exactly t_stop count in the last bin."""
        bin_ms = checks.number("bin_ms", bin_ms, checks.positive)
        t_stop = self.t if t_stop is None else checks.number(
            f"t_stop (ms; the network has simulated up to {self.t:.17g} ms)", t_stop, checks.in_range, 0.0, self.t)
        t_start = checks.number(f"t_start (ms; t_stop is {t_stop:.17g} ms)", t_start, checks.in_range, 0.0, t_stop,
                                high_open=True)
        n_bins = max(1, int(np.ceil((t_stop - t_start) / bin_ms - 1e-9)))    # no sliver bin from rounding
        edges = np.minimum(t_start + bin_ms * np.arange(n_bins + 1), t_stop)
        edges[-1] = t_stop
        counts, _ = np.histogram(pop.spikes()[0], edges)
        return edges, counts / (pop.size * np.diff(edges) * 1e-3)


def _progress_bar(total_ms: float, progress: bool | None):
    import sys
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm
    return tqdm(total=float(total_ms), unit="ms", unit_scale=False, dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} ms model [{elapsed}<{remaining}] {postfix}")
