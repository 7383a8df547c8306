"""Vectorised dense BPTT reference (numpy/BLAS over the batch), for speed comparisons.

It consumes the dense records produced by `SNN.forward(store_all=True)` (every (b, t, j)
stored, in order), reshapes them to [B, T, N] arrays (done outside the timed region, as a
dense framework would hold them after its forward pass) and runs the same recursion as
`kernels.layer_backward` with matrix products: per step ``gI @ R.T`` for the recurrent
path, and one [B*T, n_pre]^T @ [B*T, N] product per weight matrix.
"""
from __future__ import annotations

import time

import numpy as np

from .events import events_to_dense
from .model import SNN, LayerRecord


def to_dense(model: SNN, batch, recs: list[LayerRecord]) -> dict:
    """[B, T, N] arrays of V, sigma, e_a, e_b, S per layer and the dense input."""
    B, T = batch.batch_size, model.spec.n_steps
    out = {"x": batch.to_dense(), "layers": []}
    for l, r in zip(model.spec.layers, recs):
        if r.n_entries != B * T * l.size:
            raise ValueError("to_dense needs records from forward(store_all=True)")
        shp = (B, T, l.size)
        out["layers"].append({"V": r.st_v.reshape(shp), "sg": r.st_sg.reshape(shp), "ea": r.st_ea.reshape(shp),
                              "eb": r.st_eb.reshape(shp) if l.tau_syn is not None else None,
                              "S": events_to_dense(r.spk_ptr, r.spk_idx, r.spk_val, B, T, l.size)})
    return out


def blas_backward(model: SNN, dense: dict, gU: np.ndarray) -> tuple[dict[str, np.ndarray], float]:
    """Gradients (binary forward, detach_reset as in the spec) and backward CPU time (s,
    process time over all threads, so a multi-threaded BLAS is not flattered)."""
    spec, p = model.spec, model.params
    t0 = time.process_time()
    B, T, n_out = gU.shape
    kappa = spec.kappa
    g = np.zeros((B, n_out))
    gUt = np.empty_like(gU)
    for t in range(T - 1, -1, -1):
        g = gU[:, t] + kappa * g
        gUt[:, t] = g
    top = dense["layers"][-1]
    grads = {"out.W": top["S"].reshape(B * T, -1).T @ gUt.reshape(B * T, n_out)}
    gS_ext = gUt @ p["out.W"].T
    for k in range(len(spec.layers) - 1, -1, -1):
        l, d = spec.layers[k], dense["layers"][k]
        N = l.size
        alpha, beta = p[f"h{k}.alpha"], p.get(f"h{k}.beta")
        R = p.get(f"h{k}.R")
        gI_all = np.empty((B, T, N))
        gV = np.zeros((B, N))
        gI = np.zeros((B, N))
        dth, dal, dbe = np.zeros(N), np.zeros(N), np.zeros(N)
        for t in range(T - 1, -1, -1):
            gI = gV + beta * gI if beta is not None else gV
            gI_all[:, t] = gI
            gs = gS_ext[:, t] + (gI @ R.T if R is not None else 0.0)
            if not spec.detach_reset:
                gs = gs - alpha * d["V"][:, t] * gV
            delta = gs * d["sg"][:, t]
            dth -= delta.sum(0)
            dal += (delta * d["ea"][:, t]).sum(0)
            if beta is not None:
                dbe += (delta * d["eb"][:, t]).sum(0)
            gV = delta + alpha * (1.0 - d["S"][:, t]) * gV
        x = dense["x"] if k == 0 else dense["layers"][k - 1]["S"]
        G = gI_all.reshape(B * T, N)
        grads[f"h{k}.W"] = x.reshape(B * T, -1).T @ G
        if R is not None:
            grads[f"h{k}.R"] = d["S"].reshape(B * T, N).T @ G
        grads[f"h{k}.alpha"], grads[f"h{k}.theta"] = dal, dth
        if beta is not None:
            grads[f"h{k}.beta"] = dbe
        if k > 0:
            gS_ext = (G @ p[f"h{k}.W"].T).reshape(B, T, -1)
    return grads, time.process_time() - t0


def readout_grad(model: SNN, batch, U: np.ndarray) -> np.ndarray:
    """dL/dU [B, T, n_out] of the (unregularised) cross-entropy, as in `SNN.loss_and_grad`."""
    B, T, _ = U.shape
    logits, am = model.logits(U)
    z = logits - logits.max(axis=1, keepdims=True)
    pr = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pr[np.arange(B), batch.labels] -= 1.0
    pr /= B
    gU = np.zeros_like(U)
    if model.spec.readout == "max":
        np.put_along_axis(gU, am[:, None, :], pr[:, None, :], axis=1)
    else:
        gU[:] = pr[:, None, :] / (T if model.spec.readout == "mean" else 1.0)
    return gU
