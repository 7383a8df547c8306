"""Brunel (2000) model A: eventsim vs NEST regime statistics -> benchmarks/results/brunel_regime.json.

Runs ``ref_brunel_nest.py`` in ``benchmarks/.venv-nest`` (one subprocess per NEST model) and
``eventsim run`` (subprocess, system python) on the same network, then computes rates, ISI CVs,
Fano factor and pairwise count correlation of both with ``spike_stats_common.network_stats``
(identical code path). At --scale != 1 the built-in brunel.toml is copied with NE, NI scaled
(CE, CI fixed) to ``<eventsim-out>/brunel_scale<scale>.toml``.

Results are merged into the output JSON under ``settings[<label>]`` (default label
``scale<scale>_<duration>ms_seed<seed>``), so the full and the cheap (CI) setting can share one file.

  python3 benchmarks/compare_brunel.py                                   # full scale, 1000 ms
  python3 benchmarks/compare_brunel.py --scale 0.3 --duration-ms 300 \\
      --nest-models iaf_psc_delta,iaf_psc_delta_ps                       # cheap CI setting
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from spike_stats_common import network_stats, read_sonata  # noqa: E402

NEST_PY = os.path.join(HERE, ".venv-nest", "bin", "python")
NE0, NI0 = 10000, 2500
KEYS = ("rate_exc_hz", "rate_inh_hz", "cv_isi", "cv_isi_incl_transient", "fano_1ms", "sync_corr_1ms")


def scaled_config(scale: float, out_dir: str, jitter: float = 0.0) -> str:
    """'brunel' at scale 1, else a copy of the built-in config with NE, NI scaled.

    jitter > 0 replaces every delay of 1.5 ms by U[1.5, 1.5 + jitter] (eventsim only): it breaks
    exact ties between spike arrivals, see the notes in benchmarks/results/brunel_regime.json.
    """
    if scale == 1.0 and jitter == 0.0:
        return "brunel"
    from eventsim.config import builtin_path
    text = open(builtin_path("brunel")).read()
    ne, ni = int(round(NE0 * scale)), int(round(NI0 * scale))
    sizes = {"10000": ne, "2500": ni}
    text, k = re.subn(r"(?m)^size = (10000|2500)$", lambda m: f"size = {sizes[m.group(1)]}", text)
    if k != 4:
        raise SystemExit(f"brunel.toml layout changed (size lines replaced: {k})")
    if jitter > 0.0:
        text, k3 = re.subn(r"(?m)^delay = 1\.5$", f'delay = {{ dist = "uniform", low = 1.5, high = {1.5 + jitter!r} }}',
                           text)
        if k3 != 6:
            raise SystemExit(f"brunel.toml layout changed (delay lines replaced: {k3})")
    text = (f"# brunel.toml with NE, NI scaled by {scale} (CE, CI fixed), delay jitter {jitter} ms; "
            "written by compare_brunel.py\n" + text)
    path = os.path.join(out_dir, f"brunel_scale{scale:g}" + (f"_jitter{jitter:g}" if jitter else "") + ".toml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def run_eventsim(args) -> dict:
    out_dir = args.eventsim_out or (f"/tmp/brunel_es_scale{args.scale:g}_{args.duration_ms:g}ms"
                                    + (f"_jitter{args.delay_jitter:g}" if args.delay_jitter else ""))
    os.makedirs(out_dir, exist_ok=True)
    log = os.path.join(out_dir, "spikes.h5")
    summ_path = os.path.join(out_dir, "summary.json")
    n_expected = int(round(NE0 * args.scale)) + int(round(NI0 * args.scale))
    wall = None
    reused = False
    if args.reuse and os.path.exists(summ_path) and os.path.exists(log):
        summ = json.load(open(summ_path))
        reused = (summ.get("duration_ms") == args.duration_ms and summ.get("n_neurons") == n_expected
                  and summ.get("seed") == args.seed)
    if not reused:
        cfg = scaled_config(args.scale, out_dir, args.delay_jitter)
        cmd = ["eventsim", "run", cfg, "--duration", f"{args.duration_ms:g}", "--seed", str(args.seed),
               "--out", out_dir, "--no-progress"]
        print("+", " ".join(cmd), file=sys.stderr)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        wall = time.perf_counter() - t0
        summ = json.load(open(summ_path))
    import eventsim
    pops = read_sonata(log)
    stats = network_stats({k: pops[k] for k in ("exc", "inh")}, args.duration_ms)
    res = {"simulator": "eventsim", "version": getattr(eventsim, "__version__", None), "model": "LIFDelta",
           "n_neurons": summ["n_neurons"], "ne": pops["exc"][2], "ni": pops["inh"][2], "scale": args.scale,
           "duration_ms": args.duration_ms, "seed": args.seed, "build_s": summ["build_s"],
           "run_s": summ["run_s"], "wall_s": None if wall is None else round(wall, 3),
           "delay_jitter_ms": args.delay_jitter, "reused_output": reused, "spike_log": log}
    res.update({k: (round(v, 5) if isinstance(v, float) else v) for k, v in stats.items()})
    return res


def run_nest(args, model: str) -> dict:
    cmd = [NEST_PY, os.path.join(HERE, "ref_brunel_nest.py"), "--duration-ms", f"{args.duration_ms:g}",
           "--seed", str(args.seed), "--model", model, "--scale", f"{args.scale:g}"]
    print("+", " ".join(cmd), file=sys.stderr)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_s"] = round(time.perf_counter() - t0, 3)
    return res


def rel(a, b):
    return None if a is None or b is None or b == 0 else round((a - b) / b, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--nest-models", default="iaf_psc_delta", help="comma list; '' skips NEST")
    ap.add_argument("--eventsim-out", default=None, help="eventsim output folder (default under /tmp)")
    ap.add_argument("--reuse", action="store_true", help="reuse an existing eventsim run in --eventsim-out "
                    "if duration, seed and size match")
    ap.add_argument("--nest-results", nargs="*", default=[],
                    help="files holding ref_brunel_nest.py JSON lines to use instead of running NEST "
                         "(must match duration, seed and scale)")
    ap.add_argument("--delay-jitter", type=float, default=0.0,
                    help="eventsim only: delays U[1.5, 1.5 + jitter] ms to break exact arrival ties")
    ap.add_argument("--tolerance", type=float, default=0.05, help="relative tolerance for rates and CV")
    ap.add_argument("--label", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "brunel_regime.json"))
    args = ap.parse_args()

    nest_runs = []
    for path in args.nest_results:
        r = json.loads(open(path).read().strip().splitlines()[-1])
        if (r["duration_ms"], r["seed"], r["scale"]) != (args.duration_ms, args.seed, args.scale):
            raise SystemExit(f"{path}: duration/seed/scale do not match the arguments")
        r["from_file"] = path
        nest_runs.append(r)
    if not args.nest_results:
        nest_runs = [run_nest(args, m) for m in args.nest_models.split(",") if m]
    for r in nest_runs:
        print(json.dumps(r))
    es = run_eventsim(args)
    print(json.dumps(es))

    comparison = {}
    for r in nest_runs:
        diffs = {k: rel(es.get(k), r.get(k)) for k in KEYS}
        ok = all(diffs[k] is not None and abs(diffs[k]) <= args.tolerance
                 for k in ("rate_exc_hz", "rate_inh_hz", "cv_isi"))
        comparison[f"eventsim_vs_{r['model']}"] = {"rel_diff": diffs, "tolerance": args.tolerance,
                                                   "rates_and_cv_agree": ok}
    if len(nest_runs) == 2:
        comparison["nest_ps_vs_grid"] = {"rel_diff": {k: rel(nest_runs[1].get(k), nest_runs[0].get(k))
                                                      for k in KEYS}}
    label = args.label or (f"scale{args.scale:g}_{args.duration_ms:g}ms_seed{args.seed}"
                           + (f"_jitter{args.delay_jitter:g}" if args.delay_jitter else ""))
    entry = {"nest": nest_runs, "eventsim": es, "comparison": comparison,
             "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    data = json.load(open(args.out)) if os.path.exists(args.out) else {}
    data.setdefault("description", "Brunel (2000) model A (eventsim/configs/brunel.toml): eventsim vs NEST "
                    "regime statistics, see benchmarks/compare_brunel.py and spike_stats_common.py")
    data.setdefault("settings", {})[label] = entry
    with open(args.out, "w") as fh:
        json.dump(data, fh, indent=2)
    print(json.dumps({"label": label, **comparison}))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
