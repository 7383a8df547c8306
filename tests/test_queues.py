"""The engine's queues (eventsim.heap) against brute force."""
import numpy as np
import pytest

from eventsim import heap


@pytest.mark.parametrize("n", [1, 2, 3, 5, 64, 1000])
def test_check_tree_gives_the_earliest_check_with_ties_by_neuron_id(n):
    rng = np.random.default_rng(n)
    key, who = heap.make_checks(n)
    assert key[1] == np.inf
    times = np.full(n, np.inf)
    grid = np.array([0.5, 1.0, 1.5, 2.0])            # few distinct times: many ties
    for step in range(4000):
        j = int(rng.integers(n))
        r = rng.random()
        t = np.inf if r < 0.2 else float(rng.choice(grid)) if r < 0.6 else float(rng.exponential(2.0))
        heap.cset(key, who, j, t)
        times[j] = t
        best = float(times.min())
        assert key[1] == best, step
        if best < np.inf:
            assert who[1] == int(np.flatnonzero(times == best)[0]), step


def test_check_tree_size_and_memory_estimate():
    for n in (1, 2, 4000, 4096, 4097):
        key, who = heap.make_checks(n)
        assert key.size >= 2 * n and key.size & (key.size - 1) == 0
        assert heap.check_tree_bytes(n) == key.nbytes + who.nbytes


def test_event_heap_pops_in_key_order():
    rng = np.random.default_rng(3)
    q = heap.make(512)
    entries = [(float(rng.integers(20)), int(rng.integers(4)), int(rng.integers(3))) for _ in range(400)]
    for t, c, a in entries:
        heap.push(*q, t, c, a, t)
    out = []
    while q[4][0] > 0:
        out.append((q[0][0], int(q[1][0]), int(q[2][0])))
        heap.pop(*q)
    assert out == sorted(entries)
