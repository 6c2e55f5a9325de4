from __future__ import annotations

import pytest
import torch
from torch import nn

from vidgan_blocks.layers import SNConv2d, SNConv3d
from vidgan_blocks.ops import channels_last, is_channels_last


def test_tensors_take_the_format_of_their_rank(device):
    x4, x5, x3 = (torch.randn(*s, device=device) for s in ((2, 3, 4, 5), (2, 3, 4, 5, 6), (2, 3, 4)))
    assert channels_last(x4).is_contiguous(memory_format=torch.channels_last)
    assert channels_last(x5).is_contiguous(memory_format=torch.channels_last_3d)
    assert channels_last(x3) is x3
    assert torch.equal(channels_last(x5), x5) and not is_channels_last(x5) and is_channels_last(channels_last(x5))


def test_modules_are_converted_in_place_keeping_parameter_identity_and_values(device):
    m = nn.Sequential(SNConv2d(3, 4, 3, padding=1), SNConv3d(4, 4, 3, padding=1), nn.Linear(4, 2)).to(device)
    params = list(m.parameters())
    before = [p.detach().clone() for p in params]
    opt = torch.optim.Adam(m.parameters())
    assert channels_last(m) is m and is_channels_last(m)
    assert all(a is b for a, b in zip(params, m.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(before, params, strict=True))
    x = channels_last(torch.randn(2, 3, 5, 5, device=device))
    y = m[1](m[0](x).unsqueeze(2))
    y.square().mean().backward()
    opt.step()  # the optimiser built before the conversion still updates the same tensors
    assert not all(torch.equal(a, b) for a, b in zip(before, params, strict=True))


def test_bad_input_is_rejected():
    with pytest.raises(TypeError, match=r"channels_last: expected a torch.Tensor or nn.Module, got list"):
        channels_last([torch.zeros(1)])
    with pytest.raises(TypeError, match="is_channels_last"):
        is_channels_last(3)
