"""Spectral-normalised layers: sigma = 1 after convergence, orthogonal init, caching, switches."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import close, gradcheck
from vidgan_blocks.layers import (
    SNConv1d,
    SNConv2d,
    SNConv3d,
    SNEmbedding,
    SNLinear,
    freeze_spectral_norm,
    has_spectral_norm,
    orthogonal_init_,
    spectral_norm_cache,
)


def top_singular_value(w: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(w.detach().reshape(w.shape[0], -1), ord=2))


@pytest.mark.parametrize(
    "layer",
    [
        lambda: SNConv2d(4, 6, 3, padding=1),
        lambda: SNConv3d(4, 6, 3, padding=1),
        lambda: SNConv1d(4, 6, 3, padding=1),
        lambda: SNLinear(7, 5),
        lambda: SNEmbedding(5, 8),
    ],
)
def test_power_iteration_converges_to_unit_sigma(layer, device):
    m = layer().to(device)
    assert has_spectral_norm(m)
    with torch.no_grad():
        m.parametrizations.weight.original.mul_(3.7)
    m.train()
    for _ in range(30):
        _ = m.weight  # each access in training mode runs one power iteration
    assert top_singular_value(m.weight) == pytest.approx(1.0, rel=1e-3)


def test_orthogonal_init_and_switch(device):
    m = SNLinear(8, 8, sn=False).to(device)
    assert not has_spectral_norm(m)
    close(m.weight @ m.weight.T, torch.eye(8, device=device), device, atol=1e-5, rtol=0)
    assert torch.count_nonzero(m.bias) == 0
    conv = orthogonal_init_(torch.nn.Conv2d(2, 3, 3)).to(device)
    flat = conv.weight.reshape(3, -1)
    close(flat @ flat.T, torch.eye(3, device=device), device, atol=1e-5, rtol=0)


def test_cache_runs_one_power_iteration_per_block(device):
    m = SNConv2d(3, 4, 3, padding=1).to(device)
    x = torch.randn(2, 3, 5, 5, device=device)
    u0 = m.parametrizations.weight[0]._u.clone()
    with spectral_norm_cache():
        y1 = m(x)
        u1 = m.parametrizations.weight[0]._u.clone()
        y2 = m(x)
        u2 = m.parametrizations.weight[0]._u.clone()
        (y1.sum() + y2.sum()).backward()
    assert not torch.equal(u0, u1)
    assert torch.equal(u1, u2)
    close(y1, y2, device)
    assert m.parametrizations.weight.original.grad is not None


def test_uncached_calls_advance_u_each_time(device):
    m = SNConv2d(3, 4, 3, padding=1).to(device)
    x = torch.randn(2, 3, 5, 5, device=device)
    m(x)
    u1 = m.parametrizations.weight[0]._u.clone()
    m(x)
    assert not torch.equal(u1, m.parametrizations.weight[0]._u)


def test_freeze_keeps_u_fixed_but_not_module_mode(device):
    net = torch.nn.Sequential(SNConv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4)).to(device)
    freeze_spectral_norm(net)
    assert net.training and net[1].training
    u = net[0].parametrizations.weight[0]._u.clone()
    net(torch.randn(2, 3, 4, 4, device=device))
    assert torch.equal(u, net[0].parametrizations.weight[0]._u)


def test_gradcheck_frozen(device):
    m = freeze_spectral_norm(SNConv2d(2, 3, 3, padding=1).double()).to(device)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(m, (x,), device)
