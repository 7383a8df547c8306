"""Reference: Brian2's own STDP example (Song, Miller & Abbott 2000), conductance-based, 100 s.
Run with the Brian2 venv (benchmarks/setup_venvs.sh):

    benchmarks/.venv-brian2/bin/python benchmarks/diehl_cook/ref_song_brian2.py [seed]

Writes results/song_stdp_brian2.json with the same bimodality measures as song_stdp.py.
"""
import json
import os
import sys
import time

import numpy as np
from brian2 import Hz, NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, defaultclock, ms, mV, run, seed

HERE = os.path.dirname(os.path.abspath(__file__))
s = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seed(s)
np.random.seed(s)
N = 1000
taum, taupre, taupost = 10 * ms, 20 * ms, 20 * ms
Ee, vt, vr, El, taue = 0 * mV, -54 * mV, -60 * mV, -74 * mV, 5 * ms
F = 15 * Hz
gmax = .01
dApre = .01
dApost = -dApre * taupre / taupost * 1.05
dApost *= gmax
dApre *= gmax
eqs = """dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1"""
inp = PoissonGroup(N, rates=F)
neurons = NeuronGroup(1, eqs, threshold="v>vt", reset="v = vr", method="euler")
S = Synapses(inp, neurons, """w : 1
dApre/dt = -Apre / taupre : 1 (event-driven)
dApost/dt = -Apost / taupost : 1 (event-driven)""",
             on_pre="""ge += w
Apre += dApre
w = clip(w + Apost, 0, gmax)""",
             on_post="""Apost += dApost
w = clip(w + Apre, 0, gmax)""")
S.connect()
S.w = "rand() * gmax"
mon = SpikeMonitor(neurons)
t0 = time.perf_counter()
run(100 * 1000 * ms)
wall = time.perf_counter() - t0
w = np.asarray(S.w[:]) / gmax
t = np.asarray(mon.t / ms)
hist, edges = np.histogram(w, bins=20, range=(0, 1))
doc = {"experiment": "Brian2 STDP example (conductance-based), reference for song_stdp.py", "seed": s,
       "dt_ms": float(defaultclock.dt / ms), "duration_ms": 100000.0,
       "frac_below_0.1_wmax": float(np.mean(w < 0.1)), "frac_above_0.9_wmax": float(np.mean(w > 0.9)),
       "mean_w_over_wmax": float(w.mean()), "hist_w_over_wmax": {"edges": edges.tolist(), "counts": hist.tolist()},
       "output_rate_hz_per_10s": [(float(k + 1) * 10, float(np.sum((t >= k * 1e4) & (t < (k + 1) * 1e4)) / 10))
                                  for k in range(10)], "wall_s": wall}
with open(os.path.join(HERE, "results", "song_stdp_brian2.json"), "w") as fh:
    json.dump(doc, fh, indent=1)
print(json.dumps({k: doc[k] for k in ("frac_below_0.1_wmax", "frac_above_0.9_wmax", "output_rate_hz_per_10s")}))
