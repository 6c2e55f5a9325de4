"""BigGAN-style residual blocks for video generators and discriminators.

Generator blocks (DVD-GAN A.2, SSW-GAN B.1): ``norm-act-[up]-conv-norm-act-conv``
with a 1x1 shortcut, applied to every frame independently (time folded into the
batch for the convolutions) while the norms keep per-time-step statistics and take
the conditioning vector. Upsampling is nearest-neighbour by 2 in space.

Discriminator blocks (SSW-GAN B.1, DVD-GAN A.2, BigGAN): ``relu-conv-relu-conv``,
then 2x2 average pooling, with a 1x1 shortcut and no normalisation. The 3D variant
replaces every convolution with a 3x3x3 one (the first blocks of D_T).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .._checks import check_features, check_positive_int, check_video
from ..layers.conv import SeparableConv3d
from ..layers.norm import ConditionalBatchNorm
from ..layers.spectral import SNConv2d, SNConv3d

__all__ = ["GBlock", "GBlock3d", "DBlock", "DBlock3d"]

NormLayer = Callable[[int, int], nn.Module]
ActLayer = Callable[[], nn.Module]


def _frames(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Apply a 2D (per-frame) module to a video: fold time into the batch and back."""
    b = x.shape[0]
    y = fn(rearrange(x, "b c t h w -> (b t) c h w"))
    return rearrange(y, "(b t) c h w -> b c t h w", b=b)


def _fold(x: torch.Tensor) -> torch.Tensor:
    return rearrange(x, "b c t h w -> (b t) c h w")


def _unfold(x: torch.Tensor, b: int) -> torch.Tensor:
    return rearrange(x, "(b t) c h w -> b c t h w", b=b)


def _up2d(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour x2 upsampling of folded frames. [N, C, H, W] -> [N, C, 2H, 2W]"""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def _up(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour x2 spatial upsampling of a video. [B, C, T, H, W] -> [B, C, T, 2H, 2W]"""
    return F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")


class _GBlockBase(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        *,
        upsample: bool,
        norm_layer: NormLayer,
        act_layer: ActLayer,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.cond_dim = check_positive_int(cond_dim, "cond_dim")
        self.upsample = upsample
        self.norm1 = norm_layer(in_channels, cond_dim)
        self.norm2 = norm_layer(out_channels, cond_dim)
        self.act = act_layer()

    # Set by subclasses: their convolutions (conv1, conv2, optional 1x1 shortcut) and
    # whether those are 2D modules applied frame by frame or 3D modules on the clip.
    frame_wise: bool
    conv1: nn.Module
    conv2: nn.Module
    shortcut: nn.Module | None

    def _check(self, x: torch.Tensor, cond: torch.Tensor) -> None:
        check_video(x, channels=self.in_channels)
        check_features(cond, "cond", self.cond_dim, batch=x.shape[0], like="x")

    def _conv(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return _frames(conv, x) if self.frame_wise else conv(x)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        self._check(x, cond)
        if self.frame_wise:
            return self._forward_frames(x, cond)
        h = self.act(self.norm1(x, cond))
        if self.upsample:
            h, x = _up(h), _up(x)
        h = self._conv(self.conv1, h)
        h = self._conv(self.conv2, self.act(self.norm2(h, cond)))
        sc = x if self.shortcut is None else self._conv(self.shortcut, x)
        return h + sc

    def _forward_frames(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # Per-frame convolutions: upsampling, conv2, the shortcut and the sum all run on folded
        # frames; the video layout returns only for the norms (per-time-step statistics).
        b = x.shape[0]
        h = _fold(self.act(self.norm1(x, cond)))  # [B*T, C_in, H, W]
        x = _fold(x)
        if self.upsample:
            h, x = _up2d(h), _up2d(x)
        h = _unfold(self.conv1(h), b)  # [B, C_out, T, H', W']
        h = self.conv2(_fold(self.act(self.norm2(h, cond))))
        sc = x if self.shortcut is None else self.shortcut(x)
        return _unfold(h + sc, b)

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels}, cond_dim={self.cond_dim}, upsample={self.upsample}"


class GBlock(_GBlockBase):
    """Per-frame BigGAN generator residual block with per-frame conditional BN.

    ``h = conv2(act(norm2(conv1(up(act(norm1(x, c)))), c)))``; shortcut
    ``conv_sc(up(x))`` (1x1, only when the channels change or the block upsamples).

    Args:
        in_channels, out_channels: channel counts.
        cond_dim: size of the conditioning vector (noise and class embedding).
        upsample: nearest x2 spatial upsampling inside the block.
        norm_layer: ``norm_layer(channels, cond_dim)``; default
            :class:`~vidgan_blocks.layers.ConditionalBatchNorm`.
        act_layer: activation class, default ``nn.ReLU``.
        sn: spectral norm on the convolutions.

    Shape:
        - x: ``(B, C_in, T, H, W)``; cond: ``(B, cond_dim)``
        - output: ``(B, C_out, T, 2H, 2W)`` if ``upsample`` else ``(B, C_out, T, H, W)``
    """

    frame_wise = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        *,
        upsample: bool = True,
        norm_layer: NormLayer = ConditionalBatchNorm,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, cond_dim, upsample=upsample, norm_layer=norm_layer, act_layer=act_layer)
        self.conv1 = SNConv2d(in_channels, out_channels, 3, padding=1, sn=sn)
        self.conv2 = SNConv2d(out_channels, out_channels, 3, padding=1, sn=sn)
        self.shortcut = (
            SNConv2d(in_channels, out_channels, 1, sn=sn) if (in_channels != out_channels or upsample) else None
        )


class GBlock3d(_GBlockBase):
    """Generator residual block whose convolutions are separable 3D (SSW-GAN B.2).

    The same ``norm-act-[up]-conv-norm-act-conv`` layout as :class:`GBlock`, with
    each convolution a :class:`~vidgan_blocks.layers.SeparableConv3d` (temporal 3,
    then spatial 3x3), so the block mixes information across neighbouring frames.
    The 1x1 shortcut is per frame.

    Shape:
        - x: ``(B, C_in, T, H, W)``; cond: ``(B, cond_dim)``
        - output: ``(B, C_out, T, 2H, 2W)`` if ``upsample`` else ``(B, C_out, T, H, W)``
    """

    frame_wise = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        *,
        upsample: bool = False,
        norm_layer: NormLayer = ConditionalBatchNorm,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, cond_dim, upsample=upsample, norm_layer=norm_layer, act_layer=act_layer)
        self.conv1 = SeparableConv3d(in_channels, out_channels, sn=sn)
        self.conv2 = SeparableConv3d(out_channels, out_channels, sn=sn)
        self.shortcut = (
            SNConv3d(in_channels, out_channels, 1, sn=sn) if (in_channels != out_channels or upsample) else None
        )


class _DBlockBase(nn.Module):
    conv_cls: type[nn.Module]
    kernel: int | tuple[int, int, int]
    padding: int | tuple[int, int, int]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        downsample: bool = True,
        preactivation: bool = True,
        sn: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.downsample = downsample
        self.preactivation = preactivation
        self.conv1 = self.conv_cls(in_channels, out_channels, self.kernel, padding=self.padding, sn=sn)
        self.conv2 = self.conv_cls(out_channels, out_channels, self.kernel, padding=self.padding, sn=sn)
        self.shortcut = (
            self.conv_cls(in_channels, out_channels, 1, sn=sn) if (in_channels != out_channels or downsample) else None
        )

    def _check(self, x: torch.Tensor) -> None:
        check_video(x, channels=self.in_channels, min_hw=2 if self.downsample else 1)
        if self.downsample and (x.shape[3] % 2 or x.shape[4] % 2):
            raise ValueError(f"{type(self).__name__}: H and W must be even to downsample, got shape {tuple(x.shape)}")

    def _check_folded(self, x: torch.Tensor) -> None:
        # The guard of forward() for folded frames [B*T, C, H, W] (a trunk folds once for all its 2D blocks).
        if x.dim() != 4 or x.shape[1] != self.in_channels or (self.downsample and (x.shape[2] % 2 or x.shape[3] % 2)):
            raise ValueError(
                f"{type(self).__name__}: expected folded frames (N, {self.in_channels}, H, W) with even H, W, "
                f"got shape {tuple(x.shape)}"
            )

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        if not self.downsample:
            return x
        if x.dim() == 4:  # folded frames [N, C, H, W]
            return F.avg_pool2d(x, 2)
        if x.is_contiguous():  # [B, C, T, H, W] seen as [B, C*T, H, W]: the same 2x2 windows, a cheaper kernel
            b, c, t, h, w = x.shape
            return F.avg_pool2d(x.view(b, c * t, h, w), 2).view(b, c, t, h // 2, w // 2)
        return F.avg_pool3d(x, kernel_size=(1, 2, 2))

    def _body(self, x: torch.Tensor) -> torch.Tensor:
        """The block on ``x`` as its convolutions take it: folded frames (2D) or clips (3D)."""
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        h = self._pool(h)
        if self.shortcut is None:
            return h + x
        # BigGAN order: 1x1 conv before pooling for pre-activated blocks, after it for the input block.
        sc = self._pool(self.shortcut(x)) if self.preactivation else self.shortcut(self._pool(x))
        return h + sc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if self.conv_cls is not SNConv2d:
            return self._body(x)
        # 2D convolutions run per frame: fold time into the batch once for the whole block.
        return _frames(self._body, x)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels} -> {self.out_channels}, downsample={self.downsample}, "
            f"preactivation={self.preactivation}"
        )


class DBlock(_DBlockBase):
    """Per-frame BigGAN discriminator residual block (2D convolutions).

    ``h = pool(conv2(relu(conv1(relu(x)))))`` plus a 1x1 shortcut. The first block of
    a discriminator uses ``preactivation=False`` (no ReLU on the input pixels).

    Args:
        in_channels, out_channels: channel counts.
        downsample: 2x2 average pooling in space at the end of the block.
        preactivation: ReLU before the first convolution.
        sn: spectral norm on the convolutions.

    Shape:
        - x: ``(B, C_in, T, H, W)``
        - output: ``(B, C_out, T, H/2, W/2)`` if ``downsample`` else ``(B, C_out, T, H, W)``
    """

    conv_cls = SNConv2d
    kernel = 3
    padding = 1

    def forward_frames(self, x: torch.Tensor) -> torch.Tensor:
        """The block on frames already folded into the batch (a trunk folds once for all its 2D blocks).

        Shape:
            - x: ``(N, C_in, H, W)``, e.g. ``N = B*T``
            - output: ``(N, C_out, H/2, W/2)`` if ``downsample`` else ``(N, C_out, H, W)``
        """
        self._check_folded(x)
        return self._body(x)


class DBlock3d(_DBlockBase):
    """BigGAN discriminator residual block with 3x3x3 convolutions (DVD-GAN A.2).

    Pooling is 2x2 in space only, so the number of frames is preserved.

    Shape:
        - x: ``(B, C_in, T, H, W)``
        - output: ``(B, C_out, T, H/2, W/2)`` if ``downsample`` else ``(B, C_out, T, H, W)``
    """

    conv_cls = SNConv3d
    kernel = 3
    padding = 1
