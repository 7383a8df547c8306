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


# Weight-gradient entries (n_in*N + N*N) up to which a layer's backward accumulates dW/dR
# in per-sample slot-ordered buffers (each flushed as far as the sample wrote it) instead of
# the gI history; measured crossover (n_in 700, batch 16): between N=200 and N=400. Rechecked
# on trained FSDD networks after the flush was narrowed (2026-11-23): buffering still wins at
# N=256 (history 1.05-1.10x slower) and loses at N=1000 (2x slower).
BUFFER_MAX = 1 << 18

# Entries of the gI history (see `_backward_samples`) after which the weight gradients are
# formed from it and it is emptied, at the end of a sample: HIST_MAX or HIST_PER_GRAD times
# the entries of dW and dR, whichever is larger. This bounds the history (kept in the weights'
# precision: 1 MiB at the floor in float64, 512 KiB in float32) by that many entries plus one
# sample's T*N, per thread's chunk of samples with n_threads > 1, instead of letting it grow
# with the batch. Each emptying passes once over the
# rows of dW and dR that have events, which is why the bound grows with them: at 1000 hidden
# neurons a fixed 2 MiB made the backward 6-8% slower, and 1 MiB 10-12% (2026-11-24, batch
# 16 and 32, 700 inputs); at 400, 1 MiB and 2 MiB were level with no bound within noise.
HIST_MAX = 1 << 17
HIST_PER_GRAD = 0.25


@nb.njit(cache=True)
def _grow(a: np.ndarray, n: int) -> np.ndarray:
    """A copy of a with room for at least n entries (capacity doubled at least)."""
    out = np.empty(max(2 * a.shape[0], n), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True)
def _room(need, has_syn, st_idx, st_v, st_sg, st_ea, st_eb):
    """The stored-entry arrays, grown if they hold fewer than `need` entries."""
    if need <= st_idx.shape[0]:
        return st_idx, st_v, st_sg, st_ea, st_eb
    return (_grow(st_idx, need), _grow(st_v, need), _grow(st_sg, need), _grow(st_ea, need),
            _grow(st_eb, need) if has_syn else st_eb)


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def _add_rows(I, M, idx, val, e0, e1):
    """I += sum over events e in [e0, e1) of val[e] * M[idx[e], :]. Four events per pass
    over I, so I is loaded and stored once per four rows of M (a quarter less time
    than one row per pass at 400 neurons)."""
    e = e0
    while e + 4 <= e1:
        w0, w1, w2, w3 = val[e], val[e + 1], val[e + 2], val[e + 3]
        r0, r1, r2, r3 = M[idx[e]], M[idx[e + 1]], M[idx[e + 2]], M[idx[e + 3]]
        for j in range(I.shape[0]):
            I[j] += (w0 * r0[j] + w1 * r1[j]) + (w2 * r2[j] + w3 * r3[j])
        e += 4
    while e < e1:
        w = val[e]
        r = M[idx[e]]
        for j in range(I.shape[0]):
            I[j] += w * r[j]
        e += 1


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def layer_forward(B, T, in_ptr, in_idx, in_val, W, R, has_rec, alpha, theta, beta, has_syn,
                  sg_kind, sg_slope, sg_scale, band, store_all, smooth, smooth_k, fallback=False):
    """Simulate one LIF layer for a batch. Only presynaptic events touch weights (a row
    of W per event). Returns (spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg,
    st_ea, st_eb); st_eb is empty without synaptic current.

    fallback: a neuron whose V never comes within the band during a sample gets the
    surrogate at its closest approach to threshold (one entry per such sample and neuron;
    in dense records the surrogate of that entry is set), so a silent neuron still learns."""
    N = W.shape[1]
    cap_s = max(16, B * T * N // 64)  # grown by doubling when needed
    cap_a = B * T * N if store_all else max(16, B * T * N // 64)
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
    track = fallback and not smooth
    quick = not (smooth or store_all)
    hits = np.zeros(N, np.int64)      # in-band steps of each neuron in this sample
    best_x = np.full(N, np.inf)       # its closest approach |V - theta| ...
    best_t = np.zeros(N, np.int64)    # ... the step, and the state there
    best_v = np.zeros(N)
    best_ea = np.zeros(N)
    best_eb = np.zeros(N)
    best_dt = np.zeros(N)
    for b in range(B):
        V[:] = 0.0
        I[:] = 0.0
        ea[:] = 0.0
        eb[:] = 0.0
        f[:] = 0.0
        last[:] = -1
        if track:
            hits[:] = 0
            best_x[:] = np.inf
        for t in range(T):
            bt = b * T + t
            st_idx, st_v, st_sg, st_ea, st_eb = _room(na + N, has_syn, st_idx, st_v, st_sg, st_ea, st_eb)
            if ns + N > spk_idx.shape[0]:
                spk_idx = _grow(spk_idx, ns + N)
                spk_val = _grow(spk_val, ns + N)
            for j in range(N):
                x = V[j] - theta[j]
                # the common case: below the band, so not stored and no spike (band > 0, which the model
                # checks; with band 0 a neuron exactly at threshold would take this path and not spike)
                if quick and x <= -band:
                    if track and hits[j] == 0 and -x < best_x[j]:
                        _keep_closest(j, t, -x, V, ea, eb, last, best_x, best_t, best_v, best_ea, best_eb, best_dt)
                    S[j] = 0.0
                    continue
                if smooth:
                    s = 1.0 / (1.0 + math.exp(-smooth_k * x))
                else:
                    s = 1.0 if x >= 0.0 else 0.0
                inb = abs(x) < band
                if track:  # a neuron's closest approach matters only while it has no in-band step
                    if inb:
                        hits[j] += 1
                    elif hits[j] == 0 and abs(x) < best_x[j]:
                        _keep_closest(j, t, abs(x), V, ea, eb, last, best_x, best_t, best_v, best_ea, best_eb,
                                      best_dt)
                if store_all or inb:
                    g = 0.0  # the surrogate is only evaluated where it is stored
                    if inb:
                        if smooth:
                            g = smooth_k * s * (1.0 - s)
                        else:
                            g = surrogate_value(sg_kind, x, sg_slope, sg_scale, float(t - last[j]))
                    st_idx[na] = j
                    st_v[na] = V[j]
                    st_sg[na] = g
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
            _add_rows(I, W, in_idx, in_val, in_ptr[bt], in_ptr[bt + 1])
            if has_rec:
                _add_rows(I, R, spk_idx, spk_val, spk_ptr[bt], ns)
            for j in range(N):
                keep = 1.0 - S[j]
                a = alpha[j] * keep
                ea[j] = a * ea[j] + V[j] * keep
                if has_syn:
                    eb[j] = a * eb[j] + f[j]
                V[j] = a * V[j] + I[j]
        if track:  # at most one fallback entry per neuron
            st_idx, st_v, st_sg, st_ea, st_eb = _room(na + N, has_syn, st_idx, st_v, st_sg, st_ea, st_eb)
            na = _add_fallback(b, T, N, theta, sg_kind, sg_slope, sg_scale, store_all, hits, best_x, best_t,
                               best_v, best_ea, best_eb, best_dt, has_syn, st_ptr, st_idx, st_v, st_sg,
                               st_ea, st_eb, na)
    return (spk_ptr, spk_idx[:ns].copy(), spk_val[:ns].copy(), st_ptr, st_idx[:na].copy(),
            st_v[:na].copy(), st_sg[:na].copy(), st_ea[:na].copy(), st_eb[: (na if has_syn else 0)].copy())


@nb.njit(cache=True, inline="always")
def _keep_closest(j, t, dist, V, ea, eb, last, best_x, best_t, best_v, best_ea, best_eb, best_dt):
    """Neuron j's closest approach to threshold so far is at step t, |V - theta| = dist."""
    best_x[j] = dist
    best_t[j] = t
    best_v[j] = V[j]
    best_ea[j] = ea[j]
    best_eb[j] = eb[j]
    best_dt[j] = float(t - last[j])


@nb.njit(cache=True)
def _add_fallback(b, T, N, theta, sg_kind, sg_slope, sg_scale, store_all, hits, best_x, best_t, best_v,
                  best_ea, best_eb, best_dt, has_syn, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb, na):
    """After sample b: give each neuron without an in-band step its closest approach as a
    stored entry. Dense records already hold that entry (its surrogate is set); sparse
    records get it merged into the sample's buckets (time order kept); the arrays must have
    room for N more entries. Returns the new entry count."""
    silent = (hits == 0) & (best_x < np.inf)
    n_new = int(silent.sum())
    if n_new == 0:
        return na
    if store_all:
        for j in np.nonzero(silent)[0]:
            a = st_ptr[b * T + best_t[j]] + j       # dense buckets hold neurons 0..N-1 in order
            st_sg[a] = surrogate_value(sg_kind, best_v[j] - theta[j], sg_slope, sg_scale, best_dt[j])
        return na
    # fallback entries bucketed by step (counting sort, neuron order within a step)
    fb_j = np.nonzero(silent)[0]
    cnt = np.zeros(T + 1, np.int64)
    for j in fb_j:
        cnt[best_t[j] + 1] += 1
    for t in range(T):
        cnt[t + 1] += cnt[t]
    fb = np.empty(n_new, np.int64)
    fill = cnt[:T].copy()
    for j in fb_j:
        fb[fill[best_t[j]]] = j
        fill[best_t[j]] += 1
    # move the sample's buckets back to front so that each step gains its fallback entries
    end = na + n_new
    for t in range(T - 1, -1, -1):
        bt = b * T + t
        lo, hi = st_ptr[bt], st_ptr[bt + 1]        # old bucket (entries only move up: copy downwards)
        st_ptr[bt + 1] = end
        for q in range(cnt[t + 1] - 1, cnt[t] - 1, -1):
            j = fb[q]
            end -= 1
            st_idx[end] = j
            st_v[end] = best_v[j]
            st_sg[end] = surrogate_value(sg_kind, best_v[j] - theta[j], sg_slope, sg_scale, best_dt[j])
            st_ea[end] = best_ea[j]
            if has_syn:
                st_eb[end] = best_eb[j]
        for a in range(hi - 1, lo - 1, -1):
            end -= 1
            st_idx[end] = st_idx[a]
            st_v[end] = st_v[a]
            st_sg[end] = st_sg[a]
            st_ea[end] = st_ea[a]
            if has_syn:
                st_eb[end] = st_eb[a]
    return na + n_new


@nb.njit(cache=True)
def _by_unit(ptr, idx, val, bt0, bt1, n_units):
    """Regroup the events of buckets bt0..bt1-1 by unit (counting sort, stable in bt).
    Returns (uptr [n_units+1], ubt, uval): the events of unit i are ubt/uval[uptr[i]:uptr[i+1]],
    with ubt counted from bt0 (bucket bt0 + ubt)."""
    e0, e1 = ptr[bt0], ptr[bt1]
    uptr = np.zeros(n_units + 1, np.int64)
    for e in range(e0, e1):
        uptr[idx[e] + 1] += 1
    for i in range(n_units):
        uptr[i + 1] += uptr[i]
    fill = uptr[:-1].copy()
    ubt = np.empty(e1 - e0, np.int64)
    uval = np.empty(e1 - e0, np.float64)
    for bt in range(bt0, bt1):
        for e in range(ptr[bt], ptr[bt + 1]):
            p = fill[idx[e]]
            ubt[p] = bt - bt0
            uval[p] = val[e]
            fill[idx[e]] = p + 1
    return uptr, ubt, uval


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def _outer_accumulate(out, uptr, ubt, uval, T, g_off, g_len, g_val, live_ptr, live_idx, acc):
    """out[i, :] += sum over events (i, bt) of w * gI[bt] for the recorded gI history.

    gI[bt] is stored in the slot order of its sample b (slot k <-> neuron
    live_idx[live_ptr[b] + k]) for the first g_len[bt] slots (the neurons live at bt).
    Per (unit, sample) the events' rows are summed into `acc` (contiguous) and scattered
    into row i of `out` once, so each row of `out` stays in cache across all samples and
    the work is sum over events of the live count (no per-sample pass over out)."""
    n_units = uptr.shape[0] - 1
    for i in range(n_units):
        e, e1 = uptr[i], uptr[i + 1]
        row = out[i]
        while e < e1:
            b = ubt[e] // T
            b_end = (b + 1) * T
            n = 0  # acc[:n] is in use
            while e < e1 and ubt[e] < b_end:
                w = uval[e]
                g = g_val[g_off[ubt[e]]: g_off[ubt[e]] + g_len[ubt[e]]]
                m = g.shape[0]
                if m > n:
                    acc[n:m] = 0.0
                    n = m
                for k in range(m):
                    acc[k] += w * g[k]
                e += 1
            lv = live_idx[live_ptr[b]: live_ptr[b] + n]
            for k in range(n):
                row[lv[k]] += acc[k]


@nb.njit(cache=True)
def _flush_slots(out, buf, live, hi):
    """out[i, live[k]] += buf[i, k] for k < hi[i] (the slots row i was written to this
    sample), and zero those entries of buf."""
    for i in range(buf.shape[0]):
        row = out[i]
        for k in range(hi[i]):
            row[live[k]] += buf[i, k]
            buf[i, k] = 0.0


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def _outer_step(out, ptr, idx, val, bt, g, n, hi):
    """out[i, :n] += w * g[:n] for the events (i, w) of bucket bt; hi[i] = n records how far
    row i is written (n only grows within a sample, so the last write is the widest)."""
    for e in range(ptr[bt], ptr[bt + 1]):
        i = idx[e]
        w = val[e]
        hi[i] = n
        for k in range(n):
            out[i, k] += w * g[k]


@nb.njit(cache=True, fastmath={"reassoc", "contract"})
def _backward_samples(b0, b1, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                      gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                      alpha, theta, beta, has_syn, smooth, smooth_k, detach_reset, buffered,
                      hist_max, dW, dR, dth, dal, dbe, gs_low):
    """Reverse sweep over samples b0..b1-1, accumulating into the given outputs.

    Per neuron the adjoint state is gv = dL/dV[t+1] and gi = dL/dI[t]. A neuron is
    *live* from its first stored entry (in reverse time) on; before that both are exactly
    0 and it is skipped. Live neurons are kept in compact slots (slot k <-> neuron
    live[k], in order of becoming live), so every per-step loop runs over contiguous
    arrays of length n_live: the event-free recursion gi <- gv + beta*gi, gv <- alpha*gv
    (two multiply-adds, no transcendental functions). At steps with presynaptic or
    recurrent events, gi[:n_live] is appended to a history (g_val; memory ~ live entries)
    and the slot order of each sample is kept (live_idx); at the end of the sweep, or of
    the first sample after which the history holds hist_max entries, the weight gradients
    dW += x gi^T and dR += S gi^T are formed from it by `_outer_accumulate` (events grouped
    by presynaptic unit) and it is emptied, so no dense per-sample buffer is flushed and the
    history's memory is bounded by hist_max + T*N entries, whatever the batch size. If the
    slot order is the neuron order (dense records, where every neuron is stored at the
    last step), the outer products go straight into dW/dR at each step instead; for small
    layers (dW and dR together at most BUFFER_MAX entries) they go into slot-ordered
    buffers flushed once per sample (each row only as far as it was written), which is
    cheaper there than the history. The recurrent term R[j, :] . gi and the gradient sent
    to the presynaptic layer W[i, :] . gi use full contiguous rows against gi scattered
    back to neuron order (zero for neurons that are not live)."""
    N = W.shape[1]
    gvc = np.zeros(N + 1)  # slot N: a scratch zero for spikes of neurons that are not live (no branch)
    gic = np.zeros(N)
    ac = np.zeros(N)
    bc = np.zeros(N)
    pend = np.zeros(N)
    live = np.empty(N, np.int64)
    slot = np.full(N, -1, np.int64)
    gif = np.zeros(N)  # gi in neuron order (for the dense-row products with R and W)
    # gI history of the samples c0..b (see the docstring), indexed from sample c0
    c0 = b0
    g_off = np.zeros((b1 - b0) * T, np.int64)
    g_len = np.zeros((b1 - b0) * T, np.int64)
    # in the weights' precision; emptied once it holds hist_max entries, so this never grows
    g_val = np.empty(max(16, min((b1 - b0) * T * N, hist_max + T * N)), W.dtype)
    ng = 0
    live_ptr = np.zeros(b1 - b0 + 1, np.int64)
    live_idx = np.empty((b1 - b0) * N, np.int64)
    acc_buf = np.empty(N)
    dWc = np.zeros((W.shape[0], N) if buffered else (0, 0))
    dRc = np.zeros((N, N) if buffered and has_rec else (0, 0))
    hi_w = np.zeros(W.shape[0], np.int64)  # per buffer row: the slots written this sample (flushed only those)
    hi_r = np.zeros(N, np.int64)
    for b in range(b0, b1):
        nlive = 0
        ident = True  # live[k] == k for every slot so far
        for t in range(T - 1, -1, -1):
            bt = b * T + t
            if nlive == 0 and st_ptr[bt + 1] == st_ptr[bt]:
                continue  # no live neuron and nothing stored at this step: all adjoints stay 0
            if nlive > 0:
                # event-free part of the recursion for every live neuron: gic = dL/dI[t]
                if has_syn:
                    for k in range(nlive):
                        gic[k] = gvc[k] + bc[k] * gic[k]
                else:
                    for k in range(nlive):
                        gic[k] = gvc[k]
                if has_rec or has_low:
                    for k in range(nlive):
                        gif[live[k]] = gic[k]
                if ident or buffered:  # accumulate at once, in neuron or in slot order
                    _outer_step(dW if ident else dWc, in_ptr, in_idx, in_val, bt, gic, nlive, hi_w)
                    if has_rec:
                        _outer_step(dR if ident else dRc, spk_ptr, spk_idx, spk_val, bt, gic, nlive, hi_r)
                elif in_ptr[bt + 1] > in_ptr[bt] or (has_rec and spk_ptr[bt + 1] > spk_ptr[bt]):
                    if ng + nlive > g_val.shape[0]:
                        g_val = _grow(g_val, ng + nlive)
                    g_off[bt - c0 * T] = ng
                    g_len[bt - c0 * T] = nlive
                    g_val[ng: ng + nlive] = gic[:nlive]
                    ng += nlive
                if has_low:
                    for a in range(low_ptr[bt], low_ptr[bt + 1]):
                        i = low_idx[a]
                        acc = 0.0
                        for j in range(N):
                            acc += W[i, j] * gif[j]
                        gs_low[a] += acc
            for a in range(st_ptr[bt], st_ptr[bt + 1]):
                j = st_idx[a]
                k = slot[j]
                gvn = gvc[k] if k >= 0 else 0.0
                x = st_v[a] - theta[j]
                if smooth:
                    s = 1.0 / (1.0 + math.exp(-smooth_k * x))
                else:
                    s = 1.0 if x >= 0.0 else 0.0
                g = gs_ext[a]
                if has_rec and nlive > 0:
                    if 4 * nlive < N:  # few live neurons: gather their entries of row j
                        for k in range(nlive):
                            g += R[j, live[k]] * gic[k]
                    else:
                        for q in range(N):
                            g += R[j, q] * gif[q]
                if not detach_reset:
                    g -= alpha[j] * st_v[a] * gvn
                delta = g * st_sg[a]
                dth[j] -= delta
                dal[j] += delta * st_ea[a]
                if has_syn:
                    dbe[j] += delta * st_eb[a]
                pend[j] = delta + alpha[j] * (1.0 - s) * gvn
            # gv <- alpha (1 - S) gv for every live neuron: the decay, then the reset factor of
            # the step's spikes (a spike of a neuron that is not live scales the scratch zero
            # in slot N; branch-free, since which spiking neurons are live is unpredictable
            # and the branch cost more than the rest of the sweep at 25% spikes per step)
            for k in range(nlive):
                gvc[k] = ac[k] * gvc[k]
            for e in range(spk_ptr[bt], spk_ptr[bt + 1]):
                k = slot[spk_idx[e]]
                gvc[k if k >= 0 else N] *= 1.0 - spk_val[e]
            # live neurons with a stored entry at bt take pend, which holds both terms
            for a in range(st_ptr[bt], st_ptr[bt + 1]):
                k = slot[st_idx[a]]
                if k >= 0:
                    gvc[k] = pend[st_idx[a]]
            for a in range(st_ptr[bt], st_ptr[bt + 1]):  # newly live neurons
                j = st_idx[a]
                if slot[j] < 0:
                    k = nlive
                    slot[j] = k
                    live[k] = j
                    ident = ident and j == k
                    nlive += 1
                    gvc[k] = pend[j]
                    gic[k] = 0.0
                    ac[k] = alpha[j]
                    bc[k] = beta[j]
        # keep this sample's slot order for the weight gradients (nothing was recorded if
        # it stayed the identity); reset the per-sample state
        l0 = live_ptr[b - c0]
        n_keep = 0 if ident else nlive
        live_idx[l0: l0 + n_keep] = live[:n_keep]
        live_ptr[b - c0 + 1] = l0 + n_keep
        if buffered and not ident:
            _flush_slots(dW, dWc, live, hi_w)
            if has_rec:
                _flush_slots(dR, dRc, live, hi_r)
        for k in range(nlive):
            slot[live[k]] = -1
            gif[live[k]] = 0.0
        hi_w[:] = 0  # also after an identity sample, whose writes went to dW/dR directly
        hi_r[:] = 0
        if ng >= hist_max or b == b1 - 1:  # form dW, dR from the history of samples c0..b, empty it
            if ng > 0:
                uptr, ubt, uval = _by_unit(in_ptr, in_idx, in_val, c0 * T, (b + 1) * T, W.shape[0])
                _outer_accumulate(dW, uptr, ubt, uval, T, g_off, g_len, g_val, live_ptr, live_idx, acc_buf)
                if has_rec:
                    uptr, ubt, uval = _by_unit(spk_ptr, spk_idx, spk_val, c0 * T, (b + 1) * T, N)
                    _outer_accumulate(dR, uptr, ubt, uval, T, g_off, g_len, g_val, live_ptr, live_idx, acc_buf)
                g_len[: (b + 1 - c0) * T] = 0
            ng = 0
            c0 = b + 1


@nb.njit(cache=True, parallel=True)
def _backward_parallel(n_chunks, B, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                       gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                       alpha, theta, beta, has_syn, smooth, smooth_k, detach_reset, buffered, hist_max, gs_low):
    n_in = W.shape[0]
    N = W.shape[1]
    dWs = np.zeros((n_chunks, n_in, N))
    dRs = np.zeros((n_chunks, R.shape[0], R.shape[1]))
    v3 = np.zeros((n_chunks, 3, N))
    for c in nb.prange(n_chunks):
        b0 = c * B // n_chunks
        b1 = (c + 1) * B // n_chunks
        _backward_samples(b0, b1, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                          gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                          alpha, theta, beta, has_syn, smooth, smooth_k, detach_reset, buffered,
                          hist_max, dWs[c], dRs[c], v3[c, 0], v3[c, 1], v3[c, 2], gs_low)
    return dWs.sum(axis=0), dRs.sum(axis=0), v3.sum(axis=0)


def layer_backward(B, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                   gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                   alpha, theta, beta, has_syn, smooth, smooth_k, detach_reset, n_threads=1):
    """Reverse sweep visiting only live neurons, stored entries, spike events and
    presynaptic events (see `_backward_samples`).

    gs_ext[a] = dL/dS at stored entry a coming from outside the layer (next layer,
    readout, regulariser). Returns dW, dR, dtheta, dalpha, dbeta and gs_low (dL/dS of the
    presynaptic layer at its stored entries, if has_low). n_threads > 1 splits the batch
    into that many sample chunks run in parallel (numba prange) with private gradient
    buffers that are summed at the end."""
    N = W.shape[1]
    gs_low = np.zeros(low_idx.shape[0] if has_low else 0)
    beta_ = beta if has_syn else np.zeros(N)
    n_chunks = max(1, min(int(n_threads), B))
    # both read at call time (tests vary them)
    buffered = (W.shape[0] + (N if has_rec else 0)) * N <= BUFFER_MAX
    hist_max = max(HIST_MAX, int(HIST_PER_GRAD * (W.size + R.size)))
    if n_chunks == 1:
        dW = np.zeros(W.shape)
        dR = np.zeros(R.shape)
        dth, dal, dbe = np.zeros(N), np.zeros(N), np.zeros(N)
        _backward_samples(0, B, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea, st_eb,
                          gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                          alpha, theta, beta_, has_syn, smooth, smooth_k, detach_reset, buffered,
                          hist_max, dW, dR, dth, dal, dbe, gs_low)
        return dW, dR, dth, dal, dbe, gs_low
    dW, dR, v3 = _backward_parallel(n_chunks, B, T, spk_ptr, spk_idx, spk_val, st_ptr, st_idx, st_v, st_sg, st_ea,
                                    st_eb, gs_ext, in_ptr, in_idx, in_val, low_ptr, low_idx, has_low, W, R, has_rec,
                                    alpha, theta, beta_, has_syn, smooth, smooth_k, detach_reset, buffered,
                                    hist_max, gs_low)
    return dW, dR, v3[0].copy(), v3[1].copy(), v3[2].copy(), gs_low


@nb.njit(cache=True)
def sample_counts(B, T, N, ptr, idx, val):
    """Spike count of each (sample, neuron), [B*N], from a layer's spike events."""
    counts = np.zeros(B * N)
    for b in range(B):
        for e in range(ptr[b * T], ptr[(b + 1) * T]):
            counts[b * N + idx[e]] += val[e]
    return counts


@nb.njit(cache=True)
def add_per_sample(gs, B, T, N, st_ptr, st_idx, per_bn, scale):
    """gs[a] += scale * per_bn[b*N + j] for each stored entry a of (sample b, neuron j), in
    place (no temporaries the size of the record)."""
    for b in range(B):
        for a in range(st_ptr[b * T], st_ptr[(b + 1) * T]):
            gs[a] += scale * per_bn[b * N + st_idx[a]]


@nb.njit(cache=True, fastmath={"reassoc"})
def sum_squares(a: np.ndarray) -> float:
    """sum(a**2) without a temporary the size of a, and without BLAS (whose idle
    threads spin after each call and bill their CPU time to the training step)."""
    acc = 0.0
    for k in range(a.shape[0]):
        acc += a[k] * a[k]
    return acc


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
