"""Exact numba kernels for the leaky integrate-and-fire family.

One set of kernels covers every model in `eventsim.models`: LIF with voltage-jump (delta)
synapses, LIF with exponential excitatory and inhibitory currents (CUBA), and the
adaptive-threshold variant. A model is a choice of parameters, which can differ per neuron.

Units: time ms, voltage mV, currents as voltage equivalents R*I in mV.

    tau_m dV/dt = v_rest + i_bias - V + I_e + I_i
    dI_e/dt = -I_e / tau_e,  dI_i/dt = -I_i / tau_i,  dtheta/dt = -theta / tau_theta
    spike when V >= v_th + theta; then V = v_reset for t_ref, theta += theta_plus.

An input of weight w adds w to V (delta neurons), to I_e (w >= 0) or to I_i (w < 0).

State as epoch coefficients
---------------------------
Between inputs the solution is a sum of fixed exponentials. With G_x(t) = exp((t - T0)/tau_x)
for a global epoch T0, a neuron outside refractoriness is, exactly,

    V(t)     = v_inf + A / G_m(t) + k_e J_e / G_e(t) + k_i J_i / G_i(t),   k_x = tau_x / (tau_x - tau_m)
    I_x(t)   = J_x / G_x(t),        theta(t) = H / G_theta(t)

and A, J_e, J_i, H are constant until the next input. An input therefore costs a few
multiply-adds with factors G(t) that every synapse of a delivery group shares (one set per
distinct combination of time constants, see `factors`), and nothing is ever "advanced".
During refractoriness V is clamped at v_reset and A describes the trajectory that starts at
v_reset when refractoriness ends. The epoch moves forward at fixed model times (`rebase`),
never at chunk boundaries, so the chunk size cannot change a result.

Why these kernels live in the core rather than in `eventsim.models`: numba only reuses its
on-disk cache for a loop that calls kernels as globals; a loop that receives kernels as
function arguments is recompiled in every process (measured with numba 0.68).

Layout: parameters P[N, NP] and state S[N, NS], neuron-major, because events hit random
neurons. Rows are 128 and 64 bytes on 64-byte-aligned arrays (`aligned_zeros`), and the eight
parameters an input reads (class, delta, v_inf, k_e, k_i, inh_helps, v_th, tau_theta) fill the
first cache line of a P row, so an input touches two cache lines: P's first and S's only.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

# parameter columns: the first cache line (0-7) holds what every input reads, the second the rest
CLASS, DELTA, V_INF, K_E, K_I, INH_HELPS, V_TH, TAU_THETA = range(8)
TAU_M, V_REST, V_RESET, T_REF, TAU_E, TAU_I, I_BIAS, THETA_PLUS = range(8, 16)
NP = 16
# the user-facing parameters, and their columns
PARAM_NAMES = ("tau_m", "v_rest", "v_reset", "v_th", "t_ref", "tau_syn_e", "tau_syn_i", "i_bias",
               "theta_plus", "tau_theta", "delta")
PARAM_COLUMNS = (TAU_M, V_REST, V_RESET, V_TH, T_REF, TAU_E, TAU_I, I_BIAS, THETA_PLUS, TAU_THETA, DELTA)


def param_column(name: str) -> int:
    """Column of P holding the user-facing parameter `name` (one of PARAM_NAMES)."""
    return PARAM_COLUMNS[PARAM_NAMES.index(name)]


def aligned_zeros(shape: tuple[int, int]) -> np.ndarray:
    """A zeroed float64 array whose data start on a 64-byte (cache-line) boundary."""
    n = int(np.prod(shape))
    raw = np.zeros(n + 8)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip:skip + n].reshape(shape)


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A C-contiguous, cache-line-aligned float64 copy of a (or a itself if it already is)."""
    if a.flags.c_contiguous and a.dtype == np.float64 and a.ctypes.data % 64 == 0:
        return a
    out = aligned_zeros(a.shape)
    out[...] = a
    return out
# state columns
A, JE, JI, H, REF_END, NEXT, EXACT, NEXT_IGM = range(8)
NS = 8
# columns of a factor row: G and 1/G for membrane, excitatory, inhibitory, threshold
GM, GE, GI, GT, IGM, IGE, IGI, IGT = range(8)

MAX_TERMS = 4            # membrane, excitatory, inhibitory, threshold
ROOT_TOL = 1e-12         # ms, absolute accuracy of predicted spike times
ASCENT_STEPS = 60        # safe steps of first_crossing before it falls back to bracketing all roots


def derive(P: np.ndarray) -> None:
    """Fill the derived columns (v_inf, k_e, k_i, time-constant class) from the user ones."""
    P[:, V_INF] = P[:, V_REST] + P[:, I_BIAS]
    with np.errstate(divide="ignore", invalid="ignore"):
        P[:, K_E] = np.where(P[:, DELTA] != 0, 0.0, P[:, TAU_E] / (P[:, TAU_E] - P[:, TAU_M]))
        P[:, K_I] = np.where(P[:, DELTA] != 0, 0.0, P[:, TAU_I] / (P[:, TAU_I] - P[:, TAU_M]))
    P[:, INH_HELPS] = P[:, TAU_I] >= P[:, TAU_E]
    taus = P[:, [TAU_M, TAU_E, TAU_I, TAU_THETA]]
    _, cls = np.unique(taus, axis=0, return_inverse=True)
    P[:, CLASS] = cls.ravel()


def class_taus(P: np.ndarray) -> np.ndarray:
    """float64[n_classes, 4]: (tau_m, tau_e, tau_i, tau_theta) of each time-constant class."""
    n = int(P[:, CLASS].max()) + 1 if P.shape[0] else 0
    taus = np.ones((n, 4))
    cls = P[:, CLASS].astype(np.int64)
    # one row per class (any member: the class is defined by these four values); a loop over
    # the classes with a search each was quadratic when every neuron has its own time constants
    taus[cls] = P[:, [TAU_M, TAU_E, TAU_I, TAU_THETA]]
    return taus


@nb.njit(cache=True, inline="always")
def _g(t, t0, tau):
    """exp((t - t0)/tau), with tau = 0 (unused current) or inf giving 1."""
    if tau == 0.0 or tau == np.inf:
        return 1.0
    return math.exp((t - t0) / tau)


@nb.njit(cache=True, _nrt=False, inline="always")
def factors(F, Ft, CT, c, t, t0):
    """Fill row c of the factor cache for time t, at most once per event time (a delivery group
    shares it). Kernels then read F[c, GM] etc."""
    if Ft[c] != t:
        gm = _g(t, t0, CT[c, 0])
        ge = _g(t, t0, CT[c, 1])
        gi = _g(t, t0, CT[c, 2])
        gt = _g(t, t0, CT[c, 3])
        F[c, GM] = gm
        F[c, GE] = ge
        F[c, GI] = gi
        F[c, GT] = gt
        F[c, IGM] = 1.0 / gm
        F[c, IGE] = 1.0 / ge
        F[c, IGI] = 1.0 / gi
        F[c, IGT] = 1.0 / gt
        Ft[c] = t


@nb.njit(cache=True, _nrt=False)
def physical(P, S, j, t, t0):
    """(v, i_e, i_i, theta) of neuron j at time t (pure; exact)."""
    ie = S[j, JE] * _g(t0, t, P[j, TAU_E]) if S[j, JE] != 0.0 else 0.0
    ii = S[j, JI] * _g(t0, t, P[j, TAU_I]) if S[j, JI] != 0.0 else 0.0
    theta = S[j, H] * _g(t0, t, P[j, TAU_THETA]) if S[j, H] != 0.0 else 0.0
    if t < S[j, REF_END]:
        return P[j, V_RESET], ie, ii, theta
    v = P[j, V_INF] + S[j, A] * _g(t0, t, P[j, TAU_M]) + P[j, K_E] * ie + P[j, K_I] * ii
    return v, ie, ii, theta


@nb.njit(cache=True, _nrt=False)
def _membrane_coefficient(P, S, j, t_from, v_from, t0):
    """A such that V(t_from) = v_from given the current J_e, J_i (used at spikes and sets)."""
    gm = _g(t_from, t0, P[j, TAU_M])
    a = (v_from - P[j, V_INF]) * gm
    if S[j, JE] != 0.0:
        a -= P[j, K_E] * S[j, JE] * gm / _g(t_from, t0, P[j, TAU_E])
    if S[j, JI] != 0.0:
        a -= P[j, K_I] * S[j, JI] * gm / _g(t_from, t0, P[j, TAU_I])
    return a


@nb.njit(cache=True, _nrt=False)
def set_physical(P, S, j, t, t0, v, ie, ii, theta):
    """Write coefficients so that neuron j has state (v, i_e, i_i, theta) at time t."""
    S[j, JE] = ie * _g(t, t0, P[j, TAU_E]) if ie != 0.0 else 0.0
    S[j, JI] = ii * _g(t, t0, P[j, TAU_I]) if ii != 0.0 else 0.0
    S[j, H] = theta * _g(t, t0, P[j, TAU_THETA]) if theta != 0.0 else 0.0
    t_from = max(t, S[j, REF_END])
    S[j, A] = _membrane_coefficient(P, S, j, t_from, P[j, V_RESET] if t_from > t else v, t0)


@nb.njit(cache=True, inline="always")
def potential(P, S, j, F, c):
    """V of neuron j outside refractoriness, from its coefficients and the factors in F[c]."""
    return (P[j, V_INF] + S[j, A] * F[c, IGM] + P[j, K_E] * S[j, JE] * F[c, IGE]
            + P[j, K_I] * S[j, JI] * F[c, IGI])


@nb.njit(cache=True, _nrt=False, inline="always")
def apply_input(P, S, j, t, w, F, c, t0):
    """Input of weight w (mV) at time t; row c of F holds the factors at t. Returns
    (at_threshold, v): at_threshold when a voltage jump reaches threshold (the engine then
    tests it again after every other input at t); v is V(t) after the input (meaningful only
    outside refractoriness)."""
    ref = S[j, REF_END] > t
    if P[j, DELTA] != 0.0:
        if ref:
            return False, P[j, V_RESET]            # inputs during refractoriness are discarded
        S[j, A] += w * F[c, GM]
        v = P[j, V_INF] + S[j, A] * F[c, IGM]
        return v >= P[j, V_TH] + S[j, H] * F[c, IGT], v
    if w >= 0.0:
        S[j, JE] += w * F[c, GE]
        if ref:   # V stays clamped: the input shapes only the trajectory after refractoriness
            S[j, A] -= P[j, K_E] * w * F[c, GE] * _g(S[j, REF_END], t0, P[j, TAU_M]) / _g(S[j, REF_END], t0, P[j, TAU_E])
        else:
            S[j, A] -= P[j, K_E] * w * F[c, GM]
    else:
        S[j, JI] += w * F[c, GI]
        if ref:
            S[j, A] -= P[j, K_I] * w * F[c, GI] * _g(S[j, REF_END], t0, P[j, TAU_M]) / _g(S[j, REF_END], t0, P[j, TAU_I])
        else:
            S[j, A] -= P[j, K_I] * w * F[c, GM]
    if ref:
        return False, P[j, V_RESET]
    return False, potential(P, S, j, F, c)


@nb.njit(cache=True, _nrt=False, inline="always")
def may_cross_before_next(P, S, j, t, v, F, c):
    """False if neuron j (state at t, potential v) provably cannot reach threshold before its
    live queue entry at S[j, NEXT]: the envelope U + (v - U) exp(-(t' - t)/tau_m), with U the
    largest reachable drive, stays below the lowest threshold up to NEXT. No transcendental
    functions: theta is bounded below by theta(t) (1 - h / tau_theta) over the interval h."""
    if S[j, REF_END] > t:
        return S[j, REF_END] < S[j, NEXT]
    u = P[j, V_INF] + _i_max(P, S, j, F, c)
    v_th = P[j, V_TH] + _theta_floor(P, S, j, F, c, S[j, NEXT] - t)
    if v >= v_th:
        return True
    u2, v2 = _decay_bound(P, S, j, F, c)
    if u <= v_th or max(u2, v2) < v_th:
        return False
    r = F[c, GM] * S[j, NEXT_IGM]          # exp(-(NEXT - t)/tau_m); 0 when NEXT is inf
    return min(u + (v - u) * r, u2 + (v2 - u2) * r if v2 < u2 else v2) >= v_th


@nb.njit(cache=True, inline="always")
def _decay_bound(P, S, j, F, c):
    """A second envelope u2 + (v2 - u2) exp(-h/tau_m) >= V(t + h) for all h >= 0, which (unlike
    the constant-drive envelope) knows that the synaptic currents decay. With V - v_inf =
    a e^(-h/tau_m) + b_e e^(-h/tau_e) + b_i e^(-h/tau_i): a term b e^(-h/tau) with b <= 0 is
    bounded by 0; with b > 0 by b e^(-h/tau_m) if tau < tau_m (k < 0), else by b. So
    v2 = v_inf + a + (positive fast terms) + (positive slow terms) and u2 = v_inf + (positive
    slow terms). Tight when tau_syn << tau_m (an input then moves V by only |k| I)."""
    se, ce = _current_term_bound(P[j, K_E], S[j, JE] * F[c, IGE])
    si, ci = _current_term_bound(P[j, K_I], S[j, JI] * F[c, IGI])
    u2 = P[j, V_INF] + (ce + ci)
    return u2, u2 + (S[j, A] * F[c, IGM] + se + si)


@nb.njit(cache=True, inline="always")
def _current_term_bound(k, current):
    """(slow, const) bound of one synaptic term b e^(-h/tau) of V, b = k * current: nothing if
    b <= 0; b decaying with tau_m if it is faster than the membrane (k < 0); else b, constant."""
    b = k * current
    if b <= 0.0:
        return 0.0, 0.0
    return (b, 0.0) if k < 0.0 else (0.0, b)


@nb.njit(cache=True, inline="always")
def _theta_floor(P, S, j, F, c, h):
    """A lower bound of the adaptive threshold theta over the next h ms (exp(-x) >= 1 - x)."""
    if S[j, H] == 0.0:
        return 0.0
    theta = S[j, H] * F[c, IGT]
    tau = P[j, TAU_THETA]
    if tau == np.inf:
        return theta
    if h == np.inf:
        return 0.0
    return theta * max(0.0, 1.0 - h / tau)


@nb.njit(cache=True, inline="always")
def _i_max(P, S, j, F, c):
    """Largest total synaptic current from now on (I_e >= 0 >= I_i)."""
    i_max = S[j, JE] * F[c, IGE]
    if P[j, INH_HELPS] != 0.0:              # inhibition outlasts excitation: it can only help
        i_max += S[j, JI] * F[c, IGI]
    return i_max if i_max > 0.0 else 0.0


@nb.njit(cache=True, _nrt=False, inline="always")
def lower_bound(P, S, j, t, v, F, c):
    """A lower bound on the next threshold crossing of neuron j (state at t, potential v).

    Returns (time, exact, igm): exact when there is no synaptic current and no adaptive
    threshold, where the envelope is the trajectory itself; igm = 1/G_m(time), the value a
    queued check stores (0 for inf). The envelope is U + (v - U) exp(-h/tau_m); the threshold
    is v_th + theta with theta >= theta(t) (1 - h / tau_theta).

    Without an adaptive threshold both envelopes relax with tau_m towards a constant, so each
    bound is t + tau_m log(X) and the later one is that of the larger X: one log, and igm =
    1/G_m(t) / X with no exp (X = 1: the bound is t; X = inf: no crossing, igm 0)."""
    ref_end = S[j, REF_END]
    if ref_end > t:
        return ref_end, False, F[c, IGM] * math.exp(-(ref_end - t) / P[j, TAU_M])
    exact = S[j, JE] == 0.0 and S[j, JI] == 0.0 and S[j, H] == 0.0
    u = P[j, V_INF] + _i_max(P, S, j, F, c)
    if S[j, H] == 0.0:
        x = _relaxation_ratio(v, u, P[j, V_TH])
        if not exact and 1.0 < x < np.inf:
            u2, v2 = _decay_bound(P, S, j, F, c)
            x = max(x, _relaxation_ratio(v2, u2, P[j, V_TH]))
        return t + P[j, TAU_M] * math.log(x), exact, F[c, IGM] / x
    lb = _relaxation_bound(P, S, j, t, v, u, F, c)
    if lb < np.inf:
        u2, v2 = _decay_bound(P, S, j, F, c)
        lb = max(lb, _relaxation_bound(P, S, j, t, v2, u2, F, c))
    if lb == np.inf:
        return lb, False, 0.0
    return lb, False, F[c, IGM] * math.exp(-(lb - t) / P[j, TAU_M])


@nb.njit(cache=True, inline="always")
def _relaxation_ratio(v, u, v_th):
    """X >= 1 such that the envelope u + (v - u) exp(-h/tau_m) first reaches v_th at
    h = tau_m log(X): 1 if v is already there, inf if it never gets there."""
    if v >= v_th:
        return 1.0
    if u <= v_th:
        return np.inf
    return (u - v) / (u - v_th)


@nb.njit(cache=True, inline="always")
def _relaxation_bound(P, S, j, t, v, u, F, c):
    """The first time the envelope u + (v - u) exp(-(t' - t)/tau_m) can reach the threshold
    v_th + theta, with theta >= theta(t) (1 - (t' - t) / tau_theta)."""
    v_th = P[j, V_TH]
    theta = S[j, H] * F[c, IGT] if S[j, H] != 0.0 else 0.0
    if v >= v_th + theta:
        return t
    top = max(u, v)                        # the envelope never exceeds this
    if top <= v_th:
        return np.inf
    tau_m = P[j, TAU_M]
    if theta == 0.0:                       # here v < v_th < u: a rising envelope
        return t + tau_m * math.log(_relaxation_ratio(v, u, v_th))
    tau_th = P[j, TAU_THETA]
    if top <= v_th + theta:                # no crossing until theta has decayed to top - v_th
        if tau_th == np.inf:
            return np.inf
        return t + tau_th * math.log(theta / (top - v_th))
    lb = t + tau_m * math.log((u - v) / (u - v_th - theta))
    if tau_th != np.inf:                   # theta may decay meanwhile: use its floor up to lb
        floor = v_th + theta * max(0.0, 1.0 - (lb - t) / tau_th)
        if v >= floor:
            return t
        lb = t + tau_m * math.log((u - v) / (u - floor))
    return lb


@nb.njit(cache=True, _nrt=False)
def spike(P, S, j, t, t0):
    """Neuron j fires at t: reset to v_reset for t_ref, raise the adaptive threshold."""
    t_r = t + P[j, T_REF]
    S[j, REF_END] = t_r
    if P[j, THETA_PLUS] != 0.0:
        S[j, H] += P[j, THETA_PLUS] * _g(t, t0, P[j, TAU_THETA])
    S[j, A] = _membrane_coefficient(P, S, j, t_r, P[j, V_RESET], t0)
    S[j, EXACT] = 0.0


@nb.njit(cache=True, _nrt=False)
def rebase(P, S, n, t0_old, t0_new):
    """Move the epoch of every neuron from t0_old to t0_new (all coefficients rescaled)."""
    d = t0_new - t0_old
    for j in range(n):
        S[j, A] *= _g(t0_old, t0_new, P[j, TAU_M])
        if S[j, JE] != 0.0:
            S[j, JE] *= _g(t0_old, t0_new, P[j, TAU_E])
        if S[j, JI] != 0.0:
            S[j, JI] *= _g(t0_old, t0_new, P[j, TAU_I])
        if S[j, H] != 0.0:
            S[j, H] *= _g(t0_old, t0_new, P[j, TAU_THETA])
        S[j, NEXT_IGM] *= math.exp(d / P[j, TAU_M])


@nb.njit(cache=True, _nrt=False, inline="always")
def next_igm(P, j, t_next, t0):
    """1 / G_m(t_next), stored with a queued check; 0 for inf or beyond float range."""
    x = (t_next - t0) / P[j, TAU_M]
    if x > 700.0:
        return 0.0
    return math.exp(-x)


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
def _gsum(sa, sb, smu, lev, m, h):
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


@nb.njit(cache=True, _nrt=False)
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


@nb.njit(cache=True, _nrt=False)
def _roots_on_segments(sa, sb, smu, sr, snr, lev, m, first_up_only):
    """Sign changes of level `lev` on [0, inf), using the critical points in sr[lev + 1].

    With first_up_only, stop at the first point where g >= 0 (g(0) < 0 assumed) and
    return it; otherwise store all roots in sr[lev] and return inf."""
    n = 0
    lo = 0.0
    glo = _gsum(sa, sb, smu, lev, m, lo)
    ncrit = snr[lev + 1] if lev + 1 < snr.shape[0] else 0
    for c in range(ncrit + 1):
        if c < ncrit:
            hi = sr[lev + 1, c]
            if hi <= lo:
                continue
            ghi = _gsum(sa, sb, smu, lev, m, hi)
        else:                              # last segment [lo, inf): g tends to sa[lev]
            limit = sa[lev]
            if limit == 0.0 or (limit > 0.0) == (glo > 0.0) or glo == 0.0:
                break
            if first_up_only and limit < 0.0:
                break
            step = 1.0 / smu[lev, 0]
            hi = lo + step
            ghi = _gsum(sa, sb, smu, lev, m, hi)
            for _ in range(120):
                if (ghi > 0.0) != (glo > 0.0) or ghi == 0.0:
                    break
                step *= 2.0
                hi = lo + step
                ghi = _gsum(sa, sb, smu, lev, m, hi)
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


@nb.njit(cache=True, _nrt=False)
def _ascend_to_root(a, b, mu, m):
    """First h >= 0 with g(h) = a + sum_k b[k] exp(-mu[k] h) >= 0, for g(0) < 0, by steps that
    never pass it; -1.0 when ASCENT_STEPS steps do not settle (the caller then searches).

    At x, each term of g'' on [x, inf) is at most its positive part at x. With M the sum of
    those, g(x + s) <= g(x) + g'(x) s + M s^2 / 2, so the parabola's first root is a safe step.
    At a simple root the steps shrink quadratically; each costs the m exponentials at x. The
    positive terms at x also bound g on [x, inf): when they cannot lift it to 0, there is no root."""
    x = 0.0
    for _ in range(ASCENT_STEPS):
        gx = a
        d = 0.0
        d2 = 0.0
        curv = 0.0
        ub = a
        for k in range(m):
            e = b[k] * math.exp(-mu[k] * x) if x > 0.0 else b[k]
            gx += e
            d -= mu[k] * e
            e2 = mu[k] * mu[k] * e
            d2 += e2
            if e > 0.0:
                curv += e2
                ub += e
        if gx >= 0.0:
            return x
        if ub < 0.0 or (curv == 0.0 and a <= 0.0):
            return np.inf
        den = d + math.sqrt(d * d - 2.0 * curv * gx)     # stable form of the parabola's root
        if den <= 0.0:                      # only when every term has underflowed (then g = a < 0)
            return np.inf
        s = -2.0 * gx / den
        x += s
        # the step leaves about (M - g''(x)) s^2 / (2 g'(x)) to the root: stop at a tenth of ROOT_TOL
        if s <= ROOT_TOL or (d > 0.0 and (curv - d2) * s * s <= 0.2 * ROOT_TOL * d):
            return x
    return -1.0


@nb.njit(cache=True, _nrt=False)
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
    h = _ascend_to_root(a, b, mu, m)
    if h >= 0.0:
        return h
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
    """Scratch arrays for first_crossing and next_crossing (allocate once per loop)."""
    L = MAX_TERMS + 1
    return (np.zeros(L), np.zeros((L, MAX_TERMS)), np.zeros((L, MAX_TERMS)),
            np.zeros((L, MAX_TERMS + 1)), np.zeros(L, np.int64),
            np.zeros(MAX_TERMS), np.zeros(MAX_TERMS))


@nb.njit(cache=True, _nrt=False)
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


@nb.njit(cache=True, _nrt=False)
def next_crossing(P, S, j, t, t0, scratch, F, c):
    """Exact time of the next threshold crossing of neuron j at or after t, or inf. Row c of F
    holds the factors at t."""
    tb, tmu = scratch[5], scratch[6]
    ts = max(t, S[j, REF_END])             # search from the end of refractoriness
    if ts > t:
        v0, ie, ii, theta = physical(P, S, j, ts, t0)
        v0 = P[j, V_RESET]
    else:                                  # the factors at t are at hand: no exponentials
        v0 = potential(P, S, j, F, c)
        ie = S[j, JE] * F[c, IGE]
        ii = S[j, JI] * F[c, IGI]
        theta = S[j, H] * F[c, IGT]
    v_th = P[j, V_TH]
    if v0 >= v_th + theta:
        return ts
    tau_m = P[j, TAU_M]
    a = P[j, V_INF] - v_th
    m = 0
    b_m = v0 - P[j, V_INF]
    if ie != 0.0:
        k = P[j, K_E] * ie
        b_m -= k
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_E], k)
    if ii != 0.0:
        k = P[j, K_I] * ii
        b_m -= k
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_I], k)
    if theta != 0.0:
        a, m = _add_term(a, tb, tmu, m, 1.0 / P[j, TAU_THETA], -theta)
    a, m = _add_term(a, tb, tmu, m, 1.0 / tau_m, b_m)
    return ts + first_crossing(a, tb, tmu, m, scratch[:5])
