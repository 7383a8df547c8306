"""CUBA benchmark network in NEST (reference for eventsim). Run in ``.venv-nest``.

Same network as ``ref_cuba_brian2.py`` (Brian2's examples/CUBA.py): 4000 LIF
neurons (3200 exc, 800 inh), p=0.02 pairwise Bernoulli (autapses allowed),
delay 0.1 ms, resolution 0.1 ms, 1 thread, V_m(0) ~ U[V_reset, V_th).

Brian's mV-equivalent weights are converted to NEST pA so that the dynamics
are identical: W = w * C_m / tau_m with C_m = 250 pF, tau_m = 20 ms, i.e.
we = 1.62 mV -> 20.25 pA, wi = -9 mV -> -112.5 pA. Other parameters: E_L=-49,
V_th=-50, V_reset=-60 mV, t_ref=5 ms, tau_syn_ex=5 ms, tau_syn_in=10 ms.
(NEST fires on V >= V_th, Brian on v > Vt; irrelevant in practice.)

Prints ONE JSON line (wall-clock seconds):
  build_s   - node creation, connection, and ``nest.Prepare()``.
  compile_s - null (NEST models are precompiled).
  run_s     - ``nest.Run(duration)`` only.
  syn_events - sum over emitted spikes of the emitter's out-degree.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

os.environ.setdefault("PYNEST_QUIET", "1")  # keep NEST's banner off stdout
import nest  # noqa: E402

N_E, N_I = 3200, 800
C_M, TAU_M = 250.0, 20.0  # pF, ms
WE_MV, WI_MV = 60 * 0.27 / 10, -20 * 4.5 / 10  # Brian2 CUBA weights (mV)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=("iaf_psc_exp", "iaf_psc_exp_ps"), default="iaf_psc_exp")
    args = ap.parse_args()

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=1, rng_seed=args.seed)

    t0 = time.perf_counter()
    n = N_E + N_I
    params = {"C_m": C_M, "tau_m": TAU_M, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0,
              "t_ref": 5.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "I_e": 0.0}
    pop = nest.Create(args.model, n, params=params)
    pop.V_m = nest.random.uniform(-60.0, -50.0)
    conn = {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": True}
    w_e, w_i = WE_MV * C_M / TAU_M, WI_MV * C_M / TAU_M  # pA
    nest.Connect(pop[:N_E], pop, conn, {"weight": w_e, "delay": 0.1})
    nest.Connect(pop[N_E:], pop, conn, {"weight": w_i, "delay": 0.1})
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    nest.Prepare()
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    nest.Run(args.duration_ms)
    run_s = time.perf_counter() - t0
    nest.Cleanup()

    first = pop[0].global_id
    sources = np.asarray(nest.GetConnections(source=pop, target=pop).source) - first
    out_deg = np.bincount(sources, minlength=n)
    counts = np.bincount(np.asarray(rec.events["senders"], dtype=np.int64) - first, minlength=n)
    n_spikes = int(counts.sum())
    syn_events = int((counts * out_deg).sum())
    print(json.dumps({
        "simulator": "nest", "version": nest.__version__, "model": args.model,
        "n_neurons": n, "n_synapses": int(len(sources)),
        "duration_ms": args.duration_ms, "seed": args.seed,
        "build_s": round(build_s, 4), "compile_s": None, "run_s": round(run_s, 4),
        "n_spikes": n_spikes, "mean_rate_hz": n_spikes / n / (args.duration_ms / 1000.0),
        "syn_events": syn_events, "events_per_s": syn_events / run_s,
    }))


if __name__ == "__main__":
    main()
