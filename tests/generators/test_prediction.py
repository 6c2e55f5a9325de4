"""FramePredictionGenerator, its encoder trunk and the U-Net skip."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.generators._toy import ToyUnit, missing_grads_except_pre_norm_bias, open_attention
from tests.helpers import close, gradcheck
from vidgan_blocks.blocks import DBlock
from vidgan_blocks.generators import ConditioningSkip, FrameEncoder, FramePredictionGenerator, encoder_trunk
from vidgan_blocks.layers import freeze_spectral_norm


def tiny(**kw):
    args = dict(z_dim=5, cond_frames=2, encoder_ch=1, encoder_multipliers=(2, 4, 8, 8), frames=3, recurrent_channels=8)
    args.update(kw)
    # 4x4 stem -> 8 -> 16 -> 32; encoder on 32x32: 16, 8, 4, 4.
    return FramePredictionGenerator(4, (8, 4, 4, 2), ToyUnit, **args)


def test_encoder_trunk_is_a_discriminator_trunk(device):
    blocks = encoder_trunk(2, (1, 2, 4))
    assert all(isinstance(b, DBlock) for b in blocks)
    assert [b.out_channels for b in blocks] == [2, 4, 8]
    assert [b.downsample for b in blocks] == [True, True, False]
    assert [b.preactivation for b in blocks] == [False, True, True]
    enc = FrameEncoder(2, (1, 2, 4)).to(device)
    feats = enc(torch.randn(2, 3, 5, 16, 16, device=device))
    assert [tuple(f.shape) for f in feats] == [(2, 2, 5, 8, 8), (2, 4, 5, 4, 4), (2, 8, 5, 4, 4)]
    assert enc.sizes(16) == [8, 4, 4]


def test_encoder_processes_frames_separately(device):
    enc = FrameEncoder(1, (2, 2)).to(device)
    x = torch.randn(2, 3, 3, 8, 8, device=device)
    y = x.clone()
    y[:, :, 0] = torch.randn(2, 3, 8, 8, device=device)
    a, b = enc(x)[-1], enc(y)[-1]
    close(a[:, :, 1:], b[:, :, 1:], device)


def test_conditioning_skip_matches_concat_conv(device):
    skip = ConditioningSkip(3, 4).double().to(device)
    x = torch.randn(2, 3, 5, 6, 6, dtype=torch.float64, device=device)
    e = torch.randn(2, 4, 6, 6, dtype=torch.float64, device=device)
    out = skip(x, e)
    w, bias = skip.conv.weight.detach(), skip.conv.bias
    ref = torch.stack(
        [F.conv2d(torch.cat([x[:, :, t], e], dim=1), w, bias, padding=1) for t in range(x.shape[2])], dim=2
    )
    close(out, ref, device)


def test_conditioning_skip_gradcheck(device):
    skip = freeze_spectral_norm(ConditioningSkip(2, 3).double()).to(device)
    x = torch.randn(1, 2, 2, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
    e = torch.randn(1, 3, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(skip, (x, e), device)


def test_conditioning_skip_checks_shapes():
    skip = ConditioningSkip(3, 4)
    with pytest.raises(ValueError, match=r"e: expected shape \(2, 4, 6, 6\), got \(2, 4, 5, 5\)"):
        skip(torch.randn(2, 3, 1, 6, 6), torch.randn(2, 4, 5, 5))


def test_layout_states_and_skips():
    g = tiny()
    assert g.resolution == 32 and g.encoder.sizes(32) == [16, 8, 4, 4]
    # One recurrent layer at 4x4 fed by the last encoder block (frames folded into channels).
    assert list(g.state_convs) == ["0"] and g._state_source["0"] == 3
    conv = g.state_convs["0"][0]
    assert conv.in_channels == 8 * 2 and conv.out_channels == 8 and conv.kernel_size == (1, 1)
    # Skips after units whose output size the encoder has: 8 and 16 (not 32).
    assert sorted(g.skips) == ["0", "1"]
    assert g._skip_source == {"0": 1, "1": 0}


def test_forward_shape_range_and_gradients(device):
    g = open_attention(tiny()).to(device)
    cond = torch.rand(2, 3, 2, 32, 32, device=device) * 2 - 1
    v = g(torch.randn(2, 5, device=device), cond_frames=cond)
    assert v.shape == (2, 3, 3, 32, 32)
    assert torch.isfinite(v).all() and v.abs().max() <= 1
    v.square().mean().backward()
    assert missing_grads_except_pre_norm_bias(g) == []


def test_output_depends_on_conditioning_frames(device):
    g = tiny(unet_skips=False).to(device)
    z = torch.randn(2, 5, device=device)
    a = g(z, cond_frames=torch.randn(2, 3, 2, 32, 32, device=device))
    b = g(z, cond_frames=torch.randn(2, 3, 2, 32, 32, device=device))
    assert not torch.allclose(a, b)


def test_every_recurrent_layer_gets_a_state(device):
    g = FramePredictionGenerator(
        2, (4, 4, 2), ToyUnit, z_dim=3, cond_frames=1, encoder_ch=1, encoder_multipliers=(2, 2, 2),
        recurrent_every_unit=True, attention=False, separable_attention=False, frames=2, state_kernel=3,
    ).to(device)
    assert sorted(g.state_convs) == ["0", "1"]  # RNNs at 4x4 and 8x8
    seen = {}
    for i, unit in enumerate(g.units):
        unit.recurrent.register_forward_hook(lambda m, args, out, i=i: seen.__setitem__(i, args[1]))
    g(torch.randn(2, 3, device=device), cond_frames=torch.randn(2, 3, 1, 16, 16, device=device))
    assert seen[0].shape == (2, 8, 4, 4) and seen[1].shape == (2, 8, 8, 8)
    assert all((s >= 0).all() for s in seen.values())  # conv + ReLU


def test_missing_encoder_resolution_is_reported():
    with pytest.raises(ValueError, match="no block produces the 4x4 features"):
        FramePredictionGenerator(2, (4, 4), ToyUnit, cond_frames=1, encoder_ch=1, encoder_multipliers=(2,))


def test_rejects_wrong_conditioning_frames():
    g = tiny()
    z = torch.randn(2, 5)
    with pytest.raises(ValueError, match=r"cond_frames: expected spatial size \(H, W\) = \(32, 32\), got shape \(2, 3, 2, 16, 16\)"):
        g(z, cond_frames=torch.randn(2, 3, 2, 16, 16))
    with pytest.raises(ValueError, match="expected T=2 frames"):
        g(z, cond_frames=torch.randn(2, 3, 3, 32, 32))
    with pytest.raises(ValueError, match="C=3"):
        g(z, cond_frames=torch.randn(2, 1, 2, 32, 32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        g(z, cond_frames=[1, 2])
    with pytest.raises(ValueError, match="batch size 3"):
        g(torch.randn(2, 5), cond_frames=torch.randn(3, 3, 2, 32, 32))


def test_return_motion(device):
    g = tiny().to(device)
    v, motion = g(torch.randn(2, 5, device=device), cond_frames=torch.randn(2, 3, 2, 32, 32, device=device), frames=4,
                  return_motion=True)
    assert v.shape[2] == 4
    assert [tuple(m.shape) for m in motion] == [(2, 9, 4, 4, 4)]
