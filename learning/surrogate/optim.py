"""Adam (Kingma & Ba 2015) on a dict of numpy arrays, plus parameter clamping."""
from __future__ import annotations

import math

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
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        for name, g in grads.items():
            if trainable is not None and name not in trainable:
                continue
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            params[name] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def clamp_params(params: dict[str, np.ndarray], *, theta_min: float = 1e-3, decay_min: float = 1e-3,
                 decay_max: float = 1.0 - 1e-6) -> None:
    """Keep thresholds > 0 (>= theta_min) and decays alpha, beta in (0, 1) ([decay_min, decay_max])."""
    for name, p in params.items():
        if name.endswith(".theta"):
            np.maximum(p, theta_min, out=p)
        elif name.endswith(".alpha") or name.endswith(".beta"):
            np.clip(p, decay_min, decay_max, out=p)
