"""Engine A/B test: two revisions of eventsim in one process, on the same network, in alternating chunks.

On the 2-core VMs timing noise between processes reaches +-25%, which hides engine changes of a few
percent. This script instead imports both revisions side by side (each copied from git under its own
package name), builds the same network with each, and advances them in alternating chunks of model
time (the order flips every chunk), timing each chunk's CPU. Both simulations do the same work chunk by
chunk, so the chunk pairs are matched; it reports the ratio of total CPU, the median chunk ratio and
how many chunks B won, and checks that both fired the same spikes at the same times.

    python3.11 benchmarks/ab_engine.py A B [--network cuba|cuba-hetero|scale] [--n 100000] [--chunks 30] \
        [--chunk-ms 1000]

A and B are git revisions, or WORKTREE for the checked-out files (uncommitted edits included). Each
revision compiles cold in its temporary copy (about a minute each). Writes
benchmarks/results/ab_engine_<date>.json.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_scale import scale_network  # noqa: E402
from results_json import dated_path, machine, write_results  # noqa: E402
from revisions import export_package  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests"))
from conftest import make_cuba  # noqa: E402  (Brian2's CUBA example, shared with the tests and bench_cuba)


def _network(es, kind: str, n: int):
    """(network, population) of the named benchmark network, built with package `es`."""
    if kind == "scale":
        net, cells = scale_network(es, importlib.import_module(es.__name__ + ".models"), n, seed=1)
    else:                                   # the network of bench_cuba.py (cuba-hetero: per-neuron tau_m)
        net = make_cuba(seed=1, package=es, hetero=kind == "cuba-hetero")
        cells = net.populations["cells"]
    net.build()
    return net, cells


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="git revision, or WORKTREE")
    ap.add_argument("b", help="git revision, or WORKTREE")
    ap.add_argument("--network", choices=("cuba", "cuba-hetero", "scale"), default="cuba")
    ap.add_argument("--n", type=int, default=100_000, help="neurons of the scale network")
    ap.add_argument("--chunks", type=int, default=30)
    ap.add_argument("--chunk-ms", type=float, default=1000.0, help="model time per chunk (ms)")
    ap.add_argument("--warmup-ms", type=float, default=100.0, help="model time run before timing (ms)")
    args = ap.parse_args(argv)
    if args.chunks < 1 or args.chunk_ms <= 0 or args.warmup_ms < 0 or args.n < 1000:
        ap.error("--chunks >= 1, --chunk-ms > 0, --warmup-ms >= 0 and --n >= 1000")
    tmp = tempfile.mkdtemp(prefix="ab_engine_")
    sys.path.insert(0, tmp)
    sims, times = {}, {}
    try:
        for label, rev in (("A", args.a), ("B", args.b)):
            name = f"ev_ab_{label.lower()}"
            export_package(rev, tmp, name)
            es = importlib.import_module(name)
            t0 = time.perf_counter()
            net, cells = _network(es, args.network, args.n)
            net.run(args.warmup_ms, progress=False)            # includes the cold compile
            print(f"{label} = {rev}: built and compiled in {time.perf_counter() - t0:.0f} s", flush=True)
            sims[label], times[label] = (net, cells), []
        for c in range(args.chunks):
            for label in ("A", "B") if c % 2 == 0 else ("B", "A"):
                t0 = time.process_time()
                sims[label][0].run(args.chunk_ms, progress=False)
                times[label].append(time.process_time() - t0)
        spikes = {k: v[1].spikes() for k, v in sims.items()}
        same = all(np.array_equal(x, y) for x, y in zip(spikes["A"], spikes["B"]))
        stats = {k: dict(v[0].stats) for k, v in sims.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ta, tb = times["A"], times["B"]
    ratios = [b / a for a, b in zip(ta, tb)]
    res = {"a": args.a, "b": args.b, "network": args.network, "n": args.n if args.network == "scale" else 4000,
           "chunks": args.chunks, "chunk_ms": args.chunk_ms, "cpu_s_a": ta, "cpu_s_b": tb,
           "total_ratio_b_over_a": sum(tb) / sum(ta), "median_chunk_ratio_b_over_a": statistics.median(ratios),
           "chunks_b_faster": sum(r < 1 for r in ratios), "identical_spikes": same, "stats": stats}
    print(f"{args.network}: A {sum(ta):.3f} s, B {sum(tb):.3f} s of CPU over {args.chunks} chunks of "
          f"{args.chunk_ms:g} ms; B/A total {res['total_ratio_b_over_a']:.3f}, median chunk "
          f"{res['median_chunk_ratio_b_over_a']:.3f}, B faster in {res['chunks_b_faster']} of {args.chunks}; "
          f"identical spikes: {same}")
    path = dated_path(os.path.join(HERE, "results"), "ab_engine")
    write_results(os.path.dirname(path), os.path.basename(path), res, machine=machine(),
                  command="python3.11 benchmarks/ab_engine.py " + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
