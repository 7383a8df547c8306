"""Single-neuron cross-check runner for NEST's precise-timing (``*_ps``) models.

Run inside ``benchmarks/.venv-nest`` (see ``setup_venvs.sh``)::

    .venv-nest/bin/python ref_nest_single.py SPEC.json [OUT.json]
    .venv-nest/bin/python ref_nest_single.py --selftest

SPEC.json::

    {"model": "iaf_psc_delta_ps" | "iaf_psc_exp_ps" | "iaf_psc_exp_ps_lossless",
     "params": {...NEST parameter names, NEST units...},
     "duration_ms": float,
     "inputs": [{"times": [ms, ...], "weights": [...]}, ...],
     "resolution_ms": 0.01}          # optional, default 0.01 ms

Output (stdout, or OUT.json): ``{"spike_times": [ms, ...], "nest_version": str,
"resolution_ms": float}``; times are float64 and serialised with ``repr``
precision (round-trip exact).

Units and conversion to eventsim's "voltage-equivalent currents"
----------------------------------------------------------------
NEST: V and E_L, V_th, V_reset in mV; times in ms; C_m in pF; I_e in pA.
* ``iaf_psc_delta_ps``: a weight W is a jump of V by W mV (same number in eventsim).
* ``iaf_psc_exp_ps``: a weight W is the amplitude in pA of an exponentially
  decaying current (tau_syn_ex if W > 0, tau_syn_in if W < 0).
eventsim integrates ``dV/dt = (v_rest - V + I_e + I_i + I_bias)/tau_m`` with
currents in mV, so a NEST current X (pA) corresponds to ``x = X * tau_m / C_m`` (mV),
for both synaptic weights and I_e (I_bias). Conversely ``W = w * C_m / tau_m``.

How inputs are delivered
------------------------
Each input entry becomes one ``spike_generator`` with ``precise_times=True``
(off-grid times are kept as grid step + float64 offset) and per-spike weights
via ``spike_weights`` (supported by NEST 3.10; the connection weight is 1.0,
so the delivered weight equals the per-spike weight). Connections use the
minimal delay d = resolution, and the generator is given times ``t - d``, so
the spike reaches the neuron at ``t`` (up to ~1 ulp of float64 rounding).
NEST forbids generator times <= 0, hence every input time must be > resolution.

How spikes are read back
------------------------
The ``spike_recorder`` uses ``time_in_steps=True``: it returns the integer grid
step s and the offset o (ms before the end of that step) of every spike; the
spike time is computed here as ``s * resolution - o`` in float64.
"""
from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

os.environ.setdefault("PYNEST_QUIET", "1")  # keep NEST's banner off stdout
import nest  # noqa: E402

MODELS = ("iaf_psc_delta_ps", "iaf_psc_exp_ps", "iaf_psc_exp_ps_lossless")
DEFAULT_RESOLUTION_MS = 0.01


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Simulate one NEST neuron as described by ``spec``; return the output dict."""
    model: str = spec["model"]
    if model not in MODELS:
        raise ValueError(f"unsupported model {model!r}; choose from {MODELS}")
    h = float(spec.get("resolution_ms", DEFAULT_RESOLUTION_MS))
    duration = float(spec["duration_ms"])

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=h, local_num_threads=1)
    neuron = nest.Create(model, params=dict(spec.get("params", {})))

    for k, inp in enumerate(spec.get("inputs", [])):
        times = [float(t) for t in inp["times"]]
        weights = [float(w) for w in inp["weights"]]
        if len(times) != len(weights):
            raise ValueError(f"input {k}: times and weights differ in length")
        if not times:
            continue
        order = sorted(range(len(times)), key=times.__getitem__)
        if times[order[0]] <= h:
            raise ValueError(f"input {k}: input times must be > resolution ({h} ms)")
        gen = nest.Create("spike_generator", params={
            "precise_times": True,
            "spike_times": [times[i] - h for i in order],
            "spike_weights": [weights[i] for i in order],
        })
        nest.Connect(gen, neuron, syn_spec={"delay": h, "weight": 1.0})

    rec = nest.Create("spike_recorder", params={"time_in_steps": True})
    nest.Connect(neuron, rec)
    nest.Simulate(math.ceil(duration / h - 1e-9) * h)

    ev = rec.events
    spikes = sorted(float(s) * h - float(o) for s, o in zip(ev["times"], ev["offsets"]))
    return {"spike_times": [t for t in spikes if t <= duration],
            "nest_version": nest.__version__, "resolution_ms": h}


# ----------------------------------------------------------------------------
# Self-test against closed-form solutions.
# ----------------------------------------------------------------------------

def _const_current_spikes(p: dict[str, float], duration: float) -> list[float]:
    """Analytic spike times (ms) of an LIF with constant I_e, no input, start at V_m."""
    v_inf = p["E_L"] + p["I_e"] * p["tau_m"] / p["C_m"]
    t = p["tau_m"] * math.log((v_inf - p["V_m"]) / (v_inf - p["V_th"]))
    period = p["t_ref"] + p["tau_m"] * math.log((v_inf - p["V_reset"]) / (v_inf - p["V_th"]))
    out = []
    while t <= duration:
        out.append(t)
        t += period
    return out


def _exp_psc_crossing(p: dict[str, float], t0: float, w_pa: float) -> float:
    """First threshold crossing (ms) after one exp-PSC of w_pa pA at t0, from rest."""
    tm, ts = p["tau_m"], p["tau_syn_ex"]
    amp = w_pa / p["C_m"] * tm * ts / (tm - ts)  # mV

    def v(s: float) -> float:  # V - V_th, s = time since the input
        return p["E_L"] + amp * (math.exp(-s / tm) - math.exp(-s / ts)) - p["V_th"]

    s_peak = tm * ts / (tm - ts) * math.log(tm / ts)
    lo, hi = 0.0, s_peak
    assert v(hi) > 0, "input too weak to cross threshold"
    for _ in range(200):  # bisection to the last bit
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if v(mid) > 0 else (mid, hi)
    return t0 + hi


def selftest() -> bool:
    """Compare NEST against closed-form solutions; print max errors; True if all pass."""
    base = {"E_L": -65.0, "V_th": -50.0, "V_reset": -70.0, "C_m": 250.0,
            "tau_m": 20.0, "t_ref": 2.0}
    cases: list[tuple[str, dict[str, Any], list[float]]] = []
    for model in ("iaf_psc_delta_ps", "iaf_psc_exp_ps"):
        for v0 in (-65.0, -58.3):
            p = dict(base, I_e=300.0, V_m=v0)
            cases.append((f"{model} const I_e V_m={v0}",
                          {"model": model, "params": p, "duration_ms": 500.0},
                          _const_current_spikes(p, 500.0)))
    p = dict(base, V_m=-65.0, I_e=0.0)
    cases.append(("iaf_psc_delta_ps suprathreshold jump",
                  {"model": "iaf_psc_delta_ps", "params": p, "duration_ms": 20.0,
                   "inputs": [{"times": [3.14159265358979, 10.0], "weights": [16.0, 5.0]}]},
                  [3.14159265358979]))
    p = dict(base, V_m=-65.0, I_e=0.0, tau_syn_ex=5.0, tau_syn_in=10.0)
    t0, w = 1.2345678901, 1500.0
    cases.append(("iaf_psc_exp_ps single exp PSC",
                  {"model": "iaf_psc_exp_ps", "params": p, "duration_ms": 30.0,
                   "inputs": [{"times": [t0], "weights": [w]}]},
                  [_exp_psc_crossing(p, t0, w)]))
    ok = True
    for name, spec, expected in cases:
        got = run(spec)["spike_times"]
        err = max((abs(a - b) for a, b in zip(got, expected)), default=0.0)
        good = len(got) == len(expected) and err < 1e-9
        ok &= good
        print(f"{'PASS' if good else 'FAIL'} {name}: n={len(got)} (expected {len(expected)}), "
              f"max|t_nest - t_exact| = {err:.3e} ms")
    return ok


def main(argv: list[str]) -> int:
    if argv[:1] == ["--selftest"]:
        return 0 if selftest() else 1
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        out = json.dumps(run(json.load(f)))
    if len(argv) == 2:
        with open(argv[1], "w") as f:
            f.write(out + "\n")
    else:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
