"""Cascade sampling options: noise temperature / truncation, the random-window protocol, recurrent top levels."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from tests.cascade.test_cascade import NC, tiny_cascade
from tests.helpers import close
from vidgan_blocks.cascade import Cascade, Level
from vidgan_blocks.cascade.cascade import _noise
from vidgan_blocks.data import ViewFactors
from vidgan_blocks.generators import UpsamplingGeneratorConfig, build_generator

KW = dict(passes=1, stats_batch=2)


def frozen(cascade: Cascade, device: torch.device) -> Cascade:
    """Every level frozen (as after training) and moved to ``device``; level 1 sized by one training pass."""
    g1 = cascade.levels[0].generator
    g1(torch.randn(2, g1.z_dim), torch.tensor([0, 1]))
    for lv in cascade.levels:
        lv.generator.to(device)
        lv.freeze()
    return cascade


class _NoiseSpy(nn.Module):
    """Records the noise of every call (the sample's calls have batch ``n``, the statistics passes 2)."""

    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g, self.z_dim, self.num_classes = g, g.z_dim, g.num_classes
        if hasattr(g, "factor_t"):
            self.factor_t = g.factor_t
        self.seen: list[torch.Tensor] = []

    def forward(self, z, y=None, **context):
        self.seen.append(z.clone())
        return self.g(z, y, **context)

    def sampled(self, n: int) -> torch.Tensor:
        return [z for z in self.seen if z.shape[0] == n][-1]


@pytest.fixture
def cascade(device):
    return frozen(tiny_cascade(), device)


# ---------------------------------------------------------------------- temperature / truncation


def test_default_noise_is_the_plain_normal_draw(cascade, device):
    """``truncation=None`` keeps the draws made before the option: labels, then one N(0, I) per level."""
    spies = [_NoiseSpy(lv.sampler) for lv in cascade.levels]
    for lv, spy in zip(cascade.levels, spies):
        lv._sampler = spy
    cascade.generate(3, seed=7, **KW)
    gen = torch.Generator(device=device).manual_seed(7)
    torch.randint(NC, (3,), generator=gen, device=device)
    for spy in spies:
        expected = torch.randn(3, spy.z_dim, generator=gen, device=device)
        assert torch.equal(spy.sampled(3), expected)


def test_scale_applies_sigma_to_every_level(cascade, device):
    spies = [_NoiseSpy(lv.sampler) for lv in cascade.levels]
    for lv, spy in zip(cascade.levels, spies):
        lv._sampler = spy
    cascade.generate(3, seed=7, **KW)
    plain = [s.sampled(3) for s in spies]
    cascade.generate(3, seed=7, truncation=0.5, **KW)
    for z, spy in zip(plain, spies):
        close(spy.sampled(3), 0.5 * z, device)
        assert all(z.abs().max() > 0 for z in spy.seen)  # the statistics passes see the same distribution


def test_unit_scale_equals_default_and_zero_removes_the_noise(cascade, device):
    ref = cascade.generate(2, [0, 1], seed=3, **KW)
    assert torch.equal(cascade.generate(2, [0, 1], seed=3, truncation=1.0, **KW), ref)
    a = cascade.generate(2, [0, 1], seed=3, truncation=0.0, **KW)
    b = cascade.generate(2, [0, 1], seed=4, truncation=0.0, **KW)
    close(a, b, device)  # temperature 0: every level at z = 0, so the seed no longer matters
    assert not torch.allclose(ref, cascade.generate(2, [0, 1], seed=4, **KW))


def test_noise_std_and_truncation_bounds(device):
    gen = torch.Generator(device=device).manual_seed(0)
    z = _noise(20000, 8, gen, 0.5, "scale")
    assert z.device == device and abs(z.std().item() - 0.5) < 0.01
    t = 0.5
    z = _noise(20000, 8, gen, t, "resample")
    assert z.abs().max().item() <= t
    # Standard deviation of N(0, 1) truncated to [-t, t].
    pdf, mass = math.exp(-t * t / 2) / math.sqrt(2 * math.pi), math.erf(t / math.sqrt(2))
    assert abs(z.std().item() - math.sqrt(1 - 2 * t * pdf / mass)) < 0.01
    assert torch.equal(_noise(4, 3, gen, 0.0, "resample"), torch.zeros(4, 3, device=device))


def test_truncation_validates(cascade):
    with pytest.raises(ValueError, match="truncation"):
        cascade.generate(2, truncation=-1.0, **KW)
    with pytest.raises(ValueError, match="truncation_mode"):
        cascade.generate(2, truncation=0.5, truncation_mode="clip", **KW)


def test_stream_takes_the_same_truncation(cascade, device):
    kw = dict(frames=8, seed=2, truncation=0.5, truncation_mode="resample", **KW)
    ref = cascade.generate(2, [0, 1], **kw)
    chunks: list[torch.Tensor] = []
    assert cascade.generate_stream(2, [0, 1], chunk=2, on_chunk=chunks.append, **kw) == 8
    close(torch.cat(chunks, 2), ref, device, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------- random-window protocol


def test_windows_are_sub_windows_of_the_lower_sample(device):
    c = frozen(tiny_cascade(window=2, frames=6), device)
    low_full, _ = c.generate(4, seed=5, return_levels=True, **KW)
    out, low, starts = c.generate_windows(4, seed=5, return_windows=True, **KW)
    assert out.shape == (4, 3, 4, 16, 16) and low.shape == (4, 3, 2, 8, 8) and starts.shape == (4,)
    assert out.device == low.device == starts.device == device and starts.dtype == torch.long
    assert out.abs().max() <= 1
    for i, s in enumerate(starts.tolist()):
        assert 0 <= s <= 6 - 2
        assert torch.equal(low[i], low_full[i, :, s : s + 2])


def test_windows_are_seeded(device):
    c = frozen(tiny_cascade(window=1, frames=8), device)
    a, _, sa = c.generate_windows(6, seed=1, return_windows=True, **KW)
    b, _, sb = c.generate_windows(6, seed=1, return_windows=True, **KW)
    assert torch.equal(a, b) and torch.equal(sa, sb)
    draws = {tuple(c.generate_windows(6, seed=s, return_windows=True, **KW)[2].tolist()) for s in range(2, 6)}
    assert len(draws) > 1
    assert not torch.equal(a, c.generate_windows(6, seed=2, **KW))


def test_windows_length_follows_the_window(cascade):
    assert cascade.generate_windows(2, window=3, **KW).shape == (2, 3, 6, 16, 16)
    with pytest.raises(ValueError, match="at most the 4 frames"):
        cascade.generate_windows(2, window=5, **KW)
    cascade.levels[1].window = None
    with pytest.raises(ValueError, match="give window="):
        cascade.generate_windows(2, **KW)
    with pytest.raises(ValueError, match="upsampling level"):
        Cascade(cascade.levels[:1]).generate_windows(2, **KW)


# ---------------------------------------------------------------------- recurrent (ConvGRU) top level


def gru_cascade(device: torch.device) -> Cascade:
    c = tiny_cascade()
    cfg = UpsamplingGeneratorConfig(ch=2, multipliers=(2, 2, 1), low_size=8, factor_s=2, factor_t=2, frames_in=2,
                                    z_dim=8, class_dim=4, num_classes=NC, recurrent="conv_gru")
    top = c.levels[1]
    c.levels[1] = Level(build_generator(cfg), top.discriminator, factors=ViewFactors(2, 2), window=2,
                        discriminator_config=top.discriminator_config)
    return frozen(Cascade(c.levels), device)


def test_recurrent_top_level_streams_in_one_pass(device):
    c = gru_cascade(device)
    kw = dict(frames=12, seed=3, **KW)
    ref = c.generate(2, [0, 2], **kw)
    assert ref.shape == (2, 3, 12, 16, 16)
    calls: list[torch.Tensor] = []
    top = c.levels[1].sampler
    hook = top.register_forward_pre_hook(lambda m, args, kwargs: calls.append(kwargs["low_res"]), with_kwargs=True)
    chunks: list[torch.Tensor] = []
    try:
        n = c.generate_stream(2, [0, 2], chunk=2, on_chunk=chunks.append, **kw)
    finally:
        hook.remove()
    assert n == 12 and [x.shape[2] for x in chunks] == [4, 4, 4]
    close(torch.cat(chunks, 2), ref, device, atol=1e-5, rtol=1e-5)
    # Statistics pass and sample both ran over all 6 low-resolution frames: no chunk with a halo.
    assert [x.shape[2] for x in calls] == [6, 6]


def test_recurrent_top_level_saves_and_reloads(tmp_path, device):
    c = gru_cascade(device)
    c.save(tmp_path)
    loaded = Cascade.load(tmp_path, device=device)
    assert loaded.levels[1].generator.recurrent and loaded.levels[1].generator_config.recurrent == "conv_gru"
    kw = dict(frames=8, seed=1, **KW)
    close(loaded.generate(2, **kw), c.generate(2, **kw), device)
