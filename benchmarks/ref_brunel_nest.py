"""Brunel (2000) model A (AI regime, g=5, eta=2) in NEST: reference for eventsim. Run in ``.venv-nest``.

Same network as ``eventsim/configs/brunel.toml`` (NEST's brunel_delta example):
NE = 10000 * scale excitatory and NI = 2500 * scale inhibitory LIF neurons with
voltage-jump synapses (``iaf_psc_delta``, grid, resolution 0.1 ms; or the precise
``iaf_psc_delta_ps`` driven by ``poisson_generator_ps``), tau_m = 20 ms, E_L = 0,
V_th = 20 mV, V_reset = 10 mV, t_ref = 2 ms (inputs during refractoriness discarded,
as in eventsim's LIFDelta), V_m(0) ~ U[0, 20] mV. Fixed in-degrees CE = 1000,
CI = 250 (independent of --scale; autapses and multapses allowed), J = 0.1 mV,
inhibitory -g*J = -0.5 mV, delay 1.5 ms. External drive: one poisson generator
connected to every neuron (NEST draws an independent train per target) at
20 kHz, weight J, delay 1.5 ms. 1 thread.

Prints ONE JSON line: simulator, version, model, n_neurons, duration_ms, seed,
build_s (create + connect + Prepare), run_s (nest.Run only), rates and CVs and
Fano factor from ``spike_stats_common.network_stats`` (shared with eventsim).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("PYNEST_QUIET", "1")  # keep NEST's banner off stdout
import nest  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spike_stats_common import network_stats  # noqa: E402

NE0, NI0 = 10000, 2500
CE, CI = 1000, 250
J, G = 0.1, 5.0
DELAY = 1.5
NU_EXT = 20000.0  # Hz = CE * eta * nu_thr with eta = 2, nu_thr = V_th / (J CE tau_m) = 10 Hz


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=("iaf_psc_delta", "iaf_psc_delta_ps"), default="iaf_psc_delta")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies NE, NI (CE, CI fixed)")
    ap.add_argument("--v-reset", type=float, default=10.0,
                    help="mV; 10 as in Brunel (2000) and brunel.toml (NEST's brunel_delta example uses 0)")
    ap.add_argument("--save-spikes", default=None, help="optional .npz with exc/inh times and ids")
    args = ap.parse_args()

    ne, ni = int(round(NE0 * args.scale)), int(round(NI0 * args.scale))
    if ne < CE or ni < CI:
        print(f"warning: NE={ne} < CE={CE} or NI={ni} < CI={CI} (multapses make up the in-degree)",
              file=sys.stderr)

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=1, rng_seed=args.seed)

    t0 = time.perf_counter()
    params = {"tau_m": 20.0, "E_L": 0.0, "V_th": 20.0, "V_reset": args.v_reset, "t_ref": 2.0, "I_e": 0.0}
    if args.model == "iaf_psc_delta":
        params["refractory_input"] = False
    pop_e = nest.Create(args.model, ne, params=params)
    pop_i = nest.Create(args.model, ni, params=params)
    allp = pop_e + pop_i
    allp.V_m = nest.random.uniform(0.0, 20.0)
    gen = "poisson_generator_ps" if args.model.endswith("_ps") else "poisson_generator"
    noise = nest.Create(gen, params={"rate": NU_EXT})
    nest.Connect(noise, allp, "all_to_all", {"weight": J, "delay": DELAY})
    common = {"allow_autapses": True, "allow_multapses": True}
    nest.Connect(pop_e, allp, {"rule": "fixed_indegree", "indegree": CE, **common},
                 {"weight": J, "delay": DELAY})
    nest.Connect(pop_i, allp, {"rule": "fixed_indegree", "indegree": CI, **common},
                 {"weight": -G * J, "delay": DELAY})
    rec_e = nest.Create("spike_recorder")
    rec_i = nest.Create("spike_recorder")
    nest.Connect(pop_e, rec_e)
    nest.Connect(pop_i, rec_i)
    nest.Prepare()
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    nest.Run(args.duration_ms)
    run_s = time.perf_counter() - t0
    nest.Cleanup()

    pops = {}
    for name, rec, pop, n in (("exc", rec_e, pop_e, ne), ("inh", rec_i, pop_i, ni)):
        ev = rec.events
        ids = np.asarray(ev["senders"], dtype=np.int64) - pop[0].global_id
        pops[name] = (np.asarray(ev["times"], dtype=np.float64), ids, n)
    if args.save_spikes:
        np.savez_compressed(args.save_spikes, **{f"{k}_{f}": v[j] for k, v in pops.items()
                                                 for j, f in enumerate(("times", "ids"))})
    stats = network_stats(pops, args.duration_ms)
    out = {"simulator": "nest", "version": nest.__version__, "model": args.model,
           "n_neurons": ne + ni, "ne": ne, "ni": ni, "scale": args.scale, "v_reset": args.v_reset,
           "duration_ms": args.duration_ms, "seed": args.seed,
           "build_s": round(build_s, 3), "run_s": round(run_s, 3)}
    out.update({k: (round(v, 5) if isinstance(v, float) else v) for k, v in stats.items()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
