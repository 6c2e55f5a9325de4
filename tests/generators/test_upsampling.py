"""UpsamplingGenerator: shapes, convolutional unrolling in time, per-frame statistics, skips."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.generators._toy import missing_grads_except_pre_norm_bias
from tests.helpers import close
from vidgan_blocks.blocks import LowResSkip
from vidgan_blocks.generators import UpsamplingGenerator, UpsamplingUnit, reset_frame_stats


def tiny(**kw):
    args = dict(z_dim=5, low_size=4, factor_s=2, factor_t=2)
    args.update(kw)
    return UpsamplingGenerator(2, (4, 4, 2), **args)


def test_sizes_follow_factors(device):
    g = tiny().to(device)
    # Two units, the last one does not upsample: stem 8 / 2 = 4, output 8.
    assert (g.base_size, g.resolution, g.low_size) == (4, 8, 4)
    v = g(torch.randn(2, 5, device=device), low_res=torch.rand(2, 3, 3, 4, 4, device=device) * 2 - 1)
    assert v.shape == (2, 3, 6, 8, 8)
    assert torch.isfinite(v).all() and v.abs().max() <= 1


@pytest.mark.parametrize("fs,ft,low", [(2, 1, 4), (4, 2, 2), (2, 3, 8)])
def test_shape_grid(fs, ft, low, device):
    g = UpsamplingGenerator(2, (4, 2, 2), z_dim=3, low_size=low, factor_s=fs, factor_t=ft).to(device)
    v = g(torch.randn(1, 3, device=device), low_res=torch.randn(1, 3, 2, low, low, device=device))
    assert v.shape == (1, 3, 2 * ft, low * fs, low * fs)


def test_longer_input_gives_longer_output(device):
    g = tiny().to(device)
    window = g(torch.randn(2, 5, device=device), low_res=torch.randn(2, 3, 2, 4, 4, device=device))
    # Per-step statistics are re-estimated at the new length (standing statistics), then eval.
    reset_frame_stats(g, 16)
    with torch.no_grad():
        g(torch.randn(2, 5, device=device), low_res=torch.randn(2, 3, 8, 4, 4, device=device))
    g.eval()
    full = g(torch.randn(2, 5, device=device), low_res=torch.randn(2, 3, 8, 4, 4, device=device))
    assert window.shape == (2, 3, 4, 8, 8) and full.shape == (2, 3, 16, 8, 8)
    assert torch.isfinite(full).all()


def test_time_steps_independent_beyond_receptive_field(device):
    """Per-frame BN: editing early input frames leaves far output frames unchanged (training mode)."""
    g = tiny(factor_t=1).to(device)
    z = torch.randn(3, 5, device=device)
    low = torch.randn(3, 3, 12, 4, 4, device=device)
    edited = low.clone()
    edited[:, :, :2] = torch.randn(3, 3, 2, 4, 4, device=device)
    a, b = g(z, low_res=low), g(z, low_res=edited)
    # Each unit has one separable 3D block (two temporal convs of size 3): reach 2 frames per unit.
    reach = 2 * len(g.units)
    close(a[:, :, 2 + reach :], b[:, :, 2 + reach :], device)
    assert not torch.allclose(a[:, :, :2], b[:, :, :2])


def test_time_stats_not_pooled_over_time(device):
    """Statistics pooled over time would let a frame's edit reach every frame; check a plain reference."""
    g = tiny(factor_t=1).to(device)
    norm = g.units[1].blocks[1].norm1
    x = torch.randn(4, norm.num_features, 5, 2, 2, device=device)
    x[:, :, 0] *= 100.0
    y = norm(x, torch.zeros(4, norm.cond_dim, device=device))
    ref = (x - x.mean(dim=(0, 3, 4), keepdim=True)) / torch.sqrt(x.var(dim=(0, 3, 4), unbiased=False, keepdim=True) + norm.eps)
    close(y, ref, device, atol=1e-4, rtol=1e-4)


def test_no_skip_above_input_resolution():
    g = UpsamplingGenerator(2, (4, 4, 2, 2), z_dim=3, low_size=4, factor_s=4)  # 4 -> 16, stem 4
    # Unit 0 at 4x4: 3D block, block 1 (4x4) skip; block 2 upsamples to 8x8: no skip.
    assert g.units[0].skip_after == [0, 1]
    assert g.units[1].skip_after == [] and g.units[2].skip_after == []
    for u in g.units:
        for s in u.skips:
            assert isinstance(s, LowResSkip)


def test_skip_adds_resized_input(device):
    """With zero conditional features the skip is exactly the 1x1 projection of the repeated input."""
    unit = UpsamplingUnit(4, 4, 3, size=2, low_size=4, num_blocks=1, upsample=False, sn=False).to(device)
    low = torch.randn(1, 3, 2, 4, 4, device=device)
    x = torch.randn(1, 4, 4, 2, 2, device=device)
    cond = torch.randn(1, 3, device=device)
    full = unit(x, low, cond)
    h = unit.blocks[0](x, cond) + unit.skips[0](low, (4, 2, 2))
    ref = unit.blocks[1](h, cond) + unit.skips[1](low, (4, 2, 2))
    close(full, ref, device)
    near = low[:, :, :, ::2, ::2].repeat_interleave(2, dim=2)  # nearest 2x downsample, repeat x2 in time
    w = unit.skips[0].proj.weight[:, :, 0, 0, 0]
    close(unit.skips[0](low, (4, 2, 2)), torch.einsum("oc,bcthw->bothw", w, near) + unit.skips[0].proj.bias.view(1, -1, 1, 1, 1),
          device)


@pytest.mark.parametrize("variant", ["separable", "conv_gru"])
def test_every_parameter_gets_a_gradient(device, variant):
    g = (tiny if variant == "separable" else tiny_gru)(num_classes=2, class_dim=3).to(device)
    g(torch.randn(2, 5, device=device), torch.tensor([0, 1], device=device),
      low_res=torch.randn(2, 3, 2, 4, 4, device=device)).square().mean().backward()
    assert missing_grads_except_pre_norm_bias(g) == []


def test_input_checks():
    g = tiny()
    with pytest.raises(ValueError, match=r"low_res: expected spatial size \(H, W\) = \(4, 4\)"):
        g(torch.randn(2, 5), low_res=torch.randn(2, 3, 2, 8, 8))
    with pytest.raises(ValueError, match="C=3"):
        g(torch.randn(2, 5), low_res=torch.randn(2, 1, 2, 4, 4))
    with pytest.raises(ValueError, match="batch size 2"):
        g(torch.randn(3, 5), low_res=torch.randn(2, 3, 2, 4, 4))
    with pytest.raises(TypeError):
        g(torch.randn(2, 5))  # low_res is required
    with pytest.raises(ValueError, match="at most one"):
        UpsamplingGenerator(2, (4, 2), base_size=4, low_size=4)
    with pytest.raises(ValueError, match="not divisible"):
        UpsamplingGenerator(2, (4, 2, 2), low_size=3, factor_s=3)


@settings(max_examples=12)
@given(low=st.sampled_from([2, 4, 8]), fs=st.sampled_from([1, 2, 4]), n=st.integers(2, 4), up_last=st.booleans())
def test_size_bookkeeping(low, fs, n, up_last):
    n_up = n - 1 if up_last else n - 2
    out = low * fs
    mults = (8,) * n
    if out % 2**n_up:
        with pytest.raises(ValueError):
            UpsamplingGenerator(1, mults, low_size=low, factor_s=fs, upsample_last_unit=up_last, sn=False)
        return
    g = UpsamplingGenerator(1, mults, low_size=low, factor_s=fs, upsample_last_unit=up_last, sn=False)
    assert g.resolution == out and g.base_size * 2**n_up == out and g.low_size == low
    # Skips exist exactly at blocks whose output is not larger than the input.
    size = g.base_size
    for u in g.units:
        sizes = [size] + [size] * (len(u.blocks) - 2) + [size * 2 if u.upsample else size]
        assert u.skip_after == [j for j, s in enumerate(sizes) if s <= low and low % s == 0]
        size = sizes[-1]


# ---------------------------------------------------------------------- ConvGRU variant (SSW-GAN / HVG appendix C)


def tiny_gru(**kw):
    from vidgan_blocks.recurrent import ConvGRU

    return tiny(recurrent_layer=ConvGRU, **kw)


def test_conv_gru_variant_replaces_the_3d_block(device):
    from vidgan_blocks.blocks import GBlock3d
    from vidgan_blocks.recurrent import ConvGRU

    g = tiny_gru().to(device)
    assert g.recurrent and not tiny().recurrent
    assert not any(isinstance(m, GBlock3d) for m in g.modules())
    for unit in g.units:
        rnn = unit.blocks[0].rnn
        assert isinstance(rnn, ConvGRU) and rnn.in_channels == rnn.hidden_channels == unit.in_channels
    assert g.units[0].skip_after[:1] == [0]  # a low-res skip follows the recurrent layer, as it follows the 3D block
    v = g(torch.randn(2, 5, device=device), low_res=torch.rand(2, 3, 3, 4, 4, device=device) * 2 - 1)
    assert v.shape == (2, 3, 6, 8, 8) and torch.isfinite(v).all() and v.abs().max() <= 1


def test_conv_gru_variant_is_causal_with_unbounded_reach(device):
    """Per-frame layers around a recurrence: an early edit reaches every later frame, a late one no earlier frame."""
    g = tiny_gru(factor_t=1).to(device)
    z = torch.randn(3, 5, device=device)
    low = torch.randn(3, 3, 12, 4, 4, device=device)
    early, late = low.clone(), low.clone()
    early[:, :, :1] = torch.randn(3, 3, 1, 4, 4, device=device)
    late[:, :, 10:] = torch.randn(3, 3, 2, 4, 4, device=device)
    a = g(z, low_res=low)
    close(g(z, low_res=late)[:, :, :10], a[:, :, :10], device)
    assert not torch.allclose(g(z, low_res=early)[:, :, -1], a[:, :, -1])  # 11 frames away: beyond any 3D block


def test_conv_gru_variant_config_round_trip_rebuilds_it():
    from vidgan_blocks.generators import (
        UpsamplingGeneratorConfig,
        build_generator,
        cascade_upsampling_generator,
        config_from_json,
    )

    cfg = UpsamplingGeneratorConfig(ch=2, multipliers=(2, 2, 1), low_size=4, factor_s=2, z_dim=5, recurrent="conv_gru")
    assert '"recurrent": "conv_gru"' in cfg.to_json()
    g = build_generator(config_from_json(cfg.to_json()))
    assert g.config == cfg and g.recurrent
    h = build_generator(config_from_json(g.config.to_json()))
    h.load_state_dict(g.state_dict())
    # A config saved before the field existed has no "recurrent" entry: the separable model.
    old = {k: v for k, v in cfg.to_dict().items() if k != "recurrent"}
    assert not build_generator(UpsamplingGeneratorConfig.from_dict(old)).recurrent
    assert cascade_upsampling_generator("kinetics", 2, ch=1, recurrent="conv_gru").config.recurrent == "conv_gru"
    with pytest.raises(ValueError, match="recurrent: expected one of"):
        build_generator(UpsamplingGeneratorConfig(recurrent="gru"))


def test_recurrent_layer_must_keep_the_width():
    from vidgan_blocks.recurrent import ConvGRU

    with pytest.raises(ValueError, match="recurrent: expected a layer from 4 to 4 channels"):
        UpsamplingUnit(4, 4, 5, size=4, low_size=4, recurrent=ConvGRU(4, 6))
