"""Independent reference integrators for tests: a fine fixed-step RK4 of the LIF-family ODEs.

Deliberately written without any eventsim code, so that agreement means something."""
from __future__ import annotations

import numpy as np


def rk4_lif(p: dict, v0: float, inputs: list[tuple[float, float]], t_end: float, dt: float,
            theta0: float = 0.0) -> np.ndarray:
    """Spike times (ms) of one exp-current LIF neuron with adaptive threshold, by RK4.

    p: tau_m, v_rest, v_reset, v_th, t_ref, tau_syn_e, tau_syn_i, i_bias, theta_plus, tau_theta.
    inputs: (arrival time, weight) pairs. A crossing inside a step is located by bisection on
    RK4 sub-steps, so the error is that of RK4 with step dt (~dt^4)."""
    th_plus = p.get("theta_plus", 0.0)
    tau_th = p.get("tau_theta", np.inf)

    def deriv(y):
        v, ie, ii, th = y
        dv = 0.0 if refractory else (p["v_rest"] + p["i_bias"] - v + ie + ii) / p["tau_m"]
        return np.array([dv, -ie / p["tau_syn_e"], -ii / p["tau_syn_i"], -th / tau_th])

    def step(y, h):
        k1 = deriv(y)
        k2 = deriv(y + h / 2 * k1)
        k3 = deriv(y + h / 2 * k2)
        k4 = deriv(y + h * k3)
        return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    events = sorted(inputs)
    k = 0
    y = np.array([v0, 0.0, 0.0, theta0])
    t = 0.0
    ref_end = -np.inf
    spikes = []
    while t < t_end:
        refractory = t < ref_end
        t_next = min(t + dt, t_end, events[k][0] if k < len(events) else np.inf)
        if refractory:
            t_next = min(t_next, ref_end)
        h = t_next - t
        y_new = step(y, h)
        if not refractory and y_new[0] >= p["v_th"] + y_new[3]:
            lo, hi = 0.0, h
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                ym = step(y, mid)
                if ym[0] >= p["v_th"] + ym[3]:
                    hi = mid
                else:
                    lo = mid
            t_spike = t + hi
            y = step(y, hi)
            y[0] = p["v_reset"]
            y[3] += th_plus
            spikes.append(t_spike)
            ref_end = t_spike + p["t_ref"]
            t = t_spike
            continue
        y = y_new
        t = t_next
        while k < len(events) and events[k][0] <= t:
            w = events[k][1]
            if w >= 0:
                y[1] += w
            else:
                y[2] += w
            k += 1
    return np.array(spikes)
