"""Exact numba kernels for the leaky integrate-and-fire family.

One set of kernels covers every model in `eventsim.models`: LIF with voltage-jump (delta)
synapses, LIF with exponential excitatory and inhibitory currents (CUBA), and the
adaptive-threshold variant. A model is a choice of parameters, which can differ per neuron.

Units: time ms, voltage mV, currents as voltage equivalents R*I in mV.

    tau_m dV/dt = v_rest + i_bias - V + I_e + I_i
    dI_e/dt = -I_e / tau_e,  dI_i/dt = -I_i / tau_i,  dtheta/dt = -theta / tau_theta
    spike when V >= v_th + theta; then V = v_reset for t_ref, theta += theta_plus.

An input of weight w adds w to V (delta neurons), to I_e (w >= 0) or to I_i (w < 0).

Why these kernels live in the core rather than in `eventsim.models`: numba only reuses
its on-disk cache for a loop that calls kernels as globals; a loop that receives kernels
as function arguments is recompiled in every process (measured here with numba 0.68).

Parameters are P[N, NP] and state S[N, NS], neuron-major: events hit random neurons, and one
neuron's parameters and state then share two or three cache lines instead of nineteen (a
struct-of-arrays layout measured ~1.5x slower per synaptic event on CUBA).
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

# parameter rows
TAU_M, V_REST, V_RESET, V_TH, T_REF, TAU_E, TAU_I, I_BIAS, THETA_PLUS, TAU_THETA, DELTA = range(11)
NP = 11
PARAM_NAMES = ("tau_m", "v_rest", "v_reset", "v_th", "t_ref", "tau_syn_e", "tau_syn_i", "i_bias",
               "theta_plus", "tau_theta", "delta")
# state rows
V, IE, II, THETA, T_LAST, REF_END, NEXT, EXACT = range(8)
NS = 8
STATE_NAMES = ("v", "i_e", "i_i", "theta", "t_last", "ref_end", "next_check", "exact")

MAX_TERMS = 4            # membrane, excitatory, inhibitory, threshold
ROOT_TOL = 1e-12         # ms, absolute accuracy of predicted spike times


@nb.njit(cache=True)
def evolve(P, S, j, t):
    """State (v, i_e, i_i, theta) of neuron j at time t >= t_last, without writing it."""
    t_last = S[j, T_LAST]
    v = S[j, V]
    ie = S[j, IE]
    ii = S[j, II]
    theta = S[j, THETA]
    dt = t - t_last
    if dt <= 0.0:
        return v, ie, ii, theta
    if theta != 0.0:
        theta *= math.exp(-dt / P[j, TAU_THETA])
    ref_end = S[j, REF_END]
    if ref_end >= t:                       # refractory for the whole step: V clamped
        if ie != 0.0:
            ie *= math.exp(-dt / P[j, TAU_E])
        if ii != 0.0:
            ii *= math.exp(-dt / P[j, TAU_I])
        return P[j, V_RESET], ie, ii, theta
    if ref_end > t_last:                   # refractory period ends inside the step
        d1 = ref_end - t_last
        if ie != 0.0:
            ie *= math.exp(-d1 / P[j, TAU_E])
        if ii != 0.0:
            ii *= math.exp(-d1 / P[j, TAU_I])
        v = P[j, V_RESET]
        dt = t - ref_end
    tau_m = P[j, TAU_M]
    v_inf = P[j, V_REST] + P[j, I_BIAS]
    em = math.exp(-dt / tau_m)
    v = v_inf + (v - v_inf) * em
    if ie != 0.0:
        tau = P[j, TAU_E]
        ex = math.exp(-dt / tau)
        v += ie * tau / (tau - tau_m) * (ex - em)
        ie *= ex
    if ii != 0.0:
        tau = P[j, TAU_I]
        ex = math.exp(-dt / tau)
        v += ii * tau / (tau - tau_m) * (ex - em)
        ii *= ex
    return v, ie, ii, theta


@nb.njit(cache=True)
def advance(P, S, j, t):
    """Advance neuron j exactly to time t (no-op if t <= t_last)."""
    if t <= S[j, T_LAST]:
        return
    v, ie, ii, theta = evolve(P, S, j, t)
    S[j, V] = v
    S[j, IE] = ie
    S[j, II] = ii
    S[j, THETA] = theta
    S[j, T_LAST] = t


@nb.njit(cache=True)
def apply_input(P, S, j, t, w) -> bool:
    """Apply a synaptic input of weight w (mV) at time t (state already at t).

    Returns True if the neuron is now at or above threshold (a spike at t)."""
    if P[j, DELTA] != 0.0:
        if S[j, REF_END] > t:
            return False                   # inputs during refractoriness are discarded
        S[j, V] += w
        return S[j, V] >= P[j, V_TH] + S[j, THETA]
    if w >= 0.0:
        S[j, IE] += w
    else:
        S[j, II] += w
    return False


@nb.njit(cache=True)
def reset(P, S, j, t):
    """Spike at t: reset, start refractoriness, raise the adaptive threshold."""
    S[j, V] = P[j, V_RESET]
    S[j, REF_END] = t + P[j, T_REF]
    S[j, THETA] += P[j, THETA_PLUS]
    S[j, T_LAST] = t
    S[j, EXACT] = 0.0


@nb.njit(cache=True)
def lower_bound(P, S, j, t):
    """A cheap lower bound on the next threshold crossing of neuron j (state at t).

    Returns (time, exact). Uses the envelope V(h) <= U + (V0 - U) exp(-h/tau_m), where U is
    v_rest + i_bias + the largest future current, and threshold >= v_th. The bound is the
    exact crossing time when there is no synaptic current and no adaptive threshold.
    """
    ref_end = S[j, REF_END]
    if ref_end > t:
        return ref_end, False
    ie = S[j, IE]
    ii = S[j, II]
    i_max = ie
    if P[j, TAU_I] >= P[j, TAU_E]:         # inhibition outlasts excitation: it can only help
        i_max += ii
    if i_max < 0.0:
        i_max = 0.0
    u = P[j, V_REST] + P[j, I_BIAS] + i_max
    v_th = P[j, V_TH]
    v0 = S[j, V]
    theta = S[j, THETA]
    if v0 >= v_th:
        return t, False                    # only possible with an adaptive threshold
    if u <= v_th:
        return np.inf, False
    exact = ie == 0.0 and ii == 0.0 and theta == 0.0
    return t + P[j, TAU_M] * math.log((u - v0) / (u - v_th)), exact


# ---------------------------------------------------------------------------------------
# First root of an exponential sum g(h) = a + sum_k b_k exp(-mu_k h), h >= 0.
#
# The derivative of g is exp(-mu_1 h) times another exponential sum with one term fewer
# (rates mu_k - mu_1, constant -mu_1 b_1). Solving these "levels" from the last one up gives
# every critical point, so each level splits [0, inf) into monotone segments on which a
# bracketed Newton iteration is safe. No crossing is missed, however lightly it grazes.
# Scratch arrays (one set per loop): sa[L], sb[L, K], smu[L, K], sr[L, K], snr[L].
# ---------------------------------------------------------------------------------------

@nb.njit(cache=True, inline="always")
def _g(sa, sb, smu, lev, m, h):
    s = sa[lev]
    for k in range(m):
        s += sb[lev, k] * math.exp(-smu[lev, k] * h)
    return s


@nb.njit(cache=True, inline="always")
def _g_dg(sa, sb, smu, lev, m, h):
    """g(h) and g'(h), sharing the exponentials."""
    s = sa[lev]
    d = 0.0
    for k in range(m):
        e = sb[lev, k] * math.exp(-smu[lev, k] * h)
        s += e
        d -= smu[lev, k] * e
    return s, d


@nb.njit(cache=True)
def _root_in(sa, sb, smu, lev, m, lo, hi, glo):
    """Root of the monotone g on [lo, hi] (sign change), to ROOT_TOL: Newton steps kept inside
    the shrinking bracket, bisection when a step leaves it."""
    if m == 1:                             # a + b exp(-mu h) = 0 in closed form
        r = -sa[lev] / sb[lev, 0]
        if r > 0.0:
            x = -math.log(r) / smu[lev, 0]
            if lo <= x <= hi:
                return x
    up = glo < 0.0
    x = 0.5 * (lo + hi)
    for _ in range(200):
        gx, d = _g_dg(sa, sb, smu, lev, m, x)
        if gx == 0.0:
            return x
        if (gx > 0.0) == up:
            hi = x
        else:
            lo = x
        xn = x - gx / d if d != 0.0 else lo - 1.0
        if not (lo < xn < hi):
            xn = 0.5 * (lo + hi)
        if abs(xn - x) <= ROOT_TOL or hi - lo <= ROOT_TOL + 4e-16 * hi:
            return xn
        x = xn
    return x


@nb.njit(cache=True)
def _roots_on_segments(sa, sb, smu, sr, snr, lev, m, first_up_only):
    """Sign changes of level `lev` on [0, inf), using the critical points in sr[lev + 1].

    With first_up_only, stop at the first point where g >= 0 (g(0) < 0 assumed) and
    return it; otherwise store all roots in sr[lev] and return inf."""
    n = 0
    lo = 0.0
    glo = _g(sa, sb, smu, lev, m, lo)
    ncrit = snr[lev + 1] if lev + 1 < snr.shape[0] else 0
    for c in range(ncrit + 1):
        if c < ncrit:
            hi = sr[lev + 1, c]
            if hi <= lo:
                continue
            ghi = _g(sa, sb, smu, lev, m, hi)
        else:                              # last segment [lo, inf): g tends to sa[lev]
            limit = sa[lev]
            if limit == 0.0 or (limit > 0.0) == (glo > 0.0) or glo == 0.0:
                break
            if first_up_only and limit < 0.0:
                break
            step = 1.0 / smu[lev, 0]
            hi = lo + step
            ghi = _g(sa, sb, smu, lev, m, hi)
            for _ in range(120):
                if (ghi > 0.0) != (glo > 0.0) or ghi == 0.0:
                    break
                step *= 2.0
                hi = lo + step
                ghi = _g(sa, sb, smu, lev, m, hi)
        if first_up_only:
            if ghi >= 0.0:
                return _root_in(sa, sb, smu, lev, m, lo, hi, glo)
        elif glo != 0.0 and ((ghi > 0.0) != (glo > 0.0) or ghi == 0.0):
            sr[lev, n] = _root_in(sa, sb, smu, lev, m, lo, hi, glo)
            n += 1
        lo = hi
        glo = ghi
    snr[lev] = n
    return np.inf


@nb.njit(cache=True)
def first_crossing(a, b, mu, m, scratch):
    """Smallest h >= 0 with a + sum_k b[k] exp(-mu[k] h) >= 0, or inf.

    mu must be positive, distinct and ascending; g(0) < 0 is assumed."""
    sa, sb, smu, sr, snr = scratch
    ub = a
    for k in range(m):
        if b[k] > 0.0:
            ub += b[k]
    if ub < 0.0:
        return np.inf                      # cheap bound: g never reaches 0
    if m == 1:                             # closed form: a + b exp(-mu h) = 0
        if a <= 0.0:
            return np.inf
        return math.log(-b[0] / a) / mu[0]
    sa[0] = a
    for k in range(m):
        sb[0, k] = b[k]
        smu[0, k] = mu[k]
    for lev in range(1, m):                # derivative levels
        mm = m - lev
        sa[lev] = -smu[lev - 1, 0] * sb[lev - 1, 0]
        for k in range(mm):
            sb[lev, k] = -smu[lev - 1, k + 1] * sb[lev - 1, k + 1]
            smu[lev, k] = smu[lev - 1, k + 1] - smu[lev - 1, 0]
    for lev in range(m + 1):
        snr[lev] = 0
    for lev in range(m - 1, 0, -1):
        _roots_on_segments(sa, sb, smu, sr, snr, lev, m - lev, False)
    return _roots_on_segments(sa, sb, smu, sr, snr, 0, m, True)


def make_scratch():
    """Scratch arrays for first_crossing (allocate once per loop, not per call)."""
    L = MAX_TERMS + 1
    return (np.zeros(L), np.zeros((L, MAX_TERMS)), np.zeros((L, MAX_TERMS)),
            np.zeros((L, MAX_TERMS + 1)), np.zeros(L, np.int64))


@nb.njit(cache=True)
def _add_term(a, b, mu, m, rate, coef):
    """Insert coef*exp(-rate h) keeping rates ascending and distinct; returns (a, m)."""
    if coef == 0.0:
        return a, m
    if rate == 0.0:
        return a + coef, m
    for k in range(m):
        if mu[k] == rate:
            b[k] += coef
            return a, m
    k = m
    while k > 0 and mu[k - 1] > rate:
        mu[k] = mu[k - 1]
        b[k] = b[k - 1]
        k -= 1
    mu[k] = rate
    b[k] = coef
    return a, m + 1


@nb.njit(cache=True)
def next_crossing(P, S, j, t, tb, tmu, scratch):
    """Exact time of the next threshold crossing of neuron j (state at t), or inf.

    tb, tmu: float64[MAX_TERMS] scratch for the exponential-sum coefficients."""
    t0 = t
    ref_end = S[j, REF_END]
    v0 = S[j, V]
    ie = S[j, IE]
    ii = S[j, II]
    theta = S[j, THETA]
    if ref_end > t:                         # search from the end of refractoriness
        v0, ie, ii, theta = evolve(P, S, j, ref_end)
        t0 = ref_end
    v_th = P[j, V_TH]
    if v0 >= v_th + theta:
        return t0
    tau_m = P[j, TAU_M]
    v_inf = P[j, V_REST] + P[j, I_BIAS]
    a = v_inf - v_th
    m = 0
    b_m = v0 - v_inf
    if ie != 0.0:
        k = ie * P[j, TAU_E] / (P[j, TAU_E] - tau_m)
        b_m -= k
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_E], k)
    if ii != 0.0:
        k = ii * P[j, TAU_I] / (P[j, TAU_I] - tau_m)
        b_m -= k
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_I], k)
    if theta != 0.0:
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_THETA], -theta)
    a, m = _add_term(a, tb, tmu, m, 1.0 / tau_m, b_m)
    return t0 + first_crossing(a, tb, tmu, m, scratch)
