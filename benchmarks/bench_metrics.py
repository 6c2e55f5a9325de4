"""Metric costs and accuracy: FVD feature-extraction throughput and Fréchet-distance agreement.

1. Throughput (clips/s) of FVD feature extraction -- preprocessing (resize to
   224x224 by the chosen preset) plus the full-width I3D (random weights: the
   speed does not depend on the values) -- for 16-frame 64x64 clips by default.
2. Agreement of :func:`vidgan_blocks.metrics.frechet_distance` with the common
   ``scipy.linalg.sqrtm`` formula on random covariances (full rank and rank
   deficient), as relative difference, and the time of each.

    python benchmarks/bench_metrics.py
    python benchmarks/bench_metrics.py --batch 1 4 --frames 16 --hw 64 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidgan_blocks.metrics import extract_i3d_features, frechet_distance, load_i3d  # noqa: E402


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def throughput(args: argparse.Namespace) -> list[tuple[str, ...]]:
    torch.manual_seed(0)
    i3d = load_i3d(random_weights=True, device=args.device)
    rows = []
    for preset in args.presets:
        for b in args.batch:
            clips = torch.rand(b, 3, args.frames, args.hw, args.hw, device=args.device) * 2 - 1
            extract_i3d_features(clips, i3d, preprocess=preset, batch_size=b, keep=False)  # warm-up
            times = []
            for _ in range(args.repeats):
                _sync(args.device)
                t0 = time.perf_counter()
                extract_i3d_features(clips, i3d, preprocess=preset, batch_size=b, keep=False)
                _sync(args.device)
                times.append(time.perf_counter() - t0)
            best, med = min(times), float(np.median(times))
            rows.append((preset, str(b), f"{args.frames}x{args.hw}x{args.hw}", f"{b / med:.3f}", f"{b / best:.3f}",
                         f"{med / b * 1e3:.0f}"))  # fmt: skip
    return rows


def agreement(args: argparse.Namespace) -> list[tuple[str, ...]]:
    import scipy.linalg

    rng = np.random.default_rng(0)
    rows = []
    for d, n in args.frechet_sizes:
        feats = [rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.1 + rng.standard_normal(d)
                 for _ in range(2)]  # fmt: skip
        mu1, mu2 = (f.mean(0) for f in feats)
        s1, s2 = (np.cov(f, rowvar=False) for f in feats)
        t0 = time.perf_counter()
        ours = frechet_distance(mu1, s1, mu2, s2)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        t_scipy = time.perf_counter() - t0
        imag = float(np.abs(np.imag(covmean)).max()) if np.iscomplexobj(covmean) else 0.0
        diff = mu1 - mu2
        ref = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(np.real(covmean)))
        rel = abs(ours - ref) / abs(ref)
        rank = "full" if n > d else f"rank {n - 1}"
        rows.append((str(d), str(n), rank, f"{ours:.6f}", f"{ref:.6f}", f"{rel:.2e}", f"{imag:.1e}",
                     f"{t_ours * 1e3:.0f}", f"{t_scipy * 1e3:.0f}"))  # fmt: skip
    return rows


def print_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--hw", type=int, default=64)
    ap.add_argument("--presets", nargs="+", default=["reference", "center_crop"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (CPU)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--frechet-sizes", type=lambda s: tuple(int(v) for v in s.split("x")), nargs="+",
                    default=[(64, 1000), (400, 2048), (400, 256), (1024, 4096), (1024, 512)],
                    help="DxN pairs: feature dimension x samples")  # fmt: skip
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {dev} | torch {torch.__version__}")
    if not args.skip_throughput:
        print_table(
            "FVD feature extraction (preprocess + full-width I3D, random weights)",
            ("preset", "batch", "clip", "clips/s (median)", "clips/s (best)", "ms/clip"),
            throughput(args),
        )
    print_table(
        "Frechet distance: ours (float64 eigh) vs scipy.linalg.sqrtm(S1 S2)",
        ("D", "N", "cov", "ours", "scipy", "rel diff", "scipy max|imag|", "ours ms", "scipy ms"),
        agreement(args),
    )


if __name__ == "__main__":
    main()
