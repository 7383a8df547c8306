"""Song, Miller & Abbott (2000) / Brian2's `STDP` example on eventsim: 1000 Poisson inputs at
15 Hz onto one neuron, additive all-to-all pair STDP, 100 s: the weights become bimodal.

Brian2's example (conductance-based):  taum 10 ms, taue 5 ms, Ee 0 mV, vt -54 mV, vr -60 mV,
El -74 mV, no refractoriness, gmax 0.01, w0 ~ U(0, gmax), dApre 0.01 gmax, dApost =
-dApre * taupre / taupost * 1.05, taupre = taupost = 20 ms.
Mapping to a current-based LIFExp: an input conductance g drives the current g (Ee - V); we take
V at threshold (|Ee - vt| = 54 mV), so w_max = 0.01 * 54 = 0.54 mV. With w ~ U(0, w_max) the
mean free membrane potential is El + 1000 * 15 Hz * 0.27 mV * 5 ms = -53.75 mV, as in the
conductance model at t = 0 ((El + g Ee)/(1 + g) with g = 0.375: -53.8 mV). The STDP rule is
NEST-style additive pair STDP on w / w_max: lambda = 0.01 (dApre / gmax), alpha = 1.05
(|dApost| / dApre), all-to-all traces, tau 20 ms. Delay 0.1 ms (eventsim needs delay > 0).

    python benchmarks/diehl_cook/song_stdp.py            # -> results/song_stdp.json, song_stdp_hist.png
    python benchmarks/diehl_cook/song_stdp.py 300        # 300 s: results/song_stdp_300s.json ...
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, RESULTS, write_json  # noqa: E402
from script_args import ArgumentParser, positive_float, run  # noqa: E402

import eventsim as es  # noqa: E402
from eventsim.analysis import plots  # noqa: E402
from eventsim.learning import additive  # noqa: E402
from eventsim.models import LIFExp  # noqa: E402

N, RATE, T_MS = 1000, 15.0, 100_000.0
DRIVE = 54.0                       # mV: |Ee - vt|
W_MAX = 0.01 * DRIVE


def main(seed: int = 1, duration: float = T_MS):
    net = es.Network(seed=seed)
    cell = net.population(1, LIFExp(tau_m=10.0, tau_syn_e=5.0, tau_syn_i=2.0, v_rest=-74.0, v_reset=-60.0,
                                    v_th=-54.0, t_ref=0.0), name="neuron", v_init=-74.0)
    src = net.poisson(N, RATE, name="input")
    rule = additive(tau_plus=20.0, tau_minus=20.0, lambda_=0.01, alpha=1.05, w_min=0.0, w_max=W_MAX)
    proj = net.connect(src, cell, es.all_to_all(), weight=es.uniform(0.0, W_MAX), delay=0.1, name="input_neuron",
                       plasticity=rule)
    tag = "" if duration == T_MS else f"_{duration / 1000:g}s"
    os.makedirs(os.path.join(HERE, "runs"), exist_ok=True)
    wfile = os.path.join(HERE, "runs", f"song_stdp{tag}_weights.h5")
    if os.path.exists(wfile):
        os.remove(wfile)
    net.build()
    net.save_weights(wfile, "0 s")
    rates = []
    t0 = time.perf_counter()
    step = 10_000.0
    n_prev = 0
    while net.t < duration - 1e-9:
        net.run(min(step, duration - net.t), progress=False)
        t, _ = cell.spikes()
        rates.append((net.t / 1000.0, (t.size - n_prev) / (step / 1000.0)))
        n_prev = t.size
        net.save_weights(wfile, f"{net.t / 1000:g} s")
    wall = time.perf_counter() - t0
    _, _, w = proj.weights()
    frac_low = float(np.mean(w < 0.1 * W_MAX))
    frac_high = float(np.mean(w > 0.9 * W_MAX))
    hist, edges = np.histogram(w / W_MAX, bins=20, range=(0, 1))
    from eventsim.weights_io import read_projection, snapshots
    snaps = snapshots(wfile)
    pick = [snaps[0], snaps[1], snaps[len(snaps) // 2], snaps[-1]]
    fig = plots.plot_weight_histograms([(lab, read_projection(wfile, "input_neuron", nm)["weight"] / W_MAX)
                                        for nm, _, lab in pick], bins=20,
                                       title=f"Song et al. 2000 on eventsim: w / w_max after {duration / 1000:g} s "
                                             f"({100 * frac_low:.0f}% < 0.1, {100 * frac_high:.0f}% > 0.9)")
    plots.save_figure(fig, os.path.join(RESULTS, f"song_stdp{tag}_hist.png"), dpi=90)
    doc = {"experiment": "Song, Miller & Abbott 2000 / Brian2 STDP example, current-based mapping",
           "seed": seed, "n_inputs": N, "rate_hz": RATE, "duration_ms": duration, "w_max_mV": W_MAX,
           "mapping": {"drive_mV": DRIVE, "neuron": "LIFExp tau_m 10, tau_syn_e 5, v_rest -74, v_reset -60, "
                                                    "v_th -54, t_ref 0",
                       "rule": "additive pair STDP, lambda 0.01, alpha 1.05, tau 20/20 ms, all-to-all"},
           "frac_below_0.1_wmax": frac_low, "frac_above_0.9_wmax": frac_high,
           "frac_middle": 1.0 - frac_low - frac_high, "mean_w_over_wmax": float(w.mean() / W_MAX),
           "hist_w_over_wmax": {"edges": edges, "counts": hist},
           "output_rate_hz_per_10s": rates, "wall_s": wall, "stats": net.stats,
           "weights_file": os.path.relpath(wfile, HERE)}
    print(write_json(f"song_stdp{tag}.json", doc))
    print(f"below 0.1 w_max: {frac_low:.3f}  above 0.9 w_max: {frac_high:.3f}  rates {rates}  wall {wall:.1f}s")


def cli() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seconds", nargs="?", type=positive_float, default=T_MS / 1000.0,
                    help=f"simulated time in s (default {T_MS / 1000:g})")
    a = ap.parse_args()
    main(duration=a.seconds * 1000.0)


if __name__ == "__main__":
    run(cli)
