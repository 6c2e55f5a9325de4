"""Self-attention over video features, full and separable (DVD-GAN A.2 and 3.2).

Both modules are residual non-local blocks in the BigGAN style: 1x1 projections
to queries and keys of ``C / 8`` channels and values of ``C / 2`` channels, one head,
an output 1x1 projection back to C, and a learned scalar ``gamma`` (zero at
initialisation) scaling the attention branch. The attention itself is
``F.scaled_dot_product_attention``, so memory-efficient kernels are used where the
backend has them.

* :class:`SelfAttention` attends over all ``T * H * W`` positions at once
  (DVD-GAN applies it to the ``T x 4 x 4`` recurrent features).
* :class:`SeparableSelfAttention` applies three such layers in a row, attending over
  height, then width, then time (DVD-GAN section 3.2), so the largest attention
  matrix is ``max(H^2 WT, HW^2 T, HWT^2)`` instead of ``(HWT)^2``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .._checks import check_positive_int, check_video
from .spectral import SNConv3d

__all__ = ["SelfAttention", "AxialSelfAttention", "SeparableSelfAttention"]

Axis = Literal["all", "t", "h", "w"]

# How each axis is brought to the sequence position of (batch, sequence, channels).
_TO_SEQ = {
    "all": ("b c t h w -> b (t h w) c", "b (t h w) c -> b c t h w"),
    "t": ("b c t h w -> (b h w) t c", "(b h w) t c -> b c t h w"),
    "h": ("b c t h w -> (b t w) h c", "(b t w) h c -> b c t h w"),
    "w": ("b c t h w -> (b t h) w c", "(b t h) w c -> b c t h w"),
}


class AxialSelfAttention(nn.Module):
    """One-head residual self-attention along one axis of a video feature map.

    Args:
        channels: C (at least 8, so queries and keys keep one channel).
        axis: ``"t"``, ``"h"``, ``"w"`` (attend along that axis, independently for
            every position of the other two) or ``"all"`` (all positions together).
        sn: spectral norm on the 1x1 projections.
        scale: softmax temperature; ``None`` uses ``1 / sqrt(C / 8)``.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: same as ``x``
    """

    def __init__(self, channels: int, axis: Axis = "all", *, sn: bool = True, scale: float | None = None) -> None:
        super().__init__()
        self.channels = check_positive_int(channels, "channels")
        if channels < 8:
            raise ValueError(f"channels: expected at least 8 for C/8-channel queries, got {channels}")
        if axis not in _TO_SEQ:
            raise ValueError(f"axis: expected one of {tuple(_TO_SEQ)}, got {axis!r}")
        self.axis: Axis = axis
        self.qk_channels = channels // 8
        self.v_channels = max(1, channels // 2)
        self.scale = scale
        # Queries, keys and values in one fused 1x1 convolution.
        self.qkv = SNConv3d(channels, 2 * self.qk_channels + self.v_channels, 1, bias=False, sn=sn)
        self.out = SNConv3d(self.v_channels, channels, 1, bias=False, sn=sn)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.channels)
        b, _, t, h, w = x.shape
        to_seq, from_seq = _TO_SEQ[self.axis]
        qkv = rearrange(self.qkv(x), to_seq)  # [N, L, 2 c_qk + c_v]: one layout change for q, k and v
        q, k, v = qkv.split([self.qk_channels, self.qk_channels, self.v_channels], dim=-1)  # [N, L, c]
        o = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        o = rearrange(o, from_seq, b=b, t=t, h=h, w=w)
        return x + self.gamma * self.out(o)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, axis={self.axis!r}"


class SelfAttention(AxialSelfAttention):
    """Full (non-separable) one-head self-attention over all ``T * H * W`` positions.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: same as ``x``
    """

    def __init__(self, channels: int, *, sn: bool = True, scale: float | None = None) -> None:
        super().__init__(channels, "all", sn=sn, scale=scale)


class SeparableSelfAttention(nn.Module):
    """Attention over height, then width, then time: three residual axial layers.

    Each layer has its own projections and ``gamma`` (DVD-GAN section 3.2).

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: same as ``x``
    """

    def __init__(self, channels: int, *, sn: bool = True, scale: float | None = None) -> None:
        super().__init__()
        self.channels = check_positive_int(channels, "channels")
        self.height = AxialSelfAttention(channels, "h", sn=sn, scale=scale)
        self.width = AxialSelfAttention(channels, "w", sn=sn, scale=scale)
        self.time = AxialSelfAttention(channels, "t", sn=sn, scale=scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.channels)
        return self.time(self.width(self.height(x)))
