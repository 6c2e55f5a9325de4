"""Suite 5: sampling speed and streamed-generation memory.

* DVD-GAN 64x64, 48 frames: two videos per call (DVD-GAN A.3: under 150 ms on one
  TPU core at paper width); reduced width on CPU, paper width on a GPU.
* A two-level CVG cascade unrolled to 48 frames at 128x128 (one-shot).
* Streamed generation of 1,000 frames vs 48 frames: peak memory ratio (the
  streamed top level keeps memory bounded; see docs/cascades.md for what it bounds).
"""

from __future__ import annotations

import pytest
import torch
from _measure import BenchOptions, isolated_peak, synced
from bench_cascade import build_sampling

from vidgan_blocks.generators import dvd_gan_generator, reset_frame_stats


def dvd_sampling(info: dict, device: str = "cpu"):
    opts = BenchOptions.from_env()
    torch.manual_seed(0)
    ch = None if device.startswith("cuda") else 16
    g = dvd_gan_generator(64, 48, **({} if ch is None else {"ch": ch})).to(device).eval()
    reset_frame_stats(g, 48)
    g = opts.prepare(g)
    z = torch.randn(2, g.z_dim, device=device)
    y = torch.tensor([0, 1], device=device)
    info["ch"] = ch or 64

    def run() -> None:
        with torch.no_grad():
            g(z, y)

    return opts.wrap(run, device)


def cascade_sampling(info: dict, mode: str, frames: int, resolution: int, ch: int, device: str = "cpu"):
    opts = BenchOptions.from_env()
    run, _ = build_sampling(dict(mode=mode, frames=frames, resolution=resolution, ch=ch, window=6, batch=1, passes=1,
                                 device=device), opts)
    return opts.wrap(run, device)


def test_dvd_gan_64x64_48f_two_videos(benchmark, device, opts):
    mem = isolated_peak("test_generation:dvd_sampling", dict(device=str(device)))
    run = dvd_sampling({}, device=str(device))
    benchmark.extra_info.update(suite="generation", model="dvd_gan 64x64/48", videos=2, ch=mem["ch"], peak_mib=mem["peak_mib"])
    benchmark.pedantic(synced(run, device), rounds=3, warmup_rounds=opts.warmup(1), iterations=1)
    benchmark.extra_info["videos_per_s"] = 2 / benchmark.stats.stats.median


def test_cvg_cascade_48f_128x128(benchmark, device, opts):
    cfg = dict(mode="oneshot", frames=48, resolution=128, ch=32 if device.type == "cuda" else 8)
    mem = isolated_peak("test_generation:cascade_sampling", dict(device=str(device), **cfg))
    run = cascade_sampling({}, device=str(device), **cfg)
    benchmark.extra_info.update(suite="generation", model="cvg 2-level 48/128x128", videos=1, peak_mib=mem["peak_mib"], ch=cfg["ch"])
    benchmark.pedantic(synced(run, device), rounds=1, warmup_rounds=opts.warmup(0), iterations=1)
    benchmark.extra_info["videos_per_s"] = 1 / benchmark.stats.stats.median


@pytest.mark.parametrize("frames", [48, 1000])
def test_streamed_generation_memory(benchmark, frames, device, opts):
    cfg = dict(mode="stream", frames=frames, resolution=32 if device.type == "cpu" else 128, ch=4 if device.type == "cpu" else 32)
    mem = isolated_peak("test_generation:cascade_sampling", dict(device=str(device), **cfg))
    run = cascade_sampling({}, device=str(device), **cfg)
    benchmark.extra_info.update(suite="generation", model=f"cvg streamed {frames} frames", videos=1, peak_mib=mem["peak_mib"], ch=cfg["ch"])
    benchmark.pedantic(synced(run, device), rounds=1, warmup_rounds=opts.warmup(0), iterations=1)
