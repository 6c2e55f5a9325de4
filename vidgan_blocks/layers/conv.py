"""Separable 3D convolution (SSW-GAN B.2)."""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int, check_video
from .spectral import SNConv3d

__all__ = ["SeparableConv3d"]


class SeparableConv3d(nn.Module):
    """A temporal 1D convolution followed by a spatial 2D convolution.

    SSW-GAN B.2 replaces the ConvGRU of the upsampling stages by "a Separable 3D
    convolution": first over time with a kernel of size 3, then over space with a
    3x3 kernel. Both are stride 1 with "same" zero padding, so the output has the
    input's T, H and W; in time it behaves like any convolution, which is what lets
    an upsampling level run over inputs of any length (convolutional unrolling).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_t: temporal kernel size (odd).
        kernel_s: spatial kernel size (odd).
        mid_channels: channels between the two convolutions (default ``out_channels``).
        sn: spectral norm on both convolutions.
        bias: biases on both convolutions.

    Shape:
        - x: ``(B, C_in, T, H, W)``
        - output: ``(B, C_out, T, H, W)``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_t: int = 3,
        kernel_s: int = 3,
        mid_channels: int | None = None,
        sn: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        for k, name in ((kernel_t, "kernel_t"), (kernel_s, "kernel_s")):
            if check_positive_int(k, name) % 2 == 0:
                raise ValueError(f"{name}: expected an odd kernel size, got {k}")
        mid = out_channels if mid_channels is None else check_positive_int(mid_channels, "mid_channels")
        self.temporal = SNConv3d(in_channels, mid, (kernel_t, 1, 1), padding=(kernel_t // 2, 0, 0), bias=bias, sn=sn)
        self.spatial = SNConv3d(mid, out_channels, (1, kernel_s, kernel_s), padding=(0, kernel_s // 2, kernel_s // 2), bias=bias, sn=sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.in_channels)
        return self.spatial(self.temporal(x))
