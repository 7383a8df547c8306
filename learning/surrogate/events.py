"""Sparse spike-event containers used as network input.

An `EventBatch` holds B samples of T steps as CSR over the flattened (sample, step)
index ``bt = b*T + t``: the events of bucket ``bt`` are ``idx[ptr[bt]:ptr[bt+1]]``
(unit indices) with values ``val`` (1.0 for ordinary spikes). Labels are class ints.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .errors import SurrogateConfigError, check_count, check_integers


def check_equal_lengths(**lengths: int) -> None:
    """`SurrogateConfigError` "got 5 samples, 3 labels; must be equal" unless all are equal."""
    if len(set(lengths.values())) > 1:
        raise SurrogateConfigError(f"got {', '.join(f'{v} {k}' for k, v in lengths.items())}; must be equal")


def events_to_dense(ptr: np.ndarray, idx: np.ndarray, val: np.ndarray, B: int, T: int, n: int) -> np.ndarray:
    """CSR events over bt = b*T + t (see the module docstring) as a dense [B, T, n] float64
    array; events of the same unit in the same bucket add up."""
    out = np.zeros((B * T, n))
    np.add.at(out, (np.repeat(np.arange(B * T), np.diff(ptr)), idx), val)
    return out.reshape(B, T, n)


@dataclass(frozen=True)
class EventBatch:
    """B samples x T steps of sparse input events (see module docstring)."""

    n_steps: int
    n_units: int
    ptr: np.ndarray      # int64 [B*T + 1]
    idx: np.ndarray      # int32 [n_events]
    val: np.ndarray      # float64 [n_events]
    labels: np.ndarray   # int64 [B]

    @property
    def batch_size(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_events(self) -> int:
        return int(self.idx.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.ptr.nbytes + self.idx.nbytes + self.val.nbytes)

    def head(self, n: int) -> "EventBatch":
        """The first n samples (views of this batch's arrays)."""
        n = min(check_count("n", n), self.batch_size)
        e = self.ptr[n * self.n_steps]
        return EventBatch(self.n_steps, self.n_units, self.ptr[: n * self.n_steps + 1], self.idx[:e], self.val[:e],
                          self.labels[:n])

    def to_dense(self) -> np.ndarray:
        """The events as a dense [B, T, n_units] float64 array (the inverse of `from_dense`;
        events of the same unit in the same step add up, as in the forward pass)."""
        return events_to_dense(self.ptr, self.idx, self.val, self.batch_size, self.n_steps, self.n_units)

    @classmethod
    def from_arrays(cls, sample: np.ndarray, step: np.ndarray, unit: np.ndarray, labels: np.ndarray,
                    n_steps: int, n_units: int, val: np.ndarray | None = None) -> "EventBatch":
        """Build from flat COO arrays (sample, step, unit[, val]) with validation."""
        labels = check_integers("labels", labels)
        B = labels.shape[0]
        if B == 0:
            raise SurrogateConfigError("batch is empty; allowed batch_size >= 1")
        n_steps, n_units = check_count("n_steps", n_steps), check_count("n_units", n_units)
        sample, step, unit = (check_integers(f"events.{n}", a) for n, a in
                              (("sample", sample), ("step", step), ("unit", unit)))
        if not (sample.shape == step.shape == unit.shape):
            raise SurrogateConfigError("events: sample, step and unit arrays must have equal length")
        v = np.ones(sample.shape[0]) if val is None else np.asarray(val, dtype=np.float64).ravel()
        if v.shape != sample.shape:
            raise SurrogateConfigError("events: val must have the same length as step/unit")
        for name, a, hi in (("sample", sample, B), ("step", step, n_steps), ("unit", unit, n_units)):
            if a.size and (a.min() < 0 or a.max() >= hi):
                raise SurrogateConfigError(
                    f"events.{name} has values in [{a.min()}, {a.max()}]; allowed [0, {hi - 1}]")
        if not np.all(np.isfinite(v)):
            raise SurrogateConfigError("events.val contains NaN/inf; allowed finite values")
        bt = sample * n_steps + step
        order = np.argsort(bt, kind="stable")
        ptr = np.zeros(B * n_steps + 1, dtype=np.int64)
        np.cumsum(np.bincount(bt, minlength=B * n_steps), out=ptr[1:])
        return cls(n_steps, n_units, ptr, unit[order].astype(np.int32), v[order], labels)

    @classmethod
    def from_samples(cls, samples: Sequence[tuple[np.ndarray, np.ndarray]], labels: Sequence[int],
                     n_steps: int, n_units: int, vals: Sequence[np.ndarray] | None = None) -> "EventBatch":
        """Build from per-sample ``(steps, units)`` array pairs (and optional per-event values)."""
        if len(samples) == 0:
            raise SurrogateConfigError("batch is empty; allowed batch_size >= 1")
        check_equal_lengths(samples=len(samples), labels=len(labels))
        s = [np.full(len(np.asarray(st)), b) for b, (st, _) in enumerate(samples)]
        v = None if vals is None else np.concatenate([np.asarray(x, np.float64) for x in vals])
        return cls.from_arrays(np.concatenate(s), np.concatenate([np.asarray(a) for a, _ in samples]),
                               np.concatenate([np.asarray(u) for _, u in samples]), labels, n_steps, n_units,
                               val=v)

    @classmethod
    def from_dense(cls, x: np.ndarray, labels: np.ndarray) -> "EventBatch":
        """Build from a dense [B, T, N] array (non-zero entries become valued events)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3:
            raise SurrogateConfigError(f"dense input has ndim={x.ndim}; allowed 3 ([B, T, N])")
        labels = check_integers("labels", labels)
        check_equal_lengths(samples=x.shape[0], labels=labels.size)
        b, t, u = np.nonzero(x)
        return cls.from_arrays(b, t, u, labels, x.shape[1], x.shape[2], val=x[b, t, u])


@dataclass
class EventDataset:
    """A list of samples (each ``(steps, units)`` int arrays) with integer labels.
    `counts` (optional, one float array per sample) gives each event's value (e.g. the
    number of spikes binned into it); None means every event has value 1."""

    samples: list[tuple[np.ndarray, np.ndarray]]
    labels: np.ndarray
    n_steps: int
    n_units: int
    counts: list[np.ndarray] | None = None

    def __post_init__(self) -> None:
        self.labels = check_integers("labels", self.labels)
        self.n_steps = check_count("n_steps", self.n_steps)
        self.n_units = check_count("n_units", self.n_units)
        counts = {} if self.counts is None else {"counts": len(self.counts)}
        check_equal_lengths(samples=len(self.samples), labels=len(self.labels), **counts)

    def __len__(self) -> int:
        return len(self.samples)

    def batch(self, indices: Sequence[int]) -> EventBatch:
        idx = list(indices)
        vals = None if self.counts is None else [self.counts[i] for i in idx]
        return EventBatch.from_samples([self.samples[i] for i in idx], self.labels[idx], self.n_steps, self.n_units,
                                       vals=vals)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[EventBatch]:
        """Yield minibatches (shuffled if `rng` is given); the last may be smaller."""
        if batch_size < 1:
            raise SurrogateConfigError(f"batch_size={batch_size} is out of range; allowed >= 1")
        if len(self) == 0:
            raise SurrogateConfigError("dataset is empty; allowed >= 1 sample")
        order = rng.permutation(len(self)) if rng is not None else np.arange(len(self))
        for s in range(0, len(order), batch_size):
            yield self.batch(order[s:s + batch_size])

    def mean_rate(self) -> float:
        """Mean input events per (unit, step) over the dataset (probability per step)."""
        n = sum(len(st) for st, _ in self.samples)
        return n / max(1, len(self) * self.n_steps * self.n_units)


def synthetic_dataset(n_samples: int, n_classes: int, n_units: int, n_steps: int, density: float,
                      seed: int = 0) -> EventDataset:
    """Class-dependent Bernoulli spike patterns (for tests/benchmarks): each class has its
    own per-unit rate profile with mean `density` (probability per unit per step)."""
    rng = np.random.default_rng(seed)
    profiles = rng.gamma(2.0, 0.5, size=(n_classes, n_units))
    profiles *= density / profiles.mean(axis=1, keepdims=True)
    profiles = np.clip(profiles, 0.0, 1.0)
    labels = rng.integers(0, n_classes, size=n_samples)
    samples = []
    for c in labels:
        m = rng.random((n_steps, n_units)) < profiles[c]
        st, un = np.nonzero(m)
        samples.append((st.astype(np.int32), un.astype(np.int32)))
    return EventDataset(samples, labels.astype(np.int64), n_steps, n_units)
