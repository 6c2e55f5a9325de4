"""Suite 2: one discriminator step per named decomposition on the same videos (TrIVD-GAN-FP Table 1).

B=8 videos of 16 frames (5 conditioning) at 64x64, tiny width on CPU; the
TrIVD-GAN-FP medium width (ch 48) on a GPU.

Besides the time, each row records the FLOPs of the timed step (forward and
backward, counted on the very closure that was timed) and, on known GPUs, the
MFU against the dense peak of the precision the step ran in (``precision``:
``tf32`` for float32 runs on CUDA, where cuDNN uses TF32 tensor cores by
default; ``bf16``/``fp16`` under ``--bench-amp``), with that ``peak_tflops``.
"""

from __future__ import annotations

import pytest
from _measure import BenchOptions, count_flops, isolated_peak, mfu_info, synced
from bench_discriminators import ROWS, make_step, parse_args


def _args(device: str):
    argv = ["--device", device] + (["--ch", "48"] if device.startswith("cuda") else [])
    return parse_args(argv)


def decomposition_step(info: dict, name: str, device: str = "cpu"):
    step, pixels = make_step(name, _args(device), BenchOptions.from_env())
    info["pixels"] = pixels
    return step


@pytest.mark.parametrize("name", ROWS)
def test_decomposition(benchmark, name, device, opts):
    mem = isolated_peak("test_decompositions:decomposition_step", dict(name=name, device=str(device)))
    step = decomposition_step({}, name, device=str(device))
    benchmark.extra_info.update(suite="decompositions", decomposition=name, pixels=mem["pixels"], peak_mib=mem["peak_mib"])
    benchmark.pedantic(synced(step, device), rounds=2, warmup_rounds=opts.warmup(1), iterations=1)
    benchmark.extra_info.update(mfu_info(count_flops(step), benchmark.stats.stats.median, device, opts.amp))
