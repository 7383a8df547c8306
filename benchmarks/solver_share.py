"""Experiment: what share of a CUBA run goes to solving threshold crossings exactly?

When a neuron's check pops and its lower bound is near, the engine solves for the exact
crossing (`neuron.next_crossing`). This script measures that part on the real sequence of solves:

1. a patched copy of the engine logs, before every solve, the neuron, the time, the epoch and the
   neuron's state row (`engine_log.logged_cuba_run`, CUBA seed 1);
2. the solves are replayed with the installed `neuron.next_crossing`, each from its logged state
   (the factor row for its time is filled first, as the engine's check has it), and timed;
3. the unpatched engine is timed on the same run, alternating with the replay.

    python3.11 benchmarks/solver_share.py [--duration 2000] [--reps 5]

It also writes the replayed crossing times (`--save-times F.npy`), so that two versions of the
solver can be compared on the same solves. Writes benchmarks/results/solver_share_<date>.json.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import numba as nb
import numpy as np

from eventsim import neuron

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from engine_log import alternate, logged_cuba_run, save  # noqa: E402

LOG_ROWS = 1_000_000               # about 12 s of CUBA (1.6 solves per spike)
_SOLVE = "            tc = neuron.next_crossing(P, S, j, t, ep, scratch, F, c)\n"
_LOGGED = """            lg = checks[2]
            nlg = int(lg[0, 0])
            if nlg + 1 < lg.shape[0]:
                lg[nlg + 1, 0] = j
                lg[nlg + 1, 1] = t
                lg[nlg + 1, 2] = ep
                for q in range(S.shape[1]):
                    lg[nlg + 1, 3 + q] = S[j, q]
                lg[0, 0] = nlg + 1
""" + _SOLVE


@nb.njit(cache=True)
def replay(P, S, CT, F, Ft, scratch, rows, out):
    """Solve each logged crossing from its logged state; crossing times into out (ms)."""
    for k in range(rows.shape[0]):
        j = int(rows[k, 0])
        t = rows[k, 1]
        S[j, :] = rows[k, 3:]
        c = int(P[j, neuron.CLASS])
        neuron.factors(F, Ft, CT, c, t, rows[k, 2])
        out[k] = neuron.next_crossing(P, S, j, t, rows[k, 2], scratch, F, c)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=2000.0, help="model time (ms)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--save-times", help="write the replayed crossing times (ms) to this .npy file")
    args = ap.parse_args()
    rows, P, spikes = logged_cuba_run([("engine.py", _SOLVE, _LOGGED)], (LOG_ROWS, 3 + neuron.NS), args.duration)
    out = np.zeros(rows.shape[0])
    CT = neuron.class_taus(P)
    state = (np.zeros((P.shape[0], neuron.NS)), CT, np.ones((CT.shape[0], 8)), np.full(CT.shape[0], np.nan),
             neuron.make_scratch())
    rep_s, eng_s = alternate(lambda: replay(P, *state, rows, out), args.duration, args.reps)
    if args.save_times:
        np.save(args.save_times, out)
    rep, eng = statistics.median(rep_s), statistics.median(eng_s)
    n = rows.shape[0]
    res = {"duration_ms": args.duration, "spikes": spikes, "solves": n, "solves_per_spike": n / spikes,
           "replay_s": rep_s, "engine_s": eng_s, "ns_per_solve": 1e9 * rep / n,
           "solver_us_per_spike": 1e6 * rep / spikes, "engine_us_per_spike": 1e6 * eng / spikes,
           "solver_share": rep / eng, "median_lead_ms": float(np.median(out - rows[:, 1]))}
    print(f"{n} exact solves for {spikes} spikes ({res['solves_per_spike']:.2f} per spike), "
          f"median crossing {res['median_lead_ms']:.2f} ms after the check")
    print(f"replay {1e3 * rep:.1f} ms ({res['ns_per_solve']:.0f} ns per solve), engine {1e3 * eng:.0f} ms CPU: "
          f"solver share {100 * res['solver_share']:.1f}% ({res['solver_us_per_spike']:.2f} of "
          f"{res['engine_us_per_spike']:.2f} us per spike)")
    save("solver_share", res)


if __name__ == "__main__":
    main()
