"""Spectral-normalised layers: sigma = 1 after convergence, orthogonal init, caching, switches."""

from __future__ import annotations

import pytest
import torch

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
def test_power_iteration_converges_to_unit_sigma(layer):
    m = layer()
    assert has_spectral_norm(m)
    with torch.no_grad():
        m.parametrizations.weight.original.mul_(3.7)
    m.train()
    for _ in range(30):
        _ = m.weight  # each access in training mode runs one power iteration
    assert top_singular_value(m.weight) == pytest.approx(1.0, rel=1e-3)


def test_orthogonal_init_and_switch():
    m = SNLinear(8, 8, sn=False)
    assert not has_spectral_norm(m)
    torch.testing.assert_close(m.weight @ m.weight.T, torch.eye(8), atol=1e-5, rtol=0)
    assert torch.count_nonzero(m.bias) == 0
    conv = orthogonal_init_(torch.nn.Conv2d(2, 3, 3))
    flat = conv.weight.reshape(3, -1)
    torch.testing.assert_close(flat @ flat.T, torch.eye(3), atol=1e-5, rtol=0)


def test_cache_runs_one_power_iteration_per_block():
    m = SNConv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 5, 5)
    u0 = m.parametrizations.weight[0]._u.clone()
    with spectral_norm_cache():
        y1 = m(x)
        u1 = m.parametrizations.weight[0]._u.clone()
        y2 = m(x)
        u2 = m.parametrizations.weight[0]._u.clone()
        (y1.sum() + y2.sum()).backward()
    assert not torch.equal(u0, u1)
    assert torch.equal(u1, u2)
    torch.testing.assert_close(y1, y2)
    assert m.parametrizations.weight.original.grad is not None


def test_uncached_calls_advance_u_each_time():
    m = SNConv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 5, 5)
    m(x)
    u1 = m.parametrizations.weight[0]._u.clone()
    m(x)
    assert not torch.equal(u1, m.parametrizations.weight[0]._u)


def test_freeze_keeps_u_fixed_but_not_module_mode():
    net = torch.nn.Sequential(SNConv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4))
    freeze_spectral_norm(net)
    assert net.training and net[1].training
    u = net[0].parametrizations.weight[0]._u.clone()
    net(torch.randn(2, 3, 4, 4))
    assert torch.equal(u, net[0].parametrizations.weight[0]._u)


def test_gradcheck_frozen():
    m = freeze_spectral_norm(SNConv2d(2, 3, 3, padding=1).double())
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(m, (x,))
