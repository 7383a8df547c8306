"""CUBA benchmark network in Brian2 (reference for eventsim). Run in ``.venv-brian2``.

4000 LIF neurons (3200 exc, 800 inh), current-based exponential synapses,
connection probability 0.02 (autapses allowed, as in Brian2's examples/CUBA.py),
synaptic delay 0.1 ms, clock dt 0.1 ms, exact (linear) integration.
All voltages/weights in mV, times in ms::

    dv/dt  = (ge + gi - (v - El)) / taum   (unless refractory)
    dge/dt = -ge / taue,  dgi/dt = -gi / taui
    taum=20, taue=5, taui=10, Vt=-50, Vr=-60, El=-49, refractory 5,
    we = 60*0.27/10 = 1.62 mV, wi = -20*4.5/10 = -9 mV, v(0) ~ U[Vr, Vt)

Prints ONE JSON line (times in seconds of wall clock):
  build_s   - Python-side network construction (cython: includes compiling
              and running the synapse-creation code; cpp_standalone: Python
              object creation + the binary's wall time outside Network.run,
              i.e. synapse creation, initialisation and result I/O).
  compile_s - cython: first ``run(0*ms)`` (code generation + Cython compile of
              all runtime code objects; small if Brian's on-disk cache is warm);
              cpp_standalone: ``device.build(run=False, clean=True)`` (code gen +
              full ``make clean; make -j``).
  run_s     - cython: wall time of ``run(duration)``; cpp_standalone: the
              binary's own Network.run timer (``device._last_run_time``).
  syn_events - sum over emitted spikes of the emitter's out-degree.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

N_E, N_I = 3200, 800
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", choices=("cython", "cpp_standalone"), default="cython")
    ap.add_argument("--build-dir", default=os.path.join(HERE, "brian2_standalone_cuba"),
                    help="C++ standalone project directory (cpp_standalone only)")
    args = ap.parse_args()

    import brian2 as b2
    from brian2 import ms, mV

    b2.prefs.logging.console_log_level = "WARNING"
    standalone = args.target == "cpp_standalone"
    if standalone:
        b2.set_device("cpp_standalone", directory=args.build_dir, build_on_run=False)
    else:
        b2.prefs.codegen.target = "cython"
    b2.seed(args.seed)

    t0 = time.perf_counter()
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
    eqs = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    b2.defaultclock.dt = 0.1 * ms
    P = b2.NeuronGroup(N_E + N_I, eqs, threshold="v > Vt", reset="v = Vr",
                       refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = b2.Synapses(P, P, on_pre="ge += we", delay=0.1 * ms)
    Ci = b2.Synapses(P, P, on_pre="gi += wi", delay=0.1 * ms)
    Ce.connect("i < N_E", p=0.02)
    Ci.connect("i >= N_E", p=0.02)
    mon = b2.SpikeMonitor(P, record=False)  # counts only
    net = b2.Network(P, Ce, Ci, mon)
    build_s = time.perf_counter() - t0

    duration = args.duration_ms * ms
    if standalone:
        net.run(duration)
        t0 = time.perf_counter()
        b2.device.build(directory=args.build_dir, compile=True, run=False, clean=True)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        b2.device.run(args.build_dir, with_output=False)
        binary_s = time.perf_counter() - t0
        run_s = float(b2.device._last_run_time)
        build_s += binary_s - run_s
    else:
        t0 = time.perf_counter()
        net.run(0 * ms)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        net.run(duration)
        run_s = time.perf_counter() - t0

    n = N_E + N_I
    out_deg = np.bincount(np.asarray(Ce.i[:]), minlength=n) + np.bincount(np.asarray(Ci.i[:]), minlength=n)
    counts = np.asarray(mon.count[:])
    n_spikes = int(counts.sum())
    syn_events = int((counts * out_deg).sum())
    print(json.dumps({
        "simulator": "brian2", "version": b2.__version__, "target": args.target,
        "n_neurons": n, "n_synapses": int(len(Ce) + len(Ci)),
        "duration_ms": args.duration_ms, "seed": args.seed,
        "build_s": round(build_s, 4), "compile_s": round(compile_s, 4), "run_s": round(run_s, 4),
        "n_spikes": n_spikes, "mean_rate_hz": n_spikes / n / (args.duration_ms / 1000.0),
        "syn_events": syn_events, "events_per_s": syn_events / run_s,
    }))


if __name__ == "__main__":
    main()
