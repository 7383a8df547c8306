"""TOML network configs -> Network. Part of the CLI layer (it may import eventsim.models).

Schema (every key is checked; unknown keys get a suggestion):

    seed = 1                      # optional; the CLI's --seed overrides
    duration = 1000.0             # ms, > 0
    chunk = 100.0                 # ms of model time per engine call (optional; >= 1e-3 ms and >= duration / 1e8)

    [populations.exc]             # neurons
    size = 3200                   # 1 .. 2**31 - 1 (sources too)
    model = "LIFExp"              # LIFDelta | LIFExp | AdaptiveLIFExp
    params = { tau_m = 20.0, v_th = -50.0 }
    v_init = { dist = "uniform", low = -60.0, high = -50.0 }
    record = true

    [sources.ext]                 # spike sources
    type = "poisson"              # poisson
    size = 100
    rate = 10.0                   # Hz

    [[projections]]
    pre = "exc"
    post = "exc"
    connector = { type = "pairwise_bernoulli", p = 0.02 }
    weight = 1.62                 # mV, number or { dist = ... }
    delay = 0.1                   # ms, number or { dist = ... }
    receptor = "excitatory"       # optional

A value may be a number or a distribution table: {dist="uniform", low, high} or
{dist="normal_clipped", mean, std, low, high}.
"""
from __future__ import annotations

import copy
import importlib.resources
import tomllib
from pathlib import Path
from typing import Any

from . import checks, connectors, distributions, guards
from .errors import ConfigError, EventsimError
from .network import MAX_NEURONS, Network

TOP_KEYS = ("seed", "duration", "chunk", "populations", "sources", "projections", "description")
POP_KEYS = ("size", "model", "params", "v_init", "record")
SOURCE_KEYS = ("type", "size", "rate", "record")
PROJ_KEYS = ("pre", "post", "connector", "weight", "delay", "receptor", "name")
DIST_KEYS = {"uniform": ("dist", "low", "high"),
             "normal_clipped": ("dist", "mean", "std", "low", "high"),
             "constant": ("dist", "value")}
BUILTIN = ("default", "cuba", "brunel", "benchmark4")
DEFAULT_DURATION = 1000.0   # ms


def builtin_path(name: str) -> Path:
    """Path of a config shipped with eventsim (default, cuba, brunel, benchmark4)."""
    checks.known_key("built-in config", name, BUILTIN)
    return Path(str(importlib.resources.files("eventsim") / "configs" / f"{name}.toml"))


def load(path: str | Path) -> dict[str, Any]:
    """Read a TOML config; a bare built-in name (e.g. 'cuba') is also accepted."""
    p = Path(path)
    if not p.exists() and str(path) in BUILTIN:
        p = builtin_path(str(path))
    try:
        with open(p, "rb") as fh:
            cfg = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: '{path}' (built-in configs: {', '.join(BUILTIN)})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config '{path}' is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config '{path}' is not valid TOML: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None
    except RecursionError:
        raise ConfigError(f"config '{path}' is not valid TOML for eventsim: arrays or tables nested too "
                          f"deeply") from None
    validate(cfg)
    return cfg


def validate(cfg: dict[str, Any]) -> None:
    """Check keys and value types; raise ConfigError naming the offending key."""
    for key in cfg:
        checks.known_key("config key", key, TOP_KEYS)
    for key in ("duration", "chunk"):
        if key in cfg:
            _number(key, cfg[key])
    if "seed" in cfg:
        _integer("seed", cfg["seed"])
    pops = _table("populations", cfg.get("populations", {}))
    if not pops:
        raise ConfigError("config needs at least one [populations.NAME] table")
    for name, pop in pops.items():
        pop = _table(f"populations.{name}", pop)
        for key in pop:
            checks.known_key(f"key in populations.{name}", key, POP_KEYS)
        for key in ("size", "model"):
            if key not in pop:
                raise ConfigError(f"populations.{name} needs '{key}'")
        _size(f"populations.{name}.size", pop["size"])
        params = _table(f"populations.{name}.params", pop.get("params", {}))
        for pname, value in params.items():
            _value(f"populations.{name}.params.{pname}", value)
        if "v_init" in pop:
            _value(f"populations.{name}.v_init", pop["v_init"])
        if "record" in pop:
            _boolean(f"populations.{name}.record", pop["record"])
    for name, src in _table("sources", cfg.get("sources", {})).items():
        src = _table(f"sources.{name}", src)
        for key in src:
            checks.known_key(f"key in sources.{name}", key, SOURCE_KEYS)
        checks.known_key(f"sources.{name}.type", str(src.get("type", "")), ("poisson",))
        _size(f"sources.{name}.size", src.get("size"))
        _number(f"sources.{name}.rate", src.get("rate"))
        if "record" in src:
            _boolean(f"sources.{name}.record", src["record"])
    projs = cfg.get("projections", [])
    if not isinstance(projs, list):
        raise ConfigError("projections must be an array of tables ([[projections]])")
    for i, proj in enumerate(projs):
        where = f"projections[{i}]"
        proj = _table(where, proj)
        for key in proj:
            checks.known_key(f"key in {where}", key, PROJ_KEYS)
        for key in ("pre", "post", "connector"):
            if key not in proj:
                raise ConfigError(f"{where} needs '{key}'")
        conn = _table(f"{where}.connector", proj["connector"])
        checks.known_key(f"{where}.connector type", str(conn.get("type", "")), connectors.CONNECTORS)
        for key, value in conn.items():
            if key.startswith("allow_"):
                _boolean(f"{where}.connector.{key}", value)
            elif key != "type":
                _number(f"{where}.connector.{key}", value)
        for key in ("weight", "delay"):
            if key in proj:
                _value(f"{where}.{key}", proj[key])


def run_settings(cfg: dict[str, Any]) -> tuple[float, float]:
    """(duration, chunk) of a config in ms, checked: duration > 0, chunk as checks.interval requires."""
    duration = checks.number("duration (ms)", cfg.get("duration", DEFAULT_DURATION), checks.positive)
    return duration, checks.interval("chunk (ms)", cfg.get("chunk", checks.default_chunk(duration)), duration)


def build(cfg: dict[str, Any], seed: int | None = None) -> Network:
    """A Network from a validated config (seed overrides the config's)."""
    from .models import MODELS
    cfg = copy.deepcopy(cfg)
    if seed is not None:
        cfg["seed"] = seed
    # neurons and sources must fit in memory before any of their arrays is allocated (the network
    # checks its memory only once it has them all)
    guards.check_memory(guards.estimate_memory(sum(p["size"] for p in cfg["populations"].values()), 0,
                                               n_sources=sum(s["size"] for s in cfg.get("sources", {}).values())))
    net = Network(seed=int(cfg.get("seed", 0)))
    net.config = cfg
    for name, pop in cfg["populations"].items():
        checks.known_key(f"populations.{name}.model", str(pop["model"]), MODELS)
        params = {k: _to_value(f"populations.{name}.params.{k}", v) for k, v in pop.get("params", {}).items()}
        model_cls = MODELS[pop["model"]]
        valid = [f for f in model_cls.__dataclass_fields__]
        for key in params:
            checks.known_key(f"parameter of {pop['model']} (populations.{name}.params)", key, valid)
        v_init = _to_value(f"populations.{name}.v_init", pop["v_init"]) if "v_init" in pop else None
        net.population(pop["size"], model_cls(**params), v_init=v_init, name=name,
                       record=bool(pop.get("record", True)))
    for name, src in cfg.get("sources", {}).items():
        net.poisson(src["size"], src["rate"], name=name, record=bool(src.get("record", False)))
    for i, proj in enumerate(cfg.get("projections", [])):
        where = f"projections[{i}]"
        for key in ("pre", "post"):
            checks.known_key(f"population in {where}.{key}", str(proj[key]), net.populations)
        conn = dict(proj["connector"])
        kind = conn.pop("type")
        try:
            connector = connectors.CONNECTORS[kind](**conn)
        except TypeError as exc:
            raise ConfigError(f"{where}.connector: bad arguments for {kind}: {exc}") from None
        except EventsimError as exc:
            raise ConfigError(f"{where}.connector: {exc}") from None
        weight = _to_value(f"{where}.weight", proj.get("weight", 1.0))
        delay = _to_value(f"{where}.delay", proj.get("delay", 1.0))
        try:
            net.connect(net.populations[proj["pre"]], net.populations[proj["post"]], connector,
                        weight=weight, delay=delay, receptor=proj.get("receptor"), name=proj.get("name"))
        except EventsimError as exc:      # name the config entry, not only the projection
            raise ConfigError(f"{where}: {exc}") from None
    return net


def _table(where: str, value) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table, got {type(value).__name__}")
    return value


def _number(where: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number, got {value!r}")


def _integer(where: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {value!r}")


def _size(where: str, value) -> None:
    _integer(where, value)
    if not 1 <= value <= MAX_NEURONS:
        raise ConfigError(f"{where} must lie in [1, {MAX_NEURONS}] (node ids are int32), got {value}")


def _boolean(where: str, value) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")


def _value(where: str, value) -> None:
    if isinstance(value, dict):
        kind = str(value.get("dist", ""))
        checks.known_key(f"distribution in {where}", kind, DIST_KEYS)
        for key in value:
            checks.known_key(f"key of {kind} distribution in {where}", key, DIST_KEYS[kind])
        for key in DIST_KEYS[kind][1:]:
            if key in value:
                _number(f"{where}.{key}", value[key])
    else:
        _number(where, value)


def _to_value(where: str, value):
    if not isinstance(value, dict):
        return value
    args = {k: v for k, v in value.items() if k != "dist"}
    try:
        if value["dist"] == "uniform":
            return distributions.uniform_dist(**args)
        if value["dist"] == "normal_clipped":
            return distributions.normal_clipped(**args)
        return distributions.constant(**args)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except EventsimError as exc:
        raise ConfigError(f"{where}: {exc}") from None
