"""Run `eventsim train-grad` for dense BPTT (B_th = inf) and the sparse method with the same
config, seed and epochs, and collect test accuracy / timing into one JSON.

    python benchmarks/surrogate_train_runs.py benchmarks/surrogate/configs/mnist.toml \
        [--seed 0] [--epochs E] [--methods dense,sparse] [--tag NAME] [--lr 1e-3] [--rouse 0.2] [--fixed-theta] [--fallback] [--weight-dtype float32]
        [--lr-schedule cosine] [--keep-best]

Each run writes benchmarks/surrogate/runs/<tag>_<method>/{train_summary.json,curves.png}
(checkpoint.h5 is git-ignored); the collected table goes to
benchmarks/surrogate/train_results.json (merged by key <tag>_<method>).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from eventsim.learning.surrogate.model import WEIGHT_DTYPES
from eventsim.learning.surrogate.train import LR_SCHEDULES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_json import git_commit, machine  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "surrogate")


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--methods", default="dense,sparse")
    ap.add_argument("--band", default=None, help="B_th for the sparse run (default: the config's)")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--lr", default=None, help="train.lr for every run")
    ap.add_argument("--rouse", default=None, help="train.rouse for every run (revive dead neurons)")
    ap.add_argument("--fallback", action="store_true",
                    help="sparse runs: neurons that miss the band store their closest approach (train.fallback)")
    ap.add_argument("--fixed-theta", action="store_true", help="thresholds not trainable (train_theta = false)")
    ap.add_argument("--weight-dtype", default=None, choices=WEIGHT_DTYPES,
                    help="train.weight_dtype for every run (precision in which the kernels read W and R)")
    ap.add_argument("--lr-schedule", default=None, choices=LR_SCHEDULES,
                    help="train.lr_schedule for every run")
    ap.add_argument("--keep-best", action="store_true",
                    help="train.keep_best for every run (test the parameters of the best validation epoch)")
    args = ap.parse_args(argv)
    tag = args.tag or os.path.splitext(os.path.basename(args.config))[0]
    res_path = os.path.join(OUT, "train_results.json")
    for method in args.methods.split(","):
        out = os.path.join(OUT, "runs", f"{tag}_{method}")
        cmd = [sys.executable, "-c", "import sys; from eventsim.cli import main; sys.exit(main(sys.argv[1:]))",
               "train-grad", args.config, "--out", out, "--method", method, "--no-progress"]
        if method == "dense":
            cmd += ["--band", "inf"]
        elif args.band is not None:
            cmd += ["--band", args.band]
        if args.seed is not None:
            cmd += ["--seed", str(args.seed)]
        if args.epochs is not None:
            cmd += ["--epochs", str(args.epochs)]
        if args.rouse is not None:
            cmd += ["--rouse", args.rouse]
        if args.lr is not None:
            cmd += ["--lr", args.lr]
        if args.fixed_theta:
            cmd += ["--no-train-theta"]
        if args.fallback and method == "sparse":
            cmd += ["--fallback"]
        if args.weight_dtype is not None:
            cmd += ["--weight-dtype", args.weight_dtype]
        if args.lr_schedule is not None:
            cmd += ["--lr-schedule", args.lr_schedule]
        if args.keep_best:
            cmd += ["--keep-best"]
        print(" ".join(cmd[:1] + ["-m eventsim.cli"] + cmd[3:]), flush=True)
        l0, t0 = _load(), time.perf_counter()
        code = subprocess.run(cmd).returncode
        if code != 0:          # train-grad has printed its one-line error
            return code
        s = json.load(open(os.path.join(out, "train_summary.json")))
        # read the table only now: other runs of this script may have added rows meanwhile
        table = json.load(open(res_path)) if os.path.exists(res_path) else {}
        table[f"{tag}_{method}"] = {
            "config": os.path.relpath(args.config, os.path.dirname(HERE)), "method": method, "band": s["band"],
            "seed": s["seed"], "epochs": s["epochs"], "n_train": s["n_train"], "n_val": s["n_val"],
            "n_test": s.get("n_test"), "test_acc": s.get("test_acc"), "val_acc": s["val_acc"],
            "dead_frac": s["dead_frac"], "active_frac": s["active_frac"], "rouse": s.get("rouse", 0.0), "lr": s.get("lr"),
            "train_theta": s.get("train_theta", True), "fallback": s.get("fallback", False), "roused": s.get("roused"),
            "weight_dtype": s.get("weight_dtype", "float64"), "lr_schedule": s.get("lr_schedule", "constant"),
            "keep_best": s.get("keep_best", False), "best_epoch": s.get("best_epoch"), "t_train_s": s["t_train_s"],
            "t_backward_s": s["t_backward_s"], "t_forward_s": s["t_forward_s"],
            "wall_s": time.perf_counter() - t0, "loadavg_1min_start": l0, "loadavg_1min_end": _load(),
            "machine": platform.platform(), "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "versions": {k: v for k, v in machine().items() if k in ("python", "numba", "numpy", "eventsim")},
            "git_commit": git_commit()}
        with open(res_path, "w") as f:
            json.dump(table, f, indent=2)
        print(f"{tag}_{method}: test_acc={s.get('test_acc')} val={s['val_acc'][-1]:.4f} "
              f"train {s['t_train_s']:.0f}s (backward {s['t_backward_s']:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
