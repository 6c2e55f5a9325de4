"""Suite 6: FVD feature extraction throughput (I3D at full width, random weights).

16-frame 64x64 clips through the reference preprocessing (bilinear resize to
224x224) and the I3D; the figure to read is ``clips_per_s``.
"""

from __future__ import annotations

import pytest
import torch
from _measure import BenchOptions, isolated_peak, synced

from vidgan_blocks.metrics import extract_i3d_features, load_i3d


def i3d_features(info: dict, batch: int, device: str = "cpu"):
    opts = BenchOptions.from_env()
    torch.manual_seed(0)
    i3d = opts.prepare(load_i3d(random_weights=True, device=device))
    clips = torch.rand(batch, 3, 16, 64, 64, device=device) * 2 - 1

    def run() -> None:
        extract_i3d_features(clips, i3d, preprocess="reference", batch_size=batch, keep=False)

    return opts.wrap(run, device)


@pytest.mark.parametrize("batch", [2])
def test_fvd_features(benchmark, batch, device, opts):
    b = batch if device.type == "cpu" else 32
    mem = isolated_peak("test_metrics:i3d_features", dict(batch=b, device=str(device)))
    run = i3d_features({}, b, device=str(device))
    benchmark.extra_info.update(suite="metrics", clips=b, frames=16, size="64x64 -> 224x224", peak_mib=mem["peak_mib"])
    benchmark.pedantic(synced(run, device), rounds=2, warmup_rounds=opts.warmup(1), iterations=1)
    benchmark.extra_info["clips_per_s"] = b / benchmark.stats.stats.median
