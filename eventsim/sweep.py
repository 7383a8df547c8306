"""Parameter sweeps: independent runs of one config over a grid of values, in parallel.

    eventsim sweep cuba.toml --param projections[2].weight=-6,-9,-12 --param seed=1,2 --jobs 2

Each point of the grid is a full run in its own process (multiprocessing) or, under mpiexec,
the points are dealt out to the ranks. Each run returns a summary (mean rate and ISI CV per
population); the summaries are collected in grid order.
"""
from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import numpy as np

from .errors import ConfigError

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
    """Set cfg[a][b][i]... addressed by 'a.b[i]...'; the key must already exist."""
    node: Any = cfg
    parts = path.split(".")
    for depth, part in enumerate(parts):
        m = _PART.match(part)
        if not m:
            raise ConfigError(f"bad parameter path '{path}' at '{part}'")
        key, idx = m.group(1), m.group(2)
        last = depth == len(parts) - 1 and idx is None
        if not isinstance(node, dict) or key not in node:
            have = ", ".join(node) if isinstance(node, dict) else type(node).__name__
            raise ConfigError(f"parameter path '{path}': no key '{key}' (have: {have})")
        if last:
            node[key] = value
            return
        node = node[key]
        if idx is not None:
            if not isinstance(node, list) or int(idx) >= len(node):
                raise ConfigError(f"parameter path '{path}': index [{idx}] out of range")
            if depth == len(parts) - 1:
                node[int(idx)] = value
                return
            node = node[int(idx)]


def grid(cfg: dict, params: list[tuple[str, list[Any]]]) -> list[tuple[dict, dict]]:
    """Every combination: (point {path: value}, config with the values set)."""
    points = []
    for combo in itertools.product(*[values for _, values in params]):
        point = {path: v for (path, _), v in zip(params, combo)}
        c = copy.deepcopy(cfg)
        for path, v in point.items():
            set_path(c, path, v)
        points.append((point, c))
    return points


def run_point(args: tuple[dict, dict]) -> dict:
    """Run one configured network and summarise it (rate Hz and ISI CV per population)."""
    from . import config as cfgmod
    point, cfg = args
    net = cfgmod.build(cfg)
    duration = float(cfg.get("duration", 1000.0))
    net.run(duration, chunk=float(cfg.get("chunk", 100.0)), progress=False)
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
        summary["populations"][name] = {"rate_hz": t.size / pop.size / (duration / 1e3),
                                        "isi_cv": float(cv.mean()) if cv.size else None}
    return summary


def run_sweep(cfg: dict, params: list[tuple[str, list[Any]]], jobs: int = 1) -> list[dict]:
    """All grid points, in grid order. Under mpiexec (more than one rank) the ranks share the
    points and rank 0 returns the full list (other ranks return []); otherwise `jobs` processes."""
    points = grid(cfg, params)
    try:
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        size, rank = comm.Get_size(), comm.Get_rank()
    except ImportError:
        comm, size, rank = None, 1, 0
    if size > 1:
        mine = [(k, run_point(points[k])) for k in range(rank, len(points), size)]
        gathered = comm.gather(mine, root=0)
        if rank != 0:
            return []
        return [r for _, r in sorted((kr for part in gathered for kr in part), key=lambda kr: kr[0])]
    if jobs <= 1:
        return [run_point(p) for p in points]
    import multiprocessing as mp
    with mp.get_context("spawn").Pool(jobs) as pool:
        return pool.map(run_point, points)
