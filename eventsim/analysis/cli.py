"""``eventsim analyze``, ``eventsim export`` and ``eventsim plot`` subcommands.

Wire into the main parser with::

    sub = parser.add_subparsers(dest="command")
    eventsim.analysis.cli.add_subcommands(sub)
    args = parser.parse_args()
    sys.exit(args.func(args))      # run_analyze / run_plot return an exit code

Standalone: ``python -m eventsim.analysis.cli analyze LOG.h5 --out DIR``.
Errors in the log print one line ``eventsim: error: ...`` and return exit code 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from eventsim.console import one_line_warnings
from eventsim.errors import EventsimError

from .correlation import complete_bins, count_correlations, correlograms, sample_pairs
from .errors import LogFormatError, LogFormatWarning, UnknownSizeError
from .reader import SpikeLog
from .stats import SpikeStats, summarize

EXIT_BAD_INPUT = 2


# -- analyze -------------------------------------------------------------------
def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _pick(rng: np.random.Generator, nodes: np.ndarray, k: int) -> np.ndarray:
    return np.sort(rng.choice(nodes, size=min(k, nodes.size), replace=False)) if nodes.size else nodes


def _trains_stop(st: SpikeStats) -> float | None:
    """t_stop (ms) for loading spike trains of st's interval; None (all spikes) when the
    interval ends at the last spike, which it includes."""
    return None if st.t_stop_source == "last spike" else st.t_stop


def analyze_population(log: SpikeLog, population: str, *, t_start: float | None = None,
                       t_stop: float | None = None, bin: float = 10.0, out: str | None = None,
                       figures: bool = True, raster_neurons: int = 100, n_pairs: int = 100,
                       cc_pairs: int = 6, cc_window: float = 50.0, cc_bin: float = 1.0,
                       seed: int = 0, chunk_rows: int | None = None) -> dict[str, Any]:
    """Summary statistics (a flat JSON-able dict) of one population; figures go to ``out``.

    Two passes over the log: all statistics, then the spikes of sampled active neurons
    (raster, spike-count correlations in ``bin`` ms, correlograms)."""
    summ = summarize(log, population, t_start=t_start, t_stop=t_stop, bin=bin,
                     chunk_rows=chunk_rows)
    st, fano, prate = summ.stats, summ.fano, summ.population_rate
    rng = np.random.default_rng(seed)
    active = np.flatnonzero(st.counts)
    m = int(math.ceil((1 + math.sqrt(1 + 8 * n_pairs)) / 2)) if n_pairs > 0 else 0
    corr_nodes = _pick(rng, active, m)
    pairs = sample_pairs(corr_nodes, n_pairs, rng)
    raster = _pick(rng, active, raster_neurons) if figures else np.empty(0, np.int64)
    busiest = active[np.argsort(st.counts[active], kind="stable")[::-1][:max(cc_pairs, 0) + 1]]
    cc = np.stack([busiest[:-1], busiest[1:]], axis=1) if busiest.size > 1 else np.empty((0, 2), np.int64)
    wanted = np.unique(np.concatenate([raster, pairs.ravel(), cc.ravel()]))
    trains = log.load_spikes(population, wanted, t_start=st.t_start,
                             t_stop=_trains_stop(st), chunk_rows=chunk_rows) if wanted.size else {}
    corr = count_correlations(trains, pairs, bin=bin, t_start=st.t_start, t_stop=st.t_stop) \
        if len(pairs) and complete_bins(bin, st.t_start, st.t_stop) >= 2 else None
    rates = st.rates
    row: dict[str, Any] = {
        "population": population, "n_nodes": st.n_nodes, "n_spikes": st.n_spikes,
        "t_start_ms": st.t_start, "t_stop_ms": st.t_stop, "t_stop_source": st.t_stop_source,
        "mean_rate_hz": _finite(st.mean_rate),
        "median_rate_hz": float(np.median(rates)),
        "p05_rate_hz": float(np.percentile(rates, 5)), "p95_rate_hz": float(np.percentile(rates, 95)),
        "max_rate_hz": float(rates.max()), "n_silent": int(np.count_nonzero(st.counts == 0)),
        "n_cv": st.n_cv, "mean_cv": _finite(st.mean_cv),
        "median_cv": _finite(float(np.nanmedian(st.cv)) if st.n_cv else math.nan),
        "bin_ms": bin, "fano_windows": fano.n_windows if fano else 0,
        "mean_fano": _finite(fano.mean) if fano else None,
        "population_fano": _finite(fano.population) if fano else None,
        "n_corr_pairs": int(len(pairs)),
        "mean_count_corr": _finite(corr.mean) if corr else None,
    }
    if figures and out is not None:
        from . import plots  # matplotlib only when figures are wanted

        os.makedirs(out, exist_ok=True)
        title = f"{os.path.basename(log.path)}: {population}"
        made = {}
        fig = plots.plot_raster({int(n): trains[int(n)] for n in raster}, prate, title=title)
        made["raster"] = os.path.join(out, f"{population}_raster.png")
        plots.save_figure(fig, made["raster"])
        made["distributions"] = os.path.join(out, f"{population}_distributions.png")
        plots.save_figure(plots.plot_distributions(st, title=title), made["distributions"])
        if len(cc):
            ccg = correlograms(trains, cc, window=cc_window, bin=cc_bin)
            made["correlograms"] = os.path.join(out, f"{population}_correlograms.png")
            plots.save_figure(plots.plot_correlograms(ccg, corr, title=title), made["correlograms"])
        row["figures"] = made
    return row


def analyze(path: str, *, populations: list[str] | None = None, out: str = ".",
            fmt: str = "json", **kw: Any) -> str:
    """Analyse the given (default: all) populations of ``path``; write ``summary.json`` or
    ``summary.csv`` (and figures) into ``out``. Returns the summary file path.

    Without ``populations``, one that cannot be analysed (no spikes and no size in a log from
    another tool, say) is skipped with a warning and listed under "skipped" in the JSON;
    a population asked for by name must succeed."""
    if fmt not in ("json", "csv"):
        raise ValueError(f"format must be json or csv, got {fmt!r}")
    rows, skipped = [], []
    with SpikeLog(path) as log:
        names = [log.resolve(p) for p in populations] if populations else log.populations
        for name in names:
            try:
                rows.append(analyze_population(log, name, out=out, **kw))
            except UnknownSizeError as exc:
                if populations or len(names) == 1:
                    raise
                warnings.warn(LogFormatWarning(f"skipped: {exc}"), stacklevel=2)
                skipped.append({"population": name, "reason": str(exc)})
        if not rows:
            raise LogFormatError(f"{path}: no population could be analysed ({skipped[0]['reason']})")
        meta = {k: _plain(log.attrs[k]) for k in ("eventsim_version", "seed") if k in log.attrs}
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, f"summary.{fmt}")
    if fmt == "json":
        doc = {"file": os.path.abspath(path), **meta, "populations": rows, **({"skipped": skipped} if skipped else {})}
        with open(target, "w") as fh:
            json.dump(doc, fh, indent=2, allow_nan=False)
            fh.write("\n")
    else:
        keys = [k for k in rows[0] if k != "figures"]
        with open(target, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(keys)
            for r in rows:
                w.writerow(["" if r[k] is None else r[k] for k in keys])
    return target


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- plot kinds ----------------------------------------------------------------
@dataclass(frozen=True)
class PlotKind:
    """One ``eventsim plot KIND`` entry: its options and the function making the figure."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    make: Callable[[argparse.Namespace], Any]  # returns a matplotlib Figure
    input_arguments: Callable[[argparse.ArgumentParser], None] | None = None  # default: spike log


def _plot_raster(a: argparse.Namespace) -> Any:
    from . import plots

    with SpikeLog(a.log) as log:
        name = log.resolve(a.population)
        summ = summarize(log, name, t_start=a.t_start, t_stop=a.t_stop, bin=a.bin, fano=False)
        active = np.flatnonzero(summ.stats.counts)
        nodes = _pick(np.random.default_rng(a.seed), active, a.neurons)
        trains = log.load_spikes(name, nodes, t_start=summ.stats.t_start, t_stop=_trains_stop(summ.stats))
    return plots.plot_raster(trains, summ.population_rate, title=f"{os.path.basename(a.log)}: {name}")


def _plot_rates(a: argparse.Namespace) -> Any:
    from . import plots

    summ = summarize(a.log, a.population, t_start=a.t_start, t_stop=a.t_stop, bin=a.bin,
                     fano=False)
    return plots.plot_rates(summ.stats, summ.population_rate,
                            title=f"{os.path.basename(a.log)}: {summ.stats.population}")


def _plot_distributions(a: argparse.Namespace) -> Any:
    from . import plots

    summ = summarize(a.log, a.population, t_start=a.t_start, t_stop=a.t_stop, bin=None,
                     fano=False)
    return plots.plot_distributions(summ.stats,
                                    title=f"{os.path.basename(a.log)}: {summ.stats.population}")


def _parse_pair(text: str) -> tuple[int, int]:
    try:
        i, j = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"pair must be I:J (node ids), got {text!r}") from None
    return i, j


def _plot_correlograms(a: argparse.Namespace) -> Any:
    from . import plots

    with SpikeLog(a.log) as log:
        name = log.resolve(a.population)
        pairs = np.asarray(a.pairs, np.int64).reshape(-1, 2) if a.pairs else None
        if pairs is None:
            summ = summarize(log, name, t_start=a.t_start, t_stop=a.t_stop, bin=None, fano=False)
            active = np.flatnonzero(summ.stats.counts)
            busiest = active[np.argsort(summ.stats.counts[active], kind="stable")[::-1][:7]]
            pairs = np.stack([busiest[:-1], busiest[1:]], axis=1) if busiest.size > 1 \
                else np.empty((0, 2), np.int64)
        if not len(pairs):
            raise LogFormatError(f"{a.log}, population {name!r}: fewer than 2 active neurons; "
                                 "no correlogram to plot")
        trains = log.load_spikes(name, np.unique(pairs), t_start=a.t_start, t_stop=a.t_stop)
    ccg = correlograms(trains, pairs, window=a.window, bin=a.cc_bin)
    return plots.plot_correlograms(ccg, title=f"{os.path.basename(a.log)}: {name}")


def _at_least(kind: type, low: float, strict: bool, what: str) -> Callable[[str], Any]:
    """argparse type: a finite number of `kind` above `low` (argparse names the option)."""
    def check(text: str) -> Any:
        try:
            v = kind(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and (v > low if strict else v >= low)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return v
    return check


_pos_int = _at_least(int, 0, True, "an integer >= 1")
_count = _at_least(int, 0, False, "an integer >= 0")
_pos_ms = _at_least(float, 0.0, True, "a number of ms > 0")


def _bin_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bin", type=_pos_ms, default=10.0, metavar="MS",
                   help="population rate bin (ms, default 10)")


def _raster_args(p: argparse.ArgumentParser) -> None:
    _bin_arg(p)
    p.add_argument("--neurons", type=_pos_int, default=100, help="active neurons shown (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the neuron sample")


def _cc_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pairs", type=_parse_pair, nargs="+", metavar="I:J",
                   help="node id pairs (default: the 6 most active neighbours in rate order)")
    p.add_argument("--window", type=_pos_ms, default=50.0, metavar="MS", help="max |lag| (ms)")
    p.add_argument("--cc-bin", type=_pos_ms, default=1.0, metavar="MS", help="lag bin (ms)")


# -- weight-file plots (eventsim.weights_io files) ---------------------------------
def _weights_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("weights", metavar="WEIGHTS.h5", help="eventsim weight file (net.save_weights)")
    p.add_argument("--projection", required=True, help="projection name")
    p.add_argument("--snapshot", default="-1",
                   help="snapshot index (negative from the end) or name (default: the last)")


def _snapshot_arg(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def _dense(a: argparse.Namespace) -> tuple[np.ndarray, str]:
    from eventsim.weights_io import read_projection, snapshots
    from . import plots

    snap = _snapshot_arg(a.snapshot)
    d = read_projection(a.weights, a.projection, snap)
    names = snapshots(a.weights)
    label = names[snap][0] if isinstance(snap, int) else snap
    w = plots.dense_weights(d["pre"], d["post"], d["weight"], d["n_pre"], d["n_post"])
    return w, f"{os.path.basename(a.weights)}: {a.projection}, snapshot {label}"


def _plot_weights(a: argparse.Namespace) -> Any:
    from . import plots

    w, title = _dense(a)
    return plots.plot_weight_matrix(w, title=title)


def _plot_rf(a: argparse.Namespace) -> Any:
    from . import plots

    w, title = _dense(a)
    return plots.plot_receptive_fields(w, tuple(a.shape) if a.shape else None, title=title,
                                       max_tiles=a.max_tiles)


def _plot_whist(a: argparse.Namespace) -> Any:
    from eventsim.weights_io import read_projection, snapshots
    from . import plots

    snaps = snapshots(a.weights)
    if a.snapshots:
        chosen = []
        for text in a.snapshots:
            s = _snapshot_arg(text)
            if isinstance(s, int):
                if not -len(snaps) <= s < len(snaps):
                    raise ValueError(f"--snapshots: index {s} is out of range; allowed {-len(snaps)} to "
                                     f"{len(snaps) - 1} ({len(snaps)} snapshots in {a.weights})")
                chosen.append(snaps[s])
            else:
                hit = next((x for x in snaps if x[0] == s or x[2] == s), None)
                if hit is None:
                    raise ValueError(f"--snapshots: no snapshot named {s!r} in {a.weights}; allowed "
                                     f"{', '.join(repr(x[2] or x[0]) for x in snaps)}")
                chosen.append(hit)
    else:
        step = max(1, int(math.ceil(len(snaps) / a.max_snapshots)))
        chosen = snaps[::step]
        if chosen[-1] != snaps[-1]:
            chosen.append(snaps[-1])
    data = []
    for name, t_ms, label in chosen:
        d = read_projection(a.weights, a.projection, name)
        data.append((label or f"{name} ({t_ms / 1000:g} s)", d["weight"]))
    return plots.plot_weight_histograms(data, bins=a.bins, log=a.log,
                                        title=f"{os.path.basename(a.weights)}: {a.projection}")


def _rf_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shape", type=_pos_int, nargs=2, metavar=("H", "W"),
                   help="tile shape (default sqrt(n_pre) x sqrt(n_pre))")
    p.add_argument("--max-tiles", type=_pos_int, default=None, help="show at most this many post neurons")


def _whist_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bins", type=_pos_int, default=50, help="histogram bins (default 50)")
    p.add_argument("--log", action="store_true", help="logarithmic count axis")
    p.add_argument("--snapshots", nargs="+", metavar="S",
                   help="snapshots to overlay (indices or names; default: up to --max-snapshots, evenly)")
    p.add_argument("--max-snapshots", type=_pos_int, default=8, help="default number of snapshots shown")


#: Registered ``eventsim plot`` kinds. Plots of other logs (synaptic weights, receptive
#: fields; issue 5, part 2) belong here too, each with its own reader module.
PLOT_KINDS: dict[str, PlotKind] = {
    "raster": PlotKind("spike raster of sampled neurons with population rate", _raster_args,
                       _plot_raster),
    "rates": PlotKind("firing-rate distribution and population rate over time", _bin_arg,
                      _plot_rates),
    "distributions": PlotKind("rate, ISI and CV distributions", lambda p: None,
                              _plot_distributions),
    "correlograms": PlotKind("cross-correlograms of neuron pairs", _cc_args, _plot_correlograms),
    "weights": PlotKind("weight matrix (pre x post) of one projection in a weight file",
                        lambda p: None, _plot_weights, _weights_args),
    "rf": PlotKind("receptive-field tiles: each post neuron's input weights as an image",
                   _rf_args, _plot_rf, _weights_args),
    "whist": PlotKind("weight histograms of one projection over the snapshots of a weight file",
                      _whist_args, _plot_whist, _weights_args),
}


# -- argparse wiring -----------------------------------------------------------
def _log_args(p: argparse.ArgumentParser, population_help: str) -> None:
    p.add_argument("log", metavar="LOG.h5", help="SONATA spike log")
    p.add_argument("--population", help=f"population name ({population_help})")
    p.add_argument("--t-start", type=float, default=None, metavar="MS",
                   help="start of the analysis interval (ms, default: as recorded in the log, else 0)")
    p.add_argument("--t-stop", type=float, default=None, metavar="MS",
                   help="end of the interval (ms, default: as recorded in the log, else the last spike)")


def add_subcommands(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register ``analyze``, ``export`` and ``plot`` on an argparse subparsers object;
    each sets ``func`` (returns an exit code)."""
    pa = subparsers.add_parser("analyze", help="summary statistics and figures of a spike log",
                               description="Rates, ISI CV, Fano factors, correlations of a "
                                           "SONATA spike log; writes a summary and PNG figures.")
    _log_args(pa, "default: every population")
    pa.add_argument("--bin", type=_pos_ms, default=10.0, metavar="MS",
                    help="bin for population rate, Fano factors and count correlations (ms, default: %(default)g)")
    pa.add_argument("--out", default=None, metavar="DIR",
                    help="output directory (default: <LOG>_analysis next to the log)")
    pa.add_argument("--format", choices=("json", "csv"), default="json", dest="fmt")
    pa.add_argument("--no-figures", action="store_true", help="write the summary only")
    pa.add_argument("--pairs", type=_count, default=100, help="sampled pairs for correlations (default: %(default)s)")
    pa.add_argument("--seed", type=int, default=0, help="seed of neuron/pair samples (default: %(default)s)")
    pa.add_argument("--chunk-rows", type=int, default=None, help=argparse.SUPPRESS)
    pa.set_defaults(func=run_analyze)

    pe = subparsers.add_parser("export", help="convert a spike log to another format (NWB)",
                               description="Write the spikes of a SONATA log to an NWB file "
                                           "(Units table, spike times in s, needs pynwb).")
    fmt = pe.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--nwb", dest="export_format", action="store_const", const="nwb",
                     help="export to NWB (Units table with spike_times, population, node_id)")
    _log_args(pe, "default: every population")
    pe.add_argument("--out", required=True, metavar="FILE.nwb", help="output file")
    pe.add_argument("--force", action="store_true", help="overwrite an existing output file")
    pe.add_argument("--chunk-rows", type=int, default=None, help=argparse.SUPPRESS)
    pe.set_defaults(func=run_export)

    pp = subparsers.add_parser("plot", help="one figure from a spike log")
    kinds = pp.add_subparsers(dest="plot_kind", metavar="KIND", required=True)
    for name, kind in PLOT_KINDS.items():
        pk = kinds.add_parser(name, help=kind.help, description=kind.help)
        if kind.input_arguments is not None:
            kind.input_arguments(pk)
        else:
            _log_args(pk, "needed when the log holds more than one")
        pk.add_argument("--out", required=True, metavar="FILE.png", help="output image")
        kind.add_arguments(pk)
        pk.set_defaults(func=run_plot)


def run_analyze(args: argparse.Namespace) -> int:
    """Dispatch target of ``eventsim analyze``."""
    out = args.out or os.path.splitext(args.log)[0] + "_analysis"
    try:
        with one_line_warnings():
            target = analyze(args.log, populations=[args.population] if args.population else None,
                             out=out, fmt=args.fmt, t_start=args.t_start, t_stop=args.t_stop,
                             bin=args.bin, figures=not args.no_figures, n_pairs=args.pairs,
                             seed=args.seed, chunk_rows=args.chunk_rows)
    except (LogFormatError, ValueError) as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {target}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Dispatch target of ``eventsim export --nwb``."""
    from .nwb import export_nwb  # pynwb itself is imported only when exporting

    try:
        with one_line_warnings():
            target = export_nwb(args.log, args.out,
                                populations=[args.population] if args.population else None,
                                t_start=args.t_start, t_stop=args.t_stop, overwrite=args.force,
                                chunk_rows=args.chunk_rows)
    except (EventsimError, ValueError) as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {target}")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    """Dispatch target of ``eventsim plot KIND``."""
    try:
        with one_line_warnings():
            fig = PLOT_KINDS[args.plot_kind].make(args)
            from .plots import save_figure

            written = save_figure(fig, args.out)
    except (LogFormatError, ValueError, EventsimError) as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {written}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point with only the analysis subcommands."""
    parser = argparse.ArgumentParser(prog="eventsim", description="spike log analysis")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
