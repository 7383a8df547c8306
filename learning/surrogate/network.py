"""Network specification and parameter container for layered discrete-time SNNs.

Units: dt, tau_mem, tau_syn, tau_out in ms; membrane potential and thresholds in
threshold units (theta defaults to 1.0); alpha = exp(-dt/tau_mem), beta =
exp(-dt/tau_syn), kappa = exp(-dt/tau_out) are per-step decay factors in (0, 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import SurrogateConfigError, check_bool, check_count, check_range
from .surrogates import Surrogate

READOUTS = ("max", "sum", "mean")


@dataclass(frozen=True)
class LayerSpec:
    """One hidden LIF layer: `size` neurons, optional recurrence and synaptic current."""

    size: int
    recurrent: bool = False
    tau_mem: float = 10.0          # ms
    tau_syn: float | None = None   # ms; None = no synaptic current (I[t] = J[t])
    theta: float = 1.0             # threshold units
    tau_mem_spread: float = 0.0    # relative spread for heterogeneous tau_mem init (0..0.9)

    def validate(self, k: int) -> None:
        object.__setattr__(self, "size", check_count(f"layers[{k}].size", self.size))
        check_bool(f"layers[{k}].recurrent", self.recurrent)
        check_range(f"layers[{k}].tau_mem", self.tau_mem, 0.0, math.inf, lo_open=True, hi_open=True)
        if self.tau_syn is not None:
            check_range(f"layers[{k}].tau_syn", self.tau_syn, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range(f"layers[{k}].theta", self.theta, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range(f"layers[{k}].tau_mem_spread", self.tau_mem_spread, 0.0, 0.9)


@dataclass(frozen=True)
class NetworkSpec:
    """input (n_in) -> hidden LIF layers -> leaky non-spiking readout (n_out)."""

    n_in: int
    layers: tuple[LayerSpec, ...]
    n_out: int
    n_steps: int
    dt: float = 1.0                # ms
    tau_out: float = 20.0          # ms
    readout: str = "max"           # logits = max_t U[t] | sum_t U[t] | mean_t U[t]
    surrogate: Surrogate = field(default_factory=Surrogate)
    detach_reset: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        for name in ("n_in", "n_out", "n_steps"):
            object.__setattr__(self, name, check_count(name, getattr(self, name)))
        if len(self.layers) < 1:
            raise SurrogateConfigError("layers is empty; allowed >= 1 hidden layer")
        for k, l in enumerate(self.layers):
            if not isinstance(l, LayerSpec):
                raise SurrogateConfigError(f"layers[{k}]={l!r} is invalid; allowed a LayerSpec")
            l.validate(k)
        check_range("dt", self.dt, 0.0, math.inf, lo_open=True, hi_open=True)
        check_range("tau_out", self.tau_out, 0.0, math.inf, lo_open=True, hi_open=True)
        if self.readout not in READOUTS:
            raise SurrogateConfigError(f"readout={self.readout!r} is invalid; allowed {READOUTS}")
        check_bool("detach_reset", self.detach_reset)

    @property
    def kappa(self) -> float:
        return math.exp(-self.dt / self.tau_out)

    def to_dict(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out, "n_steps": self.n_steps, "dt": self.dt,
                "tau_out": self.tau_out, "readout": self.readout, "detach_reset": self.detach_reset,
                "surrogate": {"kind": self.surrogate.kind, "slope": self.surrogate.slope,
                              "scale": self.surrogate.scale},
                "layers": [dict(size=l.size, recurrent=l.recurrent, tau_mem=l.tau_mem, tau_syn=l.tau_syn,
                                theta=l.theta, tau_mem_spread=l.tau_mem_spread) for l in self.layers]}

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkSpec":
        d = dict(d)
        try:
            layers = tuple(LayerSpec(**l) for l in d.pop("layers"))
            sur = Surrogate(**d.pop("surrogate", {}))
            return cls(layers=layers, surrogate=sur, **d)
        except (TypeError, KeyError) as exc:
            raise SurrogateConfigError(f"network spec is invalid: {exc}") from None


def param_names(spec: NetworkSpec) -> list[str]:
    """Names of all parameters, e.g. 'h0.W', 'h0.R', 'h0.alpha', 'h0.theta', 'h0.beta', 'out.W'."""
    names = []
    for k, l in enumerate(spec.layers):
        names += [f"h{k}.W"] + ([f"h{k}.R"] if l.recurrent else []) + [f"h{k}.alpha", f"h{k}.theta"]
        names += [f"h{k}.beta"] if l.tau_syn is not None else []
    return names + ["out.W"]


def init_neuron_params(spec: NetworkSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """alpha (per neuron; heterogeneous if tau_mem_spread > 0), theta, beta."""
    p: dict[str, np.ndarray] = {}
    for k, l in enumerate(spec.layers):
        tau = l.tau_mem * (1.0 + l.tau_mem_spread * rng.uniform(-1.0, 1.0, l.size))
        p[f"h{k}.alpha"] = np.exp(-spec.dt / tau)
        p[f"h{k}.theta"] = np.full(l.size, float(l.theta))
        if l.tau_syn is not None:
            p[f"h{k}.beta"] = np.full(l.size, math.exp(-spec.dt / l.tau_syn))
    return p


def tau_from_decay(decay: np.ndarray, dt: float) -> np.ndarray:
    """Time constant (ms) from a per-step decay factor: tau = -dt / ln(decay)."""
    return -dt / np.log(decay)
