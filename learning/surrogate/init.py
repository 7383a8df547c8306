"""Weight initialisers (all return float64 arrays; rates are probabilities per step).

* ``kaiming``: w ~ N(0, gain^2 / fan_in), gain = sqrt(2) (He et al. 2015) -- ANN baseline.
* ``micheli``: Micheli, Booij, van Gemert & Tomen 2024 ("Deep activity propagation via
  weight initialization in SNNs"): Var[w_l] = 1 / (n_l P(u_{l-1} > theta)), the paper's
  formula as published. P(u_{l-1} > theta) is the presynaptic firing probability: the
  measured input rate for the first layer and, under the paper's Gaussian assumption
  u ~ N(0, 1), 0.5*erfc(theta/sqrt(2)) for hidden layers. The paper's Var[u] = 1 holds
  for the input of one step; its derivation leaves out the membrane's integration over
  time. In these leaky neurons each neuron's temporal variance is about eps_hat times
  larger (the sum of squares of the PSP kernel, `psp_moments`), and the neurons' means
  spread as well: with 200 inputs at rate 0.05, Var[u] over neurons and steps measured
  10.6 for tau_mem = 10 steps and 860 for tau_mem = 20, tau_syn = 5 (2026-11-24).
  ``fluctuation`` accounts for the kernel.
* ``fluctuation``: Rossbroich, Gygax & Zenke 2022 (fluctuation-driven init): choose
  mu_U and sigma_U = (theta - mu_U)/xi, then with shot-noise (Campbell) moments
  mu_U = n nu mu_w eps_bar and sigma_U^2 = n nu (sigma_w^2 + mu_w^2) eps_hat solve
  mu_w = mu_U/(n nu eps_bar), sigma_w^2 = sigma_U^2/(n nu eps_hat) - mu_w^2. eps_bar and
  eps_hat are the sum and the sum of squares of the discrete-time PSP kernel (unit
  event, alpha, beta decays). Hidden-layer rate nu is taken as 0.5*erfc(xi/sqrt(2))
  (fraction of time a Gaussian u spends above theta). Recurrent layers split the target
  variance: a fraction `rec_frac` to R, the rest to W.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import SurrogateConfigError, check_range
from .network import NetworkSpec

METHODS = ("kaiming", "micheli", "fluctuation")


def psp_moments(alpha: float, beta: float | None, n_max: int = 100000) -> tuple[float, float]:
    """(eps_bar, eps_hat): sum and sum of squares of the membrane response (threshold
    units per unit weight) to one presynaptic event, without reset."""
    v, i, s1, s2 = 0.0, 1.0, 0.0, 0.0
    for _ in range(n_max):
        v = alpha * v + i
        i = (beta * i) if beta is not None else 0.0
        s1 += v
        s2 += v * v
        if v < 1e-12 and i < 1e-12:
            break
    return s1, s2


def check_init(method: str, *, prefix: str = "", input_rate: float = 0.05, gain: float = math.sqrt(2.0),
               xi: float = 2.0, mu_u: float = 0.0, rec_frac: float = 0.2) -> None:
    """Raise `SurrogateConfigError` for an invalid `init_weights` option; `prefix` is put in
    front of the names (the method is called 'init' without a prefix, as in `SNN(init=...)`)."""
    if method not in METHODS:
        raise SurrogateConfigError(f"{prefix + 'method' if prefix else 'init'}={method!r} is invalid; "
                                   f"allowed {METHODS}")
    check_range(f"{prefix}input_rate", input_rate, 0.0, 1.0, lo_open=True)
    check_range(f"{prefix}gain", gain, 0.0, math.inf, lo_open=True, hi_open=True)
    check_range(f"{prefix}xi", xi, 0.0, math.inf, lo_open=True, hi_open=True)
    check_range(f"{prefix}mu_u", mu_u, -math.inf, math.inf, lo_open=True, hi_open=True)
    check_range(f"{prefix}rec_frac", rec_frac, 0.0, 1.0, hi_open=True)


def init_weights(spec: NetworkSpec, method: str, rng: np.random.Generator, *, input_rate: float = 0.05,
                 neuron_params: dict[str, np.ndarray] | None = None, gain: float = math.sqrt(2.0),
                 xi: float = 2.0, mu_u: float = 0.0, rec_frac: float = 0.2) -> dict[str, np.ndarray]:
    """Weights 'hK.W', 'hK.R', 'out.W' for `spec` (see module docstring)."""
    check_init(method, input_rate=input_rate, gain=gain, xi=xi, mu_u=mu_u, rec_frac=rec_frac)
    out: dict[str, np.ndarray] = {}
    n_pre, rate = spec.n_in, float(input_rate)
    for k, l in enumerate(spec.layers):
        N = l.size
        has_r = l.recurrent
        ff = 1.0 - rec_frac if has_r else 1.0
        if method == "kaiming":
            out[f"h{k}.W"] = rng.normal(0.0, gain / math.sqrt(n_pre), (n_pre, N))
            if has_r:
                out[f"h{k}.R"] = rng.normal(0.0, gain / math.sqrt(N), (N, N))
            hidden_rate = rate
        elif method == "micheli":
            p_hid = 0.5 * math.erfc(l.theta / math.sqrt(2.0))
            out[f"h{k}.W"] = rng.normal(0.0, math.sqrt(ff / (n_pre * rate)), (n_pre, N))
            if has_r:
                out[f"h{k}.R"] = rng.normal(0.0, math.sqrt(rec_frac / (N * p_hid)), (N, N))
            hidden_rate = p_hid
        else:
            a = float(np.mean(neuron_params[f"h{k}.alpha"])) if neuron_params else math.exp(-spec.dt / l.tau_mem)
            b = None if l.tau_syn is None else math.exp(-spec.dt / l.tau_syn)
            ebar, ehat = psp_moments(a, b)
            sig_u = (l.theta - mu_u) / xi
            hidden_rate = 0.5 * math.erfc(xi / math.sqrt(2.0))

            def _draw(n: int, nu: float, frac: float, shape: tuple[int, int]) -> np.ndarray:
                mu_w = frac * mu_u / (n * nu * ebar)
                var_w = frac * sig_u ** 2 / (n * nu * ehat) - mu_w ** 2
                return rng.normal(mu_w, math.sqrt(max(var_w, 1e-12)), shape)

            out[f"h{k}.W"] = _draw(n_pre, rate, ff, (n_pre, N))
            if has_r:
                out[f"h{k}.R"] = _draw(N, hidden_rate, rec_frac, (N, N))
        n_pre, rate = N, hidden_rate
    out["out.W"] = rng.normal(0.0, 1.0 / math.sqrt(n_pre), (n_pre, spec.n_out))
    return out
