"""Parameter sweeps: independent runs of one config over a grid of values, in parallel.

    eventsim sweep cuba.toml --param projections[2].weight=-6,-9,-12 --param seed=1,2 --processes 2
    mpiexec -n 4 eventsim sweep cuba.toml --param seed=1,2,3,4,5,6,7,8

The grid is the cartesian product of the --param value lists. Each point is a full run in its own
process (multiprocessing, spawn) or, under mpiexec, the points are dealt out to the ranks
(round robin). Each run returns a summary (spikes, mean rate and ISI CV per recorded population,
wall time); the summaries are collected in grid order. Every point's config is validated (its
duration and chunk too, and its network assembled, not built) before any run starts, so a bad
name or value fails at once, naming the parameter and the point.
"""
from __future__ import annotations

import copy
import itertools
import math
import re
from typing import Any

import numpy as np

from .errors import ConfigError, EventsimError

MAX_POINTS = 10_000   # runs per sweep invocation; every point is validated and assembled before any run

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def parse_param(text: str) -> tuple[str, list[Any]]:
    """'path=v1,v2,...' -> (path, [values]); values are numbers when they parse as such."""
    if "=" not in text:
        raise ConfigError(f"--param must look like name=v1,v2,... (got '{text}')")
    path, values = text.split("=", 1)
    out = []
    for v in values.split(","):
        v = v.strip()
        if not v:
            raise ConfigError(f"--param {path}: empty value in '{values}'")
        try:
            out.append(int(v) if re.fullmatch(r"[+-]?\d+", v) else float(v))
        except ValueError:
            out.append(v)
    return path.strip(), out


def set_path(cfg: dict, path: str, value: Any) -> None:
    """Set cfg[a][b][i]... addressed by 'a.b[i]...'. Every key but the last must exist; a new last
    key of a table (e.g. a model parameter left at its default) is added, and validation then
    names it if it is not a valid key."""
    node: Any = cfg
    parts = path.split(".")
    for depth, part in enumerate(parts):
        m = _PART.match(part)
        if not m:
            raise ConfigError(f"bad parameter path '{path}' at '{part}'")
        key, idx = m.group(1), m.group(2)
        last = depth == len(parts) - 1 and idx is None
        if last and isinstance(node, dict):
            node[key] = value
            return
        if isinstance(node, list):
            before = ".".join(parts[:depth])
            raise ConfigError(f"parameter path '{path}': '{before}' is an array of {len(node)}; index it, "
                              f"e.g. '{before}[0].{part}'")
        if not isinstance(node, dict) or key not in node:
            have = ", ".join(node) if isinstance(node, dict) else type(node).__name__
            raise ConfigError(f"parameter path '{path}': no key '{key}' (have: {have})")
        node = node[key]
        if idx is not None:
            if not isinstance(node, list) or int(idx) >= len(node):
                raise ConfigError(f"parameter path '{path}': index [{idx}] out of range")
            if depth == len(parts) - 1:
                node[int(idx)] = value
                return
            node = node[int(idx)]


def grid(cfg: dict, params: list[tuple[str, list[Any]]], check: bool = True) -> list[tuple[dict, dict]]:
    """Every combination: (point {path: value}, config with the values set). check: validate each
    point's config and assemble its network (no build, no run), so that errors come before any run."""
    from . import config as cfgmod
    paths = [path for path, _ in params]
    dup = {p for p in paths if paths.count(p) > 1}
    if dup:
        raise ConfigError(f"--param {sorted(dup)[0]} is given more than once")
    for path, values in params:
        if not values:
            raise ConfigError(f"--param {path}: no values")
    n = math.prod(len(values) for _, values in params)
    if n > MAX_POINTS:
        sizes = " x ".join(str(len(values)) for _, values in params)
        raise ConfigError(f"the sweep grid has {n:,} points ({sizes}), more than {MAX_POINTS:,}: each point is a "
                          f"full run; split the sweep into several invocations")
    points = []
    for combo in itertools.product(*[values for _, values in params]):
        point = {path: v for (path, _), v in zip(params, combo)}
        c = copy.deepcopy(cfg)
        for path, v in point.items():
            set_path(c, path, v)
        if check:
            try:
                cfgmod.validate(c)
                cfgmod.run_settings(c)
                cfgmod.build(c)
            except EventsimError as exc:
                what = ", ".join(f"{k}={v}" for k, v in point.items())
                raise ConfigError(f"sweep point {what}: {exc}") from None
        points.append((point, c))
    return points


def run_point(args: tuple[dict, dict]) -> dict:
    """Run one configured network and summarise it (spikes, rate Hz and ISI CV per population;
    wall time of build and run)."""
    import time
    from . import config as cfgmod
    point, cfg = args
    w0 = time.perf_counter()
    net = cfgmod.build(cfg)
    duration, chunk = cfgmod.run_settings(cfg)
    net.run(duration, chunk=chunk, progress=False)
    summary: dict[str, Any] = {"point": point, "populations": {}}
    for name, pop in net.populations.items():
        if pop.kind != "neuron" or not pop.record:
            continue
        t, i = pop.spikes()
        order = np.lexsort((t, i))
        t, i = t[order], i[order]
        isi = np.diff(t)
        same = i[1:] == i[:-1]
        per = np.bincount(i[1:][same], minlength=pop.size)
        s1 = np.bincount(i[1:][same], weights=isi[same], minlength=pop.size)
        s2 = np.bincount(i[1:][same], weights=isi[same] ** 2, minlength=pop.size)
        ok = per >= 2
        mean = s1[ok] / per[ok]
        cv = np.sqrt(np.maximum(s2[ok] / per[ok] - mean ** 2, 0.0)) / mean
        summary["populations"][name] = {"spikes": int(t.size),
                                        "rate_hz": t.size / pop.size / (duration / 1e3),
                                        "isi_cv": float(cv.mean()) if cv.size else None}
    summary["wall_s"] = time.perf_counter() - w0
    return summary


def run_sweep(cfg: dict, params: list[tuple[str, list[Any]]], jobs: int = 1) -> list[dict]:
    """All grid points, in grid order. Under mpiexec (more than one rank) the ranks share the
    points and rank 0 returns the full list (other ranks return []); otherwise `jobs` processes."""
    from .distributed import world
    points = grid(cfg, params)
    comm = world()                 # None unless launched by mpiexec
    size, rank = (1, 0) if comm is None else (comm.Get_size(), comm.Get_rank())
    if size > 1:
        mine = [(k, run_point(points[k])) for k in range(rank, len(points), size)]
        gathered = comm.gather(mine, root=0)
        if rank != 0:
            return []
        return [r for _, r in sorted((kr for part in gathered for kr in part), key=lambda kr: kr[0])]
    if jobs <= 1 or len(points) <= 1:
        return [run_point(p) for p in points]
    import multiprocessing as mp
    with mp.get_context("spawn").Pool(min(jobs, len(points))) as pool:
        return pool.map(run_point, points, chunksize=1)


def table(results: list[dict]) -> tuple[list[str], list[list[Any]]]:
    """Flatten summaries into (columns, rows): parameters, then spikes/rate/CV per population, wall time."""
    if not results:
        return [], []
    params = list(results[0]["point"])
    pops = list(results[0]["populations"])
    cols = params + [f"{p}.{k}" for p in pops for k in ("spikes", "rate_hz", "isi_cv")] + ["wall_s"]
    rows = []
    for r in results:
        rows.append([r["point"][k] for k in params]
                    + [r["populations"][p][k] for p in pops for k in ("spikes", "rate_hz", "isi_cv")]
                    + [r["wall_s"]])
    return cols, rows


def format_table(cols: list[str], rows: list[list[Any]]) -> str:
    def fmt(v):
        if v is None:
            return "n/a"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    cells = [cols] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(cols))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells)
