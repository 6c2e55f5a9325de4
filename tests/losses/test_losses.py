"""Hinge loss pairs (sign convention pinned) and orthogonal regularisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.helpers import close
from vidgan_blocks.layers import SNConv2d, SNEmbedding, SNLinear
from vidgan_blocks.losses import d_hinge_loss, flatten_outputs, g_hinge_loss, orthogonal_regularization


def test_hinge_hand_computed(device):
    real = torch.tensor([2.0, 0.5, -1.0], device=device)  # relu(1 - r) = 0, 0.5, 2
    fake = torch.tensor([-3.0, 0.0], device=device)  # relu(1 + f) = 0, 1
    assert float(d_hinge_loss(real, fake)) == pytest.approx(2.5 / 3 + 0.5)
    assert float(g_hinge_loss(fake)) == pytest.approx(1.5)


def test_sign_convention_confident_discriminator_has_zero_loss(device):
    real, fake = torch.full((4,), 5.0, device=device), torch.full((4,), -5.0, device=device)
    assert float(d_hinge_loss(real, fake)) == 0.0
    assert float(g_hinge_loss(fake)) == 5.0  # the generator wants fake scores to go up


def test_outputs_are_concatenated_then_averaged(device):
    real = {"spatial": torch.zeros(2, device=device), "temporal": torch.full((2, 3), 2.0, device=device)}
    fake = {"spatial": torch.zeros(2, device=device), "temporal": torch.full((2, 3), -2.0, device=device)}
    # concat: 2 + 6 values; relu(1 - r): two 1s and six 0s -> 2/8; relu(1 + f): two 1s, six 0s -> 2/8
    assert float(d_hinge_loss(real, fake)) == pytest.approx(0.5)
    assert float(d_hinge_loss([real["spatial"], real["temporal"]], [fake["spatial"], fake["temporal"]])) == pytest.approx(0.5)
    assert float(g_hinge_loss(fake)) == pytest.approx(12 / 8)
    assert flatten_outputs(real).shape == (8,)


def test_hinge_gradients(device):
    r = torch.tensor([0.0, 2.0], device=device, requires_grad=True)
    f = torch.tensor([0.0, -2.0], device=device, requires_grad=True)
    d_hinge_loss(r, f).backward()
    close(r.grad, torch.tensor([-0.5, 0.0], device=device), device)
    close(f.grad, torch.tensor([0.5, 0.0], device=device), device)


def test_hinge_errors():
    with pytest.raises(ValueError, match="different discriminators"):
        d_hinge_loss({"a": torch.zeros(1)}, {"b": torch.zeros(1)})
    with pytest.raises(TypeError, match="tensor"):
        g_hinge_loss("x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        g_hinge_loss([])
    with pytest.raises(TypeError, match="floating"):
        g_hinge_loss(torch.zeros(2, dtype=torch.long))


def test_orthogonal_regularization_formula(device):
    lin = nn.Linear(3, 2, bias=False).to(device)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]]))
    # W W^T = [[5, 3], [3, 10]]; off-diagonal squares: 9 + 9
    assert float(orthogonal_regularization(lin, weight=0.5).detach()) == pytest.approx(9.0)


def test_orthogonal_regularization_on_sn_layers_uses_raw_weight_and_skips_embeddings(device):
    net = nn.Sequential(SNConv2d(2, 3, 3), SNLinear(4, 4), SNEmbedding(5, 4)).to(device)
    with torch.no_grad():
        net[1].parametrizations.weight.original.copy_(torch.ones(4, 4))
    val = orthogonal_regularization(net, weight=1.0)
    conv = net[0].parametrizations.weight.original.reshape(3, -1)
    g = conv @ conv.T
    expected = (g - torch.diag(torch.diag(g))).pow(2).sum() + 12 * 16.0
    close(val, expected, device)
    val.backward()
    assert net[1].parametrizations.weight.original.grad is not None
    assert net[2].parametrizations.weight.original.grad is None
    with pytest.raises(ValueError, match="non-negative"):
        orthogonal_regularization(net, weight=-1.0)
