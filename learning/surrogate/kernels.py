"""Numba kernels: event-driven forward and active-set backward for one LIF layer,
plus the leaky readout. Shared by the sparse method and the dense BPTT reference.

Conventions (one hidden layer, N neurons, steps t = 0..T-1, V[0] = 0, I[-1] = 0):

    S[t]   = H(V[t] - theta)                         (or sigmoid(k(V-theta)) in smooth mode)
    J[t]   = W^T x[t] + R^T S[t]                     x = presynaptic events at step t
    I[t]   = beta * I[t-1] + J[t]                    (I[t] = J[t] without synaptic current)
    V[t+1] = alpha * V[t] * (1 - S[t]) + I[t]        reset factor (1-S) detached by default

Record layout: CSR over ``bt = b*T + t``. Spike events (idx, val); *stored entries*
(idx, V, sg, ea, eb) where sg = band-truncated surrogate, ea = dV/dalpha and eb =
dV/dbeta are forward-mode traces along the within-neuron path (reset factor held fixed).
Sparse mode stores only entries with |V - theta| < B_th; dense mode stores every (t, j).
See `model.py` for the derivation of the backward pass.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from .surrogates import surrogate_value


@nb.njit(cache=True)
def _grow_i(a: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(max(2 * a.shape[0], n), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True)
def _grow_f(a: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(max(2 * a.shape[0], n), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def layer_forward(B, T, in_ptr, in_idx, in_val, W, R, has_rec, alpha, theta, beta, has_syn,
                  sg_kind, sg_slope, sg_scale, band, store_all, smooth, smooth_k):
    """Simulate one LIF layer for a batch. Only presynaptic events touch weights (a row
    of W per event). Returns (spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg,
    st_ea, st_eb); st_eb is empty without synaptic current."""
    N = W.shape[1]
    cap_s = max(16, B * T * N // 20)
    cap_a = B * T * N if store_all else max(16, B * T * N // 10)
    spk_ptr = np.zeros(B * T + 1, np.int64)
    spk_idx = np.empty(cap_s, np.int32)
    spk_val = np.empty(cap_s, np.float64)
    st_ptr = np.zeros(B * T + 1, np.int64)
    st_idx = np.empty(cap_a, np.int32)
    st_v = np.empty(cap_a, np.float64)
    st_sg = np.empty(cap_a, np.float64)
    st_ea = np.empty(cap_a, np.float64)
    st_eb = np.empty(cap_a if has_syn else 0, np.float64)
    ns = 0
    na = 0
    V = np.zeros(N)
    I = np.zeros(N)
    S = np.zeros(N)
    ea = np.zeros(N)
    eb = np.zeros(N)
    f = np.zeros(N)
    last = np.zeros(N, np.int64)
    for b in range(B):
        V[:] = 0.0
        I[:] = 0.0
        ea[:] = 0.0
        eb[:] = 0.0
        f[:] = 0.0
        last[:] = -1
        for t in range(T):
            bt = b * T + t
            if na + N > st_idx.shape[0]:
                st_idx = _grow_i(st_idx, na + N)
                st_v = _grow_f(st_v, na + N)
                st_sg = _grow_f(st_sg, na + N)
                st_ea = _grow_f(st_ea, na + N)
                if has_syn:
                    st_eb = _grow_f(st_eb, na + N)
            if ns + N > spk_idx.shape[0]:
                spk_idx = _grow_i(spk_idx, ns + N)
                spk_val = _grow_f(spk_val, ns + N)
            for j in range(N):
                x = V[j] - theta[j]
                if smooth:
                    s = 1.0 / (1.0 + math.exp(-smooth_k * x))
                    g = smooth_k * s * (1.0 - s)
                else:
                    s = 1.0 if x >= 0.0 else 0.0
                    g = surrogate_value(sg_kind, x, sg_slope, sg_scale, float(t - last[j]))
                inb = abs(x) < band
                if store_all or inb:
                    st_idx[na] = j
                    st_v[na] = V[j]
                    st_sg[na] = g if inb else 0.0
                    st_ea[na] = ea[j]
                    if has_syn:
                        st_eb[na] = eb[j]
                    na += 1
                S[j] = s
                if s != 0.0:
                    spk_idx[ns] = j
                    spk_val[ns] = s
                    ns += 1
                    if s >= 1.0:
                        last[j] = t
            st_ptr[bt + 1] = na
            spk_ptr[bt + 1] = ns
            # synaptic current: f[t] = dI[t]/dbeta = I[t-1] + beta f[t-1]
            if has_syn:
                for j in range(N):
                    f[j] = I[j] + beta[j] * f[j]
                    I[j] = beta[j] * I[j]
            else:
                I[:] = 0.0
            for e in range(in_ptr[bt], in_ptr[bt + 1]):
                i = in_idx[e]
                w = in_val[e]
                for j in range(N):
                    I[j] += w * W[i, j]
            if has_rec:
                for e in range(spk_ptr[bt], ns):
                    k = spk_idx[e]
                    w = spk_val[e]
                    for j in range(N):
                        I[j] += w * R[k, j]
            for j in range(N):
                keep = 1.0 - S[j]
                a = alpha[j] * keep
                ea[j] = a * ea[j] + V[j] * keep
                if has_syn:
                    eb[j] = a * eb[j] + f[j]
                V[j] = a * V[j] + I[j]
    return (spk_ptr, spk_idx[:ns].copy(), spk_val[:ns].copy(), st_ptr, st_idx[:na].copy(),
            st_v[:na].copy(), st_sg[:na].copy(), st_ea[:na].copy(), st_eb[: (na if has_syn else 0)].copy())


@nb.njit(cache=True, inline="always")
def _phi(n: int, la: float, lmax: float, lr: float, em1: float) -> float:
    """sum_{m=1}^{n} b^(m-1) a^(n-m) for decays a = e^la, b = e^lb, written without
    cancellation: lmax = max(la, lb), lr = -|la - lb|, em1 = expm1(lr)."""
    if n == 1:
        return 1.0
    if lr == 0.0:
        return n * math.exp((n - 1) * la)
    return math.exp((n - 1) * lmax) * math.expm1(n * lr) / em1


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def layer_backward(B, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                   gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                   alpha, theta, beta, has_syn, smooth, smooth_k, detach_reset):
    """Reverse sweep visiting only stored entries, spike events and presynaptic events.

    gs_ext[a] = dL/dS at stored entry a coming from outside the layer (next layer,
    readout, regulariser). Each neuron keeps a lazy adjoint state (c = dL/dV[tref],
    d = dL/dI[tref], tref); between its events dL/dV decays by alpha per step and
    dL/dI by beta (closed form `_phi`). Returns dW, dR, dtheta, dalpha, dbeta and
    gs_low (dL/dS of the presynaptic layer at its stored entries, if has_low)."""
    n_in = W.shape[0]
    N = W.shape[1]
    dW = np.zeros((n_in, N))
    dR = np.zeros_like(R)
    dth = np.zeros(N)
    dal = np.zeros(N)
    dbe = np.zeros(N)
    gs_low = np.zeros(low_idx.shape[0] if has_low else 0)
    c = np.zeros(N)
    d = np.zeros(N)
    tref = np.zeros(N, np.int64)
    gI = np.zeros(N)
    la = np.log(alpha)
    lb = np.log(beta) if has_syn else np.zeros(N)
    lmax = np.maximum(la, lb)
    lr = -np.abs(la - lb)
    em1 = np.expm1(lr)
    for b in range(B):
        c[:] = 0.0
        d[:] = 0.0
        tref[:] = T
        for t in range(T - 1, -1, -1):
            bt = b * T + t
            # dL/dI[t] for every neuron from the lazy states (all at steps > t)
            for j in range(N):
                if c[j] == 0.0 and d[j] == 0.0:
                    gI[j] = 0.0
                    continue
                n = tref[j] - t
                if n == 1:
                    gI[j] = c[j] + beta[j] * d[j] if has_syn else c[j]
                elif has_syn:
                    gI[j] = c[j] * _phi(n, la[j], lmax[j], lr[j], em1[j]) + math.exp(n * lb[j]) * d[j]
                else:
                    gI[j] = c[j] * math.exp((n - 1) * la[j])
            for e in range(in_ptr[bt], in_ptr[bt + 1]):
                i = in_idx[e]
                w = in_val[e]
                for j in range(N):
                    dW[i, j] += w * gI[j]
            if has_rec:
                for e in range(spk_ptr[bt], spk_ptr[bt + 1]):
                    k = spk_idx[e]
                    w = spk_val[e]
                    for j in range(N):
                        dR[k, j] += w * gI[j]
            if has_low:
                for a in range(low_ptr[bt], low_ptr[bt + 1]):
                    i = low_idx[a]
                    acc = 0.0
                    for j in range(N):
                        acc += W[i, j] * gI[j]
                    gs_low[a] += acc
            for a in range(st_ptr[bt], st_ptr[bt + 1]):
                j = st_idx[a]
                gvn = 0.0
                if tref[j] < T:
                    n = tref[j] - t
                    gvn = c[j] if n == 1 else c[j] * math.exp((n - 1) * la[j])
                x = st_v[a] - theta[j]
                if smooth:
                    s = 1.0 / (1.0 + math.exp(-smooth_k * x))
                else:
                    s = 1.0 if x >= 0.0 else 0.0
                g = gs_ext[a]
                if has_rec:
                    for k in range(N):
                        g += R[j, k] * gI[k]
                if not detach_reset:
                    g -= alpha[j] * st_v[a] * gvn
                delta = g * st_sg[a]
                dth[j] -= delta
                dal[j] += delta * st_ea[a]
                if has_syn:
                    dbe[j] += delta * st_eb[a]
                c[j] = delta + alpha[j] * (1.0 - s) * gvn
                d[j] = gI[j]
                tref[j] = t
            for e in range(spk_ptr[bt], spk_ptr[bt + 1]):
                j = spk_idx[e]
                if tref[j] != t:  # spike outside the stored set: surrogate is 0 here
                    gvn = 0.0
                    if tref[j] < T:
                        n = tref[j] - t
                        gvn = c[j] if n == 1 else c[j] * math.exp((n - 1) * la[j])
                    c[j] = alpha[j] * (1.0 - spk_val[e]) * gvn
                    d[j] = gI[j]
                    tref[j] = t
    return dW, dR, dth, dal, dbe, gs_low


@nb.njit(cache=True)
def readout_forward(B, T, spk_ptr, spk_idx, spk_val, Wout, kappa):
    """U[t] = kappa*U[t-1] + Wout^T S[t] (event-driven); returns U [B, T, n_out]."""
    n_out = Wout.shape[1]
    U = np.zeros((B, T, n_out))
    u = np.zeros(n_out)
    for b in range(B):
        u[:] = 0.0
        for t in range(T):
            bt = b * T + t
            for o in range(n_out):
                u[o] *= kappa
            for e in range(spk_ptr[bt], spk_ptr[bt + 1]):
                k = spk_idx[e]
                w = spk_val[e]
                for o in range(n_out):
                    u[o] += w * Wout[k, o]
            U[b, t, :] = u
    return U


@nb.njit(cache=True)
def readout_backward(B, T, gU, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, Wout, kappa):
    """Given direct dL/dU [B, T, n_out], return dWout and dL/dS at the last hidden
    layer's stored entries (aligned with st_idx)."""
    n_out = Wout.shape[1]
    dWout = np.zeros_like(Wout)
    gs = np.zeros(st_idx.shape[0])
    g = np.zeros(n_out)
    for b in range(B):
        g[:] = 0.0
        for t in range(T - 1, -1, -1):
            bt = b * T + t
            for o in range(n_out):
                g[o] = gU[b, t, o] + kappa * g[o]
            for e in range(spk_ptr[bt], spk_ptr[bt + 1]):
                k = spk_idx[e]
                w = spk_val[e]
                for o in range(n_out):
                    dWout[k, o] += w * g[o]
            for a in range(st_ptr[bt], st_ptr[bt + 1]):
                k = st_idx[a]
                acc = 0.0
                for o in range(n_out):
                    acc += Wout[k, o] * g[o]
                gs[a] = acc
    return dWout, gs
