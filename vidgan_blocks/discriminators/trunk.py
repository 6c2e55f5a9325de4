"""The convolutional trunk shared by every video discriminator, and its score heads.

All five papers use BigGAN's discriminator with a different input (DVD-GAN A.2,
TrIVD-GAN-FP appendix A, SSW-GAN B.1, HVG appendix B):

* a stack of residual D blocks, block ``i`` with ``ch * multipliers[i]`` output
  channels; every block but the last halves H and W with 2x2 average pooling
  (TrIVD-GAN-FP A: "five stages ... the first four of which employ average
  pooling"); the first block has no ReLU on its input (BigGAN);
* for the spatio-temporal discriminators the first ``blocks_3d`` blocks use
  3x3x3 convolutions (two in every paper), the rest run per frame;
* a final ReLU, a sum over the spatial positions, which leaves one feature vector
  per time step ``(B, F, T)``;
* a projection head (DVD-GAN A.3, Miyato and Koyama) or the mixed projection head
  of TrIVD-GAN-FP (appendix E.1, eq. 15).

Time is never pooled inside the trunk (the 3D blocks pool only in space), so a
per-frame discriminator and a clip discriminator both end with one feature
vector per (sampled) frame; the projection head scores every time step and the
per-step scores are summed (DVD-GAN 3.1: "the sum of the per-frame scores"),
averaged, or kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from einops import rearrange
from torch import nn

from .._checks import check_features, check_int, check_positive_int, check_video
from ..blocks import DBlock, DBlock3d
from ..layers import MixedProjectionHead, ProjectionHead

__all__ = ["Reduction", "DiscriminatorTrunk", "ScoreHead"]

Reduction = Literal["sum", "mean", "none"]
_REDUCTIONS = ("sum", "mean", "none")


def _check_multipliers(multipliers: Sequence[int]) -> tuple[int, ...]:
    if isinstance(multipliers, (str, bytes)) or not isinstance(multipliers, Sequence) or len(multipliers) == 0:
        raise TypeError(f"multipliers: expected a non-empty sequence of ints, got {multipliers!r}")
    return tuple(check_positive_int(m, "multipliers[i]") for m in multipliers)


class DiscriminatorTrunk(nn.Module):
    """BigGAN discriminator trunk on videos: D blocks, ReLU, sum over space.

    Args:
        in_channels: input channels (3 for RGB, 6 for the matching discriminator).
        ch: base width; block ``i`` has ``ch * multipliers[i]`` channels.
        multipliers: per-block channel multipliers, input side first (DVD-GAN
            64x64: ``(2, 4, 8, 16, 16)``; 128x128: ``(1, 2, 4, 8, 16, 16)``).
        blocks_3d: how many leading blocks use 3x3x3 convolutions (0 for a
            per-frame discriminator, 2 for the temporal ones).
        sn: spectral norm on every convolution.

    Every block except the last downsamples by 2 in space, so H and W must be
    multiples of ``2 ** (len(multipliers) - 1)``.

    Shape:
        - x: ``(B, in_channels, T, H, W)``
        - output: ``(B, F, T)`` with ``F = ch * multipliers[-1]``
    """

    def __init__(
        self,
        in_channels: int,
        ch: int,
        multipliers: Sequence[int],
        *,
        blocks_3d: int = 0,
        sn: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.ch = check_positive_int(ch, "ch")
        self.multipliers = _check_multipliers(multipliers)
        self.blocks_3d = check_int(blocks_3d, "blocks_3d", minimum=0)
        if blocks_3d > len(self.multipliers):
            raise ValueError(f"blocks_3d: expected at most {len(self.multipliers)} (one per block), got {blocks_3d}")
        widths = [in_channels] + [ch * m for m in self.multipliers]
        last = len(self.multipliers) - 1
        blocks = []
        for i in range(len(self.multipliers)):
            block_cls = DBlock3d if i < blocks_3d else DBlock
            blocks.append(
                block_cls(widths[i], widths[i + 1], downsample=i < last, preactivation=i > 0, sn=sn)
            )
        self.blocks = nn.Sequential(*blocks)
        self.out_features = widths[-1]
        self.reduction_factor = 2**last

    def check_input(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """Validate a trunk input: channels, and H, W divisible by the total downsampling."""
        check_video(x, name, channels=self.in_channels)
        f = self.reduction_factor
        if x.shape[3] % f or x.shape[4] % f:
            raise ValueError(
                f"{name}: H and W must be multiples of {f} (the trunk downsamples {len(self.multipliers) - 1} "
                f"times by 2), got shape {tuple(x.shape)}"
            )
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        b = x.shape[0]
        h = x
        for block in self.blocks[: self.blocks_3d]:
            h = block(h)  # [B, C, T, H, W]
        if self.blocks_3d == len(self.blocks):
            return torch.relu(h).sum(dim=(3, 4))  # [B, F, T]
        # The per-frame blocks run on folded frames: one fold for all of them, none between blocks.
        h = rearrange(h, "b c t h w -> (b t) c h w")
        for block in self.blocks[self.blocks_3d :]:
            h = block.forward_frames(h)  # [B*T, C, H, W]
        h = torch.relu(h).sum(dim=(2, 3))  # [B*T, F]
        return rearrange(h, "(b t) f -> b f t", b=b)

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, ch={self.ch}, multipliers={self.multipliers}, blocks_3d={self.blocks_3d}"


class ScoreHead(nn.Module):
    """Turns per-time-step features into discriminator outputs.

    With ``mixed_projection=False`` every time step gets a projection score
    (:class:`~vidgan_blocks.layers.ProjectionHead`, DVD-GAN A.3) and the ``T``
    scores are reduced: ``"sum"`` (DVD-GAN 3.1, the default), ``"mean"`` or
    ``"none"``. With ``mixed_projection=True`` the output is the ``(B, B, T)``
    tensor of TrIVD-GAN-FP eq. 15 and ``reduce`` is not used.

    Args:
        in_features: F.
        num_classes: class count for projection, or ``None`` (unconditional; the
            mixed head then uses TrIVD-GAN-FP's constant zero label).
        mixed_projection: use the mixed projection head.
        reduce: reduction of the per-step projection scores.
        sn: spectral norm on the head.

    Shape:
        - h: ``(B, F, T)`` floating point, ``B, T >= 1``; y: ``(B,)`` int64 or ``None``
        - output: ``(B,)`` (sum / mean), ``(B, T)`` (none) or ``(B, B, T)`` (mixed)
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int | None = None,
        *,
        mixed_projection: bool = False,
        reduce: Reduction = "sum",
        sn: bool = True,
    ) -> None:
        super().__init__()
        if reduce not in _REDUCTIONS:
            raise ValueError(f"reduce: expected one of {_REDUCTIONS}, got {reduce!r}")
        self.num_classes = num_classes
        self.mixed_projection = bool(mixed_projection)
        self.reduce: Reduction = reduce
        self.head: nn.Module
        if self.mixed_projection:
            self.head = MixedProjectionHead(in_features, 1 if num_classes is None else num_classes, sn=sn)
        else:
            self.head = ProjectionHead(in_features, num_classes, sn=sn)

    def forward(self, h: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_features(h, "h", per_step=True)
        if self.mixed_projection:
            if y is not None and self.num_classes is None:
                raise ValueError("y: this discriminator is unconditional (num_classes=None) but labels were given")
            return self.head(h, y)  # [B, B, T]
        b, _, t = h.shape
        if isinstance(y, torch.Tensor) and y.dim() == 1 and y.shape[0] == b:
            y = y.repeat_interleave(t)
        elif y is not None:
            got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"y: expected integer labels of shape ({b},), got {got}")
        scores = self.head(rearrange(h, "b f t -> (b t) f"), y)
        scores = rearrange(scores, "(b t) -> b t", b=b)  # [B, T]
        if self.reduce == "sum":
            return scores.sum(dim=1)
        if self.reduce == "mean":
            return scores.mean(dim=1)
        return scores

    def extra_repr(self) -> str:
        return f"mixed_projection={self.mixed_projection}, reduce={self.reduce!r}"
