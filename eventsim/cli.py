"""The `eventsim` command line: run, analyze, plot.

Errors caused by the user's input print one line and exit with status 2; an unexpected
internal error prints one line too (with --debug for the traceback) and exits with 1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from .errors import EventsimError

EXIT_BAD_INPUT = 2


def _run(args: argparse.Namespace) -> int:
    from . import config as cfgmod
    from .analysis import population_rate, spike_stats
    from .analysis.plots import plot_raster, save_figure
    from .analysis.reader import SpikeLog

    cfg = cfgmod.load(args.config or cfgmod.builtin_path("default"))
    if args.duration is not None:
        cfg["duration"] = args.duration
    duration = float(cfg.get("duration", 1000.0))
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "spikes.h5")
    t0 = time.perf_counter()
    net = cfgmod.build(cfg, seed=args.seed)
    net.record_spikes(log_path, in_memory=False)
    net.build()
    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        net.run(duration, chunk=float(cfg.get("chunk", 100.0)), progress=None if args.progress else False)
    finally:
        net.close()
    t_run = time.perf_counter() - t1
    stats = net.stats
    summary = {"config": args.config or "default", "seed": net.seed, "duration_ms": duration,
               "n_neurons": net._n_neurons, "n_synapses": net.graph.n_synapses,
               "build_s": round(t_build, 3), "run_s": round(t_run, 3),
               "syn_events_per_s": stats["syn_events"] / max(t_run, 1e-9), **stats, "populations": {}}
    with SpikeLog(log_path) as log:
        names = log.populations
        fig_rows = []
        for name in names:
            st = spike_stats(log, name, t_start=0.0, t_stop=duration)
            summary["populations"][name] = {"n": int(st.n_nodes), "spikes": int(st.n_spikes),
                                            "rate_hz": float(st.mean_rate),
                                            "isi_cv": None if not np.isfinite(st.mean_cv) else float(st.mean_cv)}
            fig_rows.append(name)
        first = names[0]
        n_show = min(200, log.info(first).n_nodes)
        trains = log.load_spikes(first, np.arange(n_show), t_start=0.0, t_stop=duration)
        rate = population_rate(log, first, bin=max(duration / 200.0, 0.1), t_start=0.0, t_stop=duration)
    fig = plot_raster(trains, rate, title=f"{summary['config']}: population '{first}', seed {net.seed}")
    save_figure(fig, os.path.join(args.out, "raster.png"))
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"eventsim {summary['config']}: {summary['n_neurons']} neurons, {summary['n_synapses']} synapses, "
          f"{duration:g} ms in {t_run:.2f} s (build {t_build:.2f} s), "
          f"{summary['syn_events_per_s'] / 1e6:.2f} M synaptic events/s")
    for name, p in summary["populations"].items():
        cv = "n/a" if p["isi_cv"] is None else f"{p['isi_cv']:.2f}"
        print(f"  {name:>12}: {p['n']:>7} neurons  rate {p['rate_hz']:8.2f} Hz  ISI CV {cv}")
    print(f"wrote {log_path}, {os.path.join(args.out, 'summary.json')}, {os.path.join(args.out, 'raster.png')}")
    return 0


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return value


def make_parser() -> argparse.ArgumentParser:
    from .analysis.cli import add_subcommands
    from .network import __version__
    parser = argparse.ArgumentParser(prog="eventsim", description="Exact event-driven spiking network simulator")
    parser.add_argument("--version", action="version", version=f"eventsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a network config (default: built-in CUBA network)")
    run.add_argument("config", nargs="?", help="TOML config, or a built-in name: default, cuba, brunel, benchmark4")
    run.add_argument("--seed", type=int, default=None, help="random seed (overrides the config)")
    run.add_argument("--duration", type=_float, default=None, help="model time in ms")
    run.add_argument("--out", default="out", help="output folder (default: out)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                     help="progress bar on a terminal")
    run.set_defaults(func=_run)
    add_subcommands(sub)
    from .learning.surrogate.cli import add_subcommands as add_learning_subcommands
    add_learning_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except EventsimError as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("eventsim: interrupted (spikes recorded so far were flushed)", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: one line unless --debug
        if args.debug:
            raise
        print(f"eventsim: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
