"""DVDGenerator, CascadeFirstLevelGenerator and GeneratorUnit at tiny sizes, with a toy recurrent unit."""

from __future__ import annotations

import pytest
import torch

from tests.generators._toy import ToyUnit, open_attention
from tests.generators._toy import missing_grads_except_pre_norm_bias
from tests.helpers import close
from vidgan_blocks.generators import (
    CascadeFirstLevelGenerator,
    DVDGenerator,
    GeneratorUnit,
    reset_frame_stats,
)
from vidgan_blocks.layers import FrameBatchNorm


def tiny_dvd(**kw):
    args = dict(z_dim=6, num_classes=3, class_dim=4, frames=3)
    args.update(kw)
    return DVDGenerator(4, (4, 4, 2), ToyUnit, **args)


@pytest.mark.parametrize("b,t", [(1, 1), (2, 3), (3, 2)])
@pytest.mark.parametrize("upsample_last", [True, False])
def test_dvd_shape_grid(b, t, upsample_last, device):
    g = tiny_dvd(upsample_last_unit=upsample_last).to(device)
    v = g(torch.randn(b, 6, device=device), torch.randint(3, (b,), device=device), frames=t)
    size = 16 if upsample_last else 8
    assert v.shape == (b, 3, t, size, size)
    assert g.resolution == size
    assert torch.isfinite(v).all() and v.abs().max() <= 1


def test_dvd_default_frames_and_ignored_context(device):
    g = tiny_dvd().to(device)
    assert g(torch.randn(2, 6, device=device), torch.tensor([0, 1], device=device), unknown_context=1).shape[2] == 3


def test_dvd_every_parameter_gets_a_gradient(device):
    g = open_attention(tiny_dvd()).to(device)
    g(torch.randn(2, 6, device=device), torch.tensor([0, 2], device=device)).square().mean().backward()
    assert missing_grads_except_pre_norm_bias(g) == []


def test_dvd_layout_follows_dvd_gan():
    g = DVDGenerator(2, (8, 8, 4, 4), ToyUnit, z_dim=4)
    # Recurrent layer and full attention only in the first unit; separable attention before the last block.
    assert g.units[0].recurrent is not None and g.units[0].attention is not None
    assert all(u.recurrent is None and u.attention is None for u in g.units[1:])
    assert g.units[-1].late_attention is not None and all(u.late_attention is None for u in g.units[:-1])
    assert [len(u.blocks) for u in g.units] == [2, 2, 2]
    # Only the last block of a unit upsamples; the first one changes the width.
    for u in g.units:
        assert [b.upsample for b in u.blocks] == [False, True]
        assert u.blocks[0].out_channels == u.out_channels


def test_recurrent_channels_override_width(device):
    g = DVDGenerator(2, (8, 4), ToyUnit, z_dim=4, recurrent_channels=12, attention=False, separable_attention=False)
    assert g.units[0].recurrent.hidden_channels == 12
    assert g.units[0].blocks[0].in_channels == 12
    assert g.to(device)(torch.randn(2, 4, device=device), frames=2).shape == (2, 3, 2, 8, 8)


def test_frame_conv_restores_width(device):
    g = DVDGenerator(2, (4, 4), ToyUnit, z_dim=4, recurrent_channels=6, frame_conv=True, attention=False, separable_attention=False)
    assert g.units[0].frame_conv.in_channels == 6 and g.units[0].frame_conv.out_channels == 8
    assert g.to(device)(torch.randn(1, 4, device=device), frames=2).shape == (1, 3, 2, 8, 8)


def test_cascade_first_level_layout(device):
    g = CascadeFirstLevelGenerator(2, (8, 8, 4, 2), ToyUnit, z_dim=5, frames=2).to(device)
    assert isinstance(g, DVDGenerator)
    assert all(u.recurrent is not None for u in g.units)
    assert all(u.attention is None and u.late_attention is None for u in g.units)
    assert [u.upsample for u in g.units] == [True, True, False]
    v = g(torch.randn(2, 5, device=device))
    assert v.shape == (2, 3, 2, 16, 16)
    v.mean().backward()
    assert missing_grads_except_pre_norm_bias(g) == []


def test_labels_are_validated():
    g = tiny_dvd()
    with pytest.raises(ValueError, match=r"y: expected class labels of shape \(2,\)"):
        g(torch.randn(2, 6))
    with pytest.raises(ValueError, match="int64 labels"):
        g(torch.randn(2, 6), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"z: expected a float tensor of shape \(B, 6\)"):
        g(torch.randn(2, 5), torch.tensor([0, 1]))
    u = tiny_dvd(num_classes=None)
    with pytest.raises(ValueError, match="unconditional"):
        u(torch.randn(2, 6), torch.tensor([0, 1]))


def test_dummy_class_defaults_to_zero(device):
    g = tiny_dvd(num_classes=1).eval().to(device)
    reset_frame_stats(g, 3)
    z = torch.randn(2, 6, device=device)
    close(g(z), g(z, torch.zeros(2, dtype=torch.long, device=device)), device)


def test_class_changes_output(device):
    g = tiny_dvd().to(device)
    z = torch.randn(1, 6, device=device).expand(2, 6)
    v = g(z, torch.tensor([0, 1], device=device))
    assert not torch.allclose(v[0], v[1])


def test_reset_frame_stats_allows_eval_at_new_length(device):
    g = tiny_dvd().to(device)
    y = torch.tensor([0, 1], device=device)
    g(torch.randn(2, 6, device=device), y)
    g.eval()
    with pytest.raises(ValueError, match="re-estimate"):
        g(torch.randn(2, 6, device=device), y, frames=5)
    reset_frame_stats(g, 5)
    norms = [m for m in g.modules() if isinstance(m, FrameBatchNorm)]
    assert norms and all(m.frames == 5 for m in norms)
    g.train()
    with torch.no_grad():
        g(torch.randn(2, 6, device=device), y, frames=5)
    g.eval()
    assert g(torch.randn(2, 6, device=device), y, frames=5).shape[2] == 5


def test_motion_fields_collects_kernels(device):
    g = tiny_dvd().to(device)
    assert g.motion_fields() == []
    g(torch.randn(2, 6, device=device), torch.tensor([0, 1], device=device), frames=4)
    (k,) = g.motion_fields()
    assert k.shape == (2, 9, 4, 4, 4)


def test_unit_forward_checks_input():
    u = GeneratorUnit(8, 4, 5, recurrent=None, num_blocks=1)
    with pytest.raises(ValueError, match=r"expected \(B, 8, T, H, W\) with C=8"):
        u(torch.randn(1, 7, 2, 4, 4), torch.randn(1, 5))
    with pytest.raises(ValueError, match="5-D"):
        u(torch.randn(1, 8, 4, 4), torch.randn(1, 5))


def test_bad_multipliers():
    with pytest.raises(ValueError, match="at least 2 entries"):
        DVDGenerator(2, (8,), ToyUnit)
    with pytest.raises(ValueError):
        DVDGenerator(2, (8, 0), ToyUnit)
