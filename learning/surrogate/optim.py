"""Adam (Kingma & Ba 2015) on a dict of numpy arrays, plus parameter clamping."""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from .errors import check_range


class Adam:
    """Adam with bias correction; `step` updates `params` in place."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr = check_range("lr", lr, 0.0, math.inf, lo_open=True, hi_open=True)
        self.beta1 = check_range("beta1", beta1, 0.0, 1.0, hi_open=True)
        self.beta2 = check_range("beta2", beta2, 0.0, 1.0, hi_open=True)
        self.eps = check_range("eps", eps, 0.0, math.inf, lo_open=True, hi_open=True)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
             trainable: set[str] | None = None) -> None:
        """In place, with no temporaries: the parameters and moments are touched once
        per step (numpy temporaries the size of every weight matrix churned the heap and
        made the next forward pass page-fault and miss the cache)."""
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        for name, g in grads.items():
            if trainable is not None and name not in trainable:
                continue
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            _adam_update(params[name].reshape(-1), np.ascontiguousarray(g).reshape(-1), m.reshape(-1),
                         v.reshape(-1), self.lr, self.beta1, self.beta2, self.eps, c1, c2)


@nb.njit(cache=True, error_model="numpy")  # IEEE division (no zero check), so the loop vectorises
def _adam_update(p, g, m, v, lr, b1, b2, eps, c1, c2):
    """Same arithmetic, in the same order, as the textbook numpy expression
    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g g;  p -= lr (m/c1) / (sqrt(v/c2) + eps)."""
    for k in range(p.shape[0]):
        mk = m[k] * b1 + (1.0 - b1) * g[k]
        vk = v[k] * b2 + (1.0 - b2) * g[k] * g[k]
        m[k] = mk
        v[k] = vk
        p[k] -= lr * (mk / c1) / (math.sqrt(vk / c2) + eps)


THETA_MIN = 1e-3                        # the ranges clamp_params keeps neuron parameters in, which
DECAY_MIN, DECAY_MAX = 1e-3, 1.0 - 1e-6  # are also the allowed ranges of a model's parameters


def neuron_param_range(name: str, theta_min: float = THETA_MIN, decay_min: float = DECAY_MIN,
                       decay_max: float = DECAY_MAX) -> tuple[float, float] | None:
    """[low, high] of a threshold ('*.theta') or decay ('*.alpha', '*.beta'); None for weights."""
    if name.endswith(".theta"):
        return theta_min, math.inf
    if name.endswith((".alpha", ".beta")):
        return decay_min, decay_max
    return None


def clamp_params(params: dict[str, np.ndarray], *, theta_min: float = THETA_MIN, decay_min: float = DECAY_MIN,
                 decay_max: float = DECAY_MAX) -> None:
    """Keep thresholds > 0 (>= theta_min) and decays alpha, beta in (0, 1) ([decay_min, decay_max])."""
    for name, p in params.items():
        rng = neuron_param_range(name, theta_min, decay_min, decay_max)
        if rng is not None:
            np.clip(p, *rng, out=p)
