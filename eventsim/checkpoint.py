"""Checkpoints: the full state of a running network in one HDF5 file, and exact resumption.

    net.checkpoint("ck.h5")                                # between runs (or at a chunk boundary)
    net = eventsim.checkpoint.resume("ck.h5", factory)     # factory() -> the same, unbuilt Network
    net.run(rest)                                          # spikes bit-identical to one long run

`eventsim run CONFIG --checkpoint-every MS` writes checkpoints from the command line, and
`eventsim run --resume CKPT` continues one (see eventsim/cli.py).

What is stored
--------------
- every attribute of the Engine (eventsim.engine.Engine) except those in ENGINE_TRANSIENT,
  generically: arrays as datasets, tuples of arrays as groups 0, 1, ..., numbers as attributes.
  This covers P, S, the check tree, the event heap (its live entries and capacity),
  sources (incl. Poisson counters and versions), graph arrays incl. plastic weights, the
  plasticity tuple incl. traces and rule rows, epoch, stats and t. An Engine attribute that is
  neither stored nor listed as transient makes `save` fail, so new engine state cannot be forgotten;
  a checkpoint that lacks an attribute the engine now has is rejected as another version;
- the projection index of each delay group (Graph.grp_proj), which may have been compacted;
- the current learning rule of each plastic projection (its type and fields), so a rule that
  set_plasticity installed is back on the Projection after resume;
- the spike log: its path, flush interval, recorded t_start and the number of rows per
  population written when the checkpoint was taken (after a flush). `resume` rebuilds the log
  with exactly those rows and the interval up to the checkpoint's time, and continues it, so
  spikes written after the checkpoint are dropped and regenerated: a kill -9 between
  checkpoints loses nothing and duplicates nothing. Spikes that were kept only
  in memory (no log) are stored in the checkpoint itself;
- a fingerprint of the network as constructed (populations, projections with a hash of their
  synapses, models, sources, seed, eventsim version), the config and its hash, and a SHA-256
  checksum of every stored array and attribute (a truncated or altered file is rejected).

The file is written to PATH.tmp, fsynced and renamed, so an interrupted save leaves the previous
checkpoint intact. Not stored: StateSampler registrations (register samplers again after resume).
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import checks, engine as eng, heap, neuron
from .errors import EventsimError
from .graph import Graph
from .hdf5_open import hdf5_reason
from .recording import SonataWriter, config_attrs, copy_prefix, open_log_for_reading

KIND = "eventsim-checkpoint"
FORMAT = 3      # 3: the checksum covers the attributes too; 2: the checks are a tournament tree (heap.make_checks)
READABLE_FORMATS = (2, 3)   # format 2 (before 2026-11-24) is read with its arrays-only checksum
# Engine attributes that are not state at a chunk boundary (recomputed or empty there).
ENGINE_TRANSIENT = {
    "scratch": "work arrays of the root solver, rewritten before every use",
    "fac": "factor cache, recomputed by Engine.refresh_classes()",
    "buf_t": "spike buffer, drained at every chunk boundary",
    "buf_id": "spike buffer, drained at every chunk boundary",
    "buf_n": "spike buffer fill, 0 at every chunk boundary",
    "no_samples": "constant empty sampler arrays",
    "t_reached": "time reached inside run_until (for on_spikes); equals t at every chunk boundary",
}
# config keys that do not change a run's spikes
CONFIG_HASH_IGNORES = ("duration", "chunk", "description")


# --------------------------------------------------------------------------------------------
# identity of a network and a config
# --------------------------------------------------------------------------------------------
def config_hash(cfg: dict | None) -> str:
    """SHA-256 of a config without the keys that cannot change spikes (duration, chunk, description)."""
    if not cfg:
        return ""
    body = {k: v for k, v in cfg.items() if k not in CONFIG_HASH_IGNORES}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=repr).encode()).hexdigest()


def _hash_obj(h, obj) -> None:
    """Feed any mix of arrays, numbers, strings, tuples and dataclasses into a hash."""
    import dataclasses
    if isinstance(obj, np.ndarray):
        h.update(f"{obj.dtype}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(type(obj).__name__.encode())
        for f in dataclasses.fields(obj):
            h.update(f.name.encode())
            _hash_obj(h, getattr(obj, f.name))
    elif isinstance(obj, (tuple, list)):
        h.update(f"({len(obj)}".encode())
        for x in obj:
            _hash_obj(h, x)
    else:
        h.update(repr(obj).encode())


def fingerprint(net) -> dict[str, Any]:
    """Identity of a network as constructed (not its learning or pruning): JSON-able. Cheap: it
    hashes the projections' generating specs (connector, views, weight and delay laws), never
    their synapses, and the same before and after the build."""
    from .network import __version__
    h = hashlib.sha256()
    pops = []
    neurons = [p for p in net.populations.values() if p.kind == "neuron"]
    for p in net.populations.values():
        pops.append([p.name, p.kind, int(p.size), bool(p.record)])
    for k, p in enumerate(neurons):
        h.update(p.name.encode())
        _hash_obj(h, p.model.parameter_table(p.size, net.seed, k + 1))
        h.update(type(p.model).__name__.encode())
    for name, (kind, spec) in net._source_specs.items():
        h.update(f"{name}:{kind}".encode())
        if spec is not None:                # spike arrays; Poisson rates are engine state
            _hash_obj(h, spec)
    projs = []
    for pr in net.projections:             # the rule given at connect: set_plasticity is state
        rule = pr.connected_plasticity
        projs.append([pr.name, pr.pre.name, pr.post.name, repr(rule) if rule is not None else ""])
        _hash_obj(h, (pr.pre_view, pr.post_view, pr.spec))
    return {"eventsim_version": __version__, "seed": int(net.seed), "populations": pops,
            "projections": projs, "structure_sha256": h.hexdigest(), "NP": neuron.NP, "NS": neuron.NS,
            "ID_BITS": heap.ID_BITS}


def describe(f: h5py.File) -> str:
    """What an open HDF5 file is, for error messages: 'an eventsim spike log', ..."""
    kind = f.attrs.get("kind")
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == KIND:
        return "an eventsim checkpoint"
    if kind == "eventsim-weights":
        return "an eventsim weight file"
    if "spikes" in f and f.attrs.get("magic") is not None:
        return "an eventsim spike log"
    return "an HDF5 file of another kind" if len(f) or len(f.attrs) else "an empty HDF5 file"


def _rule_record(rule) -> dict:
    """A learning rule (a dataclass from eventsim.learning) as JSON-able {type, fields}."""
    if not dataclasses.is_dataclass(rule):
        return {"repr": repr(rule)}
    cls = type(rule)
    return {"type": f"{cls.__module__}:{cls.__qualname__}", "fields": dataclasses.asdict(rule)}


def _json_scalar(o):
    """numpy scalars as the Python numbers and bools they hold (json's `default`)."""
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _restore_rules(net, ck: "Checkpoint") -> None:
    """Put back the rules that set_plasticity installed before the checkpoint (the engine's rule
    rows are restored with the engine; this restores the Projection objects to match)."""
    for pr in net._plastic_projections():
        rec = ck.rules.get(pr.name)
        if not isinstance(rec, dict) or "type" not in rec or rec == _rule_record(pr.plasticity):
            continue
        try:
            module, qualname = rec["type"].split(":")
            cls = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            rule = cls(**rec["fields"])
        except (ImportError, AttributeError, TypeError, ValueError, KeyError) as exc:
            raise EventsimError(f"checkpoint '{ck.path}': cannot recreate the learning rule of projection "
                                f"'{pr.name}' ({rec['type']}: {exc})") from None
        pr.set_plasticity(rule)


def _describe_difference(have: dict, want: dict) -> str:
    for key in ("seed", "populations", "projections"):
        if have.get(key) != want.get(key):
            if key in ("populations", "projections"):
                a = {tuple(x)[0]: x for x in have.get(key, [])}
                b = {tuple(x)[0]: x for x in want.get(key, [])}
                for name in sorted(set(a) | set(b)):
                    if a.get(name) != b.get(name):
                        return (f"{key[:-1]} '{name}' is {a.get(name)} in the checkpoint but "
                                f"{b.get(name)} in this network")
            return f"{key} is {have.get(key)} in the checkpoint but {want.get(key)} in this network"
    return ("its synapses, weights, delays, model parameters or source spikes differ "
            f"(structure hash {have.get('structure_sha256', '')[:12]} != {want.get('structure_sha256', '')[:12]})")


# --------------------------------------------------------------------------------------------
# saving
# --------------------------------------------------------------------------------------------
def _engine_items(e) -> dict[str, Any]:
    items = {}
    for name, value in vars(e).items():
        if name in ENGINE_TRANSIENT:
            continue
        if isinstance(value, np.ndarray):
            items[name] = value
        elif isinstance(value, tuple):
            if not all(isinstance(a, np.ndarray) for a in value):
                raise EventsimError(f"cannot checkpoint Engine.{name}: a tuple of non-arrays "
                                    f"(eventsim.checkpoint needs updating for this engine)")
            items[name] = value
        elif isinstance(value, (bool, int, float, np.integer, np.floating)):
            items[name] = value
        else:
            raise EventsimError(f"cannot checkpoint Engine.{name} of type {type(value).__name__} "
                                f"(eventsim.checkpoint needs updating for this engine)")
    return items


class _Hasher:
    def __init__(self):
        self.h = hashlib.sha256()

    def add(self, name: str, arr: np.ndarray) -> None:
        self.h.update(name.encode())
        self.h.update(str(arr.dtype).encode())
        self.h.update(str(arr.shape).encode())
        self.h.update(np.ascontiguousarray(arr).tobytes())

    def add_attributes(self, f: h5py.File) -> None:
        """Every attribute of the file, its groups and datasets (but the checksum's own), as
        read back from the file: they hold the log's row counts, the run settings and the
        engine's scalars, so an altered attribute must fail the check as an altered array does."""
        objects = [""]
        f.visit(objects.append)
        for obj in sorted(objects):
            attrs = f[obj].attrs if obj else f.attrs
            for key in sorted(attrs):
                if obj == "" and key in ("checksum", "complete"):
                    continue
                v = np.asarray(attrs[key])
                self.h.update(f"{obj}@{key}:{v.dtype}:{v.tolist()!r}".encode())


def save(net, path: str | os.PathLike, meta: dict | None = None) -> str:
    """Write the network's full state to an HDF5 checkpoint at `path` (atomically); returns path.

    Call it between runs or from Network.run's on_chunk hook. The spike log is flushed first.
    meta: extra JSON-able information stored with it (the CLI stores its run settings)."""
    net._ensure_built()
    if getattr(net, "_broken", None):
        raise EventsimError(f"cannot checkpoint: the last run stopped abnormally ({net._broken}); "
                            f"its state between chunk boundaries is not resumable")
    e = net._engine
    rec = net._recorder
    if net._writer is not None and not net._writer.file.id.valid:
        raise EventsimError("cannot checkpoint: the network's spike log is closed (checkpoint before close())")
    path = checks.output_file("checkpoint", os.fspath(path))
    if net._writer is not None and os.path.abspath(path) == os.path.abspath(net._writer.path):
        raise EventsimError(f"checkpoint path '{path}' is the network's spike log; allowed another file")
    e.drain(rec.on_spikes)
    rec.flush()
    tmp = f"{path}.tmp"
    hasher = _Hasher()
    try:
        f = h5py.File(tmp, "w")
    except OSError as exc:
        raise EventsimError(f"cannot write checkpoint '{path}': {exc}") from None
    try:
        with f:
            written = _write_body(f, net, e, rec, meta)
            for name in sorted(written):
                hasher.add(name, written[name])
            hasher.add_attributes(f)
            f.attrs["checksum"] = hasher.h.hexdigest()
            f.attrs["complete"] = True
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(exc, (OSError, RuntimeError)):
            raise EventsimError(f"cannot write checkpoint '{path}': {hdf5_reason(exc)}") from None
        raise
    return path


def _write_body(f, net, e, rec, meta) -> dict[str, np.ndarray]:
    from .network import __version__
    written = {}

    def put(name: str, arr: np.ndarray) -> None:
        arr = np.ascontiguousarray(arr)
        f.create_dataset(name, data=arr)
        written[name] = arr

    f.attrs["kind"] = KIND
    f.attrs["format"] = FORMAT
    f.attrs["eventsim_version"] = __version__
    f.attrs["seed"] = str(int(net.seed))   # text: seeds may exceed int64
    f.attrs["t_ms"] = float(e.t)
    fp = getattr(net, "_checkpoint_fingerprint", None)
    if fp is None:                          # the structure is frozen once built: compute it once
        fp = net._checkpoint_fingerprint = fingerprint(net)
    f.attrs["fingerprint"] = json.dumps(fp, sort_keys=True)
    f.attrs["config"] = json.dumps(net.config or {}, sort_keys=True, default=repr)
    f.attrs["config_hash"] = config_hash(net.config)
    f.attrs["meta"] = json.dumps(meta or {}, sort_keys=True, default=repr)
    f.attrs["rules"] = json.dumps({pr.name: _rule_record(pr.plasticity) for pr in net._plastic_projections()},
                                  sort_keys=True, default=_json_scalar)
    eg = f.create_group("engine")
    scalars = {}
    for name, value in _engine_items(e).items():
        if isinstance(value, np.ndarray):
            put(f"engine/{name}", value)
        elif isinstance(value, tuple):
            g = eg.create_group(name)
            g.attrs["length"] = len(value)
            if name == "queue":               # store the live entries only, and the capacity
                n = int(value[4][0])
                g.attrs["capacity"] = int(value[0].size)
                value = tuple(a[:n] for a in value[:4]) + (value[4],)
            for k, a in enumerate(value):
                put(f"engine/{name}/{k}", a)
        else:
            scalars[name] = value.item() if isinstance(value, np.generic) else value
    eg.attrs["scalars"] = json.dumps(scalars, sort_keys=True)
    put("network/grp_proj", net.graph.grp_proj)
    log = {"path": None, "rows": {}, "flush_interval_s": rec.flush_interval_s, "in_memory": bool(rec.in_memory),
           "compression": None, "n_spikes": int(rec.n_spikes)}
    if net._writer is not None and net._log_spec is not None:
        log.update(path=os.path.abspath(net._writer.path), rows=net._writer.rows(),
                   compression=net._log_spec[3], t_start=float(net._writer.file.attrs["t_start"]),
                   run_id=str(net._writer.file.attrs.get("run_id", "")))
    elif rec.in_memory:
        for name in rec.names:
            t, i = rec.spikes(name)
            put(f"memory/{name}/timestamps", np.asarray(t, np.float64))
            put(f"memory/{name}/node_ids", np.asarray(i, np.int64))
    f.attrs["log"] = json.dumps(log, sort_keys=True)
    return written


# --------------------------------------------------------------------------------------------
# reading and validating
# --------------------------------------------------------------------------------------------
class Checkpoint:
    """A checkpoint read and verified (checksum, kind, version); arrays in memory."""

    def __init__(self, path: str, attrs: dict, engine: dict, scalars: dict, grp_proj: np.ndarray,
                 memory: dict):
        self.path = path
        self.attrs = attrs
        self.engine = engine
        self.scalars = scalars
        self.grp_proj = grp_proj
        self.memory = memory
        self.fingerprint = json.loads(attrs["fingerprint"])
        self.config = json.loads(attrs["config"])
        self.config_hash = str(attrs["config_hash"])
        self.meta = json.loads(attrs["meta"])
        self.rules = json.loads(attrs.get("rules", "{}"))      # current learning rules by projection
        self.log = json.loads(attrs["log"])
        self.seed = int(attrs["seed"])
        self.t = float(attrs["t_ms"])


def read(path: str | os.PathLike) -> Checkpoint:
    """Read and verify a checkpoint; raises EventsimError with a one-line reason if it is not a
    complete eventsim checkpoint of this eventsim version."""
    from .network import __version__
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EventsimError(f"checkpoint '{path}' does not exist")
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise EventsimError(f"'{path}' is not a readable HDF5 file (truncated, corrupt or not a checkpoint: "
                            f"{reason})") from None
    try:
        with f:
            kind = f.attrs.get("kind")
            if isinstance(kind, bytes):
                kind = kind.decode()
            if kind != KIND:
                raise EventsimError(f"'{path}' is not an eventsim checkpoint (it is {describe(f)})")
            if not f.attrs.get("complete", False) or "checksum" not in f.attrs:
                raise EventsimError(f"checkpoint '{path}' is incomplete (its writer was interrupted)")
            fmt = int(f.attrs.get("format", -1))
            version = str(f.attrs.get("eventsim_version", "?"))
            if fmt not in READABLE_FORMATS or version != __version__:
                raise EventsimError(f"checkpoint '{path}' was written by eventsim {version} (format {fmt}); "
                                    f"this is eventsim {__version__} (format {FORMAT}): resume it with the "
                                    f"version that wrote it")
            attrs = {k: f.attrs[k] for k in f.attrs}
            hasher = _Hasher()
            names: list[str] = []
            f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
            data = {}
            for n in sorted(names):
                arr = f[n][()]
                data[n] = arr
                hasher.add(n, arr)
            if fmt >= 3:
                hasher.add_attributes(f)
            if hasher.h.hexdigest() != attrs["checksum"]:
                raise EventsimError(f"checkpoint '{path}' is corrupt (checksum mismatch)")
            engine = {}
            for name, obj in f["engine"].items():
                if isinstance(obj, h5py.Group):
                    parts = [data[f"engine/{name}/{k}"] for k in range(int(obj.attrs["length"]))]
                    if name == "queue":
                        parts = _expand_queue(parts, int(obj.attrs["capacity"]))
                    engine[name] = tuple(parts)
                else:
                    engine[name] = data[f"engine/{name}"]
            scalars = json.loads(f["engine"].attrs["scalars"])
            memory = {}
            if "memory" in f:
                for name in f["memory"]:
                    memory[name] = (data[f"memory/{name}/timestamps"], data[f"memory/{name}/node_ids"])
            return Checkpoint(path, attrs, engine, scalars, data["network/grp_proj"], memory)
    except EventsimError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, json.JSONDecodeError) as exc:
        raise EventsimError(f"checkpoint '{path}' is corrupt or truncated ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


def _expand_queue(parts: list[np.ndarray], capacity: int) -> list[np.ndarray]:
    n = int(parts[4][0])
    full = heap.make(max(capacity, n, 1))
    for src, dst in zip(parts[:4], full[:4]):
        if src.dtype != dst.dtype:
            raise ValueError("queue arrays have unexpected types")
        dst[:n] = src
    full[4][0] = n
    return list(full)


# --------------------------------------------------------------------------------------------
# resuming
# --------------------------------------------------------------------------------------------
def resume(path: str | os.PathLike, config_or_network_factory=None, *, log_path: str | None = None,
           seed: int | None = None):
    """A Network continued from the checkpoint at `path`, at the checkpoint's model time.

    config_or_network_factory: a config dict (as eventsim.config.load returns), a config file
    or built-in name, a callable returning the same network as constructed for the original run
    (not yet run), or None to rebuild from the config stored in the checkpoint. The network must
    match the checkpoint's fingerprint. Its spike log (the factory's record_spikes path, else
    the checkpoint's, else log_path) is rebuilt with the spikes written up to the checkpoint and
    continued. seed: must equal the checkpoint's if given."""
    from . import config as cfgmod
    if log_path is not None:
        checks.output_file("resume log_path", os.fspath(log_path))
    ck = read(path)
    if seed is not None and int(seed) != ck.seed:
        raise EventsimError(f"checkpoint '{ck.path}' was written with seed {ck.seed}, not {seed}")
    src = config_or_network_factory
    if src is None:
        if not ck.config or "populations" not in ck.config:
            raise EventsimError(f"checkpoint '{ck.path}' stores no config: pass the config or a network factory")
        src = ck.config
    if isinstance(src, (str, Path)):
        src = cfgmod.load(src)
    if isinstance(src, dict):
        cfgmod.validate(src)
        want = config_hash({**src, "seed": ck.seed})
        if ck.config_hash and want != ck.config_hash:
            raise EventsimError(f"checkpoint '{ck.path}' was written for another config (config hash "
                                f"{ck.config_hash[:12]}, this config {want[:12]})")
        net = cfgmod.build(src, seed=ck.seed)
    elif callable(src):
        net = src()
        from .network import Network
        if not isinstance(net, Network):
            raise EventsimError(f"the network factory must return an eventsim.Network, got {type(net).__name__}")
    else:
        raise EventsimError(f"resume needs a config or a network factory, got {type(src).__name__}")
    if net._engine is not None:
        raise EventsimError("the network factory must return a network that has not been built or run")
    if net.config and ck.config_hash and config_hash(net.config) != ck.config_hash:
        raise EventsimError(f"checkpoint '{ck.path}' was written for another config (config hash "
                            f"{ck.config_hash[:12]}, this config {config_hash(net.config)[:12]})")
    have = fingerprint(net)
    if have != ck.fingerprint:
        raise EventsimError(f"checkpoint '{ck.path}' is from a different network: "
                            f"{_describe_difference(ck.fingerprint, have)}")
    spec = net._log_spec
    net._log_spec = None
    net.build()
    _restore_engine(net, ck)
    _restore_rules(net, ck)
    _restore_log(net, ck, spec, log_path)
    return net


def _restore_engine(net, ck: Checkpoint) -> None:
    e = net._engine
    fresh = _engine_items(e)
    missing = sorted(set(fresh) - set(ck.engine) - set(ck.scalars))
    if missing:
        raise EventsimError(f"checkpoint '{ck.path}' lacks engine state {', '.join(missing)}: it was written "
                            f"by another eventsim version")
    for name in ("P", "S", "rec_flag"):
        if ck.engine[name].shape != fresh[name].shape or ck.engine[name].dtype != fresh[name].dtype:
            raise EventsimError(f"checkpoint '{ck.path}' is from a different network ({name} has shape "
                                f"{ck.engine[name].shape}, this network {fresh[name].shape})")
    for name in ("checks", "sources"):
        for a, b in zip(ck.engine[name], fresh[name]):
            if a.shape != b.shape and not (name == "sources" and a.ndim == 1 and b.ndim == 1):
                raise EventsimError(f"checkpoint '{ck.path}' is from a different network ({name})")
    for name, value in ck.engine.items():
        ref = fresh.get(name)
        if isinstance(ref, tuple) and len(ref) != len(value):
            raise EventsimError(f"checkpoint '{ck.path}': Engine.{name} has {len(value)} arrays, this "
                                f"eventsim {len(ref)}: written by another version")
        setattr(e, name, neuron.aligned_copy(value) if name in ("P", "S") else value)
    for name, value in ck.scalars.items():
        setattr(e, name, type(getattr(e, name))(value) if hasattr(e, name) else value)
    e.refresh_classes()
    n = max(e.buffer_size, 2 * e.max_group + 8)
    if e.buf_t.size < n:
        e.buf_t = np.zeros(n)
        e.buf_id = np.zeros(n, np.int64)
    e.buf_n[0] = 0
    g = e.graph
    if ck.grp_proj.size != g[2].size:
        raise EventsimError(f"checkpoint '{ck.path}' is corrupt (group arrays disagree)")
    net.graph = Graph(net.graph.n_nodes, g[0], g[1], g[2], g[3], g[4], ck.grp_proj)
    for p in net.populations.values():
        if p.kind == "source" and net._source_kind(p) == eng.POISSON:
            first = p.offset - net._n_neurons
            net._rates[p.name] = e.sources[1][first:first + p.size] * 1000.0


def _check_log_owner(ck: Checkpoint, path: str) -> None:
    """The spike log at `path` must be the one the checkpointed run wrote (same run id): resume
    keeps its first rows, and another run's log (a later run into the same folder) would
    silently splice two runs."""
    want = ck.log.get("run_id")
    if not want:
        return
    try:
        with open_log_for_reading(path) as f:
            have = f.attrs.get("run_id")
    except EventsimError:
        return                      # copy_prefix reports a missing or unreadable log
    have = have.decode() if isinstance(have, bytes) else have
    if have != want:
        raise EventsimError(f"the spike log '{path}' was written by another run (run id {have or 'none'}, the "
                            f"checkpoint's {want}); allowed the log of the checkpointed run (its spikes before the "
                            f"checkpoint are kept from it): restore that file")


def _restore_log(net, ck: Checkpoint, spec, log_path: str | None) -> None:
    from .network import __version__
    rec = net._recorder
    log = ck.log
    rec.n_spikes = int(log.get("n_spikes", 0))
    if spec is None and log_path is not None:
        spec = (str(log_path), log.get("flush_interval_s", 1.0), bool(log.get("in_memory", False)),
                log.get("compression"))
    if spec is None and log.get("path"):
        spec = (log["path"], log.get("flush_interval_s", 1.0), bool(log.get("in_memory", True)),
                log.get("compression"))
    extra = ck.memory or None
    if spec is None:                       # memory only
        rec.in_memory = True
        for name, (t, i) in ck.memory.items():
            if name in rec.names and t.size:
                rec.memory[name] = [(t, i)]
        return
    path, interval, in_memory, compression = spec
    sizes = {p.name: p.size for p in net.populations.values() if p.record}
    if log.get("path") and any(log.get("rows", {}).values()):
        _check_log_owner(ck, log["path"])
    attrs = config_attrs(net.config, net.seed, __version__, run_id=log.get("run_id") or None)
    copied = copy_prefix(log.get("path"), path, log.get("rows", {}) if log.get("path") else {}, sizes, attrs,
                         compression, extra=extra, keep=in_memory, interval=(log.get("t_start", 0.0), ck.t))
    writer = SonataWriter(path, sizes, attrs, compression, append=True)
    net._log_spec = spec
    net._writer = writer
    rec.writer = writer
    rec.in_memory = in_memory
    rec.flush_interval_s = interval
    if in_memory:
        for name, (t, i) in copied.items():
            if t.size:
                rec.memory[name] = [(t, i)]
