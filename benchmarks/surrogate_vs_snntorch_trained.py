"""Full training step of TRAINED networks on their own data: eventsim's sparse learner against snnTorch.

`surrogate_vs_snntorch.py` times freshly initialised networks, which fire 0.006 spikes per neuron and
step; trained FSDD networks fire 0.04-0.12, and eventsim's event-driven cost grows with activity while
snnTorch's does not. Here each `--run NAME:B_TH[:fallback]` loads benchmarks/surrogate/runs/NAME
(trained by `surrogate_train_runs.py` from CONFIG), and a step is the core of a `train()` step:
loss_and_grad on a minibatch of the config's training data (its batch size, spike-count regulariser,
B_th, fallback, the checkpoint's weight precision), then Adam and the clamp (not train()'s parameter
copy for its NaN guard, about 3% more at N = 1000). The parameters are restored before every
timed step (outside the timing), so every step runs at the trained network's activity.

snnTorch runs the same shape on the same minibatches (the binned counts as input values) in its venv,
float32, one torch thread: `snn.Synaptic` with the config's decays per step, nn.Linear for W and R, the
leaky max-over-time readout, cross-entropy and Adam. It does less than eventsim's step: no regulariser,
and no trainable per-neuron thresholds or decays. Its cost does not depend on the weights' values, so
it keeps torch's default init.

    python benchmarks/surrogate_vs_snntorch_trained.py CONFIG --run NAME:B_TH[:fallback] [--run ...] \\
        [--batches 4] [--reps 12]

Times are median CPU seconds (process_time) per step over --reps steps cycling through the first
--batches minibatches, one thread each. Writes benchmarks/surrogate/vs_snntorch_trained.json (or --out).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results_json import load_avg, write_results  # noqa: E402
from surrogate_trained_speed import config_batches, parse_run, run_checkpoint  # noqa: E402
from surrogate_vs_snntorch import snntorch_times  # noqa: E402


def dense_input(batches) -> tuple[np.ndarray, np.ndarray]:
    """x [K, B, T, n_in] float32 (event values) and labels [K, B] of equal-sized EventBatches."""
    return np.stack([b.to_dense() for b in batches]).astype(np.float32), np.stack([b.labels for b in batches])


def snntorch_shape(config: str) -> dict:
    """The keyword arguments of `snntorch_times` that a config fixes: n_out, the decays per step
    and the hidden size (one recurrent hidden layer only)."""
    from eventsim.learning.surrogate.cli import read_config
    net = read_config(config)["network"]
    if len(net["layers"]) != 1 or not net["layers"][0].get("recurrent", False):
        raise SystemExit("the snnTorch side is written for one recurrent hidden layer")
    layer, dt = net["layers"][0], float(net.get("dt", 1.0))
    return {"n_out": int(net["n_out"]), "alpha_syn": math.exp(-dt / float(layer["tau_syn"])),
            "beta_mem": math.exp(-dt / float(layer["tau_mem"])), "kappa": math.exp(-dt / float(net["tau_out"])),
            "sizes": str(int(layer["size"]))}


def eventsim_step_cpu(name: str, band: float, fallback: bool, batches, reg, lr: float, reps: int) -> dict:
    """Median CPU s of a training step of the checkpoint `name`, restored before every step."""
    from eventsim.learning.surrogate import Adam, clamp_params, load_checkpoint
    model, attrs = load_checkpoint(run_checkpoint(name))
    wdt = attrs["weight_dtype"]
    opt = Adam(lr)
    p0 = {k: v.copy() for k, v in model.params.items()}

    def step(batch) -> dict:
        r = model.loss_and_grad(batch, method="sparse", band=band, reg=reg, fallback=fallback, weight_dtype=wdt)
        opt.step(model.params, r.grads)
        clamp_params(model.params)
        return r.stats

    step(batches[0])  # compile/load outside the timing
    cs, cb, rate = [], [], []
    n_hidden = sum(l.size for l in model.spec.layers)
    for i in range(reps):
        batch = batches[i % len(batches)]
        for k, v in p0.items():
            model.params[k][...] = v
        c0 = time.process_time()
        st = step(batch)
        cs.append(time.process_time() - c0)
        cb.append(st["cpu_backward_s"])
        rate.append(sum(st["spikes"]) / (batch.batch_size * model.spec.n_steps * n_hidden))
    return {"n_hidden": n_hidden, "weight_dtype": wdt, "cpu_step_s": statistics.median(cs),
            "cpu_backward_s": statistics.median(cb), "spike_rate_per_step": statistics.median(rate),
            "cpu_step_all": cs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--run", action="append", required=True, help="NAME:B_TH[:fallback]")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--out", default=os.path.join(HERE, "surrogate", "vs_snntorch_trained.json"))
    args = ap.parse_args(argv)
    from eventsim.learning.surrogate import retain_freed_memory
    from eventsim.learning.surrogate.cli import read_config
    from eventsim.learning.surrogate.model import Regularizer
    tr = read_config(args.config).get("train", {})
    shape = snntorch_shape(args.config)
    batches, bs = config_batches(args.config, args.batches)
    x, labels = dense_input(batches)
    load0 = load_avg()
    snn_res = snntorch_times(x, labels, reps=args.reps, torch_threads="1", default_malloc=False, **shape)
    snn_cpu = snn_res["rows"][0]["cpu_step_s"]
    print(f"snnTorch {snn_res['snntorch']} (torch {snn_res['torch']}), N={shape['sizes']}: "
          f"{1e3 * snn_cpu:.1f} ms per step", flush=True)
    retain_freed_memory()  # as train() does, and as the snnTorch worker did
    reg = Regularizer(float(tr.get("reg_strength", 0.0)), float(tr.get("reg_target", 0.0)))
    rows = []
    for spec in args.run:
        name, band, fallback = parse_run(spec)
        r = eventsim_step_cpu(name, band, fallback, batches, reg, float(tr.get("lr", 1e-3)), args.reps)
        r.update({"run": name, "band": band, "fallback": fallback, "snntorch_cpu_step_s": snn_cpu,
                  "speedup_vs_snntorch": snn_cpu / r["cpu_step_s"]})
        rows.append(r)
        print(f"{name} B_th {band}: rate {r['spike_rate_per_step']:.3f}, step {1e3 * r['cpu_step_s']:.1f} ms "
              f"(backward {1e3 * r['cpu_backward_s']:.1f}), {r['speedup_vs_snntorch']:.1f}x snnTorch", flush=True)
    command = " ".join(["python3.11", "benchmarks/surrogate_vs_snntorch_trained.py"]
                       + (argv if argv is not None else sys.argv[1:]))
    path = write_results(os.path.dirname(os.path.abspath(args.out)), os.path.basename(args.out),
                         {"config": args.config, "batch": bs, "batches": args.batches, "reps": args.reps,
                          "snntorch": snn_res, "rows": rows},
                         command=command, load_before=load0,
                         units="CPU seconds per training step (median), one thread each")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
