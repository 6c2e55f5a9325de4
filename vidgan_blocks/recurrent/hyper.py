"""Hypernetworks ``f`` that predict warping kernels (TrIVD-GAN-FP appendix F.1).

Both take the concatenation ``z = [h_{t-1}; x_t]`` (``in_channels`` channels)
and return per-pixel kernels ``(B, k*k, H, W)`` for
:func:`vidgan_blocks.ops.kernel_warp`, each a probability vector over the
``k*k`` taps. Every hidden layer, convolutional (channels) or linear (units),
has ``in_channels // 2`` outputs; ReLU sits between layers and a softmax is
applied to the outputs (F.1: "we set the number of output hidden channels (or
units in case of linear layers) to half the number of input channels").

Their first convolutions act on ``z`` directly; a recurrent unit splits those
weights into ``h`` and ``x`` halves and fuses them with its own gate
convolutions (see :mod:`vidgan_blocks.recurrent.base`). ``input_convs`` lists
them, and ``kernels_from(pre)`` finishes the computation from their outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_frames, check_positive_int
from ..layers.spectral import SNConv2d, SNLinear
from ..ops.warp import factorized_kernels

__all__ = ["FactorizedKernelNet", "PixelwiseKernelNet"]


class FactorizedKernelNet(nn.Module):
    """Predicts ``N`` shared kernels and a selection map, combined by eq. 12.

    * kernels: one ``conv_kernel_size`` convolution to ``in_channels // 2``
      channels, ReLU, adaptive max-pooling to ``4 x 4``, an MLP with one hidden
      layer of ``in_channels // 2`` units and ReLU, predicting ``N`` kernels of
      ``k*k`` taps, softmax over the taps of each kernel;
    * selection map ``S``: one convolution of the input to ``N`` channels,
      softmax over the ``N`` kernels at each pixel.

    TrIVD-GAN-FP uses ``N = k*k`` and ``k = 3`` (section 3.2).

    Args:
        in_channels: channels of ``z = [h; x]``.
        kernel_size: ``k`` of the warping kernels.
        num_kernels: ``N``; ``k*k`` when None.
        conv_kernel_size: odd kernel size of both convolutions.
        pool_size: side of the adaptive max-pooling output.
        sn: spectral norm on every convolution and linear layer.
    """

    def __init__(
        self,
        in_channels: int,
        kernel_size: int = 3,
        num_kernels: int | None = None,
        conv_kernel_size: int = 3,
        pool_size: int = 4,
        sn: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        taps = self.kernel_size**2
        self.num_kernels = taps if num_kernels is None else check_positive_int(num_kernels, "num_kernels")
        self.pool_size = check_positive_int(pool_size, "pool_size")
        kc = check_positive_int(conv_kernel_size, "conv_kernel_size")
        hidden = max(1, in_channels // 2)
        flat = hidden * self.pool_size**2
        self.conv_feat = SNConv2d(in_channels, hidden, kc, padding=kc // 2, sn=sn)
        self.conv_select = SNConv2d(in_channels, self.num_kernels, kc, padding=kc // 2, sn=sn)
        # F.1 sets every hidden width, channels or units, to half the hypernetwork's input channels.
        self.fc_hidden = SNLinear(flat, hidden, sn=sn)
        self.fc_out = SNLinear(hidden, taps * self.num_kernels, sn=sn)

    @property
    def input_convs(self) -> list[nn.Conv2d]:
        """Convolutions applied to ``z`` itself, in the order ``kernels_from`` expects them."""
        return [self.conv_feat, self.conv_select]

    def params(self) -> dict[str, torch.Tensor | None]:
        """The normalised weights used after :attr:`input_convs`, read once (reuse them across steps)."""
        return {
            "w1": self.fc_hidden.weight,
            "b1": self.fc_hidden.bias,
            "w2": self.fc_out.weight,
            "b2": self.fc_out.bias,
        }

    def kernels_from(self, pre: torch.Tensor, p: dict[str, torch.Tensor | None] | None = None) -> torch.Tensor:
        """Per-pixel kernels from the (channel-concatenated) outputs of :attr:`input_convs`.

        ``p`` is the result of :meth:`params` (read afresh when None).
        """
        p = self.params() if p is None else p
        feat, select = pre.split([self.conv_feat.out_channels, self.num_kernels], dim=1)
        # ReLU is monotone, so max-pooling first and applying it to the 4x4 result is the
        # same as ReLU then max-pool, at a fraction of the cost.
        pooled = F.relu(F.adaptive_max_pool2d(feat, self.pool_size)).flatten(1)  # [B, hidden*16]
        w = F.linear(F.relu(F.linear(pooled, p["w1"], p["b1"])), p["w2"], p["b2"])
        w = w.view(-1, self.kernel_size**2, self.num_kernels).softmax(dim=1)  # [B, k*k, N]
        s = select.softmax(dim=1)  # [B, N, H, W]
        return factorized_kernels(w, s)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Kernels for input ``z``.

        Shape:
            - z: ``(B, in_channels, H, W)``
            - output: ``(B, k*k, H, W)``
        """
        check_frames(z, "z", channels=self.in_channels)
        pre = torch.cat([c(z) for c in self.input_convs], dim=1)
        return self.kernels_from(pre)


class PixelwiseKernelNet(nn.Module):
    """Resolution-preserving CNN with two hidden layers predicting ``k*k`` taps per pixel.

    ``conv -> ReLU -> conv -> ReLU -> conv -> softmax over taps``, hidden widths
    ``in_channels // 2`` (TrIVD-GAN-FP F.1, the PTSRU hypernetwork).

    Args:
        in_channels: channels of ``z = [h; x]``.
        kernel_size: ``k`` of the warping kernels.
        conv_kernel_size: odd kernel size of the three convolutions.
        sn: spectral norm on every convolution.
    """

    def __init__(self, in_channels: int, kernel_size: int = 3, conv_kernel_size: int = 3, sn: bool = True) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        kc = check_positive_int(conv_kernel_size, "conv_kernel_size")
        hidden = max(1, in_channels // 2)
        self.conv_in = SNConv2d(in_channels, hidden, kc, padding=kc // 2, sn=sn)
        self.conv_hidden = SNConv2d(hidden, hidden, kc, padding=kc // 2, sn=sn)
        self.conv_out = SNConv2d(hidden, self.kernel_size**2, kc, padding=kc // 2, sn=sn)

    @property
    def input_convs(self) -> list[nn.Conv2d]:
        """Convolutions applied to ``z`` itself."""
        return [self.conv_in]

    def params(self) -> dict[str, torch.Tensor | None]:
        """The normalised weights used after :attr:`input_convs`, read once (reuse them across steps)."""
        return {
            "w1": self.conv_hidden.weight,
            "b1": self.conv_hidden.bias,
            "w2": self.conv_out.weight,
            "b2": self.conv_out.bias,
        }

    def kernels_from(self, pre: torch.Tensor, p: dict[str, torch.Tensor | None] | None = None) -> torch.Tensor:
        """Per-pixel kernels from the output of :attr:`input_convs` (``p`` from :meth:`params`)."""
        p = self.params() if p is None else p
        a = F.relu(pre)
        a = F.relu(F.conv2d(a, p["w1"], p["b1"], padding=self.conv_hidden.padding))
        return F.conv2d(a, p["w2"], p["b2"], padding=self.conv_out.padding).softmax(dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Kernels for input ``z``.

        Shape:
            - z: ``(B, in_channels, H, W)``
            - output: ``(B, k*k, H, W)``
        """
        check_frames(z, "z", channels=self.in_channels)
        return self.kernels_from(self.conv_in(z))
