"""Cross-check eventsim's spike times against NEST's precise-timing models.

    python3.11 benchmarks/crosscheck_nest.py [--trials N] [--seed S] [--no-adversarial]
                                             [--reference {all,failures,off}] [--out PATH]

Runs with the system python (eventsim installed); NEST runs in ``benchmarks/.venv-nest``
(created by ``setup_venvs.sh`` if missing) through ``ref_nest_single.run``, in ONE subprocess
for all trials. A single neuron receives identical input spike trains in both simulators:
eventsim gets a ``spike_source`` at s and delay DELAY_MS, i.e. arrival a = s + DELAY_MS (the
engine's float64 addition); ``ref_nest_single`` delivers the same a to NEST (up to ~1 ulp).

Models and units (C_m = 250 pF): ``LIFDelta`` <-> ``iaf_psc_delta_ps`` (weights are mV jumps
in both; inputs during refractoriness discarded in both: NEST's default refractory_input=False,
which NEST 3.10 does not let one set); ``LIFExp`` <-> ``iaf_psc_exp_ps`` (NEST weight
W = w * C_m / tau_m pA, I_e = i_bias * C_m / tau_m; inputs during refractoriness are added to
the currents in both) and, where NEST allows it (tau_syn_ex == tau_syn_in), also
``iaf_psc_exp_ps_lossless``.

Like-for-like choices (each one a documented difference between the two codes):
* t_ref is a multiple of the NEST resolution h: NEST rounds t_ref to whole steps.
* Weights are float32-representable: eventsim stores synaptic weights as float32
  (eventsim/graph.py). As a diagnostic (not part of the verdict) the Poisson trials are also
  run in NEST with the unrounded float64 weights, which shows the size of that effect.
* ``iaf_psc_exp_ps`` tests for a crossing only at the ends of its mini-steps (grid points k*h
  and input arrivals), so it misses an excursion above threshold that starts and ends between
  two of them. Such a trial is classified ``nest_substep_miss`` (not a failure) only if V < V_th
  at every NEST check point (checked analytically) AND eventsim agrees with the reference.
  ``iaf_psc_exp_ps_lossless`` is meant to catch these; a NEST exception is ``nest_error`` under
  the same condition.

Trials (seeded, reproducible), per model:
* ``poisson``: N random trials, 200-500 Poisson input spikes (75 % excitatory) at off-grid
  float64 times over 1000 ms; random tau_m, tau_syn_e != tau_syn_i != tau_m, t_ref, V_reset;
  bias cycles none / subthreshold / suprathreshold; excitation scaled so that the neuron
  fires 10-100 times. Every 4th exp trial has a slow excitatory synapse (tau_syn_e = 4-8 tau_m):
  crossings occur long after the current peak, while the current decays.
* ``graze`` (adversarial). Exp: one input event from steady state with the peak of V placed at
  V_th + eps, eps = +-1e-2, +-1e-4, +-1e-6, +-1e-8 mV, shapes fast E, slow E, E + slower I
  (biphasic) and two E inputs (two humps, the first well below threshold). Delta: jumps landing
  at V_th + eps (same eps), inputs in the middle of the refractory period (+30 mV, must be
  discarded) and 1e-4..1e-2 ms after its end (+30 mV, must fire), and a bias with
  V_inf = V_th + eps (slow asymptotic approach, eps = 1e-1 .. 1e-4 mV, and -1e-2).

Every disagreement is checked against an independent reference (``--reference``, default
``all``): the closed-form subthreshold solution evaluated on a 1e-4 ms mesh, each crossing
refined by bisection to float64 resolution (exact event-driven solution for the delta model).

Pass criterion: same spike count and max |t_eventsim - t_nest| <= 1e-6 ms in every trial,
except the classified NEST-side cases above, which are reported separately.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NEST_PY = HERE / ".venv-nest" / "bin" / "python"
TOL_MS = 1e-6
DELAY_MS = 0.5               # eventsim connection delay (exact in binary)
C_M = 250.0                  # pF, NEST only (conversion of currents)
RESOLUTION_MS = 0.01         # NEST grid
DURATION_MS = 1000.0
V_REST, V_TH = -65.0, -50.0
EPS_LIST = (1e-2, -1e-2, 1e-4, -1e-4, 1e-6, -1e-6, 1e-8, -1e-8)   # mV, graze offsets


# ============================================================================ trials
def f32(w):
    """eventsim stores synaptic weights as float32 (eventsim/graph.py); use float32-exact
    weights so that both simulators integrate the same numbers (like-for-like)."""
    return np.asarray(w, np.float64).astype(np.float32).astype(np.float64)


def _tau_syn(rng, lo, hi, tau_m):
    while True:  # eventsim requires tau_syn != tau_m; keep well away from the singularity
        t = float(rng.uniform(lo, hi))
        if abs(t - tau_m) > 0.1 * tau_m:
            return t


def _base_params(rng, model, slow=False):
    tau_m = float(rng.uniform(5.0, 20.0))
    p = dict(tau_m=tau_m, v_rest=V_REST, v_th=V_TH, v_reset=float(rng.uniform(-72.0, -60.0)),
             t_ref=round(float(rng.uniform(0.5, 3.0)), 2), i_bias=0.0)   # multiple of h: see below
    if model == "exp":
        p["tau_syn_e"] = (float(rng.uniform(4.0, 8.0)) * tau_m if slow
                          else _tau_syn(rng, 0.3, 5.0, tau_m))
        p["tau_syn_i"] = _tau_syn(rng, 3.0, 12.0, tau_m)
        if abs(p["tau_syn_i"] - p["tau_syn_e"]) < 0.05 * tau_m:
            p["tau_syn_i"] += 0.2 * tau_m
    return p


def poisson_trial(rng, model, k):
    """Random Poisson input; bias mode cycles none / subthreshold / suprathreshold."""
    slow = model == "exp" and k % 4 == 3
    p = _base_params(rng, model, slow)
    mode = k % 3
    gap = V_TH - V_REST
    p["i_bias"] = [0.0, float(rng.uniform(0.4, 0.85)) * gap, float(rng.uniform(1.05, 1.6)) * gap][mode]
    n = int(rng.integers(200, 501))
    src = np.sort(rng.uniform(0.5, DURATION_MS - DELAY_MS, n))
    exc = rng.random(n) < 0.75
    # mean depolarisation from input: rate * w * (tau_syn_e or tau_m for jumps)
    tau_e = p["tau_syn_e"] if model == "exp" else p["tau_m"]
    tau_i = p["tau_syn_i"] if model == "exp" else p["tau_m"]
    rate_e, rate_i = exc.sum() / DURATION_MS, max((~exc).sum(), 1) / DURATION_MS
    inh_shift = float(rng.uniform(2.0, 8.0))
    need = max(gap - p["i_bias"], 0.0) + inh_shift + float(rng.uniform(-2.0, 4.0))
    w = np.where(exc, rng.exponential(1.0, n) * max(need, 1.0) / (rate_e * tau_e),
                 -rng.exponential(1.0, n) * inh_shift / (rate_i * tau_i))
    if model == "delta":
        w = np.clip(w, -25.0, 25.0)
    trial = dict(model=model, kind="poisson", params=p, v_init=float(rng.uniform(-70.0, -55.0)),
                 src=src, w=f32(w), w_raw=w, duration=DURATION_MS,
                 note=f"bias_mode={mode}" + (" slow_tau_e" if slow else ""))
    # scale excitation until eventsim fires 10..100 times (the NEST run is independent)
    for _ in range(30):
        ns = len(run_eventsim(trial))
        if 10 <= ns <= 100:
            break
        f = 1.25 if ns < 10 else 0.8
        trial["w_raw"] = np.where(trial["w_raw"] > 0, trial["w_raw"] * f, trial["w_raw"])
        trial["w"] = f32(trial["w_raw"])
    return trial


def _psc_shape(tau_m, taus, t_in, u, t):
    """Deviation of V from steady state for unit-scaled exp inputs (weights u at times t_in)."""
    out = np.zeros_like(t)
    for ti, ui, ts in zip(t_in, u, taus):
        s = np.maximum(t - ti, 0.0)
        out += ui * ts / (ts - tau_m) * (np.exp(-s / ts) - np.exp(-s / tau_m))
    return out


def _max_refined(f, t0, t1, step):
    """Global max of f on [t0, t1]: dense grid, then golden-section refinement."""
    t = np.arange(t0, t1, step)
    y = f(t)
    i = int(np.argmax(y))
    a, b = t[max(i - 1, 0)], t[min(i + 1, len(t) - 1)]
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        c, d = b - g * (b - a), a + g * (b - a)
        if f(np.array([c]))[0] > f(np.array([d]))[0]:
            b = d
        else:
            a = c
        if b - a < 1e-13:
            break
    tm = 0.5 * (a + b)
    return tm, float(f(np.array([tm]))[0])


def graze_exp_trial(rng, variant, eps):
    """One input event from steady state; the peak of V is placed at V_th + eps (mV).

    Weights are rounded to float32 first; the bias (float64 in both simulators) then absorbs
    the rounding so that the peak is exactly V_th + eps (up to float64 rounding)."""
    slow = variant == "slow_E"
    p = _base_params(rng, "exp", slow)
    if variant != "E+slow_I":      # E-only shapes: tau_syn_in = tau_syn_ex, so that
        p["tau_syn_i"] = p["tau_syn_e"]   # iaf_psc_exp_ps_lossless accepts the neuron too
    tm, te, ti = p["tau_m"], p["tau_syn_e"], p["tau_syn_i"]
    t0 = float(rng.uniform(5.0, 6.0))                 # arrival time (off-grid)
    if variant in ("fast_E", "slow_E"):
        t_in, u, taus = [t0], [1.0], [te]
    elif variant == "E+slow_I":                        # biphasic: fast E, slower I, same time
        if ti <= te:
            p["tau_syn_i"] = ti = te + 0.5 * tm
        t_in, u, taus = [t0, t0], [1.0, -0.3], [te, ti]
    else:  # two_humps: second E input while the first hump decays; second hump higher
        s_pk = tm * te / (tm - te) * math.log(tm / te)
        t_in, u, taus = [t0, t0 + 2.5 * s_pk + 1.0], [1.0, 1.3], [te, te]
    t_in = [float((np.float64(t) - DELAY_MS) + DELAY_MS) for t in t_in]   # as the engine adds
    duration = t_in[-1] + 12.0 * max(tm, te, ti)
    depol = float(rng.uniform(0.4, 1.0)) * (V_TH - V_REST)            # peak height above V_inf
    _, pk = _max_refined(lambda t: _psc_shape(tm, taus, t_in, u, t), t0, duration, 1e-3)
    w = f32(np.array(u) * depol / pk)
    f = lambda t: _psc_shape(tm, taus, t_in, w, t)  # noqa: E731
    t_pk, pk = _max_refined(f, t0, duration, 1e-3)
    p["i_bias"] = V_TH + eps - V_REST - pk
    v_inf = V_REST + p["i_bias"]                      # same float expression as eventsim
    note = f"{variant} eps={eps:+.0e} mV (achieved {v_inf + pk - V_TH:+.3e}) peak@{t_pk:.4f}ms"
    if variant == "two_humps":
        _, pk1 = _max_refined(f, t0, t_in[1], 1e-3)
        note += f", first hump {v_inf + pk1 - V_TH:+.3f} mV"
    src = np.array(t_in) - DELAY_MS
    shape = dict(t_in=t_in, w=w.tolist(), taus=taus)   # for classifying sub-step misses
    return dict(model="exp", kind="graze", params=p, v_init=v_inf, src=src, w=w,
                duration=duration, note=note, eps=eps, shape=shape, lossless=variant != "E+slow_I")


def graze_delta_trials(rng, n):
    """Delta model: jumps to V_th + eps, refractory probes, asymptotic bias approach."""
    trials = []
    for k in range(n):
        p = _base_params(rng, "delta")
        if k % 4 == 3:   # bias with V_inf = V_th +- eps: slow asymptotic approach, + a few kicks
            eps = [1e-1, -1e-2, 1e-3, 1e-4][(k // 4) % 4]
            p["i_bias"] = V_TH + eps - V_REST
            src = np.sort(rng.uniform(50.0, 900.0, 6))
            w = f32(-rng.uniform(0.5, 3.0, 6))
            trials.append(dict(model="delta", kind="graze", params=p, v_init=float(rng.uniform(-70, -60)),
                               src=src, w=w, duration=DURATION_MS,
                               note=f"bias V_inf=V_th{eps:+.0e} mV (crossing time ill-conditioned ~tau_m*ulp/eps)"))
            continue
        p["i_bias"] = float(rng.uniform(0.0, 0.8)) * (V_TH - V_REST)
        v_inf = V_REST + p["i_bias"]
        trial = dict(model="delta", kind="graze", params=p, v_init=p["v_reset"] - 3.0, src=np.zeros(0),
                     w=np.zeros(0), duration=0.0, note="jumps to V_th+eps (float32 weight, time solved "
                     "so V(t-)+w = V_th+eps), refractory probes")
        t = 2.0
        times, weights, achieved = [], [], []

        def v_before(tq):
            trial["src"], trial["w"], trial["duration"] = np.array(times) - DELAY_MS, np.array(weights), tq
            return reference_state_delta(trial, tq)

        for j, eps in enumerate(EPS_LIST * 2):
            # an inhibitory kick first, so that V is relaxing (visibly) when the graze input comes
            tk = t + float(rng.uniform(0.1, 1.0))
            times.append(tk)
            weights.append(float(f32(-rng.uniform(3.0, 8.0))))
            tc = tk + float(rng.uniform(0.5, 0.5 * p["tau_m"]))
            vb = v_before(tc)
            w = float(f32(V_TH + eps - vb))
            for _ in range(4):   # Newton on the arrival time: V(t-) = V_th + eps - w
                slope = (v_inf - vb) / p["tau_m"]
                tc = float((np.float64(tc + (V_TH + eps - w - vb) / slope) - DELAY_MS) + DELAY_MS)
                vb = v_before(tc)
            times.append(tc)
            weights.append(w)
            achieved.append(vb + w - V_TH)
            t = tc
            if vb + w >= V_TH:  # it fires at tc: probe refractoriness
                times.append(tc + p["t_ref"] * float(rng.uniform(0.2, 0.8)))
                weights.append(30.0)                    # must be discarded
                t = tc + p["t_ref"]
                if j % 2 == 0:
                    tb = tc + p["t_ref"] + float(rng.uniform(1e-4, 1e-2))
                    times.append(tb)                    # just after refractoriness: fires
                    weights.append(30.0)
                    t = tb + p["t_ref"]
        trial["src"] = np.array(times) - DELAY_MS
        trial["w"] = np.array(weights)
        trial["duration"] = t + 20.0
        trial["note"] += " achieved eps: " + ", ".join(f"{a:+.1e}" for a in achieved)
        trials.append(trial)
    return trials


def make_trials(seed, n_trials, adversarial):
    rng = np.random.default_rng(seed)
    trials = []
    for model in ("delta", "exp"):
        for k in range(n_trials):
            trials.append(poisson_trial(rng, model, k))
    if adversarial:
        trials += graze_delta_trials(rng, 16)
        for variant in ("fast_E", "slow_E", "E+slow_I", "two_humps"):
            for eps in EPS_LIST:
                trials.append(graze_exp_trial(rng, variant, eps))
    for i, tr in enumerate(trials):
        tr["id"] = i
    return trials


# ============================================================================ simulators
def run_eventsim(trial):
    import eventsim as es
    from eventsim.models import LIFDelta, LIFExp
    p = trial["params"]
    model = LIFDelta(**{k: p[k] for k in ("tau_m", "v_rest", "v_reset", "v_th", "t_ref", "i_bias")}) \
        if trial["model"] == "delta" else LIFExp(**p)
    net = es.Network(seed=0)
    cell = net.population(1, model, v_init=trial["v_init"], record=True)
    n = len(trial["src"])
    if n:
        src = net.spike_source(n, times=trial["src"], ids=np.arange(n))
        net.connect(src, cell, es.explicit(np.arange(n), np.zeros(n, np.int64)),
                    weight=np.asarray(trial["w"], float), delay=DELAY_MS)
    net.run(trial["duration"], progress=False)
    t, _ = cell.spikes()
    net.close()
    return np.asarray(t, float)


def nest_spec(trial, nest_model, raw=False):
    p = trial["params"]
    scale = C_M / p["tau_m"]  # mV (voltage-equivalent current) -> pA
    arrival = np.asarray(trial["src"], float) + DELAY_MS  # same float64 addition as the engine
    params = dict(tau_m=p["tau_m"], E_L=p["v_rest"], V_th=p["v_th"], V_reset=p["v_reset"],
                  t_ref=p["t_ref"], C_m=C_M, I_e=p["i_bias"] * scale, V_m=trial["v_init"])
    if trial["model"] == "delta":   # refractory_input: NEST default False (not settable in 3.10)
        weights = np.asarray(trial["w_raw" if raw else "w"], float)
    else:
        params.update(tau_syn_ex=p["tau_syn_e"], tau_syn_in=p["tau_syn_i"])
        weights = np.asarray(trial["w_raw" if raw else "w"], float) * scale
    return {"model": nest_model, "params": params, "duration_ms": trial["duration"],
            "resolution_ms": RESOLUTION_MS,
            "inputs": [{"times": arrival.tolist(), "weights": weights.tolist()}]}


_NEST_BATCH = r"""
import json, os, sys, traceback
os.environ.setdefault("PYNEST_QUIET", "1")
sys.path.insert(0, sys.argv[1])
import ref_nest_single as r
specs = json.load(open(sys.argv[2]))
out = []
for s in specs:
    try:
        out.append(r.run(s))
    except Exception as e:  # keep going; report per trial
        out.append({"error": f"{type(e).__name__}: {e}"})
json.dump(out, open(sys.argv[3], "w"))
"""


def run_nest_batch(specs):
    if not NEST_PY.exists():
        subprocess.run(["bash", str(HERE / "setup_venvs.sh")], check=True)
    with tempfile.TemporaryDirectory() as d:
        fin, fout = Path(d) / "specs.json", Path(d) / "out.json"
        fin.write_text(json.dumps(specs))
        env = dict(os.environ, PYNEST_QUIET="1", OMP_NUM_THREADS="1")
        r = subprocess.run([str(NEST_PY), "-c", _NEST_BATCH, str(HERE), str(fin), str(fout)],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"NEST subprocess failed:\n{r.stdout}\n{r.stderr}")
        return json.loads(fout.read_text())


# ============================================================================ reference
def reference_state_delta(trial, t_query):
    """Exact V just before t_query (inputs at t < t_query), delta model; also used for design."""
    return _reference_delta(trial, t_query)[1]


def _reference_delta(trial, t_stop):
    p = trial["params"]
    tm, v_inf, vth = p["tau_m"], p["v_rest"] + p["i_bias"], p["v_th"]
    arr = np.asarray(trial["src"], float) + DELAY_MS
    order = np.argsort(arr, kind="stable")
    t, v, ref_end, spikes = 0.0, trial["v_init"], -np.inf, []
    events = [(float(arr[i]), float(trial["w"][i])) for i in order if arr[i] < t_stop] + [(t_stop, None)]
    for ta, w in events:
        while True:
            if ref_end > t:
                if ref_end >= ta:
                    t, v = ta, p["v_reset"]
                    break
                t, v = ref_end, p["v_reset"]
            if v_inf > vth:
                tc = t + tm * math.log((v_inf - v) / (v_inf - vth))
                if tc < ta:
                    spikes.append(tc)
                    t, v, ref_end = tc, p["v_reset"], tc + p["t_ref"]
                    continue
            v = v_inf + (v - v_inf) * math.exp(-(ta - t) / tm)
            t = ta
            break
        if w is None:
            return spikes, v
        if ref_end > ta:
            continue
        v += w
        if v >= vth:
            spikes.append(ta)
            v, ref_end = p["v_reset"], ta + p["t_ref"]
    return spikes, v


def _reference_exp(trial, grid=1e-4):
    """Closed-form subthreshold solution on a `grid` ms mesh + bisection for each crossing."""
    p = trial["params"]
    tm, te, ti = p["tau_m"], p["tau_syn_e"], p["tau_syn_i"]
    v_inf, vth, vreset = p["v_rest"] + p["i_bias"], p["v_th"], p["v_reset"]
    arr = np.asarray(trial["src"], float) + DELAY_MS
    order = np.argsort(arr, kind="stable")
    ev = [(float(arr[i]), float(trial["w"][i])) for i in order] + [(trial["duration"], 0.0)]
    t, v, ie, ii, ref_end, spikes = 0.0, trial["v_init"], 0.0, 0.0, -np.inf, []

    def vf(s, v, ie, ii):
        em = np.exp(-s / tm)
        return (v_inf + (v - v_inf) * em + ie * te / (te - tm) * (np.exp(-s / te) - em)
                + ii * ti / (ti - tm) * (np.exp(-s / ti) - em))

    for ta, w in ev:
        while True:
            if ref_end > t:
                t1 = min(ref_end, ta)
                ie *= math.exp(-(t1 - t) / te)
                ii *= math.exp(-(t1 - t) / ti)
                t, v = t1, vreset
                if t1 == ta:
                    break
            T = ta - t
            if T > 0:
                s = np.append(np.arange(1, int(T / grid) + 1) * grid, T)
                s = s[s <= T]
                above = np.nonzero(vf(s, v, ie, ii) >= vth)[0]
                if above.size:
                    j = above[0]
                    lo, hi = (s[j - 1] if j else 0.0), s[j]
                    for _ in range(200):
                        mid = 0.5 * (lo + hi)
                        if mid in (lo, hi):
                            break
                        if vf(np.array([mid]), v, ie, ii)[0] >= vth:
                            hi = mid
                        else:
                            lo = mid
                    ts = t + hi
                    spikes.append(ts)
                    ie *= math.exp(-hi / te)
                    ii *= math.exp(-hi / ti)
                    t, v, ref_end = ts, vreset, ts + p["t_ref"]
                    continue
                v = float(vf(np.array([T]), v, ie, ii)[0])
                ie *= math.exp(-T / te)
                ii *= math.exp(-T / ti)
                t = ta
            break
        if w >= 0:
            ie += w
        else:
            ii += w
    return spikes


def run_reference(trial):
    if trial["model"] == "delta":
        return np.array(_reference_delta(trial, trial["duration"])[0])
    return np.array(_reference_exp(trial))


def substep_graze_only(trial, t_missing):
    """True if, for a single-event graze trial, V >= V_th holds only strictly between NEST's
    check points (multiples of h and input arrival times) around each missing spike."""
    sh = trial.get("shape")
    if sh is None:
        return False
    p = trial["params"]
    v_inf = p["v_rest"] + p["i_bias"]
    for tmiss in t_missing:
        grid = np.arange(math.floor((tmiss - 1.0) / RESOLUTION_MS), math.ceil((tmiss + 1.0) / RESOLUTION_MS) + 1)
        pts = np.concatenate([grid * RESOLUTION_MS, np.asarray(sh["t_in"])])
        v = v_inf + _psc_shape(p["tau_m"], sh["taus"], sh["t_in"], sh["w"], pts)
        if np.any(v >= p["v_th"]):
            return False
    return True


# ============================================================================ comparison
def compare(t_es, t_ne, duration):
    cut = duration - 1e-3                      # both sides truncated identically at the end
    a, b = t_es[t_es < cut], np.asarray(t_ne, float)
    b = b[b < cut]
    if a.size != b.size:
        return dict(ok=False, n_es=int(a.size), n_nest=int(b.size), dts=None)
    d = np.abs(a - b)
    return dict(ok=bool(d.size == 0 or d.max() <= TOL_MS), n_es=int(a.size), n_nest=int(b.size), dts=d)


def _first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if abs(a[i] - b[i]) > TOL_MS:
            return i
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20, help="random Poisson trials per model (default 20)")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--no-adversarial", dest="adversarial", action="store_false",
                    help="skip the graze / refractory adversarial trials")
    ap.add_argument("--reference", choices=("all", "failures", "off"), default="all",
                    help="run the independent numpy reference on all trials (default), on trials that "
                         "disagree, or never")
    ap.add_argument("--out", default=str(HERE / "results" / "crosscheck_nest.json"))
    args = ap.parse_args(argv)

    wall0 = time.perf_counter()
    trials = make_trials(args.seed, args.trials, args.adversarial)
    t_gen = time.perf_counter() - wall0

    jobs = []                                   # (trial, nest_model)
    for tr in trials:
        if tr["model"] == "delta":
            names = ["iaf_psc_delta_ps"]
        else:   # NEST 3.10's lossless model requires tau_syn_ex == tau_syn_in
            names = ["iaf_psc_exp_ps"] + (["iaf_psc_exp_ps_lossless"] if tr.get("lossless") else [])
        jobs += [(tr, m) for m in names]
    t0 = time.perf_counter()
    # diagnostic: NEST with the unrounded float64 weights (eventsim stores float32 weights)
    raw_jobs = [(tr, m) for tr, m in jobs if tr["kind"] == "poisson" and m != "iaf_psc_exp_ps_lossless"]
    all_out = run_nest_batch([nest_spec(tr, m) for tr, m in jobs] + [nest_spec(tr, m, raw=True) for tr, m in raw_jobs])
    nest_out, raw_out = all_out[:len(jobs)], all_out[len(jobs):]
    t_nest = time.perf_counter() - t0
    t0 = time.perf_counter()
    es_out = {tr["id"]: run_eventsim(tr) for tr in trials}
    t_es = time.perf_counter() - t0
    nest_version = next((o["nest_version"] for o in nest_out if "nest_version" in o), None)

    per_model: dict[str, dict] = {}
    records, failures = [], []
    ref_cache: dict[int, np.ndarray] = {}
    for (tr, m), out in zip(jobs, nest_out):
        st = per_model.setdefault(m, dict(trials=0, spikes=0, dts=[], failures=0, nest_substep_miss=0, nest_error=0,
                                          by_kind={}))
        kind = tr["kind"]
        bk = st["by_kind"].setdefault(kind, dict(trials=0, spikes=0, max_abs_dt_ms=0.0))
        st["trials"] += 1
        bk["trials"] += 1
        a = es_out[tr["id"]]
        rec = dict(trial=tr["id"], nest_model=m, kind=kind, note=tr["note"], n_inputs=int(len(tr["src"])))
        b = np.asarray(out.get("spike_times", []), float)
        if "error" in out:
            res = dict(ok=False, n_es=int(a.size), n_nest=None, dts=None)
            rec["nest_error"] = out["error"]
        else:
            res = compare(a, b, tr["duration"])
        rec.update(n_eventsim=res["n_es"], n_nest=res["n_nest"])
        status = "ok"
        if res["dts"] is not None:
            st["spikes"] += res["n_es"]
            bk["spikes"] += res["n_es"]
            st["dts"].append(res["dts"])
            mx = float(res["dts"].max()) if res["dts"].size else 0.0
            bk["max_abs_dt_ms"] = max(bk["max_abs_dt_ms"], mx)
            rec["max_abs_dt_ms"] = mx
        if not res["ok"]:
            status = "FAIL"
            if "error" in out:
                status = "nest_error"
            elif m == "iaf_psc_exp_ps" and res["n_es"] > res["n_nest"]:
                # eventsim has extra spikes: is it NEST's documented sub-step blind spot?
                missing = [x for x in a if np.min(np.abs(b - x), initial=np.inf) > TOL_MS]
                if substep_graze_only(tr, missing):
                    status = "nest_substep_miss"
                    rec["missing_in_nest_ms"] = [float(x) for x in missing]
        if args.reference == "all" or (args.reference == "failures" and status != "ok"):
            if tr["id"] not in ref_cache:
                ref_cache[tr["id"]] = run_reference(tr)
            r = ref_cache[tr["id"]]
            rc_es, rc_ne = compare(a, r, tr["duration"]), compare(b, r, tr["duration"])
            rec["reference"] = dict(
                n=int(len(r)),
                eventsim_vs_ref=dict(n_es=rc_es["n_es"], n_ref=rc_es["n_nest"], max_abs_dt_ms=None
                                     if rc_es["dts"] is None else float(rc_es["dts"].max(initial=0.0))),
                nest_vs_ref=None if "error" in out else dict(
                    n_nest=rc_ne["n_es"], n_ref=rc_ne["n_nest"], max_abs_dt_ms=None
                    if rc_ne["dts"] is None else float(rc_ne["dts"].max(initial=0.0))))
            # NEST-side exemptions stand only if eventsim agrees with the independent reference
            if status in ("nest_substep_miss", "nest_error") and not rc_es["ok"]:
                status = "FAIL"
        rec["status"] = status
        if status in ("nest_substep_miss", "nest_error"):
            st[status] += 1
        elif status == "FAIL":
            st["failures"] += 1
            i = _first_diff(a, b)
            rec["first_difference"] = dict(index=i, eventsim=a[i:i + 3].tolist(), nest=b[i:i + 3].tolist())
            failures.append(rec)
        records.append(rec)

    ref_agg: dict[str, dict] = {}
    for rec in records:
        ref = rec.get("reference")
        if ref is None:
            continue
        g = ref_agg.setdefault(rec["nest_model"], dict(trials=0, eventsim_count_mismatch=0,
                                                       eventsim_max_abs_dt_ms=0.0, nest_count_mismatch=0,
                                                       nest_max_abs_dt_ms=0.0, nest_errors=0))
        g["trials"] += 1
        e, n = ref["eventsim_vs_ref"], ref["nest_vs_ref"]
        if e["max_abs_dt_ms"] is None:
            g["eventsim_count_mismatch"] += 1
        else:
            g["eventsim_max_abs_dt_ms"] = max(g["eventsim_max_abs_dt_ms"], e["max_abs_dt_ms"])
        if n is None:
            g["nest_errors"] += 1
        elif n["max_abs_dt_ms"] is None:
            g["nest_count_mismatch"] += 1
        else:
            g["nest_max_abs_dt_ms"] = max(g["nest_max_abs_dt_ms"], n["max_abs_dt_ms"])
    summary = {}
    for m, st in per_model.items():
        d = np.concatenate(st["dts"]) if st["dts"] else np.zeros(0)
        summary[m] = dict(trials=st["trials"], spikes_compared=int(st["spikes"]),
                          max_abs_dt_ms=float(d.max()) if d.size else 0.0,
                          median_abs_dt_ms=float(np.median(d)) if d.size else 0.0,
                          failures=st["failures"], nest_substep_miss=st["nest_substep_miss"],
                          nest_error=st["nest_error"], vs_reference=ref_agg.get(m),
                          by_kind=st["by_kind"])
    passed = all(s["failures"] == 0 for s in summary.values())
    raw_diag = {}
    for (tr, m), out in zip(raw_jobs, raw_out):
        dg = raw_diag.setdefault(m, dict(trials=0, count_mismatches=0, spikes_compared=0, max_abs_dt_ms=0.0))
        dg["trials"] += 1
        if "error" in out:
            dg["count_mismatches"] += 1
            continue
        res = compare(es_out[tr["id"]], out["spike_times"], tr["duration"])
        if res["dts"] is None:
            dg["count_mismatches"] += 1
        else:
            dg["spikes_compared"] += res["n_es"]
            dg["max_abs_dt_ms"] = max(dg["max_abs_dt_ms"], float(res["dts"].max(initial=0.0)))
    wall = time.perf_counter() - wall0

    import eventsim
    import numba
    try:
        commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(HERE), "status", "--porcelain", "--", "../eventsim",
                                     "../models"], capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    result = dict(
        benchmark="crosscheck_nest", date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        command=" ".join(["python3.11 benchmarks/crosscheck_nest.py"] + (sys.argv[1:] if argv is None else argv)),
        machine=dict(host=platform.node(), cpu=cpu, cores=os.cpu_count(), os=platform.platform()),
        versions=dict(python=platform.python_version(), eventsim=getattr(eventsim, "__version__", None),
                      eventsim_git=commit, eventsim_worktree_dirty=dirty, numba=numba.__version__,
                      numpy=np.__version__, nest=nest_version),
        settings=dict(seed=args.seed, trials_per_model=args.trials, adversarial=args.adversarial,
                      tolerance_ms=TOL_MS, nest_resolution_ms=RESOLUTION_MS, delay_ms=DELAY_MS, C_m_pF=C_M,
                      reference=args.reference),
        passed=passed, summary=summary,
        diagnostic_float64_weights=dict(
            note="poisson trials with NEST given the unrounded float64 weights, while eventsim stores "
                 "float32 weights (eventsim/graph.py): shows the effect of the weight storage, not of "
                 "the integration; not part of the pass criterion", per_model=raw_diag),
        runtime_s=dict(total=round(wall, 2), trial_generation=round(t_gen, 2), nest=round(t_nest, 2),
                       eventsim=round(t_es, 2)),
        failures=failures, trials=records)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")

    print(f"eventsim vs NEST {nest_version} precise models  (seed {args.seed}, tolerance {TOL_MS:g} ms)")
    print(f"{'NEST model':26s} {'trials':>6s} {'spikes':>7s} {'max|dt| ms':>11s} {'median|dt| ms':>14s}"
          f" {'fail':>5s} {'substep-miss':>13s} {'nest-error':>11s}")
    for m, s in summary.items():
        print(f"{m:26s} {s['trials']:6d} {s['spikes_compared']:7d} {s['max_abs_dt_ms']:11.3e} "
              f"{s['median_abs_dt_ms']:14.3e} {s['failures']:5d} {s['nest_substep_miss']:13d} {s['nest_error']:11d}")
    for m, g in ref_agg.items():
        print(f"  [reference] {m}: {g['trials']} trials; eventsim vs reference max|dt| "
              f"{g['eventsim_max_abs_dt_ms']:.1e} ms, {g['eventsim_count_mismatch']} count mismatches; NEST vs "
              f"reference max|dt| {g['nest_max_abs_dt_ms']:.1e} ms, {g['nest_count_mismatch']} count mismatches, "
              f"{g['nest_errors']} errors")
    for m, dg in raw_diag.items():
        print(f"  [diagnostic] {m} with float64 (not float32-rounded) weights in NEST: "
              f"max|dt| {dg['max_abs_dt_ms']:.3e} ms over {dg['spikes_compared']} spikes, "
              f"{dg['count_mismatches']}/{dg['trials']} trials with different spike counts")
    for rec in records:
        if rec["status"] in ("nest_substep_miss", "nest_error"):
            ref = rec.get("reference") or {}
            print(f"  [{rec['status']}] trial {rec['trial']} {rec['nest_model']} ({rec['note'][:60]}): eventsim "
                  f"{rec['n_eventsim']} spike(s), NEST {rec['n_nest']} {rec.get('nest_error', '')[:70]}; "
                  f"eventsim vs reference {ref.get('eventsim_vs_ref')}")
    for f in failures:
        print(f"FAIL trial {f['trial']} {f['nest_model']} ({f['kind']}: {f['note']}): eventsim {f['n_eventsim']} "
              f"spikes, NEST {f['n_nest']}; first difference {f.get('first_difference')} "
              f"{f.get('nest_error', '')} reference={f.get('reference')}")
    print(f"{'PASS' if passed else 'FAIL'}: all spike times within {TOL_MS:g} ms"
          f" ({wall:.1f} s; written {out})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
