"""Suite 4: separable vs full self-attention over (T, H, W) (DVD-GAN section 3.2).

Forward + backward of one attention block; peak memory from a fresh process.
"""

from __future__ import annotations

import pytest
import torch
from _measure import BenchOptions, isolated_peak

from vidgan_blocks.layers import SelfAttention, SeparableSelfAttention

SHAPES = {"cpu": dict(b=2, c=64, t=16, hw=32), "cuda": dict(b=4, c=128, t=16, hw=64)}


def attention_step(info: dict, kind: str, b: int, c: int, t: int, hw: int, device: str = "cpu"):
    opts = BenchOptions.from_env()
    torch.manual_seed(0)
    m = (SeparableSelfAttention if kind == "separable" else SelfAttention)(c).to(device)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 0:
                p.fill_(0.5)
    m = opts.prepare(m)
    x = opts.tensor(torch.randn(b, c, t, hw, hw, device=device)).requires_grad_()
    info.update(tokens=t * hw * hw, largest_attention=max(hw * hw * hw * t, t * t * hw * hw) if kind == "separable" else (t * hw * hw) ** 2)

    def run() -> None:
        m(x).float().square().mean().backward()

    return opts.wrap(run, device)


@pytest.mark.parametrize("kind", ["separable", "full"])
def test_attention(benchmark, kind, device, opts):
    shape = SHAPES[device.type]
    mem = isolated_peak("test_attention:attention_step", dict(kind=kind, device=str(device), **shape))
    run = attention_step({}, kind, device=str(device), **shape)
    benchmark.extra_info.update(suite="attention", kind=kind, **shape, peak_mib=mem["peak_mib"], largest_attention=mem["largest_attention"])
    benchmark.pedantic(run, rounds=2, warmup_rounds=opts.warmup(1), iterations=1)
