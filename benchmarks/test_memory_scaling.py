"""Suite 1: memory and time of one training iteration vs output length (CVG Figure 3, SSW-GAN Table 3).

Three configurations per output length T: the windowed upsampling level of a
two-level cascade (fixed window, so flat memory), the cascade's first level
(T / 2 frames at a quarter of the resolution: linear), and a non-cascaded
generator producing all T frames at full resolution. Reduced widths on CPU,
wider on a GPU.
"""

from __future__ import annotations

import pytest
from _measure import BenchOptions, isolated_peak, synced
from bench_cascade_memory import build_iteration

LENGTHS = (12, 24, 48, 96)
SETUP = {"cpu": dict(ch=8, resolution=64, window=6, batch=2), "cuda": dict(ch=64, resolution=128, window=6, batch=4)}


def training_iteration(info: dict, device: str = "cpu", **cfg):
    return build_iteration({**cfg, "device": device, **BenchOptions.from_env().trainer_fields()})


@pytest.mark.parametrize("frames", LENGTHS)
@pytest.mark.parametrize("kind", ["cascade", "level1", "end_to_end"])
def test_memory_scaling(benchmark, kind, frames, device, opts):
    cfg = dict(kind=kind, frames=frames, **SETUP[device.type])
    mem = isolated_peak("test_memory_scaling:training_iteration", dict(device=str(device), **cfg))
    benchmark.extra_info.update(suite="memory_scaling", kind=kind, frames=frames, peak_mib=mem["peak_mib"])
    run = training_iteration({}, device=str(device), **cfg)
    benchmark.pedantic(synced(run, device), rounds=1, warmup_rounds=1, iterations=1)
