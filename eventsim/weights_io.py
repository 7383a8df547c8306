"""Weight files: snapshots of a network's synapses and neuron state in HDF5, and reloading.

Layout (one file may hold many snapshots, e.g. during training):

    /                       attrs: kind = "eventsim-weights", eventsim_version, seed
    /snapshots/00000        attrs: t_ms, label
        projections/<name>  attrs: pre, post (population names), n_pre, n_post, rule
            pre, post       uint32 local ids (CSR order)
            weight          float32 (mV)
            delay           float64 (ms)
        populations/<name>  one float64 dataset per parameter (v_th, t_ref, ...) and per state
                            variable (v, i_e, i_i, theta), per neuron

Loading matches synapses by (pre, post, delay) within each projection; synapses of the network
that the snapshot lacks (pruned before it was saved) are removed, so a pruned network reloads.
"""
from __future__ import annotations

import h5py
import numpy as np

from . import neuron
from .compaction import compact
from .errors import EventsimError

KIND = "eventsim-weights"
STATE_VARS = ("v", "i_e", "i_i", "theta")


def save(net, path: str, label: str = "") -> str:
    """Append a snapshot of every projection and neuron population; returns its group name."""
    from .network import __version__
    net._ensure_built()
    g = net.graph
    pre, post, w, d = g.edges()
    proj_of_syn = np.repeat(g.grp_proj, np.diff(g.grp_start))
    try:
        f = h5py.File(path, "a")
    except OSError as exc:
        raise EventsimError(f"cannot write weight file '{path}': {exc}") from None
    with f:
        if f.attrs.get("kind", KIND) != KIND:
            raise EventsimError(f"'{path}' is not an eventsim weight file")
        f.attrs["kind"] = KIND
        f.attrs["eventsim_version"] = __version__
        f.attrs["seed"] = net.seed
        snaps = f.require_group("snapshots")
        name = f"{len(snaps):05d}"
        s = snaps.create_group(name)
        s.attrs["t_ms"] = net.t
        s.attrs["label"] = label
        for pr in net.projections:
            sel = proj_of_syn == pr.index
            h = s.create_group(f"projections/{pr.name}")
            h.attrs.update({"pre": pr.pre.name, "post": pr.post.name, "n_pre": pr.pre.size,
                            "n_post": pr.post.size, "rule": repr(pr.plasticity) if pr.plasticity else ""})
            h["pre"] = (pre[sel] - pr.pre.offset).astype(np.uint32)
            h["post"] = (post[sel] - pr.post.offset).astype(np.uint32)
            h["weight"] = w[sel].astype(np.float32)
            h["delay"] = d[sel]
        for pop in net.populations.values():
            if pop.kind != "neuron":
                continue
            h = s.create_group(f"populations/{pop.name}")
            for name_ in neuron.PARAM_NAMES:
                h[name_] = pop.get(name_)
            state = net._engine.state(pop.offset + pop.ids)
            for k, var in enumerate(STATE_VARS):
                h[var] = state[:, k]
    return name


def snapshots(path: str) -> list[tuple[str, float, str]]:
    """(name, t_ms, label) of every snapshot in a weight file."""
    with _open(path) as f:
        return [(k, float(v.attrs["t_ms"]), str(v.attrs.get("label", ""))) for k, v in f["snapshots"].items()]


def read_projection(path: str, projection: str, snapshot: int | str = -1) -> dict[str, np.ndarray]:
    """Arrays pre, post, weight, delay (and attrs n_pre, n_post) of one projection in a snapshot."""
    with _open(path) as f:
        s = _snapshot(f, path, snapshot)
        if f"projections/{projection}" not in s:
            raise EventsimError(f"'{path}' has no projection '{projection}' "
                                f"(has: {', '.join(s['projections'].keys())})")
        h = s[f"projections/{projection}"]
        out = {k: h[k][()] for k in ("pre", "post", "weight", "delay")}
        out.update(n_pre=int(h.attrs["n_pre"]), n_post=int(h.attrs["n_post"]))
        return out


def load(net, path: str, snapshot: int | str = -1, state: bool = True) -> None:
    """Set the network's weights (and neuron parameters and theta when state=True) from a
    snapshot. The network must have been created with the same populations and projections."""
    net._ensure_built()
    with _open(path) as f:
        s = _snapshot(f, path, snapshot)
        g = net.graph
        pre, post, _, d = g.edges()
        proj_of_syn = np.repeat(g.grp_proj, np.diff(g.grp_start))
        keep = np.ones(g.n_synapses, bool)
        for pr in net.projections:
            if f"projections/{pr.name}" not in s:
                raise EventsimError(f"'{path}' has no projection '{pr.name}'")
            h = s[f"projections/{pr.name}"]
            if h.attrs["n_pre"] != pr.pre.size or h.attrs["n_post"] != pr.post.size:
                raise EventsimError(f"projection '{pr.name}' in '{path}' connects {h.attrs['n_pre']} -> "
                                    f"{h.attrs['n_post']} neurons, the network {pr.pre.size} -> {pr.post.size}")
            sel = np.flatnonzero(proj_of_syn == pr.index)
            key_net = _keys(pre[sel] - pr.pre.offset, post[sel] - pr.post.offset, d[sel])
            key_file = _keys(h["pre"][()].astype(np.int64), h["post"][()].astype(np.int64), h["delay"][()])
            order = np.argsort(key_file, kind="stable")
            pos = np.searchsorted(key_file[order], key_net)
            pos = np.minimum(pos, max(order.size - 1, 0))
            found = order.size > 0
            match = (key_file[order][pos] == key_net) if found else np.zeros(sel.size, bool)
            if np.unique(key_net).size != key_net.size:
                raise EventsimError(f"projection '{pr.name}' has multapses with equal delays; "
                                    f"weights cannot be matched by (pre, post, delay)")
            n_file = order.size
            if np.count_nonzero(match) != n_file:
                raise EventsimError(
                    f"{n_file - np.count_nonzero(match)} of the {n_file} synapses of projection '{pr.name}' in "
                    f"'{path}' have no (pre, post, delay) match in the network: it was created with other "
                    f"connectivity or delays (a different seed?)")
            g.weight[sel[match]] = h["weight"][()][order[pos[match]]]
            keep[sel[~match]] = False
        if state and "populations" in s:
            for pop in net.populations.values():
                if pop.kind != "neuron" or pop.name not in s["populations"]:
                    continue
                h = s[f"populations/{pop.name}"]
                ids = pop.offset + pop.ids
                e = net._engine
                for name_ in ("v_th", "theta_plus", "tau_theta", "t_ref", "v_reset", "v_rest", "i_bias"):
                    e.set_params(ids, neuron.param_column(name_), h[name_][()])
                cur = e.state(ids)
                cur[:, 3] = h["theta"][()]
                e.set_state(ids, cur)
    if not keep.all():
        compact(net, keep)


def _keys(pre: np.ndarray, post: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """Sortable structured keys (pre, post, delay)."""
    out = np.empty(pre.size, dtype=[("pre", np.int64), ("post", np.int64), ("delay", np.float64)])
    out["pre"], out["post"], out["delay"] = pre, post, delay
    return out


def _open(path: str) -> h5py.File:
    try:
        f = h5py.File(path, "r", locking=False)
    except (OSError, FileNotFoundError) as exc:
        raise EventsimError(f"cannot read weight file '{path}': {exc}") from None
    if f.attrs.get("kind") != KIND or "snapshots" not in f:
        f.close()
        raise EventsimError(f"'{path}' is not an eventsim weight file (no kind='{KIND}' attribute)")
    return f


def _snapshot(f, path: str, snapshot: int | str):
    names = sorted(f["snapshots"].keys())
    if not names:
        raise EventsimError(f"'{path}' holds no snapshots")
    if isinstance(snapshot, str):
        if snapshot not in f["snapshots"]:
            raise EventsimError(f"'{path}' has no snapshot '{snapshot}' (has {names[0]}..{names[-1]})")
        return f["snapshots"][snapshot]
    try:
        return f["snapshots"][names[snapshot]]
    except IndexError:
        raise EventsimError(f"snapshot index {snapshot} out of range: '{path}' holds {len(names)}") from None
