"""Partitioned runs over MPI ranks (mpi4py), bit-identical to a single-process run.

Neurons are split into contiguous blocks, one per rank. Each rank builds only its neurons'
incoming synapses (connectivity and weights are counter-based draws, so every rank builds
exactly the synapses a single process would), and replicates the spike sources (counter-based
too). The loop runs in windows of the minimum delay: within a window no spike can reach another
neuron, so each rank runs its engine in exchange mode to the window's end, the ranks exchange the
neuron spikes of the window (Allgatherv of packed buffers), and every rank schedules them. Queue
order is a pure function of (time, kind, id), so the result does not depend on the rank count.

Recording: the exchange already brings every neuron spike to every rank, so rank 0 records the
recorded populations as the windows go (neurons from the exchange, the replicated sources from
its own engine) and, if the network has a log (`net.record_spikes`), writes the one SONATA log
itself, streaming, with memory bounded by the writer's buffers. The other ranks record nothing
and open no file. See DESIGN.md, "Distributed runs".
"""
from __future__ import annotations

import os
import time

import numpy as np

from . import engine as eng
from .distributions import Distribution
from .errors import EventsimError

MPI_ENV = ("PMI_SIZE", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")
EXCHANGES = ("allgatherv", "allgather")
BYTES_PER_SPIKE = 16                   # float64 time + int64 node id


def launched_by_mpi() -> bool:
    """True when the environment shows an mpiexec/mpirun launch (without importing mpi4py)."""
    return any(k in os.environ for k in MPI_ENV)


def world():
    """MPI.COMM_WORLD if this process was started by an MPI launcher and mpi4py imports, else None.
    mpi4py is never imported outside an MPI launch (importing it initialises MPI)."""
    if not launched_by_mpi():
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI.COMM_WORLD


def world_size() -> int:
    comm = world()
    return 1 if comm is None else comm.Get_size()


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


MIN_WINDOW_MS = 1e-3


class DistributedRun:
    """Drive a (not yet built) Network over the ranks of `comm` (default: MPI.COMM_WORLD).

    exchange: "allgatherv" (default: counts, then one Allgatherv of packed float64 buffers, no
    pickling) or "allgather" (mpi4py's pickled object allgather; kept for comparison)."""

    def __init__(self, net, comm=None, exchange: str = "allgatherv"):
        if comm is None:
            try:
                from mpi4py import MPI
            except ImportError:
                raise EventsimError("distributed runs need mpi4py: pip install 'eventsim[mpi]'") from None
            comm = MPI.COMM_WORLD
        if exchange not in EXCHANGES:
            raise EventsimError(f"exchange must be one of {', '.join(EXCHANGES)} (got {exchange!r})")
        self.comm = comm
        self.exchange = exchange
        self.net = net
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.window = min_delay(net)
        if self.size > 1 and not (np.isfinite(self.window) and self.window >= MIN_WINDOW_MS):
            what = "no projection" if not np.isfinite(self.window) else f"{self.window:g} ms"
            raise EventsimError(f"a distributed run needs a minimum delay (over all projections) >= "
                                f"{MIN_WINDOW_MS:g} ms, the spike-exchange window (got {what}); raise the "
                                f"smallest delay or run on one process")
        n_neurons = sum(p.size for p in net.populations.values() if p.kind == "neuron")
        self.n_neurons = n_neurons
        self.local = partition(n_neurons, self.size, self.rank)
        if self.size > 1 and self.rank != 0:
            net._log_spec = None                       # only rank 0 writes the log
        net.build(local=self.local)
        net._engine.xch[0][0] = 1 if self.size > 1 else 0
        self.exchange_s = 0.0          # wall time in the exchange collectives + scheduling received spikes
        self.comm_s = 0.0              # of which in the collectives themselves
        self.cpu_compute_s = 0.0       # CPU time (this thread) in the engine, windows only
        self.cpu_receive_s = 0.0       # CPU time sorting, scheduling and recording received spikes
        self.windows = 0
        self.bytes_sent = 0            # this rank's contribution to the exchanges
        self.bytes_received = 0        # what the exchanges delivered to this rank (all ranks' spikes)
        self.spikes_exchanged = 0      # neuron spikes of all ranks, summed over windows (same on every rank)
        self._rec_count = 0            # recorded spikes so far (same on every rank: sources are replicated)
        self._sent: list[tuple[np.ndarray, np.ndarray]] = []     # this window's local neuron spikes

    # ------------------------------------------------------------------------------------
    def _allgather(self, times: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every rank's (times, ids) of the window, concatenated in rank order."""
        if self.exchange == "allgather":
            parts = self.comm.allgather((times, ids))
            return (np.concatenate([p[0] for p in parts]),
                    np.concatenate([p[1] for p in parts]).astype(np.int64))
        from mpi4py import MPI
        n = times.size
        counts = np.empty(self.size, np.int64)
        self.comm.Allgather(np.array([n], np.int64), counts)
        total = int(counts.sum())
        send = np.empty(2 * n)
        send[:n] = times
        send[n:] = ids.astype(np.int64).view(np.float64)
        recv = np.empty(2 * total)
        displs = 2 * np.concatenate(([0], np.cumsum(counts)[:-1]))
        self.comm.Allgatherv([send, MPI.DOUBLE], [recv, (2 * counts, displs), MPI.DOUBLE])
        all_t = np.empty(total)
        all_i = np.empty(total, np.int64)
        pos = 0
        for c in counts:
            c = int(c)
            all_t[pos:pos + c] = recv[2 * pos:2 * pos + c]
            all_i[pos:pos + c] = recv[2 * pos + c:2 * pos + 2 * c].view(np.int64)
            pos += c
        return all_t, all_i

    def run(self, duration: float, progress: bool | None = False, max_rate_hz: float | None = None) -> None:
        """Advance all ranks by `duration` ms (collective: every rank must call it).

        progress: a progress bar on rank 0 (None: only on a terminal). max_rate_hz: stop with
        SimulationError on every rank when the neurons fire faster than this on average (the
        count is global, so every rank decides alike)."""
        from .guards import RateGuard
        net = self.net
        e = net._engine
        rec = net._recorder
        t_end = e.t + float(duration)
        if self.size == 1:
            net.run(duration, progress=progress, max_rate_hz=max_rate_hz)
            return
        bar = None
        if self.rank == 0:
            from .network import _progress_bar
            bar = _progress_bar(float(duration), progress)
        rec_flag = e.rec_flag
        recorded_nodes = int(rec.sizes.sum())
        max_rate_hz = getattr(net, "max_rate_hz", None) if max_rate_hz is None else max_rate_hz
        guard = None
        if max_rate_hz is not None:
            guard = RateGuard(max_rate_hz, self.n_neurons, self.spikes_exchanged, e.t,
                              log_path=(net._writer.path if self.rank == 0 and net._writer else None))
            guard.check_recorded(self._rec_count, recorded_nodes, e.t)
        try:
            while e.t < t_end:
                t_next = min(e.t + self.window, t_end)
                c0 = time.thread_time()
                e.run_until(t_next, self._on_local, None, on_exchange=self._on_exchange)
                self.cpu_compute_s += time.thread_time() - c0
                t_x = time.perf_counter()
                sent = self._sent
                times = np.concatenate([t for t, _ in sent]) if sent else np.zeros(0)
                ids = np.concatenate([i for _, i in sent]) if sent else np.zeros(0, np.int64)
                sent.clear()
                all_t, all_i = self._allgather(times, ids)
                self.comm_s += time.perf_counter() - t_x
                c0 = time.thread_time()
                order = np.lexsort((all_i, all_t))
                all_t, all_i = all_t[order], all_i[order]
                e.reserve(all_t.size)
                eng.schedule_many(e.graph, e.queue, all_i, all_t)
                self.exchange_s += time.perf_counter() - t_x
                self.windows += 1
                self.bytes_sent += BYTES_PER_SPIKE * times.size
                self.bytes_received += BYTES_PER_SPIKE * all_t.size
                self.spikes_exchanged += all_t.size
                keep = rec_flag[all_i] != 0
                self._rec_count += int(keep.sum())
                if self.rank == 0:
                    if keep.any():
                        rec.on_spikes(all_t[keep], all_i[keep])
                    else:
                        rec.maybe_flush()
                    if bar is not None:
                        bar.update(t_next - bar.n)
                self.cpu_receive_s += time.thread_time() - c0
                if guard is not None:
                    guard.check(self.spikes_exchanged, e.t)
                    guard.check_recorded(self._rec_count, recorded_nodes, e.t)
        finally:
            if bar is not None:
                bar.close()
            if self.rank == 0:
                rec.flush()

    def _on_local(self, times: np.ndarray, ids: np.ndarray) -> None:
        """This rank's engine buffer: local neuron spikes come back through the exchange, so only
        the (replicated) source spikes are recorded here, on rank 0."""
        src = ids >= self.n_neurons
        n_src = int(np.count_nonzero(src))
        self._rec_count += n_src
        if self.rank == 0 and n_src:
            self.net._recorder.on_spikes(times[src], ids[src])

    def _on_exchange(self, times: np.ndarray, ids: np.ndarray) -> None:
        self._sent.append((times, ids))

    def load(self) -> None:
        """Process the events at the current time (none are exchanged yet); the first call loads
        or compiles the event loop, so a caller can time that apart from the run."""
        e = self.net._engine
        if self.size == 1:
            e.run_until(e.t, self.net._recorder.on_spikes)
        else:
            e.run_until(e.t, self._on_local, None, on_exchange=self._on_exchange)

    def spikes(self, population: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The recorded spikes of a population (all ranks'), on rank 0 (None elsewhere), in (time, id)
        order. Needs the network's in-memory recording (the default of record_spikes)."""
        if self.rank != 0:
            return None
        t, i = self.net._recorder.spikes(population)
        order = np.lexsort((i, t))
        return t[order], i[order]

    def stats(self) -> dict[str, int]:
        """Counters summed over ranks (collective). Spike sources are replicated, so their events
        are counted once per rank in 'events'."""
        local = np.array(list(self.net.stats.values()), np.int64)
        total = self.comm.allreduce(local)
        return dict(zip(self.net.stats.keys(), (int(x) for x in total)))

    def n_synapses(self) -> int:
        """Synapses of the whole network (collective)."""
        return int(self.comm.allreduce(int(self.net.graph.n_synapses)))
