"""Spectral-normalised layers: sigma = 1 after convergence, orthogonal init, caching, switches."""

from __future__ import annotations

import copy

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
    group_spectral_norm,
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


class _ThreeLayers(torch.nn.Module):
    """Convolutions and a linear layer; ``reads`` calls of the first conv per forward."""

    def __init__(self, reads: int = 1) -> None:
        super().__init__()
        self.reads = reads
        self.a = SNConv2d(3, 5, 3, padding=1)
        self.c = SNConv3d(5, 5, 1)
        self.b = SNLinear(5, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = sum(self.a(x) for _ in range(self.reads))
        h = self.c(h.unsqueeze(2)).squeeze(2)
        return self.b(h.mean(dim=(2, 3)))


def _sn_states(m: torch.nn.Module) -> list[torch.Tensor]:
    return [b for name, b in m.named_buffers() if name.endswith(("_u", "_v"))]


def test_group_matches_per_weight_spectral_norm(device):
    torch.manual_seed(0)
    ref = _ThreeLayers().double().to(device)
    grouped = group_spectral_norm(copy.deepcopy(ref))
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, device=device)
    for _ in range(3):  # outputs, gradients and the power-iteration state agree step after step
        y_ref, y = ref(x), grouped(x)
        close(y, y_ref, device, rtol=1e-12, atol=1e-12)
        y_ref.square().sum().backward()
        y.square().sum().backward()
        for p_ref, p in zip(ref.parameters(), grouped.parameters()):
            close(p.grad, p_ref.grad, device, rtol=1e-12, atol=1e-12)
        for s_ref, s in zip(_sn_states(ref), _sn_states(grouped)):
            close(s, s_ref, device, rtol=1e-12, atol=1e-12)
        with torch.no_grad():
            for p_ref, p in zip(ref.parameters(), grouped.parameters()):
                p_ref.sub_(0.1 * p_ref.grad)
                p.sub_(0.1 * p.grad)
                p_ref.grad = p.grad = None
    ref.eval()
    grouped.eval()
    close(grouped(x), ref(x), device, rtol=1e-12, atol=1e-12)


def test_group_runs_one_power_iteration_per_call(device):
    torch.manual_seed(0)
    m = group_spectral_norm(_ThreeLayers(reads=3).to(device))
    x = torch.randn(2, 3, 6, 6, device=device)
    u0 = m.a.parametrizations.weight[0]._u.clone()
    m(x)  # the first conv is read three times, its u advances once
    single = _ThreeLayers().to(device)
    single.load_state_dict({k: v for k, v in m.state_dict().items()})
    single.a.parametrizations.weight[0]._u.copy_(u0)
    with spectral_norm_cache():
        _ = single.a.weight
    close(m.a.parametrizations.weight[0]._u, single.a.parametrizations.weight[0]._u, device)
    m(x)
    assert not torch.equal(m.a.parametrizations.weight[0]._u, single.a.parametrizations.weight[0]._u)


def test_group_inside_cache_block_evaluates_once(device):
    m = group_spectral_norm(_ThreeLayers().to(device))
    x = torch.randn(2, 3, 6, 6, device=device)
    with spectral_norm_cache():
        y1 = m(x)
        u1 = m.a.parametrizations.weight[0]._u.clone()
        y2 = m(x)
        (y1.sum() + y2.sum()).backward()
    assert torch.equal(u1, m.a.parametrizations.weight[0]._u)
    close(y1, y2, device)
    assert all(p.grad is not None for p in m.parameters())


def test_group_falls_back_when_frozen_in_part_and_survives_a_copy(device):
    m = group_spectral_norm(_ThreeLayers().to(device))
    freeze_spectral_norm(m.a)
    u = m.a.parametrizations.weight[0]._u.clone()
    v = m.b.parametrizations.weight[0]._u.clone()
    x = torch.randn(2, 3, 6, 6, device=device)
    m(x)
    assert torch.equal(u, m.a.parametrizations.weight[0]._u)
    assert not torch.equal(v, m.b.parametrizations.weight[0]._u)
    twin = copy.deepcopy(m)
    twin.train()
    twin(x).sum().backward()
    assert all(p.grad is not None for p in twin.parameters())
    assert torch.equal(u, m.a.parametrizations.weight[0]._u)  # the copy has its own state
