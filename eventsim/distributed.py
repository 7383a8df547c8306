"""Partitioned runs over MPI ranks (mpi4py), bit-identical to a single-process run.

Neurons are split into contiguous blocks, one per rank. Each rank builds only its neurons'
incoming synapses (connectivity and weights are counter-based draws, so every rank builds
exactly the synapses a single process would), and replicates the spike sources (counter-based
too). The loop runs in windows of the minimum delay: within a window no spike can reach another
neuron, so each rank runs its engine in exchange mode to the window's end, the ranks exchange the
neuron spikes of the window (Allgather), and every rank schedules them. Queue order is a pure
function of (time, kind, id), so the result does not depend on the rank count.

Spikes are gathered to rank 0 at the end, merged in (time, id) order and, if asked, written as
one SONATA log by rank 0 (the ranks do not write files).
"""
from __future__ import annotations

import time

import numpy as np

from . import engine as eng
from .distributions import Distribution
from .errors import EventsimError


def partition(n: int, size: int, rank: int) -> tuple[int, int]:
    """Neurons lo..hi-1 of rank `rank` out of `size` (contiguous, balanced)."""
    return rank * n // size, (rank + 1) * n // size


def min_delay(net) -> float:
    """The smallest delay any projection can produce (ms): the exchange window."""
    lows = []
    for pr in net.projections:
        code, a, b, low, high, arr = pr.spec.delay
        if arr.size:
            lows.append(float(arr.min()))
        elif code == 0:
            lows.append(a)
        else:
            lows.append(Distribution(code, a, b, low, high).bounds()[0])
    return min(lows) if lows else np.inf


class DistributedRun:
    """Drive a (not yet built) Network over the ranks of `comm` (default: MPI.COMM_WORLD)."""

    def __init__(self, net, comm=None):
        try:
            from mpi4py import MPI
        except ImportError:
            raise EventsimError("distributed runs need mpi4py: pip install 'eventsim[mpi]'") from None
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.net = net
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.window = min_delay(net)
        if self.size > 1 and not (np.isfinite(self.window) and self.window > 1e-6):
            raise EventsimError(f"a distributed run needs a minimum delay > 1e-6 ms to exchange spikes "
                                f"(got {self.window:g} ms)")
        n_neurons = sum(p.size for p in net.populations.values() if p.kind == "neuron")
        self.local = partition(n_neurons, self.size, self.rank)
        net.build(local=self.local)
        net._engine.xch[0][0] = 1 if self.size > 1 else 0
        self.exchange_s = 0.0          # wall time in Allgather + scheduling received spikes
        self.windows = 0

    def run(self, duration: float) -> None:
        """Advance all ranks by `duration` ms (collective: every rank must call it)."""
        e = self.net._engine
        t_end = e.t + float(duration)
        while e.t < t_end:
            t_next = min(e.t + self.window, t_end) if self.size > 1 else t_end
            sent: list[tuple[np.ndarray, np.ndarray]] = []
            e.run_until(t_next, self.net._recorder.on_spikes, None,
                        on_exchange=lambda t, i: sent.append((t, i)))
            if self.size == 1:
                continue
            t_x = time.perf_counter()
            times = np.concatenate([t for t, _ in sent]) if sent else np.zeros(0)
            ids = np.concatenate([i for _, i in sent]) if sent else np.zeros(0, np.int64)
            parts = self.comm.allgather((times, ids))
            all_t = np.concatenate([p[0] for p in parts])
            all_i = np.concatenate([p[1] for p in parts]).astype(np.int64)
            order = np.lexsort((all_i, all_t))
            while e.queue[4][0] + all_t.size + 8 > e.queue[0].size:
                from . import heap
                e.queue = heap.grow(e.queue, 2 * e.queue[0].size)
            eng.schedule_many(e.graph, e.queue, all_i[order], all_t[order])
            self.exchange_s += time.perf_counter() - t_x
            self.windows += 1
        self.net._recorder.flush()

    def spikes(self, population: str) -> tuple[np.ndarray, np.ndarray] | None:
        """All ranks' recorded spikes of a population, on rank 0 (None elsewhere), in (time, id) order."""
        parts = self.comm.gather(self.net._recorder.spikes(population), root=0)
        if self.rank != 0:
            return None
        t = np.concatenate([p[0] for p in parts])
        i = np.concatenate([p[1] for p in parts])
        order = np.lexsort((i, t))
        return t[order], i[order]

    def stats(self) -> dict[str, int]:
        """Counters summed over ranks."""
        local = np.array(list(self.net.stats.values()), np.int64)
        total = self.comm.allreduce(local)
        return dict(zip(self.net.stats.keys(), (int(x) for x in total)))
