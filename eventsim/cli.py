"""The `eventsim` command line: run, sweep, analyze, plot.

Errors caused by the user's input print one line and exit with status 2; an unexpected
internal error prints one line too (with --debug for the traceback) and exits with 1.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings

from .errors import EventsimError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130      # 128 + SIGINT, as after a checkpointing Ctrl-C


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
    from .distributed import world
    comm = world()                 # None unless launched by mpiexec (mpi4py is not imported otherwise)
    if comm is not None and comm.Get_size() > 1:
        return _run_mpi(args, comm)
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
    duration, chunk = _run_settings(args, cfg)
    every = None if args.checkpoint_every is None else checks.interval(
        "--checkpoint-every (ms)", args.checkpoint_every, duration, checks.MIN_CHECKPOINT_MS)
    if every is not None:
        chunk = min(chunk, every)
    checks.output_dir("--out", args.out)
    log_path = os.path.join(args.out, "spikes.h5")
    ck_path = args.checkpoint or os.path.join(args.out, "checkpoint.h5")
    if args.checkpoint is not None:        # as for --out: its folder is made now, not at the first checkpoint
        checks.output_dir("--checkpoint", os.path.dirname(args.checkpoint) or ".")
        checks.output_file("--checkpoint", args.checkpoint)
        if os.path.abspath(args.checkpoint) == os.path.abspath(log_path):
            raise EventsimError(f"--checkpoint '{args.checkpoint}' is the run's spike log; allowed another file")
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
    state = {"next": None if every is None else (math.floor(net.t / every + 1e-9) + 1.0) * every}

    def on_chunk(n) -> bool:
        if stop.signum is not None:
            n.checkpoint(ck_path, meta)
            return True
        if state["next"] is not None and n.t >= state["next"] - 1e-9 * every:
            n.checkpoint(ck_path, meta)
            state["next"] = (math.floor(n.t / every + 1e-9) + 1.0) * every
        return False

    t1 = time.perf_counter()
    net._engine.run_until(net.t, net._recorder.on_spikes)   # load (first run: compile) the event loop
    t_compile = time.perf_counter() - t1
    t1 = time.perf_counter()
    stop.install()
    t_begin, events_begin = net.t, int(net.stats["syn_events"])     # a resumed run starts later
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
    # run_s and syn_events_per_s cover this invocation only: from t_begin_ms (0, or the
    # checkpoint's time when resumed) to duration_ms; the counters in **net.stats cover the whole run
    summary = {"config": config_name, "seed": net.seed, "duration_ms": duration, "t_begin_ms": t_begin,
               "n_neurons": net._n_neurons, "n_synapses": net.graph.n_synapses,
               "build_s": round(t_build, 3), "compile_s": round(t_compile, 3), "run_s": round(t_run, 3),
               "syn_events_per_s": (net.stats["syn_events"] - events_begin) / max(t_run, 1e-9), **net.stats}
    _report(args, summary, log_path)
    return 0


def _run_settings(args: argparse.Namespace, cfg: dict) -> tuple[float, float]:
    """Apply --out/--duration defaults and validate the run flags; returns (duration, chunk) in ms."""
    from . import checks
    from . import config as cfgmod
    args.out = args.out or "out"
    if args.duration is not None:
        cfg["duration"] = args.duration
    duration, chunk = cfgmod.run_settings(cfg)
    if args.max_rate is not None:
        checks.positive("--max-rate (Hz)", args.max_rate)
    checks.positive("--flush-interval (s)", args.flush_interval)
    return duration, chunk


def _report(args: argparse.Namespace, summary: dict, log_path: str) -> None:
    """Per-population statistics from the log, raster plot, summary.json and the printed summary."""
    from .analysis import population_rate, spike_stats
    from .analysis.reader import SpikeLog
    duration = summary["duration_ms"]
    summary["populations"] = {}
    with SpikeLog(log_path) as log, warnings.catch_warnings():
        warnings.simplefilter("once")   # the statistics and the raster warn alike about a silent population
        names = log.populations
        for name in names:
            st = spike_stats(log, name, t_start=0.0, t_stop=duration)
            summary["populations"][name] = {"n": int(st.n_nodes), "spikes": int(st.n_spikes),
                                            "rate_hz": float(st.mean_rate),
                                            "isi_cv": None if not math.isfinite(st.mean_cv) else float(st.mean_cv)}
        first = names[0]
        n_show = min(200, log.info(first).n_nodes)
        trains = log.load_spikes(first, list(range(n_show)), t_start=0.0, t_stop=duration)
        rate = population_rate(log, first, bin=max(duration / 200.0, 0.1), t_start=0.0, t_stop=duration)
    if args.plot:
        from .analysis.plots import plot_raster, save_figure
        fig = plot_raster(trains, rate, title=f"{summary['config']}: population '{first}', seed {summary['seed']}")
        save_figure(fig, os.path.join(args.out, "raster.png"))
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    on = f" on {summary['ranks']} MPI ranks" if summary.get("ranks", 1) > 1 else ""
    span = (f"{duration:g} ms" if not summary.get("t_begin_ms") else
            f"{summary['t_begin_ms']:g} -> {duration:g} ms (resumed)")
    print(f"eventsim {summary['config']}: {summary['n_neurons']} neurons, {summary['n_synapses']} synapses, "
          f"{span} in {summary['run_s']:.2f} s{on} (build {summary['build_s']:.2f} s, compile/load "
          f"{summary['compile_s']:.2f} s), {summary['syn_events_per_s'] / 1e6:.2f} M synaptic events/s")
    if on:
        print(f"  exchange: {summary['windows']} windows of {summary['window_ms']:g} ms, "
              f"{summary['exchange_s']:.2f} s (max over ranks), {summary['exchange_bytes'] / 1e6:.2f} MB gathered")
    for name, p in summary["populations"].items():
        cv = "n/a" if p["isi_cv"] is None else f"{p['isi_cv']:.2f}"
        print(f"  {name:>12}: {p['n']:>7} neurons  rate {p['rate_hz']:8.2f} Hz  ISI CV {cv}")
    wrote = [log_path, os.path.join(args.out, "summary.json")] + ([os.path.join(args.out, "raster.png")]
                                                                 if args.plot else [])
    print(f"wrote {', '.join(wrote)}")


_QUIET_ERRORS = False        # set on MPI ranks other than 0: user errors are reported by rank 0


def _run_mpi(args: argparse.Namespace, comm) -> int:
    """`eventsim run` under mpiexec with more than one rank: a DistributedRun; rank 0 writes the one
    SONATA log (from the spikes every window's Allgather brings it), summary.json and the plot."""
    global _QUIET_ERRORS
    from . import checks
    from . import config as cfgmod
    from .distributed import DistributedRun
    size, rank = comm.Get_size(), comm.Get_rank()
    _QUIET_ERRORS = rank != 0
    for flag, value in (("--resume", args.resume), ("--checkpoint-every", args.checkpoint_every),
                        ("--checkpoint", args.checkpoint)):
        if value is not None:
            raise EventsimError(f"{flag} is not supported in a distributed run ({size} MPI ranks): checkpoints "
                                f"hold one process's state; run without mpiexec to checkpoint or resume")
    cfg = cfgmod.load(args.config or cfgmod.builtin_path("default"))
    config_name = args.config or "default"
    duration, _ = _run_settings(args, cfg)
    log_path = os.path.join(args.out, "spikes.h5")

    def agreed(fn):
        """fn() on every rank; a user error on any rank becomes the same error on every rank
        (so that no rank waits in a collective for one that gave up)."""
        try:
            result, err = fn(), None
        except (EventsimError, OSError) as exc:
            result, err = None, f"{exc} (rank {rank})" if rank else str(exc)
        except Exception as exc:          # internal: report it (on this rank) but never leave the others waiting
            if args.debug:
                import traceback
                traceback.print_exc()
            print(f"eventsim: internal error on rank {rank}: {type(exc).__name__}: {exc}", file=sys.stderr,
                  flush=True)
            comm.Abort(1)
        errors = comm.allgather(err)
        first = next((x for x in errors if x), None)
        if first is not None:
            raise EventsimError(first)
        return result

    def setup():
        if rank == 0:
            checks.output_dir("--out", args.out)
        net = cfgmod.build(cfg, seed=args.seed)
        net.record_spikes(log_path, flush_interval_s=args.flush_interval, in_memory=False)
        return DistributedRun(net, comm)     # rank 0 alone opens the log

    t0 = time.perf_counter()
    run = agreed(setup)
    net = run.net
    t_build = comm.allreduce(time.perf_counter() - t0, op=_mpi_max())
    try:
        t1 = time.perf_counter()
        run.load()
        t_compile = comm.allreduce(time.perf_counter() - t1, op=_mpi_max())
        t1 = time.perf_counter()
        try:
            run.run(duration, progress=None if args.progress else False, max_rate_hz=args.max_rate)
        finally:
            net.close()
        comm.Barrier()
        t_run = time.perf_counter() - t1
        stats = run.stats()
        n_syn = run.n_synapses()
        exchange_s = comm.allreduce(run.exchange_s, op=_mpi_max())
    except EventsimError:
        raise                      # the run's guards decide alike on every rank
    except Exception as exc:       # one rank failed: the others would wait forever
        if args.debug:
            import traceback
            traceback.print_exc()
        print(f"eventsim: internal error on rank {rank}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        comm.Abort(1)
    if rank != 0:
        return 0
    summary = {"config": config_name, "seed": net.seed, "duration_ms": duration, "ranks": size,
               "n_neurons": run.n_neurons, "n_synapses": n_syn,
               "build_s": round(t_build, 3), "compile_s": round(t_compile, 3), "run_s": round(t_run, 3),
               "syn_events_per_s": stats["syn_events"] / max(t_run, 1e-9), **stats,
               "window_ms": run.window, "windows": run.windows, "exchange_s": round(exchange_s, 3),
               "exchange_bytes": run.bytes_received}
    _report(args, summary, log_path)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """`eventsim sweep`: independent runs over a parameter grid, in processes or over MPI ranks."""
    global _QUIET_ERRORS
    from . import checks
    from . import config as cfgmod
    from .distributed import world
    from .sweep import format_table, parse_param, run_sweep, table
    comm = world()
    size, rank = (1, 0) if comm is None else (comm.Get_size(), comm.Get_rank())
    _QUIET_ERRORS = rank != 0
    if not args.param:
        raise EventsimError("sweep needs at least one --param name=v1,v2,...")
    checks.count("--processes", args.processes, 1)
    if size > 1 and args.processes > 1:
        raise EventsimError(f"--processes {args.processes} under mpiexec: the {size} MPI ranks already share the "
                            f"runs; give one or the other")
    cfg = cfgmod.load(args.config)
    if args.duration is not None:
        cfg["duration"] = checks.number("--duration (ms)", args.duration, checks.positive)
    params = [parse_param(p) for p in args.param]
    if args.out:
        checks.output_dir("--out", args.out)     # before the runs, not after them
    t0 = time.perf_counter()
    results = run_sweep(cfg, params, jobs=args.processes)
    wall = time.perf_counter() - t0
    if rank != 0:
        return 0
    cols, rows = table(results)
    print(format_table(cols, rows))
    how = f"{size} MPI ranks" if size > 1 else f"{min(args.processes, len(rows))} process(es)"
    print(f"{len(rows)} runs in {wall:.2f} s on {how}")
    if args.out:
        with open(os.path.join(args.out, "sweep.json"), "w") as fh:
            json.dump({"config": args.config, "params": [p for p, _ in params], "wall_s": wall,
                       "workers": size if size > 1 else args.processes, "runs": results}, fh, indent=2)
        import csv
        with open(os.path.join(args.out, "sweep.csv"), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows([["" if v is None else v for v in row] for row in rows])
        print(f"wrote {os.path.join(args.out, 'sweep.json')}, {os.path.join(args.out, 'sweep.csv')}")
    return 0


def _mpi_max():
    from mpi4py import MPI
    return MPI.MAX


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return value


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (the project's rule for bad input), exit 2;
    subcommand parsers inherit the class."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def make_parser() -> argparse.ArgumentParser:
    from .analysis.cli import add_subcommands
    from .network import __version__
    parser = OneLineParser(prog="eventsim", description="Exact event-driven spiking network simulator")
    parser.add_argument("--version", action="version", version=f"eventsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a network config (default: built-in CUBA network)")
    run.add_argument("config", nargs="?", help="TOML config, or a built-in name: default, cuba, brunel, benchmark4")
    run.add_argument("--seed", type=int, default=None, help="random seed (overrides the config)")
    run.add_argument("--duration", type=_float, default=None,
                     help="model time in ms at which the run ends (with --resume: the end time, counted from 0, "
                          "not an extension; default: the config's, or the resumed run's)")
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
    sweep = sub.add_parser("sweep", help="independent runs of a config over a parameter grid (processes or MPI ranks)",
                           description="Run CONFIG once per point of the cartesian product of the --param lists, "
                                       "in parallel processes, or over the ranks under mpiexec; print one summary "
                                       "row per run (and write OUT/sweep.json and OUT/sweep.csv).")
    sweep.add_argument("config", help="TOML config, or a built-in name: default, cuba, brunel, benchmark4")
    sweep.add_argument("--param", action="append", default=[], metavar="PATH=V1,V2,...",
                       help="config path and values, e.g. seed=1,2,3 or projections[1].weight=-6,-9 or "
                            "populations.exc.params.tau_m=10,20 (repeatable)")
    sweep.add_argument("--processes", type=int, default=1, metavar="K",
                       help="parallel processes (default 1; under mpiexec the ranks share the runs instead)")
    sweep.add_argument("--duration", type=_float, default=None, help="model time in ms (overrides the config)")
    sweep.add_argument("--out", default=None,
                       help="folder for sweep.json and sweep.csv (default: none; the table is only printed)")
    sweep.set_defaults(func=_sweep)
    add_subcommands(sub)
    from .learning.surrogate.cli import add_subcommands as add_learning_subcommands
    add_learning_subcommands(sub)
    return parser


def entry() -> None:
    """The `eventsim` command: main(), then exit. After a failed spike-log write (a full disk)
    HDF5 retries the flush at interpreter exit and can crash there (exit 139 after the one-line
    error), so the process then leaves without that cleanup (os._exit)."""
    code = main()
    from .recording import WRITE_FAILURES      # after main(): imports inside it answer Ctrl-C
    if WRITE_FAILURES:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)      # imports the subcommands' modules
    except KeyboardInterrupt:
        print("eventsim: interrupted (before anything ran)", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        from .console import one_line_warnings
        with one_line_warnings():
            code = args.func(args)
    except EventsimError as exc:
        if not _QUIET_ERRORS:
            print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("eventsim: interrupted (spikes recorded so far were flushed)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # an internal error: one line unless --debug
        if args.debug:
            raise
        print(f"eventsim: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    entry()
