"""STDP rules for eventsim projections: `net.connect(..., plasticity=rule)`.

Each rule validates its parameters and produces the parameter vector that the event-driven
kernels of eventsim.plasticity run. Units: ms; weights in mV (the projection's unit).
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from eventsim import checks, plasticity as pk
from eventsim.errors import EventsimError


class _instance_only:
    """A rule method that, looked up on the class (plasticity=TripletSTDP instead of
    TripletSTDP()), raises a clear EventsimError instead of Python's missing-argument TypeError."""

    def __init__(self, fn):
        self.fn = fn

    def __get__(self, obj, cls):
        if obj is not None:
            return self.fn.__get__(obj, cls)

        def refuse(*args, **kw):
            raise EventsimError(f"plasticity must be a rule instance such as {cls.__name__}(...), "
                                f"not the class {cls.__name__}")
        return refuse


@dataclass(frozen=True)
class _Rule(ABC):
    """Common fields (ms, mV) and validation: each field listed in _TIME_CONSTANTS (>= 1e-3 ms),
    _NON_NEGATIVE or _FINITE must be one number passing that check, each in _FLAGS True or False."""
    tau_plus: float = 16.8       # ms, presynaptic trace
    tau_minus: float = 33.7      # ms, postsynaptic trace
    w_min: float = 0.0           # mV
    w_max: float = 1.0           # mV

    _TIME_CONSTANTS: ClassVar[tuple[str, ...]] = ("tau_plus", "tau_minus")
    _NON_NEGATIVE: ClassVar[tuple[str, ...]] = ()
    _FINITE: ClassVar[tuple[str, ...]] = ("w_min", "w_max")
    _FLAGS: ClassVar[tuple[str, ...]] = ("nearest",)
    _RATES: ClassVar[tuple[str, ...]] = ()      # the learning rates, which frozen() sets to 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        for keys, check in ((self._TIME_CONSTANTS, checks.time_constant),
                            (self._NON_NEGATIVE, checks.non_negative), (self._FINITE, checks.finite)):
            for key in keys:
                checks.number(f"{name}.{key}", getattr(self, key), check)
        for key in self._FLAGS:
            if not isinstance(getattr(self, key), (bool, np.bool_)):
                raise EventsimError(f"{name}.{key} must be True or False, got {getattr(self, key)!r}")
        if not self.w_min < self.w_max:
            raise EventsimError(f"{name}: w_min must be < w_max (got w_min={self.w_min}, w_max={self.w_max})")

    @abstractmethod
    def _row(self) -> tuple[int, tuple[float, float, float, float], float, float]:
        """(KIND, (P1, P2, P3, P4), TAU_X, TAU_Y) of the kernel's parameter row (each rule's own)."""

    @_instance_only
    def vector(self) -> np.ndarray:
        """The rule's parameter row for eventsim.plasticity (ms, mV; validated at construction)."""
        kind, p, tau_x, tau_y = self._row()
        v = np.zeros(pk.NRULE)
        v[[pk.KIND, pk.TAU_PLUS, pk.TAU_MINUS, pk.W_MIN, pk.W_MAX, pk.P1, pk.P2, pk.P3, pk.P4, pk.TAU_X,
           pk.TAU_Y, pk.MODE]] = [kind, self.tau_plus, self.tau_minus, self.w_min, self.w_max, *p,
                                  tau_x, tau_y, int(self.nearest)]
        return v

    def post_taus(self) -> tuple[float, float]:
        """Time constants of the postsynaptic traces (ms)."""
        return self.tau_minus, 1.0

    @_instance_only
    def frozen(self):
        """The same rule with every learning rate 0: `proj.set_plasticity(rule.frozen())` stops
        learning between runs while the traces keep running, and `set_plasticity(rule)` resumes
        it. The kernel still clips a weight it visits to [w_min, w_max]."""
        return dataclasses.replace(self, **{key: 0.0 for key in self._RATES})


@dataclass(frozen=True)
class PairSTDP(_Rule):
    """Pair-based STDP with NEST `stdp_synapse`'s update formula (all-to-all pairing).

    Delays follow Brian2's convention, not NEST's: a pre spike is paired at its arrival t_pre + d
    with the post spike time t_post (NEST treats the whole delay as dendritic and pairs t_pre
    with t_post + d). For pre-post intervals shorter than the delay the two differ in sign.

    With w_hat = w / w_max and traces K+ (pre) and K- (post):
        at a post spike:    w_hat += lambda_ * (1 - w_hat)^mu_plus * K+
        at a pre arrival:   w_hat -= alpha * lambda_ * w_hat^mu_minus * K-
    mu = 0 gives the additive rule (Song, Miller & Abbott 2000), mu = 1 the multiplicative one.
    Units: tau_plus, tau_minus in ms; w_min, w_max in mV; lambda_, alpha, mu_plus, mu_minus
    dimensionless.
    """
    lambda_: float = 0.01
    alpha: float = 1.0
    mu_plus: float = 0.0
    mu_minus: float = 0.0
    nearest: bool = False

    _NON_NEGATIVE: ClassVar[tuple[str, ...]] = ("lambda_", "alpha", "mu_plus", "mu_minus")
    _RATES: ClassVar[tuple[str, ...]] = ("lambda_",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.w_max <= 0:
            raise EventsimError(f"{type(self).__name__}.w_max must be > 0 (got {self.w_max})")

    def _row(self) -> tuple[int, tuple[float, float, float, float], float, float]:
        return pk.PAIR, (self.lambda_, self.alpha, self.mu_plus, self.mu_minus), 1.0, 1.0


def _preset(factory: str, fixed: dict, kw: dict) -> PairSTDP:
    """PairSTDP with the parameters `fixed` by the preset `factory`; `kw` may set any other field."""
    clash = sorted(k for k in set(kw) & set(fixed) if not np.array_equal(kw[k], fixed[k]))
    if clash:
        raise EventsimError(f"{factory}() fixes {', '.join(f'{k}={fixed[k]!r}' for k in fixed)} (got "
                            f"{clash[0]}={kw[clash[0]]!r}); use PairSTDP(...) to choose {clash[0]}")
    for key in kw:
        checks.known_key(f"{factory}() parameter", key, {f.name for f in dataclasses.fields(PairSTDP)})
    return PairSTDP(**{**fixed, **kw})


def additive(**kw) -> PairSTDP:
    """Additive pair STDP (Song, Miller & Abbott 2000)."""
    return _preset("additive", {"mu_plus": 0.0, "mu_minus": 0.0}, kw)


def multiplicative(**kw) -> PairSTDP:
    """Multiplicative (weight-dependent) pair STDP."""
    return _preset("multiplicative", {"mu_plus": 1.0, "mu_minus": 1.0}, kw)


def nearest_spike(**kw) -> PairSTDP:
    """Pair STDP with nearest-spike pairing: each trace resets to 1 at a spike (NEST stdp_nn_symm's
    pairing; delays as in `PairSTDP`, Brian2's convention)."""
    return _preset("nearest_spike", {"nearest": True}, kw)


@dataclass(frozen=True)
class TripletSTDP(_Rule):
    """Triplet STDP (Pfister & Gerstner 2006), traces r1, r2 (pre) and o1, o2 (post).

        at a post spike:   w += r1 * (a2_plus + a3_plus * o2(t-))
        at a pre arrival:  w -= o1 * (a2_minus + a3_minus * r2(t-))
    Traces accumulate (all-to-all interactions) or, with nearest=True, every trace is reset to 1
    at its neuron's spike (Pfister & Gerstner's nearest-spike model; also the rule of Diehl &
    Cook's released code: a2_plus = a3_minus = 0). Defaults: the visual-cortex all-to-all fit of
    Pfister & Gerstner (2006), Table 4.
    """
    tau_plus: float = 16.8
    tau_minus: float = 33.7
    tau_x: float = 101.0
    tau_y: float = 125.0
    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = 7e-3
    a3_minus: float = 2.3e-4
    nearest: bool = False

    _TIME_CONSTANTS: ClassVar[tuple[str, ...]] = ("tau_plus", "tau_minus", "tau_x", "tau_y")
    _NON_NEGATIVE: ClassVar[tuple[str, ...]] = ("a2_plus", "a3_plus", "a2_minus", "a3_minus")
    _RATES: ClassVar[tuple[str, ...]] = _NON_NEGATIVE

    def _row(self) -> tuple[int, tuple[float, float, float, float], float, float]:
        return pk.TRIPLET, (self.a2_plus, self.a3_plus, self.a2_minus, self.a3_minus), self.tau_x, self.tau_y

    def post_taus(self) -> tuple[float, float]:
        return self.tau_minus, self.tau_y


@dataclass(frozen=True)
class PowerLawSTDP(_Rule):
    """Power-law weight-dependent STDP (Diehl & Cook 2015; Rathi et al.).

        at a post spike:   w += eta_post * (x_pre - x_tar) * (w_max - w)^mu
        at a pre arrival:  w -= eta_pre * y_post
    Traces reset to 1 at each spike (nearest=True, as in Diehl & Cook's code) or accumulate.
    """
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    eta_post: float = 0.01
    eta_pre: float = 0.0001
    x_tar: float = 0.4
    mu: float = 0.2
    nearest: bool = True

    _NON_NEGATIVE: ClassVar[tuple[str, ...]] = ("eta_post", "eta_pre", "mu")
    _RATES: ClassVar[tuple[str, ...]] = ("eta_post", "eta_pre")
    _FINITE: ClassVar[tuple[str, ...]] = ("w_min", "w_max", "x_tar")

    def _row(self) -> tuple[int, tuple[float, float, float, float], float, float]:
        return pk.POWER, (self.eta_post, self.eta_pre, self.x_tar, self.mu), 1.0, 1.0

    @classmethod
    def scaled(cls, w_scale: float, w_max: float, tau_pre: float, tau_post: float, eta_post: float,
               eta_pre: float, x_tar: float, mu: float) -> "PowerLawSTDP":
        """The rule for weights in mV from parameters in dimensionless units (w = w_scale * u,
        w_min = 0): eta_pre' = eta_pre * s and eta_post' = eta_post * s^(1 - mu) make it act on
        w / s exactly as the dimensionless rule acts on u."""
        s = checks.number("PowerLawSTDP.scaled w_scale (mV per unit)", w_scale, checks.in_range, 0.0, np.inf,
                          low_open=True)
        return cls(tau_plus=tau_pre, tau_minus=tau_post, w_min=0.0, w_max=w_max * s,
                   eta_post=eta_post * s ** (1.0 - mu), eta_pre=eta_pre * s, x_tar=x_tar, mu=mu, nearest=True)
