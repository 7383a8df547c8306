"""Connectors: rules that generate (pre, post) pairs of local indices.

Every rule draws from per-post (or per-pre, for fixed_outdegree) counter-based streams, so
the synapses of a neuron do not depend on which other neurons are built: a partitioned
(MPI) build yields the same network as a single-process build.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numba as nb
import numpy as np

from . import checks
from .errors import EventsimError
from .rng import STREAM_CONNECT, uniform


@dataclass(frozen=True)
class Connector(ABC):
    """Base class. `generate` returns int64 arrays (pre, post) of local indices."""

    @abstractmethod
    def generate(self, n_pre: int, n_post: int, seed: int, key: int,
                 same_population: bool) -> tuple[np.ndarray, np.ndarray]:
        """Synapses as (pre, post) local indices, keyed by (seed, key)."""

    @abstractmethod
    def expected_count(self, n_pre: int, n_post: int) -> float:
        """Expected number of synapses (for memory estimates)."""


@dataclass(frozen=True)
class PairwiseBernoulli(Connector):
    """Each (pre, post) pair is connected independently with probability p."""
    p: float
    allow_autapses: bool = True

    def __post_init__(self):
        checks.in_range("pairwise_bernoulli p", self.p, 0.0, 1.0)

    def generate(self, n_pre, n_post, seed, key, same_population):
        no_self = same_population and not self.allow_autapses
        counts = _bernoulli(n_pre, n_post, float(self.p), seed, key, no_self, np.empty(0, np.int64),
                            np.empty(0, np.int64), False)
        total = int(counts.sum())
        pre, post = np.empty(total, np.int64), np.empty(total, np.int64)
        _bernoulli(n_pre, n_post, float(self.p), seed, key, no_self, pre, post, True)
        return pre, post

    def expected_count(self, n_pre, n_post):
        return self.p * n_pre * n_post


@dataclass(frozen=True)
class FixedIndegree(Connector):
    """Each post neuron receives exactly k synapses from randomly chosen pre neurons."""
    k: int
    allow_autapses: bool = True
    allow_multapses: bool = True

    def __post_init__(self):
        checks.count("fixed_indegree k", self.k, 0)

    def generate(self, n_pre, n_post, seed, key, same_population):
        no_self = same_population and not self.allow_autapses
        _check_degree("fixed_indegree", self.k, n_pre - (1 if no_self else 0), self.allow_multapses)
        post, pre = _fixed_degree(n_post, n_pre, self.k, seed, key, no_self, self.allow_multapses)
        return pre, post

    def expected_count(self, n_pre, n_post):
        return float(self.k) * n_post


@dataclass(frozen=True)
class FixedOutdegree(Connector):
    """Each pre neuron makes exactly k synapses onto randomly chosen post neurons."""
    k: int
    allow_autapses: bool = True
    allow_multapses: bool = True

    def __post_init__(self):
        checks.count("fixed_outdegree k", self.k, 0)

    def generate(self, n_pre, n_post, seed, key, same_population):
        no_self = same_population and not self.allow_autapses
        _check_degree("fixed_outdegree", self.k, n_post - (1 if no_self else 0), self.allow_multapses)
        pre, post = _fixed_degree(n_pre, n_post, self.k, seed, key, no_self, self.allow_multapses)
        return pre, post

    def expected_count(self, n_pre, n_post):
        return float(self.k) * n_pre


@dataclass(frozen=True)
class AllToAll(Connector):
    """Every pre neuron connects to every post neuron."""
    allow_autapses: bool = True

    def generate(self, n_pre, n_post, seed, key, same_population):
        post, pre = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_pre)
        if same_population and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post

    def expected_count(self, n_pre, n_post):
        return float(n_pre) * n_post


@dataclass(frozen=True)
class OneToOne(Connector):
    """Neuron i of pre connects to neuron i of post; the sizes must match."""

    def generate(self, n_pre, n_post, seed, key, same_population):
        if n_pre != n_post:
            raise EventsimError(f"one_to_one needs equal sizes (pre has {n_pre}, post has {n_post})")
        idx = np.arange(n_pre, dtype=np.int64)
        return idx, idx.copy()

    def expected_count(self, n_pre, n_post):
        return float(n_pre)


@dataclass(frozen=True)
class Explicit(Connector):
    """Synapses given as arrays of local indices (weights and delays given to connect)."""
    pre: np.ndarray
    post: np.ndarray

    def generate(self, n_pre, n_post, seed, key, same_population):
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        for name, arr, n in (("pre", pre, n_pre), ("post", post, n_post)):
            if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer) and arr.size:
                raise EventsimError(f"explicit {name} must be a 1-D array of integer indices")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise EventsimError(f"explicit {name} indices must lie in [0, {n - 1}] "
                                    f"(got {arr.min()}..{arr.max()})")
        if pre.size != post.size:
            raise EventsimError(f"explicit pre and post must have equal length ({pre.size} != {post.size})")
        return pre.astype(np.int64), post.astype(np.int64)

    def expected_count(self, n_pre, n_post):
        return float(np.asarray(self.pre).size)


def pairwise_bernoulli(p: float, allow_autapses: bool = True) -> PairwiseBernoulli:
    return PairwiseBernoulli(p, allow_autapses)


def fixed_indegree(k: int, allow_autapses: bool = True, allow_multapses: bool = True) -> FixedIndegree:
    return FixedIndegree(k, allow_autapses, allow_multapses)


def fixed_outdegree(k: int, allow_autapses: bool = True, allow_multapses: bool = True) -> FixedOutdegree:
    return FixedOutdegree(k, allow_autapses, allow_multapses)


def all_to_all(allow_autapses: bool = True) -> AllToAll:
    return AllToAll(allow_autapses)


def one_to_one() -> OneToOne:
    return OneToOne()


def explicit(pre, post) -> Explicit:
    return Explicit(np.asarray(pre), np.asarray(post))


CONNECTORS = {"pairwise_bernoulli": pairwise_bernoulli, "fixed_indegree": fixed_indegree,
              "fixed_outdegree": fixed_outdegree, "all_to_all": all_to_all, "one_to_one": one_to_one}


def _check_degree(name: str, k: int, n_candidates: int, multapses: bool) -> None:
    if k > 0 and n_candidates <= 0:
        raise EventsimError(f"{name} k={k} needs at least one candidate neuron")
    if not multapses and k > n_candidates:
        raise EventsimError(f"{name} k must be <= {n_candidates} without multapses (got {k})")


@nb.njit(cache=True)
def _bernoulli(n_pre, n_post, p, seed, key, no_self, pre, post, write):
    """Per post neuron, skip geometrically through the candidate pre neurons."""
    counts = np.zeros(n_post, np.int64)
    if p <= 0.0:
        return counts
    log_q = math.log1p(-p) if p < 1.0 else 0.0
    n = 0
    for j in range(n_post):
        stream_a = (key << 40) | j
        i = -1
        draw = 0
        while True:
            if p >= 1.0:
                i += 1
            else:
                u = uniform(seed, STREAM_CONNECT, stream_a, draw)
                draw += 1
                i += 1 + int(math.floor(math.log(u) / log_q))
            if i >= n_pre:
                break
            if no_self and i == j:
                continue
            if write:
                pre[n] = i
                post[n] = j
            n += 1
            counts[j] += 1
    return counts


@nb.njit(cache=True)
def _fixed_degree(n_owner, n_other, k, seed, key, no_self, multapses):
    """For each owner, k partners drawn from [0, n_other) (owner = post for indegree)."""
    owner = np.empty(n_owner * k, np.int64)
    other = np.empty(n_owner * k, np.int64)
    taken = np.zeros(0 if multapses else n_other, np.bool_)
    n = 0
    for j in range(n_owner):
        stream_a = (key << 40) | j
        draw = 0
        got = 0
        while got < k:
            i = int(uniform(seed, STREAM_CONNECT, stream_a, draw) * n_other)
            draw += 1
            if i >= n_other:
                i = n_other - 1
            if no_self and i == j:
                continue
            if not multapses:
                if taken[i]:
                    continue
                taken[i] = True
            owner[n] = j
            other[n] = i
            n += 1
            got += 1
        if not multapses:
            for q in range(n - k, n):
                taken[other[q]] = False
    return owner, other
