"""Leaky integrate-and-fire models, integrated exactly by the kernels in eventsim.neuron.

Units: ms, mV; synaptic currents are voltage equivalents (R*I, mV). Any parameter may be a
scalar, an array with one value per neuron, or an `eventsim` distribution (heterogeneity).
Time constants (tau_m, tau_syn_e, tau_syn_i, tau_theta) must be at least 1e-3 ms (1 us,
eventsim.checks.MIN_TAU_MS): the engine's work per ms of model time grows as 1/tau.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from eventsim import checks, neuron
from eventsim.distributions import realise
from eventsim.errors import EventsimError
from eventsim.rng import STREAM_INIT

MIN_TAU_GAP = 1e-3   # |tau_syn / tau_m - 1| below this is refused (LIFExp docstring: precision)


@dataclass
class LIFDelta:
    """LIF whose inputs make the membrane potential jump by the weight (mV).

    tau_m dV/dt = v_rest + i_bias - V. Inputs during the refractory period are discarded.
    """
    tau_m: object = 20.0      # ms
    v_rest: object = -70.0    # mV
    v_reset: object = -70.0   # mV
    v_th: object = -50.0      # mV
    t_ref: object = 2.0       # ms
    i_bias: object = 0.0      # mV (R * I_bias)

    def _validate(self, p: dict[str, np.ndarray]) -> None:
        name = type(self).__name__
        checks.time_constant(f"{name}.tau_m", p["tau_m"])
        for key in ("v_rest", "v_reset", "v_th", "i_bias"):
            checks.finite(f"{name}.{key}", p[key])
        checks.non_negative(f"{name}.t_ref", p["t_ref"])
        if np.any(p["v_reset"] >= p["v_th"]):
            raise EventsimError(f"{name}.v_reset must be < v_th (got v_reset={_first(p['v_reset'])}, "
                                f"v_th={_first(p['v_th'])})")

    def _extra(self, p: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        return {"delta": np.ones(n), "tau_syn_e": np.zeros(n), "tau_syn_i": np.zeros(n),
                "theta_plus": np.zeros(n), "tau_theta": np.full(n, np.inf)}

    def parameter_table(self, n: int, seed: int, key: int) -> np.ndarray:
        """float64[len(PARAM_NAMES), n] parameter rows for eventsim.neuron, validated."""
        values = {}
        # draw keys (key << 8 | field) stay below 1 << 20, where network.py's v_init keys (1 << 20 | k)
        # start, for the first 4095 populations; later populations move to 1 << 40 and up, so that
        # no parameter shares its random numbers with an initial value (population 4095's tau_m
        # drew population 0's v_init). The first 4095 keep their draws.
        offset = 0 if key < 1 << 12 else 1 << 40
        for i, f in enumerate(fields(self)):
            values[f.name] = realise(f"{type(self).__name__}.{f.name}", getattr(self, f.name), seed,
                                     STREAM_INIT, np.full(n, offset + ((key << 8) | i), np.int64), np.arange(n))
        self._validate(values)
        values.update(self._extra(values, n))
        table = np.empty((len(neuron.PARAM_NAMES), n))
        for row, name in enumerate(neuron.PARAM_NAMES):
            table[row] = values[name]
        return table


@dataclass
class LIFExp(LIFDelta):
    """LIF with exponentially decaying excitatory and inhibitory currents (CUBA model).

    tau_m dV/dt = v_rest + i_bias - V + I_e + I_i;  tau_syn_x dI_x/dt = -I_x.
    A weight w >= 0 adds to I_e, w < 0 to I_i. Spike times are exact (root finding to 1e-12 ms).
    tau_syn_e and tau_syn_i must differ from tau_m by at least 0.1% (MIN_TAU_GAP): the exact
    solution is singular at tau_syn = tau_m, and near it the membrane coefficient cancels against
    k = tau_syn / (tau_syn - tau_m). Measured against a 30-digit reference (one neuron, two
    inputs): spike-time error 6e-13 ms at a 1% gap, 3e-12 ms at 0.1%, 4.5e-11 ms at 0.01% and
    1e-9 ms at 0.001%.
    """
    tau_syn_e: object = 5.0   # ms
    tau_syn_i: object = 5.0   # ms

    def _validate(self, p):
        super()._validate(p)
        name = type(self).__name__
        for key in ("tau_syn_e", "tau_syn_i"):
            checks.time_constant(f"{name}.{key}", p[key])
            ts, tm = (a.ravel() for a in np.broadcast_arrays(np.asarray(p[key], np.float64),
                                                             np.asarray(p["tau_m"], np.float64)))
            close = np.flatnonzero(np.abs(ts / tm - 1.0) < MIN_TAU_GAP)
            if close.size:
                k = int(close[0])
                raise EventsimError(f"{name}.{key} must differ from tau_m by at least {MIN_TAU_GAP:.1%} of tau_m "
                                    f"(got tau_m={tm[k]:g} ms, {key}={ts[k]:g} ms at index {k}): spike times lose "
                                    f"precision near tau_syn = tau_m")

    def _extra(self, p, n):
        return {"delta": np.zeros(n), "theta_plus": np.zeros(n), "tau_theta": np.full(n, np.inf)}


@dataclass
class AdaptiveLIFExp(LIFExp):
    """LIFExp with an adaptive threshold v_th + theta (Diehl & Cook 2015).

    theta jumps by theta_plus (mV) at each spike and decays with tau_theta (ms; inf = no decay).
    Freeze it for testing with `population.set(theta_plus=0.0, tau_theta=np.inf)`.
    """
    theta_plus: object = 0.05    # mV
    tau_theta: object = 1e7      # ms

    def _validate(self, p):
        super()._validate(p)
        name = type(self).__name__
        checks.non_negative(f"{name}.theta_plus", p["theta_plus"])
        checks.time_constant(f"{name}.tau_theta", p["tau_theta"], allow_inf=True)

    def _extra(self, p, n):
        return {"delta": np.zeros(n)}


def _first(arr: np.ndarray) -> float:
    return float(np.ravel(arr)[0])
