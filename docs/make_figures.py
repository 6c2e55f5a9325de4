"""Draw the pictures of the docs from a short run of the tutorial cascade.

Writes ``docs/images/cascade_samples.png`` (one row per level of an unrolled
sample, every level enlarged to the top level's size and frame rate) and
``docs/images/tsru_motion.png`` (level 1 frames above the colour-coded expected
displacement of its TSRU's per-pixel warp kernels, TrIVD-GAN-FP section 4).

Run: ``python docs/make_figures.py --steps 30`` (under a minute on an idle two-core CPU).
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vidgan_blocks.data import frames_grid  # noqa: E402
from vidgan_blocks.ops import spatial_upsample, temporal_repeat  # noqa: E402
from vidgan_blocks.recurrent import TSRU, expected_flow, flow_to_rgb  # noqa: E402


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training iterations per level")
    parser.add_argument("--out", default="runs/figures", help="training output folder")
    parser.add_argument("--images", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args(argv)
    images = Path(args.images)
    images.mkdir(parents=True, exist_ok=True)

    tutorial = runpy.run_path(str(ROOT / "docs" / "examples" / "new_cascade.py"), run_name="figures")
    tutorial["main"](["--steps", str(args.steps), "--frames", "16", "--out", args.out])
    cascade = tutorial["cascade"]

    # Sample grid: levels 1..3 of two samples, lower levels enlarged to 32x32 and repeated in time.
    levels = cascade.generate(2, frames=16, passes=2, stats_batch=4, seed=1, return_levels=True)
    top_t, top_s = levels[-1].shape[2], levels[-1].shape[-1]
    rows = []
    for i in range(2):
        for video in levels:
            t, s = video.shape[2], video.shape[-1]
            rows.append(temporal_repeat(spatial_upsample(video[i : i + 1], top_s // s), top_t // t))
    grid = frames_grid(torch.cat(rows), images / "cascade_samples.png", every=2)

    # Motion field: the level-1 sampler's TSRU kernels from the last generate call.
    units = [m for m in cascade[1].sampler.modules() if isinstance(m, TSRU)]
    kernels = units[-1].last_kernels  # [B, k*k, T, h, w] of the finest TSRU
    flow = expected_flow(kernels[:2])  # [2, 2, T, h, w]
    size = levels[0].shape[-1]
    flow_big = spatial_upsample(flow_to_rgb(flow), max(1, size // flow.shape[-1]))  # [2, 3, T, H, W]
    frames = levels[0][:2, :, : flow_big.shape[2]]
    pair = torch.stack([frames, flow_big], 1).flatten(0, 1)  # sample 1, its flow, sample 2, its flow
    pair = spatial_upsample(pair, 4)
    frames_grid(pair, images / "tsru_motion.png")
    paths = [images / "cascade_samples.png", images / "tsru_motion.png"]
    for p in paths:
        print(f"{p}: {p.stat().st_size // 1024} KB")
    del grid
    return paths


if __name__ == "__main__":
    main()
