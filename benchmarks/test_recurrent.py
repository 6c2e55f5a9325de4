"""Suite 3: recurrent units at equal width, one step and a T-step unroll (TrIVD-GAN-FP F.4).

Forward + backward in training mode with spectral norm. The paper measured
ConvGRU 284 ms vs TSRU 354 ms per full training step (ratio 1.25).

Each row also records the FLOPs of the timed closure (counted on that closure)
and, on known GPUs, the MFU against the dense peak of the precision it ran in
(``precision`` and ``peak_tflops``; see ``_measure.compute_precision``).
"""

from __future__ import annotations

import pytest
import torch
from _measure import BenchOptions, count_flops, isolated_peak, mfu_info, synced
from bench_recurrent import UNITS

WIDTH = {"cpu": dict(c=64, hw=16, b=8, t=8), "cuda": dict(c=128, hw=32, b=16, t=8)}


def unit_step(info: dict, unit: str, mode: str, c: int, hw: int, b: int, t: int, device: str = "cpu"):
    opts = BenchOptions.from_env()
    torch.manual_seed(0)
    m = UNITS[unit](c).to(device).train()
    if mode == "step":
        x = opts.tensor(torch.randn(b, c, hw, hw, device=device))
        h = m.init_state(x)
        h = tuple(map(opts.tensor, h)) if isinstance(h, tuple) else opts.tensor(h)
        step = opts.prepare(m).step
        if opts.compile:  # this mode times the unit's step, not its forward (the unroll)
            step = torch.compile(step)

        def run() -> None:
            out = step(x, h)
            (out[0] if isinstance(out, tuple) else out).float().square().mean().backward()

    else:
        x = opts.tensor(torch.randn(b, c, t, hw, hw, device=device))
        m = opts.prepare(m)

        def run() -> None:
            m(x).float().square().mean().backward()

    return opts.wrap(run, device)


@pytest.mark.parametrize("mode", ["step", "unroll"])
@pytest.mark.parametrize("unit", list(UNITS))
def test_recurrent_unit(benchmark, unit, mode, device, opts):
    shape = WIDTH[device.type]
    mem = isolated_peak("test_recurrent:unit_step", dict(unit=unit, mode=mode, device=str(device), **shape))
    run = unit_step({}, unit, mode, device=str(device), **shape)
    benchmark.extra_info.update(suite="recurrent", unit=unit, mode=mode, **shape, peak_mib=mem["peak_mib"])
    benchmark.pedantic(synced(run, device), rounds=3, warmup_rounds=opts.warmup(1), iterations=1)
    benchmark.extra_info.update(mfu_info(count_flops(run), benchmark.stats.stats.median, device, opts.amp))
