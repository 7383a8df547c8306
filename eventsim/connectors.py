"""Connectors: rules that say which (pre, post) pairs are connected.

A connector only describes and validates the rule; eventsim.builder generates the synapses
straight into the CSR. Every rule draws from per-post (or per-pre, for fixed_outdegree)
counter-based streams, so the synapses of a neuron do not depend on which other neurons are
built: a partitioned (MPI) build yields the same network as a single-process build.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from . import checks
from .errors import EventsimError


@dataclass(frozen=True)
class Connector(ABC):
    """Base class: a connection rule between a pre and a post population (or views)."""

    def __post_init__(self):
        """Every allow_* flag is a bool: 'no' or 0 would silently act as True or False."""
        for name, value in vars(self).items():
            if name.startswith("allow_") and not isinstance(value, (bool, np.bool_)):
                raise EventsimError(f"{type(self).__name__}.{name} must be True or False, got {value!r}")

    @abstractmethod
    def expected_count(self, n_pre: int, n_post: int) -> float:
        """Expected number of synapses (for memory estimates)."""

    def validate(self, n_pre: int, n_post: int, excluded_pre: int = 0, excluded_post: int = 0) -> None:
        """Raise EventsimError if the connector cannot connect these sizes.

        excluded_pre: the most pre neurons one post neuron may not connect to (itself, possibly
        several times in a view with repeats, when autapses are excluded); excluded_post: the
        most post neurons one pre neuron may not connect to."""


@dataclass(frozen=True)
class PairwiseBernoulli(Connector):
    """Each (pre, post) pair is connected independently with probability p.

    allow_autapses=False: no synapse from a neuron onto itself, whenever pre and post are views
    of one population (identical, overlapping or permuted; as in NEST)."""
    p: float
    allow_autapses: bool = True

    def __post_init__(self):
        super().__post_init__()
        checks.number("pairwise_bernoulli p", self.p, checks.in_range, 0.0, 1.0)


    def expected_count(self, n_pre, n_post):
        return self.p * n_pre * n_post


@dataclass(frozen=True)
class FixedIndegree(Connector):
    """Each post neuron receives exactly k synapses from randomly chosen pre neurons.

    allow_autapses=False: a post neuron that is also in the pre view never draws itself (views of
    one population, however they overlap); it draws its k among the other candidates, so the
    in-degree stays exactly k."""
    k: int
    allow_autapses: bool = True
    allow_multapses: bool = True

    def __post_init__(self):
        super().__post_init__()
        checks.count("fixed_indegree k", self.k, 0)


    def expected_count(self, n_pre, n_post):
        return float(self.k) * n_post

    def validate(self, n_pre, n_post, excluded_pre=0, excluded_post=0):
        _check_degree("fixed_indegree", self.k, n_pre - excluded_pre, self.allow_multapses)


@dataclass(frozen=True)
class FixedOutdegree(Connector):
    """Each pre neuron makes exactly k synapses onto randomly chosen post neurons.

    allow_autapses=False: a pre neuron that is also in the post view never draws itself (views of
    one population, however they overlap); the out-degree stays exactly k."""
    k: int
    allow_autapses: bool = True
    allow_multapses: bool = True

    def __post_init__(self):
        super().__post_init__()
        checks.count("fixed_outdegree k", self.k, 0)


    def expected_count(self, n_pre, n_post):
        return float(self.k) * n_pre

    def validate(self, n_pre, n_post, excluded_pre=0, excluded_post=0):
        _check_degree("fixed_outdegree", self.k, n_post - excluded_post, self.allow_multapses)


@dataclass(frozen=True)
class AllToAll(Connector):
    """Every pre neuron connects to every post neuron.

    allow_autapses=False: except to itself, whenever pre and post are views of one population
    (identical, overlapping or permuted; as in NEST)."""
    allow_autapses: bool = True


    def expected_count(self, n_pre, n_post):
        return float(n_pre) * n_post


@dataclass(frozen=True)
class OneToOne(Connector):
    """Neuron i of pre connects to neuron i of post; the sizes must match."""


    def expected_count(self, n_pre, n_post):
        return float(n_pre)

    def validate(self, n_pre, n_post, excluded_pre=0, excluded_post=0):
        if n_pre != n_post:
            raise EventsimError(f"one_to_one needs equal sizes (pre has {n_pre}, post has {n_post})")


@dataclass(frozen=True)
class Explicit(Connector):
    """Synapses given as arrays of local indices (weights and delays given to connect)."""
    pre: np.ndarray
    post: np.ndarray


    def expected_count(self, n_pre, n_post):
        return float(np.asarray(self.pre).size)

    def validate(self, n_pre, n_post, excluded_pre=0, excluded_post=0):
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        for name, arr, n in (("pre", pre, n_pre), ("post", post, n_post)):
            if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
                raise EventsimError(f"explicit {name} must be a 1-D array of integer indices")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise EventsimError(f"explicit {name} indices must lie in [0, {n - 1}] "
                                    f"(got {arr.min()}..{arr.max()})")
        if pre.size != post.size:
            raise EventsimError(f"explicit pre and post must have equal length ({pre.size} != {post.size})")


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


# the factories are what users call: give them their rule's description for help()
for _factory, _rule in ((pairwise_bernoulli, PairwiseBernoulli), (fixed_indegree, FixedIndegree),
                        (fixed_outdegree, FixedOutdegree), (all_to_all, AllToAll), (one_to_one, OneToOne),
                        (explicit, Explicit)):
    _factory.__doc__ = _rule.__doc__
del _factory, _rule
