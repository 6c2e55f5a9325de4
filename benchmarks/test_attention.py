"""Suite 4: separable vs full self-attention over (T, H, W) (DVD-GAN section 3.2).

Forward + backward of one attention block; peak memory from a fresh process.

Full attention holds (T*H*W)^2 scores per video: at the GPU shape (B=4, 16x64x64)
that is about 190 GiB over forward and backward, more than any single GPU has,
which is the point DVD-GAN makes for separable attention. A case whose estimated
attention matrices (``bench_attention.attention_bytes``) exceed the free device
memory is skipped with the reason "out of memory at this shape" before it
starts, and listed under its suite in the report, instead of failing the run (one
that runs out of memory anyway is skipped the same way by ``conftest.py``).
"""

from __future__ import annotations

import pytest
import torch
from _measure import BenchOptions, isolated_peak, synced
from bench_attention import largest_attention, out_of_memory_reason

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
    info.update(tokens=t * hw * hw, largest_attention=largest_attention(kind, t, hw))

    def run() -> None:
        m(x).float().square().mean().backward()

    return opts.wrap(run, device)


@pytest.mark.parametrize("kind", ["separable", "full"])
def test_attention(benchmark, kind, device, opts):
    shape = SHAPES[device.type]
    reason = out_of_memory_reason(kind, shape["b"], shape["t"], shape["hw"], device)
    if reason:
        pytest.skip(reason)
    mem = isolated_peak("test_attention:attention_step", dict(kind=kind, device=str(device), **shape))
    run = attention_step({}, kind, device=str(device), **shape)
    benchmark.extra_info.update(suite="attention", kind=kind, **shape, peak_mib=mem["peak_mib"],
                                largest_attention=mem["largest_attention"])
    benchmark.pedantic(synced(run, device), rounds=2, warmup_rounds=opts.warmup(1), iterations=1)
