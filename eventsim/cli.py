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


class _SignalStop:
    """SIGINT/SIGTERM set a flag; the run checkpoints and stops at the next chunk boundary.
    A second signal stops at once (KeyboardInterrupt; the log is flushed, no checkpoint)."""

    def __init__(self):
        self.signum = None
        self.saved = {}

    def _handler(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def install(self):
        import signal
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.saved[sig] = signal.signal(sig, self._handler)
            except ValueError:          # not the main thread: leave signals alone
                pass
        return self

    def restore(self):
        import signal
        for sig, old in self.saved.items():
            signal.signal(sig, old)
        self.saved = {}


def _run(args: argparse.Namespace) -> int:
    from . import checkpoint as ckmod
    from . import config as cfgmod
    from . import checks
    ck = None
    if args.resume is not None:
        ck = ckmod.read(args.resume)
        if args.config is not None:
            cfg = cfgmod.load(args.config)
        elif ck.config and "populations" in ck.config:
            cfg = ck.config
            cfgmod.validate(cfg)
        else:
            raise EventsimError(f"checkpoint '{args.resume}' stores no config; give the CONFIG too")
        if args.seed is not None and args.seed != ck.seed:
            raise EventsimError(f"checkpoint '{args.resume}' was written with seed {ck.seed}, not {args.seed}")
        if args.out is None:
            args.out = ck.meta.get("out") or (os.path.dirname(ck.log["path"]) if ck.log.get("path") else "out")
        if args.duration is None:
            args.duration = ck.meta.get("duration")
        config_name = ck.meta.get("config_name") or args.config or "default"
    else:
        cfg = cfgmod.load(args.config or cfgmod.builtin_path("default"))
        config_name = args.config or "default"
    args.out = args.out or "out"
    if args.duration is not None:
        cfg["duration"] = args.duration
    duration = float(checks.non_negative("duration (ms)", cfg.get("duration", 1000.0)))
    chunk = float(checks.positive("chunk (ms)", cfg.get("chunk", 100.0)))
    every = None if args.checkpoint_every is None else float(checks.positive("--checkpoint-every (ms)",
                                                                            args.checkpoint_every))
    if args.max_rate is not None:
        checks.positive("--max-rate (Hz)", args.max_rate)
    checks.positive("--flush-interval (s)", args.flush_interval)
    if every is not None:
        chunk = min(chunk, every)
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "spikes.h5")
    ck_path = args.checkpoint or os.path.join(args.out, "checkpoint.h5")
    t0 = time.perf_counter()
    if ck is not None:
        seed = ck.seed

        def factory():
            n = cfgmod.build(cfg, seed=seed)
            n.record_spikes(log_path, flush_interval_s=args.flush_interval, in_memory=False)
            return n
        net = ckmod.resume(args.resume, factory)
        if net.t > duration:
            raise EventsimError(f"checkpoint '{args.resume}' is at t = {net.t:g} ms, after the end of the run "
                                f"(duration {duration:g} ms)")
    else:
        net = cfgmod.build(cfg, seed=args.seed)
        net.record_spikes(log_path, flush_interval_s=args.flush_interval, in_memory=False)
        net.build()
    meta = {"duration": duration, "out": os.path.abspath(args.out), "config_name": config_name}
    t_build = time.perf_counter() - t0
    stop = _SignalStop()
    state = {"next": None if every is None else (np.floor(net.t / every + 1e-9) + 1.0) * every}

    def on_chunk(n) -> bool:
        if stop.signum is not None:
            n.checkpoint(ck_path, meta)
            return True
        if state["next"] is not None and n.t >= state["next"] - 1e-9 * every:
            n.checkpoint(ck_path, meta)
            state["next"] = (np.floor(n.t / every + 1e-9) + 1.0) * every
        return False

    t1 = time.perf_counter()
    net._engine.run_until(net.t, net._recorder.on_spikes)   # load (first run: compile) the event loop
    t_compile = time.perf_counter() - t1
    t1 = time.perf_counter()
    stop.install()
    try:
        finished = net.run(duration - net.t, chunk=chunk, progress=None if args.progress else False,
                           on_chunk=on_chunk, max_rate_hz=args.max_rate)
        if finished and every is not None and (ck is None or net.t > ck.t):
            net.checkpoint(ck_path, meta)      # lets a later --resume --duration extend the run
    finally:
        stop.restore()
        net.close()
    if not finished:
        import signal
        name = signal.Signals(stop.signum).name
        print(f"eventsim: stopped by {name} at t = {net.t:g} ms; spikes flushed to {log_path}; checkpoint "
              f"written to {ck_path} (continue with: eventsim run --resume {ck_path})", file=sys.stderr)
        return 128 + int(stop.signum)
    t_run = time.perf_counter() - t1
    from .analysis import population_rate, spike_stats
    from .analysis.reader import SpikeLog
    stats = net.stats
    summary = {"config": config_name, "seed": net.seed, "duration_ms": duration,
               "n_neurons": net._n_neurons, "n_synapses": net.graph.n_synapses,
               "build_s": round(t_build, 3), "compile_s": round(t_compile, 3), "run_s": round(t_run, 3),
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
    if args.plot:
        from .analysis.plots import plot_raster, save_figure
        fig = plot_raster(trains, rate, title=f"{summary['config']}: population '{first}', seed {net.seed}")
        save_figure(fig, os.path.join(args.out, "raster.png"))
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"eventsim {summary['config']}: {summary['n_neurons']} neurons, {summary['n_synapses']} synapses, "
          f"{duration:g} ms in {t_run:.2f} s (build {t_build:.2f} s, compile/load {t_compile:.2f} s), "
          f"{summary['syn_events_per_s'] / 1e6:.2f} M synaptic events/s")
    for name, p in summary["populations"].items():
        cv = "n/a" if p["isi_cv"] is None else f"{p['isi_cv']:.2f}"
        print(f"  {name:>12}: {p['n']:>7} neurons  rate {p['rate_hz']:8.2f} Hz  ISI CV {cv}")
    wrote = [log_path, os.path.join(args.out, "summary.json")] + ([os.path.join(args.out, "raster.png")]
                                                                 if args.plot else [])
    print(f"wrote {', '.join(wrote)}")
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
    run.add_argument("--out", default=None, help="output folder (default: out, or the resumed run's)")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                     help="progress bar on a terminal")
    run.add_argument("--plot", action=argparse.BooleanOptionalAction, default=True,
                     help="write raster.png (default: yes)")
    run.add_argument("--checkpoint-every", type=_float, default=None, metavar="MS",
                     help="write a checkpoint every MS of model time (SIGINT/SIGTERM always checkpoint "
                          "at the next chunk boundary and stop)")
    run.add_argument("--checkpoint", default=None, metavar="PATH",
                     help="checkpoint file (default: OUT/checkpoint.h5)")
    run.add_argument("--resume", default=None, metavar="CKPT",
                     help="continue the run saved in checkpoint CKPT (CONFIG optional: it is stored)")
    run.add_argument("--max-rate", type=_float, default=None, metavar="HZ",
                     help="stop with an error when neurons fire faster than HZ on average (runaway guard)")
    run.add_argument("--flush-interval", type=_float, default=1.0, metavar="S",
                     help="flush the spike log at least every S seconds of wall time (default: 1)")
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
