"""How hard is the competition during training? A short diagnostic on the first training digits.

    python benchmarks/diehl_cook/competition.py --n 400 --digits 600 --set x_tar=0 inh_scale=400 reset_v=-125

Trains DCParams.tuned() (plus --set overrides) on the first --digits training images and reports, over
the second half of them: excitatory neurons that spike per digit, the top neuron's share of the spikes,
how often the winner of a digit also won the previous digit (a carried-over advantage), the mean
adaptive threshold, retries and training digits per CPU second. Appends a row to
results/competition.json.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, data  # noqa: E402
from script_args import ArgumentParser, non_negative_int, positive_int, run  # noqa: E402
from train_eval import parse_set  # noqa: E402

from eventsim.models.diehl_cook import DCParams, DiehlCook  # noqa: E402


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=400)
    ap.add_argument("--digits", type=positive_int, default=600)
    ap.add_argument("--seed", type=non_negative_int, default=0)
    ap.add_argument("--set", nargs="*", default=[], help="DCParams overrides on top of DCParams.tuned()")
    a = ap.parse_args()
    kw = parse_set(a.set)
    m = DiehlCook(a.n, DCParams.tuned(a.n, **kw), seed=a.seed)
    m.net.build()
    m.net.run(1.0)                                  # compile outside the timing
    (Xtr, _), _, _ = data()
    prev, same, active, share = -1, 0, [], []
    c0 = time.process_time()
    half = a.digits // 2
    for k in range(a.digits):
        c = m.present(Xtr[k])
        w = int(np.argmax(c))
        if k >= half:
            same += w == prev
            active.append(int((c > 0).sum()))
            share.append(c.max() / max(c.sum(), 1))
        prev = w
    row = {"n": a.n, "digits": a.digits, "overrides": kw, "active_per_digit": float(np.mean(active)),
           "top_share": float(np.mean(share)), "same_winner_as_previous": same / (a.digits - half),
           "mean_theta_mV": float(m.exc.get("theta").mean()), "retries": m.retries,
           "digits_per_cpu_s": a.digits / (time.process_time() - c0),
           "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    print(json.dumps(row))
    path = os.path.join(RESULTS, "competition.json")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            rows = json.load(f)
    with open(path, "w") as f:
        json.dump(rows + [row], f, indent=1)


if __name__ == "__main__":
    run(main)
