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
Everything is validated before anything is applied: a failed load leaves the network unchanged.
"""
from __future__ import annotations

import os

import h5py
import numpy as np

from . import checks, neuron, plasticity as plasticity_mod
from .checkpoint import describe
from .compaction import compact
from .errors import EventsimError

KIND = "eventsim-weights"
STATE_VARS = ("v", "i_e", "i_i", "theta")
F32_MAX = float(np.finfo(np.float32).max)


def save(net, path: str, label: str = "") -> str:
    """Append a snapshot of every projection and neuron population; returns its group name.

    A new file is created; an existing one must be an eventsim weight file."""
    from .network import __version__
    path = checks.output_file("weight file", os.fspath(path))
    if os.path.exists(path):
        _open(path, appending=True).close()
    net._ensure_built()
    g = net.graph
    pre, post, w, d = g.edges()
    proj_of_syn = np.repeat(g.grp_proj, np.diff(g.grp_start))
    try:
        f = h5py.File(path, "a")
    except OSError as exc:
        raise EventsimError(f"cannot write weight file '{path}': {exc}") from None
    with f:
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
        out = _synapses(h, path)
        out.update(n_pre=int(h.attrs["n_pre"]), n_post=int(h.attrs["n_post"]))
        return out


def load(net, path: str, snapshot: int | str = -1, state: bool = True) -> None:
    """Set the network's weights (and neuron parameters and theta when state=True) from a
    snapshot. The network must have been created with the same populations and projections.
    Every value is checked before any is applied, so a failed load changes nothing."""
    net._ensure_built()
    g = net.graph
    pre, post, _, d = g.edges()
    synapses = (pre, post, d, np.repeat(g.grp_proj, np.diff(g.grp_start)))
    with _open(path) as f:
        s = _snapshot(f, path, snapshot)
        weights = [_match(pr, synapses, s, path) for pr in net.projections]
        params = _neuron_values(net, s, path) if state and "populations" in s else []
    keep = np.ones(g.n_synapses, bool)
    for idx, w, drop in weights:
        g.weight[idx] = w
        keep[drop] = False
    for pop, new, theta in params:
        pop.set(**new)
        ids = pop.offset + pop.ids
        cur = net._engine.state(ids)
        cur[:, STATE_VARS.index("theta")] = theta
        net._engine.set_state(ids, cur)
    if not keep.all():
        compact(net, keep)


def _match(pr, synapses: tuple, s, path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked weights of projection pr from snapshot s: (synapse indices to set, weights (mV),
    synapse indices the snapshot lacks, to be removed). synapses: the network's (pre, post,
    delay ms, projection) per synapse."""
    if f"projections/{pr.name}" not in s:
        raise EventsimError(f"'{path}' has no projection '{pr.name}'")
    h = s[f"projections/{pr.name}"]
    n_pre, n_post = h.attrs.get("n_pre"), h.attrs.get("n_post")
    if n_pre != pr.pre.size or n_post != pr.post.size:
        raise EventsimError(f"projection '{pr.name}' in '{path}' connects {n_pre} -> {n_post} neurons, "
                            f"the network {pr.pre.size} -> {pr.post.size}")
    syn = _synapses(h, path)
    # the receptor given at connect fixes the sign; a rule bounds the weights further
    lo = 0.0 if pr.receptor == "excitatory" else -F32_MAX
    hi = 0.0 if pr.receptor == "inhibitory" else F32_MAX
    if pr.plasticity is not None:
        vec = pr.plasticity.vector()
        lo, hi = max(lo, vec[plasticity_mod.W_MIN]), min(hi, vec[plasticity_mod.W_MAX])
    weight = checks.in_range(f"'{path}' {h.name}/weight (mV)", syn["weight"], lo, hi)
    pre, post, d, proj_of_syn = synapses
    sel = np.flatnonzero(proj_of_syn == pr.index)
    key_net = _keys(pre[sel] - pr.pre.offset, post[sel] - pr.post.offset, d[sel])
    if np.unique(key_net).size != key_net.size:
        raise EventsimError(f"projection '{pr.name}' has multapses with equal delays; "
                            f"weights cannot be matched by (pre, post, delay)")
    key_file = _keys(syn["pre"], syn["post"], syn["delay"])
    order = np.argsort(key_file, kind="stable")
    n_file = order.size
    pos = np.minimum(np.searchsorted(key_file[order], key_net), max(n_file - 1, 0))
    match = (key_file[order][pos] == key_net) if n_file else np.zeros(sel.size, bool)
    n_match = int(np.count_nonzero(match))
    if n_match != n_file:
        if n_match == sel.size:
            why = (f"the network's projection has only {sel.size} synapses, all in the snapshot: the network "
                   f"was pruned, the snapshot was not (pruned synapses cannot be restored; load into a newly "
                   f"constructed network)")
        else:
            why = "the network was created with other connectivity or delays (another seed or connector?)"
        raise EventsimError(f"{n_file - n_match} of the {n_file} synapses of projection '{pr.name}' in "
                            f"'{path}' have no (pre, post, delay) match in the network: {why}")
    return sel[match], weight[order[pos[match]]], sel[~match]


def _neuron_values(net, s, path: str) -> list[tuple]:
    """Checked (population, settable parameters, theta (mV)) of every neuron population in s."""
    from .network import SETTABLE
    out = []
    for pop in net.populations.values():
        if pop.kind != "neuron" or pop.name not in s["populations"]:
            continue
        h = s[f"populations/{pop.name}"]
        where = f"'{path}' {h.name}"
        new = pop.validated({name: _data(h, name, path) for name in SETTABLE}, where)
        theta = checks.finite(f"{where}.theta (mV)",
                              pop._per_neuron("theta", _data(h, "theta", path), pop.size, where))
        out.append((pop, new, theta))
    return out


def _synapses(h, path: str) -> dict[str, np.ndarray]:
    """Datasets pre, post (int64), weight, delay of a projection group: 1-D and of equal length."""
    out = {k: _data(h, k, path) for k in ("pre", "post", "weight", "delay")}
    sizes = {k: a.shape for k, a in out.items()}
    if any(len(v) != 1 or v != sizes["pre"] for v in sizes.values()):
        raise EventsimError(f"'{path}' {h.name}: datasets pre, post, weight and delay must be 1-D and of "
                            f"equal length (got shapes {sizes})")
    for k in ("pre", "post"):
        if not np.issubdtype(out[k].dtype, np.integer):
            raise EventsimError(f"'{path}' {h.name}/{k} must hold integer neuron ids (got {out[k].dtype})")
        out[k] = out[k].astype(np.int64)
    return out


def _data(h, key: str, path: str) -> np.ndarray:
    """Dataset `key` of group h, or an EventsimError naming it."""
    if not isinstance(h.get(key), h5py.Dataset):
        raise EventsimError(f"'{path}' is incomplete: dataset {h.name}/{key} is missing")
    try:
        return h[key][()]
    except (OSError, TypeError, ValueError) as exc:
        raise EventsimError(f"'{path}': dataset {h.name}/{key} cannot be read ({exc})") from None


def _keys(pre: np.ndarray, post: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """Sortable structured keys (pre, post, delay)."""
    out = np.empty(pre.size, dtype=[("pre", np.int64), ("post", np.int64), ("delay", np.float64)])
    out["pre"], out["post"], out["delay"] = pre, post, delay
    return out


def _open(path: str, appending: bool = False) -> h5py.File:
    """An eventsim weight file opened for reading; appending: the message says why it is refused."""
    hint = "; save_weights appends only to eventsim weight files: choose another path" if appending else ""
    try:
        f = h5py.File(path, "r", locking=False)
    except (OSError, FileNotFoundError) as exc:
        if appending:
            raise EventsimError(f"'{path}' exists and is not an HDF5 file{hint}") from None
        raise EventsimError(f"cannot read weight file '{path}': {exc}") from None
    if f.attrs.get("kind") != KIND or "snapshots" not in f:
        what = describe(f)
        f.close()
        raise EventsimError(f"'{path}' is not an eventsim weight file (it is {what}){hint}")
    return f


def _snapshot(f, path: str, snapshot: int | str):
    if isinstance(snapshot, bool) or not isinstance(snapshot, (int, np.integer, str)):
        raise EventsimError(f"snapshot must be an index (int; -1 = the last), a name such as '00000' or the "
                            f"label given to save_weights, got {snapshot!r}")
    names = sorted(f["snapshots"].keys())
    if not names:
        raise EventsimError(f"'{path}' holds no snapshots")
    if isinstance(snapshot, str):
        if snapshot in f["snapshots"]:
            return f["snapshots"][snapshot]
        labelled = [k for k in names if str(f["snapshots"][k].attrs.get("label", "")) == snapshot]
        if len(labelled) == 1:
            return f["snapshots"][labelled[0]]
        if len(labelled) > 1:
            raise EventsimError(f"'{path}' has {len(labelled)} snapshots labelled '{snapshot}' "
                                f"({', '.join(labelled)}); "
                                "give the name or index of one")
        labels = sorted({str(f['snapshots'][k].attrs.get('label', '')) for k in names} - {""})
        raise EventsimError(f"'{path}' has no snapshot named or labelled '{snapshot}' (names {names[0]}..{names[-1]}"
                            f"{'; labels ' + ', '.join(repr(x) for x in labels) if labels else ''})")
    try:
        return f["snapshots"][names[snapshot]]
    except IndexError:
        raise EventsimError(f"snapshot index {snapshot} out of range: '{path}' holds {len(names)}") from None
