"""Measure dataset loading/encoding on the real data; writes results/fsdd_shd_encoding.json.

    python benchmarks/encode_fsdd.py [--data ../shared/data] [--out /tmp/fsdd_shd.h5] [--no-noise]

Times are wall-clock seconds on one core (the numba kernels are serial); numba compile time is
measured separately with a warm-up call. The encoded SHD file goes to --out (not the repo).
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

import eventsim.datasets as ds

REPO = Path(__file__).resolve().parents[1]


def stats(a: np.ndarray) -> dict:
    a = np.asarray(a, np.float64)
    q = np.percentile(a, [5, 25, 50, 75, 95])
    return {"mean": float(a.mean()), "std": float(a.std()), "min": float(a.min()), "p5": float(q[0]),
            "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]), "p95": float(q[4]),
            "max": float(a.max())}


def encode_all(waves: list[np.ndarray], params: ds.CochleaParams, snr: float | None = None
               ) -> tuple[list, float, float]:
    """Encode every waveform; returns (spikes, wall seconds, CPU seconds of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = []
    for i, x in enumerate(waves):
        if snr is not None:
            x = ds.add_white_noise(x, snr, seed=i)
        out.append(ds.encode_waveform(x, params))
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=Path("/tmp/fsdd_shd.h5"))
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "fsdd_shd_encoding.json")
    ap.add_argument("--no-noise", action="store_true", help="skip the SNR 10/0/-5 dB spike statistics")
    args = ap.parse_args()
    res: dict = {"machine": {"python": platform.python_version(), "numpy": np.__version__,
                             "processor": platform.processor() or platform.machine(), "threads_used": 1}}
    try:
        res["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                           text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        res["git_commit"] = None

    mn = {}
    for split in ds.MNIST_SPLITS:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            x, y = ds.load_mnist(args.data, split)
            times.append(time.perf_counter() - t0)
        mn[split] = {"n": int(len(y)), "load_seconds_first": times[0], "load_seconds_best": min(times)}
    t0 = time.perf_counter()
    n_p = sum(ds.poisson_encode(im, 350.0, seed=i)[0].size for i, im in enumerate(x[:1000]))
    mn["poisson_350ms_ms_per_image"] = (time.perf_counter() - t0) * 1000 / 1000
    mn["poisson_350ms_spikes_per_image_mean"] = n_p / 1000
    t0 = time.perf_counter()
    n_l = sum(ds.latency_encode(im)[0].size for im in x[:1000])
    mn["latency_ms_per_image"] = (time.perf_counter() - t0) * 1000 / 1000
    mn["latency_spikes_per_image_mean"] = n_l / 1000
    res["mnist"] = mn

    params = ds.CochleaParams()
    t0 = time.perf_counter()
    files = ds.load_fsdd(args.data)
    t_list = time.perf_counter() - t0
    t0 = time.perf_counter()
    waves = [ds.read_wav(p, params.sample_rate_hz)[0] for p in files.paths]
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds.encode_waveform(waves[0], params)
    t_warm = time.perf_counter() - t0
    enc, t_enc, cpu_enc = encode_all(waves, params)
    counts = np.array([t.size for t, _ in enc])
    dur_s = np.array([x.size for x in waves]) / params.sample_rate_hz
    per_ch = np.array([np.bincount(c, minlength=params.n_channels) for _, c in enc])
    test = files.indices < 5
    res["fsdd"] = {
        "n_files": len(files), "n_test": int(test.sum()), "listing_seconds": t_list,
        "read_wav_seconds": t_read, "numba_warmup_seconds_incl_compile_or_cache_load": t_warm,
        "encode_seconds_all_files": t_enc, "encode_cpu_seconds_all_files": cpu_enc,
        "encode_ms_per_file": 1000 * t_enc / len(files), "encode_cpu_ms_per_file": 1000 * cpu_enc / len(files),
        "audio_seconds_total": float(dur_s.sum()), "realtime_factor": float(dur_s.sum() / t_enc),
        "duration_ms": stats(1000 * dur_s),
        "cochlea_params": {k: getattr(params, k) for k in params.__dataclass_fields__},
        "spikes_per_utterance": stats(counts),
        "spikes_per_utterance_by_digit_mean": [float(counts[files.digits == d].mean()) for d in range(10)],
        "spikes_per_utterance_by_speaker_mean": {n: float(counts[files.speaker_ids == i].mean())
                                                 for i, n in enumerate(files.speaker_names)},
        "utterances_without_spikes": int((counts == 0).sum()),
        "mean_rate_hz_per_channel": [float(v) for v in (per_ch.sum(0) / dur_s.sum()).round(2)],
        "active_channels_per_utterance": stats((per_ch > 0).sum(1)),
    }
    if not args.no_noise:
        noisy = {}
        for snr in (10.0, 0.0, -5.0):
            e, t, c = encode_all(waves, params, snr)
            noisy[f"{snr:g}dB"] = {"encode_seconds": t, "encode_cpu_seconds": c,
                                   "spikes_per_utterance": stats([a.size for a, _ in e])}
        res["fsdd"]["white_noise"] = noisy

    t0 = time.perf_counter()
    summary = ds.encode_fsdd_to_shd(args.data, args.out)
    t_conv = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = ds.read_shd(args.out)
    t_back = time.perf_counter() - t0
    t0 = time.perf_counter()
    dense = ds.bin_samples(back.times_ms, back.units, back.n_units, dt_ms=10.0)
    t_bin = time.perf_counter() - t0
    res["shd"] = {"out_path": str(args.out), "file_bytes": args.out.stat().st_size,
                  "convert_seconds_total": t_conv, "convert_encode_seconds": summary["encode_seconds"],
                  "read_seconds": t_back, "bin_10ms_seconds": t_bin, "binned_shape": list(dense.shape),
                  "same_spikes_as_direct_encoding": bool(all(np.array_equal(u, c) for u, (_, c)
                                                             in zip(back.units, enc)))}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ("mnist",)}, indent=1))
    f = res["fsdd"]
    print(f"FSDD: {f['n_files']} files, read {t_read:.2f} s, encode {t_enc:.2f} s "
          f"(CPU {cpu_enc:.2f} s; {f['encode_ms_per_file']:.2f} ms/file, {f['realtime_factor']:.0f}x real time), "
          f"spikes/utterance median {f['spikes_per_utterance']['median']:.0f}; "
          f"SHD file {res['shd']['file_bytes'] / 1e6:.1f} MB"
          f" -> {args.json}")


if __name__ == "__main__":
    main()
