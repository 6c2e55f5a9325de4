"""Data-loading throughput: VideoFolder decoding of generated 64x64 mp4 files.

Writes ``--files`` MovingShapes videos as H.264 mp4 (class folders), then measures:

* the first scan (probing every file, writing the index) and a cached scan;
* VideoFolder clips/s through a DataLoader for each ``--workers`` value, after one
  warm-up batch (worker start-up is reported separately);
* MovingShapes render clips/s, for comparison with decoding.

Batches are moved to the GPU (pinned memory, non-blocking copies) when CUDA is
available, so the numbers include the host-to-device transfer there.

    python benchmarks/bench_data.py                 # defaults: 64 files, 16 frames, stride 2
    python benchmarks/bench_data.py --workers 0 2 4 --files 128
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from vidgan_blocks.data import DataWarning, MovingShapes, VideoFolder  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=64, help="number of generated mp4 files")
    p.add_argument("--source-frames", type=int, default=48, help="frames per generated file")
    p.add_argument("--size", type=int, default=64, help="H = W of the generated files")
    p.add_argument("--frames", type=int, default=16, help="clip length T")
    p.add_argument("--stride", type=int, default=2, help="frame stride")
    p.add_argument("--resolution", type=int, default=64, help="output resolution")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="num_workers values to time")
    p.add_argument("--epochs", type=int, default=3, help="passes over the files per setting")
    p.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temp dir)")
    return p.parse_args()


def time_loader(ds: VideoFolder, workers: int, batch_size: int, epochs: int, device: torch.device) -> tuple[float, float]:
    """Return (start-up seconds to the first batch, steady clips/s over the remaining batches)."""
    pin = device.type == "cuda"
    loader = DataLoader(
        ds, batch_size=batch_size, shuffle=True, num_workers=workers, pin_memory=pin,
        persistent_workers=workers > 0, drop_last=True,
    )
    t0 = time.perf_counter()
    clips = 0
    startup = None
    t_steady = t0
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        for x, _ in loader:
            x = x.to(device, non_blocking=True)
            if startup is None:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                startup = time.perf_counter() - t0
                t_steady = time.perf_counter()
                continue
            clips += x.shape[0]
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t_steady
    return float(startup or 0.0), clips / elapsed if elapsed > 0 else float("nan")


def main() -> None:
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_data_")
        root = Path(tmp.name)
    else:
        root = args.dir
    shapes = MovingShapes(args.files, args.source_frames, args.size, num_classes=6)

    t = time.perf_counter()
    for i in range(args.files):
        shapes.render(i)
    render_rate = args.files / (time.perf_counter() - t)

    t = time.perf_counter()
    shapes.write_dataset(root / "shapes", args.files)
    write_s = time.perf_counter() - t

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        t = time.perf_counter()
        ds = VideoFolder(root / "shapes", args.frames, args.stride, args.resolution, seed=0)
        scan_cold = time.perf_counter() - t
        t = time.perf_counter()
        ds = VideoFolder(root / "shapes", args.frames, args.stride, args.resolution, seed=0)
        scan_warm = time.perf_counter() - t

    print(f"device: {device}  torch {torch.__version__}  threads {torch.get_num_threads()}")
    print(
        f"{args.files} files of {args.source_frames} frames at {args.size}x{args.size} (H.264 mp4), "
        f"clips of {args.frames} frames, stride {args.stride}, resolution {args.resolution}, batch {args.batch_size}"
    )
    print()
    print(f"{'measurement':<36}{'value':>14}")
    print("-" * 50)
    print(f"{'write files (s)':<36}{write_s:>14.2f}")
    print(f"{'first scan, probe + index (s)':<36}{scan_cold:>14.3f}")
    print(f"{'cached scan (s)':<36}{scan_warm:>14.3f}")
    print(f"{'MovingShapes render (clips/s)':<36}{render_rate:>14.1f}")
    for w in args.workers:
        startup, rate = time_loader(ds, w, args.batch_size, args.epochs, device)
        print(f"{f'VideoFolder, num_workers={w} (clips/s)':<36}{rate:>14.1f}")
        print(f"{'  first batch after start (s)':<36}{startup:>14.3f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
