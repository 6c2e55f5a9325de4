"""Pieces every generator in this package shares.

* :class:`Conditioning` builds the conditioning vector ``[z; e(y)]`` that feeds the
  stem and every conditional batch norm (DVD-GAN A.2, SSW-GAN B.1, TrIVD-GAN-FP A).
* :class:`NoiseStem` maps that vector to the first spatial feature map and repeats
  it over time ("replicating the output of the linear layer T times", SSW-GAN B.1).
* :class:`OutputHead` is the final ``BN-ReLU-conv-tanh`` to RGB in ``[-1, 1]``; its
  batch norm is unconditional with a learned scale and offset (TrIVD-GAN-FP E.2).
* :func:`reset_frame_stats` resizes the per-time-step running statistics of every
  batch norm of a model, the first step of re-estimating standing statistics for
  a new number of frames (SSW-GAN appendix A).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange, repeat
from torch import nn

from .._checks import check_features, check_labels, check_positive_int, check_video
from ..layers.norm import FrameBatchNorm
from ..layers.spectral import SNConv2d, SNEmbedding, SNLinear

__all__ = ["Conditioning", "NoiseStem", "OutputHead", "reset_frame_stats", "per_frame"]


def per_frame(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a 2D module to every frame of a video (time folded into the batch).

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C', T, H', W')``
    """
    b = x.shape[0]
    y = module(rearrange(x, "b c t h w -> (b t) c h w"))
    return rearrange(y, "(b t) c h w -> b c t h w", b=b)


def _shape(x: object) -> str:
    return str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__


class Conditioning(nn.Module):
    """The generator's conditioning vector: noise, optionally with a class embedding.

    ``cond = [z; e(y)]`` where ``e`` is a learned (spectrally normalised) class
    embedding of ``class_dim`` entries. Without classes (``num_classes=None``)
    ``cond = z``. With ``num_classes=1`` a missing ``y`` means the single dummy
    class 0 (TrIVD-GAN-FP A: "a dummy constant zero class label").

    Args:
        z_dim: size of the noise vector.
        num_classes: number of classes, or None for an unconditional generator.
        class_dim: size of the class embedding.
        sn: spectral norm on the embedding.

    Shape:
        - z: ``(B, z_dim)``; y: ``(B,)`` int64 or None
        - output: ``(B, cond_dim)`` with ``cond_dim = z_dim (+ class_dim)``
    """

    def __init__(self, z_dim: int, num_classes: int | None = None, class_dim: int = 128, *, sn: bool = True) -> None:
        super().__init__()
        self.z_dim = check_positive_int(z_dim, "z_dim")
        self.num_classes = None if num_classes is None else check_positive_int(num_classes, "num_classes")
        self.class_dim = check_positive_int(class_dim, "class_dim")
        self.embed = SNEmbedding(num_classes, class_dim, sn=sn) if num_classes is not None else None
        self.cond_dim = z_dim + (class_dim if num_classes is not None else 0)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.z_dim or not z.is_floating_point():
            raise ValueError(f"z: expected a float tensor of shape (B, {self.z_dim}), got {_shape(z)}")
        if z.shape[0] < 1:
            raise ValueError(f"z: expected a non-empty batch (B >= 1), got shape {_shape(z)}")
        if self.embed is None:
            if y is not None:
                raise ValueError("y: this generator is unconditional (num_classes=None) but a label was given")
            return z
        if y is None:
            if self.num_classes != 1:
                raise ValueError(f"y: expected class labels of shape ({z.shape[0]},) for {self.num_classes} classes, got None")
            y = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        check_labels(y, self.num_classes, z.shape[0], dtypes="int64")  # values of CPU labels only: no host read
        return torch.cat([z, self.embed(y)], dim=1)


class NoiseStem(nn.Module):
    """Affine map of the conditioning vector to a ``size x size`` map, repeated over time.

    Args:
        cond_dim: size of the conditioning vector.
        channels: channels of the map (``ch_0`` in DVD-GAN A.2).
        size: its height and width (4 in DVD-GAN, 8 in TrIVD-GAN-FP).
        sn: spectral norm on the linear layer (TrIVD-GAN-FP A leaves it out).

    Shape:
        - cond: ``(B, cond_dim)`` floating point, ``B >= 1``
        - output: ``(B, channels, frames, size, size)``, a broadcast view in time
    """

    def __init__(self, cond_dim: int, channels: int, size: int, *, sn: bool = True) -> None:
        super().__init__()
        self.channels = check_positive_int(channels, "channels")
        self.size = check_positive_int(size, "size")
        self.linear = SNLinear(cond_dim, channels * size * size, sn=sn)

    def forward(self, cond: torch.Tensor, frames: int) -> torch.Tensor:
        check_features(cond, "cond", self.linear.in_features)
        check_positive_int(frames, "frames")
        x = self.linear(cond)  # [B, C*S*S]
        return repeat(x, "b (c h w) -> b c t h w", c=self.channels, h=self.size, w=self.size, t=frames)


class OutputHead(nn.Module):
    """``FrameBatchNorm -> ReLU -> 3x3 conv -> tanh`` applied to every frame.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, out_channels, T, H, W)`` in ``[-1, 1]``
    """

    def __init__(self, in_channels: int, out_channels: int = 3, *, sn: bool = True) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.norm = FrameBatchNorm(in_channels, affine=True)
        self.conv = SNConv2d(in_channels, out_channels, 3, padding=1, sn=sn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.in_channels)
        return torch.tanh(per_frame(self.conv, F.relu(self.norm(x))))


def reset_frame_stats(module: nn.Module, frames: int) -> nn.Module:
    """Resize and zero the per-time-step statistics of every batch norm in ``module``.

    Running a generator in eval mode on a number of frames other than the one its
    statistics were estimated on needs statistics at that length: call this, then
    run forward passes in training mode under ``torch.no_grad()`` (SSW-GAN
    appendix A uses 200 such passes) before switching to eval mode. Returns
    ``module``.
    """
    check_positive_int(frames, "frames")
    for m in module.modules():
        if isinstance(m, FrameBatchNorm) and m.track_running_stats:
            m.reset_running_stats(frames=frames)
    return module
