r"""Layered SNN with event-driven forward and sparse (active-set) or dense BPTT backward.

Model (per hidden layer; see `kernels.py` for the time convention)::

    S[t] = H(V[t]-theta);  I[t] = beta I[t-1] + W^T x[t] + R^T S[t];
    V[t+1] = alpha V[t] (1 - S[t]) + I[t];   readout U[t] = kappa U[t-1] + Wout^T S_L[t]

Backward recursion (reset factor (1-S) treated as a constant, "detached"; sigma[t] is
the band-truncated surrogate, 0 where |V-theta| >= B_th)::

    gS[t]  = dL/dS[t] from above (next layer W gI', readout Wout gU, regulariser)
             + R gI[t]                         (recurrent)
             [ - alpha V[t] gV[t+1]            only if detach_reset=False ]
    delta[t] = gS[t] * sigma[t]                  (non-zero only on the active set)
    gV[t]  = delta[t] + alpha (1 - S[t]) gV[t+1]     (leak path, cut at spikes)
    gI[t]  = gV[t+1] + beta gI[t+1]                   (synaptic-current path)
    dW += x[t] gI[t]^T,  dR += S[t] gI[t]^T,  dtheta -= delta[t]
    dalpha = sum_t delta[t] e_a[t],  e_a[t+1] = alpha(1-S[t]) e_a[t] + V[t](1-S[t])
    dbeta  = sum_t delta[t] e_b[t],  e_b[t+1] = alpha(1-S[t]) e_b[t] + f[t],
             f[t] = I[t-1] + beta f[t-1]

The two alpha/beta sums equal the usual adjoint sums sum_t gV[t+1] V[t](1-S[t]) and
sum_t gI[t] I[t-1] exactly (mixed forward/reverse mode), but need e_a, e_b only at
active entries, so they are carried forward and stored only there.

What the sparse method computes, exactly: between two consecutive "events" of a neuron
(active entries or spikes) delta = 0 and S = 0, so gV decays by exactly alpha per step
and gI[t] = gV[t+1] + beta gI[t+1] (event-free recursion, two multiply-adds). Before a
neuron's first active entry in reverse time both adjoints are exactly 0, so the pass
visits only *live* neurons (those with a stored entry later in the sample), active
entries, spike events and presynaptic events (dW[i, live] += x_i gI[live]); its
gradient EQUALS (up to float rounding) the dense BPTT
gradient of the same network when the dense pass uses the same band-truncated
surrogate. The only approximation relative to ordinary dense surrogate-gradient BPTT is
the truncation of the surrogate to |V - theta| < B_th (which is why B_th is a
hyper-parameter). This matches Perez-Nieves & Goodman (NeurIPS 2021, S3GD): their CUDA
backward (s3gd_s_backward_master) also carries delta between active steps with exact
powers of alpha (no leak term dropped); their model is feed-forward, non-trainable
alpha/theta, reset by subtraction (so no (1-S) cut), and stores a dense presynaptic
trace for dW. Our extensions (recurrence, synaptic current, trainable alpha/beta/theta,
reset-to-zero cut) are exact in the same sense. Memory: only input/hidden spike events
and the active entries (idx, V, sigma, e_a[, e_b]) are kept for backward.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from eventsim import checks

from . import kernels as K
from .errors import SurrogateConfigError, as_config_error, check_count, check_keys, check_range
from .events import EventBatch
from .network import NetworkSpec, init_neuron_params, param_names
from .optim import clamp_params, neuron_param_range

WEIGHT_DTYPES = ("float64", "float32")   # precision in which the kernels read W and R


@dataclass
class LayerRecord:
    """Forward record of one hidden layer (the data kept for backward)."""

    spk_ptr: np.ndarray
    spk_idx: np.ndarray
    spk_val: np.ndarray
    st_ptr: np.ndarray
    st_idx: np.ndarray
    st_v: np.ndarray
    st_sg: np.ndarray
    st_ea: np.ndarray
    st_eb: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.__dict__.values()))

    @property
    def n_entries(self) -> int:
        return int(self.st_idx.shape[0])

    @property
    def n_spikes(self) -> int:
        return int(self.spk_idx.shape[0])


@dataclass
class Regularizer:
    """Spike-count penalty: strength * sum_layers mean_{b,j} (count/T - target)^2.
    `target` is a rate in spikes per step (0..1)."""

    strength: float = 0.0
    target: float = 0.0


@dataclass
class GradResult:
    loss: float
    ce: float
    reg: float
    logits: np.ndarray
    grads: dict[str, np.ndarray]
    stats: dict = field(default_factory=dict)


def _checked_param(name: str, value) -> np.ndarray:
    """`value` as a float64 array, or `SurrogateConfigError` if it is not finite or (thresholds,
    decays) not in the range the trainer clamps it to."""
    rng = neuron_param_range(name)
    with as_config_error():
        return checks.in_range(f"param {name}", value, *rng) if rng else checks.finite(f"param {name}", value)


class SNN:
    """Parameters + forward/backward of a `NetworkSpec` network.

    `params` maps names from `network.param_names` to float64 arrays: 'hK.W'
    [n_pre, n_K], 'hK.R' [n_K, n_K], 'hK.alpha', 'hK.theta', 'hK.beta' [n_K], 'out.W'
    [n_L, n_out]. Weights must be finite, thresholds and decays lie in the ranges the
    trainer clamps them to (`optim.neuron_param_range`); parameters derived from `spec`
    (params=None) are clamped into them."""

    def __init__(self, spec: NetworkSpec, params: dict[str, np.ndarray] | None = None, *,
                 init: str = "kaiming", seed: int = 0, input_rate: float = 0.05, **init_kw) -> None:
        self.spec = spec
        if params is None:
            from .init import init_weights
            rng = np.random.default_rng(seed)
            params = init_neuron_params(spec, rng)
            clamp_params(params)
            params.update(init_weights(spec, init, rng, input_rate=input_rate, neuron_params=params, **init_kw))
        check_keys("parameter", params, param_names(spec))
        missing = set(param_names(spec)) - set(params)
        if missing:
            raise SurrogateConfigError(f"params missing {sorted(missing)}; required {param_names(spec)}")
        self.params = {k: np.ascontiguousarray(_checked_param(k, v)) for k, v in params.items()}
        self._check_shapes()

    def _check_shapes(self) -> None:
        spec, p = self.spec, self.params
        n_pre = spec.n_in
        for k, l in enumerate(spec.layers):
            want = {f"h{k}.W": (n_pre, l.size), f"h{k}.alpha": (l.size,), f"h{k}.theta": (l.size,)}
            if l.recurrent:
                want[f"h{k}.R"] = (l.size, l.size)
            if l.tau_syn is not None:
                want[f"h{k}.beta"] = (l.size,)
            for name, shp in want.items():
                if p[name].shape != shp:
                    raise SurrogateConfigError(f"param {name} has shape {p[name].shape}; required {shp}")
            n_pre = l.size
        if p["out.W"].shape != (n_pre, spec.n_out):
            raise SurrogateConfigError(f"param out.W has shape {p['out.W'].shape}; required {(n_pre, spec.n_out)}")

    def nonfinite_params(self, weight_dtype: str = "float64") -> list[str]:
        """Names of the parameters with a NaN/inf as the kernels read them: W and R of the
        hidden layers in `weight_dtype` (a float64 weight above 3.4e38 is inf in float32),
        the others in float64."""
        dt = np.dtype(weight_dtype)
        read_as = {f"h{k}.{m}": dt for k in range(len(self.spec.layers)) for m in ("W", "R")}
        with np.errstate(over="ignore"):
            return [n for n, p in self.params.items()
                    if not np.all(np.isfinite(p.astype(read_as.get(n, np.float64), copy=False)))]

    # ------------------------------------------------------------------ forward
    def _check_batch(self, batch: EventBatch) -> None:
        if batch.batch_size < 1:
            raise SurrogateConfigError("batch is empty; allowed batch_size >= 1")
        if batch.n_units != self.spec.n_in:
            raise SurrogateConfigError(
                f"batch.n_units={batch.n_units} does not match network n_in={self.spec.n_in}; must be equal")
        if batch.n_steps != self.spec.n_steps:
            raise SurrogateConfigError(
                f"batch.n_steps={batch.n_steps} does not match network n_steps={self.spec.n_steps}; must be equal")
        if batch.labels.size and (batch.labels.min() < 0 or batch.labels.max() >= self.spec.n_out):
            raise SurrogateConfigError(
                f"labels in [{batch.labels.min()}, {batch.labels.max()}]; allowed [0, {self.spec.n_out - 1}]")

    def layer_weights(self, weight_dtype: str = "float64") -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, R) of each hidden layer as the kernels read them: the parameters themselves
        for 'float64'; float32 copies for 'float32', which halves the bytes each input event
        (a row of W) and each active entry (a row of R) reads. Gradients, the optimiser and
        the neuron state stay float64 either way."""
        if weight_dtype not in WEIGHT_DTYPES:
            raise SurrogateConfigError(f"weight_dtype={weight_dtype!r} is invalid; allowed {WEIGHT_DTYPES}")
        dt = np.dtype(weight_dtype)
        out = []
        for k, l in enumerate(self.spec.layers):
            W = self.params[f"h{k}.W"]
            R = self.params[f"h{k}.R"] if l.recurrent else np.zeros((0, 0))
            with np.errstate(over="ignore"):  # an overflow to inf is reported by `nonfinite_params`
                out.append((W.astype(dt, copy=False), R.astype(dt, copy=False)))
        return out

    def forward(self, batch: EventBatch, *, band: float = math.inf, store_all: bool = True,
                smooth_k: float | None = None, min_active: float = 0.0,
                band_max: float = math.inf, fallback: bool = False,
                weight_dtype: str = "float64") -> tuple[list[LayerRecord], np.ndarray]:
        """Run the network; returns per-layer records and readout U [B, T, n_out].

        Empty-active-set handling (sparse mode): if a layer stores fewer than
        max(1, min_active * B*T*N) entries (e.g. all neurons far below threshold, where
        the band-truncated surrogate is 0 everywhere and no gradient would flow), its
        band is doubled and the layer re-recorded (spikes are unchanged: the band only
        selects what is stored), up to `band_max`. The band used per layer is in
        `self.last_bands`. fallback: each neuron that never comes within the band in a
        sample also stores its closest approach to threshold (see `kernels.layer_forward`),
        so silent neurons keep a gradient; dense records use the same entries.
        weight_dtype: see `layer_weights`."""
        return self._forward(batch, band, store_all, smooth_k, min_active, band_max, fallback,
                             self.layer_weights(weight_dtype))

    def _forward(self, batch, band, store_all, smooth_k, min_active, band_max, fallback, weights):
        self._check_batch(batch)
        band = check_range("band (B_th)", band, 0.0, math.inf, lo_open=True)
        min_active = check_range("min_active", min_active, 0.0, 1.0)
        band_max = check_range("band_max", band_max, 0.0, math.inf, lo_open=True)
        if smooth_k is not None:
            check_range("smooth_k", smooth_k, 0.0, math.inf, lo_open=True, hi_open=True)
        spec, p = self.spec, self.params
        B, T = batch.batch_size, spec.n_steps
        sg = spec.surrogate
        smooth = smooth_k is not None
        recs: list[LayerRecord] = []
        ptr, idx, val = batch.ptr, batch.idx, batch.val
        self.last_bands = []
        for k, l in enumerate(spec.layers):
            W, R = weights[k]
            beta = p[f"h{k}.beta"] if l.tau_syn is not None else np.zeros(l.size)
            bk = band
            need = max(1, int(math.ceil(min_active * B * T * l.size)))
            while True:
                out = K.layer_forward(B, T, ptr, idx, val, W, R, l.recurrent, p[f"h{k}.alpha"],
                                      p[f"h{k}.theta"], beta, l.tau_syn is not None, sg.code, float(sg.slope),
                                      float(sg.scale), bk, bool(store_all or smooth), smooth,
                                      float(smooth_k or 0.0), bool(fallback))
                rec = LayerRecord(*out)
                if store_all or smooth or rec.n_entries >= need or bk >= band_max or math.isinf(bk):
                    break
                bk = min(2.0 * bk, band_max)
            self.last_bands.append(bk)
            recs.append(rec)
            ptr, idx, val = rec.spk_ptr, rec.spk_idx, rec.spk_val
        U = K.readout_forward(B, T, ptr, idx, val, p["out.W"], spec.kappa)
        return recs, U

    def logits(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.spec.readout == "max":
            am = U.argmax(axis=1)
            return np.take_along_axis(U, am[:, None, :], axis=1)[:, 0, :], am
        if self.spec.readout == "sum":
            return U.sum(axis=1), None
        return U.mean(axis=1), None

    def predict(self, batch: EventBatch, weight_dtype: str = "float64") -> np.ndarray:
        """Predicted class per sample (weight_dtype: see `layer_weights`). Nothing is stored for
        backward, so the band is never widened (band_max = band: one pass per layer)."""
        _, U = self.forward(batch, band=1e-9, store_all=False, band_max=1e-9, weight_dtype=weight_dtype)
        return self.logits(U)[0].argmax(axis=1)

    # ------------------------------------------------------------------ backward
    def loss_and_grad(self, batch: EventBatch, *, method: str = "sparse", band: float = 0.1,
                      reg: Regularizer | None = None, smooth_k: float | None = None, min_active: float = 0.0,
                      band_max: float = math.inf, n_threads: int = 1, fallback: bool = False,
                      weight_dtype: str = "float64") -> GradResult:
        """Cross-entropy (+ spike regulariser) and its surrogate gradient.

        method='sparse' stores/visits only |V-theta| < band; method='dense' stores every
        (t, j) and uses the surrogate truncated to the same band (band=inf: ordinary
        BPTT). smooth_k replaces the Heaviside by sigmoid(smooth_k * x) in the forward
        (test-only; forces dense). min_active/band_max: empty-active-set handling (see
        `forward`). fallback: closest-approach entries for neurons that miss the band (see
        `forward`). n_threads > 1 runs the backward over sample chunks in parallel.
        weight_dtype: the precision in which forward and backward read W and R (see
        `layer_weights`); the gradient is that of the network with those weights."""
        if method not in ("sparse", "dense"):
            raise SurrogateConfigError(f"method={method!r} is invalid; allowed ('sparse', 'dense')")
        n_threads = check_count("n_threads", n_threads)
        spec, p = self.spec, self.params
        reg = reg or Regularizer()
        B, T = batch.batch_size, spec.n_steps
        t0, c0 = time.perf_counter(), time.process_time()
        weights = self.layer_weights(weight_dtype)
        recs, U = self._forward(batch, band, method == "dense", smooth_k, min_active, band_max, fallback, weights)
        t1, c1 = time.perf_counter(), time.process_time()
        logits, am = self.logits(U)
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite loss is reported by the caller
            z = logits - logits.max(axis=1, keepdims=True)
            lse = np.log(np.exp(z).sum(axis=1))
            ce = float(np.mean(lse - z[np.arange(B), batch.labels]))
            dlog = np.exp(z - lse[:, None])
        dlog[np.arange(B), batch.labels] -= 1.0
        dlog /= B
        gU = np.zeros_like(U)
        if spec.readout == "max":
            np.put_along_axis(gU, am[:, None, :], dlog[:, None, :], axis=1)
        else:
            gU[:] = dlog[:, None, :] / (T if spec.readout == "mean" else 1.0)
        top = recs[-1]
        g_out, gs = K.readout_backward(B, T, gU, top.spk_ptr, top.spk_idx, top.spk_val, top.st_ptr,
                                       top.st_idx, p["out.W"], spec.kappa)
        grads: dict[str, np.ndarray] = {"out.W": g_out}
        reg_val = 0.0
        for k in range(len(spec.layers) - 1, -1, -1):
            l, rec = spec.layers[k], recs[k]
            if reg.strength > 0:
                dev = K.sample_counts(B, T, l.size, rec.spk_ptr, rec.spk_idx, rec.spk_val) / T - reg.target
                reg_val += reg.strength * float(np.mean(dev ** 2))
                # in place: gs is this call's own array (the readout's or the layer above's gs_low)
                K.add_per_sample(gs, B, T, l.size, rec.st_ptr, rec.st_idx, dev, reg.strength * 2.0 / (T * B * l.size))
            if k == 0:
                ip, ii, iv = batch.ptr, batch.idx, batch.val
                lp, li, has_low = np.zeros(1, np.int64), np.zeros(0, np.int32), False
            else:
                low = recs[k - 1]
                ip, ii, iv = low.spk_ptr, low.spk_idx, low.spk_val
                lp, li, has_low = low.st_ptr, low.st_idx, True
            W, R = weights[k]
            beta = p[f"h{k}.beta"] if l.tau_syn is not None else np.zeros(l.size)
            dW, dR, dth, dal, dbe, gs_low = K.layer_backward(
                B, T, rec.spk_ptr, rec.spk_idx, rec.spk_val, rec.st_ptr, rec.st_idx, rec.st_v, rec.st_sg,
                rec.st_ea, rec.st_eb, np.ascontiguousarray(gs), ip, ii, iv, lp, li, has_low, W, R,
                l.recurrent, p[f"h{k}.alpha"], p[f"h{k}.theta"], beta, l.tau_syn is not None,
                smooth_k is not None, float(smooth_k or 0.0), spec.detach_reset, n_threads=n_threads)
            grads[f"h{k}.W"], grads[f"h{k}.alpha"], grads[f"h{k}.theta"] = dW, dal, dth
            if l.recurrent:
                grads[f"h{k}.R"] = dR
            if l.tau_syn is not None:
                grads[f"h{k}.beta"] = dbe
            gs = gs_low
        t2, c2 = time.perf_counter(), time.process_time()
        stats = {
            "t_forward_s": t1 - t0, "t_backward_s": t2 - t1,  # wall time
            "cpu_forward_s": c1 - c0, "cpu_backward_s": c2 - c1,  # CPU time of the process (all threads)
            "stored_entries": [r.n_entries for r in recs], "spikes": [r.n_spikes for r in recs],
            "bytes_backward": int(batch.nbytes + U.nbytes + sum(r.nbytes for r in recs)),
            "grad_norms": layer_grad_norms(grads), "bands": list(self.last_bands),
            "neuron_spikes": [np.bincount(r.spk_idx, weights=r.spk_val, minlength=l.size)
                              for r, l in zip(recs, spec.layers)],
        }
        return GradResult(ce + reg_val, ce, reg_val, logits, grads, stats)


def layer_grad_norms(grads: dict[str, np.ndarray]) -> dict[str, float]:
    """L2 norm of the gradient per layer prefix ('h0', 'h1', ..., 'out')."""
    acc: dict[str, float] = {}
    for name, g in grads.items():
        pre = name.split(".")[0]
        acc[pre] = acc.get(pre, 0.0) + K.sum_squares(np.ascontiguousarray(g).reshape(-1))
    return {k: math.sqrt(v) for k, v in acc.items()}
