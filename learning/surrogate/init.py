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
  event, alpha, beta decays). Recurrent layers split the target variance: a fraction
  `rec_frac` to R, the rest to W. The formula needs the rate nu of each layer's
  presynaptic neurons, which for hidden layers (the input of layer 2 on, and R) is:

  - ``hidden_rate="simulated"`` (default): measured. A batch of `CALIBRATION_SAMPLES`
    Bernoulli input trains at `input_rate` (n_steps steps, drawn from a child of `rng`, so
    `rng`'s own stream is not used) is run through the layers as they are initialised;
    each layer's mean spike rate in it is the nu of the next draw (for R: the layer's rate
    driven by W alone). Activity then carries through deep stacks: with the Gaussian
    estimate below, 100 layers of 200 neurons fell silent by layer 3 (2026-11-24), because
    a neuron that resets fires far less often than its free membrane spends above
    threshold (0.008 against 0.023 per step at xi = 2), so every later layer was driven
    below its target.
  - ``hidden_rate="gaussian"``: 0.5*erfc(xi/sqrt(2)), the fraction of time a Gaussian u
    spends above theta. This was the only rule before 2026-11-24; the recorded results of
    recurrent or multi-layer networks made before then used it.

  One-layer feed-forward networks draw the same weights either way (no hidden rate is
  used). If a layer stays silent in the calibration batch, its Gaussian estimate is used.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import kernels as K
from .errors import SurrogateConfigError, check_range
from .network import NetworkSpec, init_neuron_params

METHODS = ("kaiming", "micheli", "fluctuation")
HIDDEN_RATES = ("simulated", "gaussian")
# hidden_rate="simulated": Bernoulli input trains that measure the hidden rates, at first and at most,
# and the spikes a layer must fire in them for its rate to be used (else the Gaussian estimate is)
CALIBRATION_SAMPLES = 8
CALIBRATION_MAX_SAMPLES = 256
CALIBRATION_MIN_SPIKES = 200


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
               xi: float = 2.0, mu_u: float = 0.0, rec_frac: float = 0.2, hidden_rate: str = "simulated") -> None:
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
    if hidden_rate not in HIDDEN_RATES:
        raise SurrogateConfigError(f"{prefix}hidden_rate={hidden_rate!r} is invalid; allowed {HIDDEN_RATES}")


class _Calibration:
    """Bernoulli input trains run through the layers as they are initialised (see the module
    docstring, hidden_rate="simulated"). It starts with CALIBRATION_SAMPLES trains and draws 4x
    more, up to CALIBRATION_MAX_SAMPLES, while a layer fires fewer than CALIBRATION_MIN_SPIKES
    spikes in them, so that no rate rests on a handful of spikes."""

    def __init__(self, spec: NetworkSpec, input_rate: float, rng: np.random.Generator,
                 params: dict[str, np.ndarray]) -> None:
        self.spec, self.input_rate, self.rng, self.params = spec, input_rate, rng, params
        self.T = spec.n_steps
        self.weights: list[tuple[np.ndarray, np.ndarray | None]] = []   # of the layers drawn so far
        self._draw(CALIBRATION_SAMPLES)

    def _draw(self, n_samples: int) -> None:
        """Hold n_samples new input trains, run through the layers drawn so far."""
        self.B = n_samples
        rows, n_in = n_samples * self.T, self.spec.n_in
        per = max(1, (1 << 20) // n_in)   # (sample, step) rows per draw: at most 2^20 uniforms at a time
        counts, units = [], []
        for r0 in range(0, rows, per):
            hit = self.rng.random((min(per, rows - r0), n_in)) < self.input_rate
            counts.append(hit.sum(axis=1))
            units.append(np.nonzero(hit)[1].astype(np.int32))
        idx = np.concatenate(units)
        events = (np.concatenate(([0], np.cumsum(np.concatenate(counts)))).astype(np.int64), idx,
                  np.ones(idx.shape[0]))
        for k, (W, R) in enumerate(self.weights):
            events = self._layer(k, W, R, events)
        self.events = events

    def _layer(self, k: int, W: np.ndarray, R: np.ndarray | None, events: tuple) -> tuple:
        """Spike events (ptr, idx, val) of layer k with weights W (and R) for input `events`."""
        l, sg, p = self.spec.layers[k], self.spec.surrogate, self.params
        beta = p[f"h{k}.beta"] if l.tau_syn is not None else np.zeros(l.size)
        rec = R is not None
        out = K.layer_forward(self.B, self.T, *events, np.ascontiguousarray(W),
                              np.ascontiguousarray(R) if rec else np.zeros((0, 0)), rec, p[f"h{k}.alpha"],
                              p[f"h{k}.theta"], beta, l.tau_syn is not None, sg.code, float(sg.slope),
                              float(sg.scale), 1e-9, False, False, 0.0, False)
        return out[0], out[1], out[2]

    def rate(self, k: int, W: np.ndarray, R: np.ndarray | None) -> tuple[float, float]:
        """(spikes per neuron and step, spike count) of layer k with weights W, R on the held
        input; the count is below CALIBRATION_MIN_SPIKES only at CALIBRATION_MAX_SAMPLES trains."""
        while True:
            count = float(self._layer(k, W, R, self.events)[2].sum())
            if count >= CALIBRATION_MIN_SPIKES or self.B >= CALIBRATION_MAX_SAMPLES:
                break
            self._draw(min(4 * self.B, CALIBRATION_MAX_SAMPLES))
        return count / (self.B * self.T * self.spec.layers[k].size), count

    def add(self, k: int, W: np.ndarray, R: np.ndarray | None) -> None:
        """Layer k is drawn: its output on the held input becomes the input of layer k + 1."""
        self.weights.append((W, R))
        self.events = self._layer(k, W, R, self.events)


def _child(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator that leaves `rng`'s own stream untouched (numpy >= 1.25); for a
    generator without a seed sequence, one seeded from a draw of `rng`."""
    try:
        return rng.spawn(1)[0]
    except TypeError:
        return np.random.default_rng(int(rng.integers(2**63)))


def init_weights(spec: NetworkSpec, method: str, rng: np.random.Generator, *, input_rate: float = 0.05,
                 neuron_params: dict[str, np.ndarray] | None = None, gain: float = math.sqrt(2.0),
                 xi: float = 2.0, mu_u: float = 0.0, rec_frac: float = 0.2,
                 hidden_rate: str = "simulated") -> dict[str, np.ndarray]:
    """Weights 'hK.W', 'hK.R', 'out.W' for `spec` (see module docstring). `neuron_params`
    (alpha, theta, beta per layer) default to `init_neuron_params(spec)` with a fixed seed."""
    check_init(method, input_rate=input_rate, gain=gain, xi=xi, mu_u=mu_u, rec_frac=rec_frac,
               hidden_rate=hidden_rate)
    if neuron_params is None:
        neuron_params = init_neuron_params(spec, np.random.default_rng(0))
    out: dict[str, np.ndarray] = {}
    n_pre, rate = spec.n_in, float(input_rate)
    needs_rate = len(spec.layers) > 1 or any(l.recurrent for l in spec.layers)
    cal = (_Calibration(spec, rate, _child(rng), neuron_params)
           if method == "fluctuation" and hidden_rate == "simulated" and needs_rate else None)
    few, silent, clamped = [], [], []   # imprecise or no measured rate; draws without variance
    for k, l in enumerate(spec.layers):
        N = l.size
        has_r = l.recurrent
        ff = 1.0 - rec_frac if has_r else 1.0
        if method == "kaiming":
            out[f"h{k}.W"] = rng.normal(0.0, gain / math.sqrt(n_pre), (n_pre, N))
            if has_r:
                out[f"h{k}.R"] = rng.normal(0.0, gain / math.sqrt(N), (N, N))
            hidden_rate_k = rate
        elif method == "micheli":
            p_hid = 0.5 * math.erfc(l.theta / math.sqrt(2.0))
            out[f"h{k}.W"] = rng.normal(0.0, math.sqrt(ff / (n_pre * rate)), (n_pre, N))
            if has_r:
                out[f"h{k}.R"] = rng.normal(0.0, math.sqrt(rec_frac / (N * p_hid)), (N, N))
            hidden_rate_k = p_hid
        else:
            a = float(np.mean(neuron_params[f"h{k}.alpha"]))
            b = None if l.tau_syn is None else math.exp(-spec.dt / l.tau_syn)
            ebar, ehat = psp_moments(a, b)
            sig_u = (l.theta - mu_u) / xi
            gaussian = 0.5 * math.erfc(xi / math.sqrt(2.0))

            def _draw(n: int, nu: float, frac: float, shape: tuple[int, int], name: str) -> np.ndarray:
                mu_w = frac * mu_u / (n * nu * ebar)
                var_w = frac * sig_u ** 2 / (n * nu * ehat) - mu_w ** 2
                if var_w <= 0:
                    clamped.append(name)
                return rng.normal(mu_w, math.sqrt(max(var_w, 1e-12)), shape)

            def _measured(W: np.ndarray, R: np.ndarray | None) -> float:
                nu, count = cal.rate(k, W, R)
                if count < CALIBRATION_MIN_SPIKES:
                    (few if count else silent).append(f"h{k}")
                return nu if count else gaussian

            out[f"h{k}.W"] = W = _draw(n_pre, rate, ff, (n_pre, N), f"h{k}.W")
            if has_r:
                nu_r = gaussian if cal is None else _measured(W, None)
                out[f"h{k}.R"] = _draw(N, nu_r, rec_frac, (N, N), f"h{k}.R")
            hidden_rate_k = gaussian
            if cal is not None and k + 1 < len(spec.layers):   # the readout's draw needs no rate
                hidden_rate_k = _measured(W, out.get(f"h{k}.R"))
                cal.add(k, W, out.get(f"h{k}.R"))
        n_pre, rate = N, hidden_rate_k
    if few or silent:
        warnings.warn(f"fluctuation init: in {CALIBRATION_MAX_SAMPLES} calibration samples "
                      + "; ".join(m for m in (
                          f"{', '.join(dict.fromkeys(few))} fired fewer than {CALIBRATION_MIN_SPIKES} spikes, so "
                          f"their measured rate is imprecise" if few else "",
                          f"{', '.join(dict.fromkeys(silent))} fired no spike, so their rate is the Gaussian "
                          f"estimate {0.5 * math.erfc(xi / math.sqrt(2.0)):.3g} per step" if silent else "") if m),
                      stacklevel=2)
    if clamped:
        warnings.warn(f"fluctuation init: for {', '.join(clamped)} the mean term mu_w^2 exceeds the target weight "
                      f"variance (mu_u = {mu_u:g} with a low presynaptic rate), so their weights are drawn with "
                      f"s.d. 1e-6 around the mean; raise mu_u or xi", stacklevel=2)
    out["out.W"] = rng.normal(0.0, 1.0 / math.sqrt(n_pre), (n_pre, spec.n_out))
    return out

