"""Residual skips from the low-resolution input of an upsampling level (SSW-GAN B.2)."""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int, check_video
from ..layers.spectral import SNConv3d
from ..ops.views import spatial_downsample, temporal_repeat

__all__ = ["LowResSkip"]


class LowResSkip(nn.Module):
    """Project the low-resolution input video onto a generator unit's features.

    SSW-GAN B.2 adds, at the end of each block of an upsampling generator, a
    residual from the low-resolution window ``x^{l-1}_w``: nearest-neighbour spatial
    resizing to the block's resolution, nearest temporal interpolation (repetition)
    up to the block's number of frames, and a linear 1x1 convolution to the block's
    channels. No such skip is added to feature maps larger than the input ("We do
    not add residual connections to feature maps with spatial resolutions greater
    than the resolution of x^{l-1}_w"): this module refuses them.

    Args:
        in_channels: channels of the low-resolution video (3 for RGB).
        out_channels: channels of the features the skip is added to.
        sn: spectral norm on the 1x1 convolution.

    Shape:
        - low: ``(B, C_in, t, h, w)``
        - size: target ``(T, H, W)`` with ``T`` a multiple of ``t``, ``H <= h``,
          ``W <= w`` and ``h / H = w / W`` an integer
        - output: ``(B, C_out, T, H, W)``
    """

    def __init__(self, in_channels: int, out_channels: int, *, sn: bool = True) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.proj = SNConv3d(in_channels, out_channels, 1, sn=sn)

    @staticmethod
    def accepts(low_size: tuple[int, int], size: tuple[int, int]) -> bool:
        """Whether a skip from spatial size ``low_size`` to ``size`` is allowed."""
        (h, w), (hh, ww) = low_size, size
        return hh <= h and ww <= w and h % hh == 0 and w % ww == 0 and h // hh == w // ww

    def forward(self, low: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
        check_video(low, "low", channels=self.in_channels)
        t_out, h_out, w_out = (int(s) for s in size)
        _, _, t, h, w = low.shape
        if h_out > h or w_out > w:
            raise ValueError(
                f"LowResSkip: target spatial size {(h_out, w_out)} exceeds the low-resolution input {(h, w)}; "
                "skips are only added at or below the input resolution"
            )
        if not self.accepts((h, w), (h_out, w_out)):
            raise ValueError(f"LowResSkip: input size {(h, w)} is not an integer multiple of target {(h_out, w_out)}")
        if t_out % t:
            raise ValueError(f"LowResSkip: target T={t_out} is not a multiple of the input's T={t}")
        x = spatial_downsample(low, h // h_out, "nearest")
        x = temporal_repeat(x, t_out // t)
        return self.proj(x)
