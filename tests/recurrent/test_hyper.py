"""Kernel hypernetworks (TrIVD-GAN-FP F.1): written-out reference, probabilities, widths, errors."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import close
from tests.recurrent import reference as ref
from vidgan_blocks.layers import freeze_spectral_norm
from vidgan_blocks.recurrent import FactorizedKernelNet, PixelwiseKernelNet


@pytest.mark.parametrize("hw", [(2, 3), (4, 4), (9, 7)])
def test_factorized_matches_reference(hw, device):
    net = freeze_spectral_norm(FactorizedKernelNet(6).double()).to(device)
    z = torch.randn(2, 6, *hw, dtype=torch.float64, device=device)
    out = net(z)
    assert out.shape == (2, 9, *hw)
    close(out, ref.factorized_f(net, z), device)
    close(out.sum(1), torch.ones(2, *hw, dtype=torch.float64, device=device), device)
    assert torch.all(out >= 0)


def test_factorized_widths():
    net = FactorizedKernelNet(128)
    assert net.conv_feat.out_channels == 64 and net.conv_select.out_channels == 9
    assert (net.fc_hidden.in_features, net.fc_hidden.out_features) == (64 * 16, 64)
    assert net.fc_out.out_features == 81


def test_pixelwise_matches_reference(device):
    net = freeze_spectral_norm(PixelwiseKernelNet(6, kernel_size=5).double()).to(device)
    z = torch.randn(2, 6, 4, 5, dtype=torch.float64, device=device)
    out = net(z)
    assert out.shape == (2, 25, 4, 5)
    close(out, ref.pixelwise_f(net, z), device)
    close(out.sum(1), torch.ones(2, 4, 5, dtype=torch.float64, device=device), device)
    assert net.conv_in.out_channels == net.conv_hidden.out_channels == 3


def test_errors():
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\)"):
        FactorizedKernelNet(6)(torch.randn(1, 5, 4, 4))
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\)"):
        PixelwiseKernelNet(6)(torch.randn(1, 5, 4, 4))
    with pytest.raises(ValueError, match="num_kernels"):
        FactorizedKernelNet(6, num_kernels=0)
