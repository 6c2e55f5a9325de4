"""Generator of a cascade level above the first (SSW-GAN B.2, HVG B.2).

The level receives a low-resolution video ``x^{l-1}`` (a window of the previous
level's output during training, the whole output at inference) and noise (and a
class). It has the first level's layout with two changes:

* the recurrent layer of every unit is replaced by a separable 3D residual block
  (:class:`~vidgan_blocks.blocks.GBlock3d`: temporal kernel 3, then 3x3 in space),
  so the network is convolutional in time and runs on inputs of any length
  (convolutional unrolling);
* after every block (3D and 2D) a residual from ``x^{l-1}`` is added
  (:class:`~vidgan_blocks.blocks.LowResSkip`: nearest resizing in space, nearest
  repetition in time to the block's number of frames, a linear 1x1 convolution),
  except on feature maps larger than ``x^{l-1}``.

The noise map of the stem is repeated over the output's ``T_in * factor_t``
frames, and all batch norms are conditioned on ``[z; e(y)]``.

Recurrent variant (SSW-GAN appendix C, HVG appendix C): the papers chose the
separable 3D block after comparing it with the alternative of keeping the first
level's recurrent layer, one ConvGRU per generator unit, in the upsampling
level; both reached similar IS and FVD during training, but the ConvGRU runs
sequentially over time while the 3D convolution runs over all frames at once.
``recurrent_layer=`` builds that comparison model: in every unit the recurrent
layer takes the place of the separable 3D block (same width, same low-res skip
after it), the 2D blocks are unchanged. Such a generator still accepts inputs of
any length, but its temporal receptive field is unbounded (each output frame
depends on all earlier ones), so it is not convolutional in time; see
:meth:`vidgan_blocks.cascade.Cascade.generate_stream` for what that changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._checks import check_positive_int, check_video
from ..blocks.residual import GBlock, GBlock3d
from ..blocks.skip import LowResSkip
from .base import Conditioning, NoiseStem, OutputHead
from .dvd import RecurrentFactory, _check_multipliers

__all__ = ["UpsamplingUnit", "UpsamplingGenerator"]


class _RecurrentInUnit(nn.Module):
    """A recurrent layer in the place of a unit's separable 3D block (SSW-GAN / HVG appendix C).

    It takes the block's ``(x, cond)`` call and ignores ``cond`` (the ConvGRU of the
    first level has no conditional normalisation either, SSW-GAN B.1); it starts
    from a zero state.

    Shape:
        - x: ``(B, C, T, H, W)``; output: ``(B, C, T, H, W)``
    """

    def __init__(self, recurrent: nn.Module) -> None:
        super().__init__()
        self.rnn = recurrent
        self.in_channels = check_positive_int(getattr(recurrent, "in_channels", None), "recurrent.in_channels")
        self.out_channels = check_positive_int(getattr(recurrent, "hidden_channels", None), "recurrent.hidden_channels")

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.rnn(x)  # [B, C, T, H, W]; the unit checks its input shape


class UpsamplingUnit(nn.Module):
    """One unit of an upsampling level: a separable 3D block, then 2D blocks, each with a low-res skip.

    With ``recurrent`` (a recurrent unit mapping ``in_channels`` to ``in_channels``,
    e.g. :class:`~vidgan_blocks.recurrent.ConvGRU`) the recurrent layer replaces the
    separable 3D block: the ConvGRU variant of SSW-GAN / HVG appendix C.

    Args:
        in_channels, out_channels: widths in and out.
        cond_dim: size of the conditioning vector.
        size: spatial size of the unit's input features.
        low_size: spatial size of the low-resolution input video.
        num_blocks: 2D residual blocks after the 3D one; the last upsamples.
        upsample: whether the unit doubles the resolution.
        in_video_channels: channels of the low-resolution video (3).
        sn: spectral norm on every weight.
        recurrent: a built recurrent layer used instead of the separable 3D block, or None.

    Shape:
        - x: ``(B, in_channels, T, H, W)``; low: ``(B, 3, t, h, w)`` with ``T`` a multiple of ``t``;
          cond: ``(B, cond_dim)``
        - output: ``(B, out_channels, T, 2H, 2W)`` if ``upsample`` else ``(B, out_channels, T, H, W)``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        *,
        size: int,
        low_size: int,
        num_blocks: int = 2,
        upsample: bool = True,
        in_video_channels: int = 3,
        sn: bool = True,
        recurrent: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.upsample = upsample
        check_positive_int(num_blocks, "num_blocks")
        first: nn.Module
        if recurrent is None:
            first = GBlock3d(in_channels, in_channels, cond_dim, upsample=False, sn=sn)
        else:
            first = _RecurrentInUnit(recurrent)
            if (first.in_channels, first.out_channels) != (in_channels, in_channels):
                raise ValueError(f"recurrent: expected a layer from {in_channels} to {in_channels} channels, "
                                 f"got {first.in_channels} -> {first.out_channels}")
        self.recurrent = recurrent is not None
        blocks: list[nn.Module] = [first]
        sizes = [size]
        width = in_channels
        for j in range(num_blocks):
            up = upsample and j == num_blocks - 1
            blocks.append(GBlock(width, out_channels, cond_dim, upsample=up, sn=sn))
            width = out_channels
            sizes.append(sizes[-1] * 2 if up else sizes[-1])
        self.blocks = nn.ModuleList(blocks)
        self.skips = nn.ModuleList()
        self.skip_after: list[int] = []  # index of the block each skip follows
        for j, (block, s) in enumerate(zip(blocks, sizes, strict=True)):
            if LowResSkip.accepts((low_size, low_size), (s, s)):
                self.skips.append(LowResSkip(in_video_channels, block.out_channels, sn=sn))
                self.skip_after.append(j)

    def forward(self, x: torch.Tensor, low: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.in_channels)
        if check_video(low, "low").shape[0] != x.shape[0]:
            raise ValueError(f"low: expected batch size B={x.shape[0]} to match x, got shape {tuple(low.shape)}")
        skips = dict(zip(self.skip_after, self.skips, strict=True))
        for j, block in enumerate(self.blocks):
            x = block(x, cond)
            if j in skips:
                x = x + skips[j](low, x.shape[2:])
        return x


class UpsamplingGenerator(nn.Module):
    """Cascade level > 1: noise (+ class) and a low-resolution video to a larger, longer video.

    Args:
        ch: base channel count.
        multipliers: ``[m_0, ..., m_n]`` as in :class:`~vidgan_blocks.generators.DVDGenerator`
            (SSW-GAN Kinetics ``[8, 8, 4, 2, 1]`` per unit is ``[8, 8, 8, 4, 2, 1]`` here).
        factor_s: spatial upsampling factor of the level (e.g. 4: 32x32 -> 128x128).
        factor_t: temporal factor (e.g. 2: 6 -> 12 frames).
        z_dim, num_classes, class_dim: conditioning, as in the first level (128, 128).
        base_size: spatial size of the stem map. Default: chosen so that the last
            unit does not upsample and the output is ``low_size * factor_s``.
        low_size: spatial size of the low-resolution input. Default:
            ``base_size * 2**(n-1) / factor_s``.
        blocks_per_unit: 2D residual blocks per unit (2).
        upsample_last_unit: whether the last unit upsamples (False: SSW-GAN B.1-B.2).
        sn: spectral norm on every weight.
        in_channels: channels of the input and output videos (3).
        recurrent_layer: ``factory(channels, channels, sn=...)`` building a recurrent
            unit (e.g. :class:`~vidgan_blocks.recurrent.ConvGRU`) that replaces the
            separable 3D block of every unit (SSW-GAN / HVG appendix C); None (the
            papers' choice) keeps the 3D blocks.

    Exactly one of ``base_size`` and ``low_size`` may be given.

    Shape:
        - z: ``(B, z_dim)``; low_res: ``(B, 3, T_in, h, w)`` with ``h = w = low_size``
        - output: ``(B, 3, T_in * factor_t, h * factor_s, w * factor_s)`` in ``[-1, 1]``
    """

    def __init__(
        self,
        ch: int,
        multipliers: Sequence[int],
        *,
        factor_s: int = 4,
        factor_t: int = 2,
        z_dim: int = 128,
        num_classes: int | None = None,
        class_dim: int = 128,
        base_size: int | None = None,
        low_size: int | None = None,
        blocks_per_unit: int = 2,
        upsample_last_unit: bool = False,
        sn: bool = True,
        in_channels: int = 3,
        recurrent_layer: RecurrentFactory | None = None,
    ) -> None:
        super().__init__()
        self.ch = check_positive_int(ch, "ch")
        self.multipliers = _check_multipliers(multipliers)
        self.factor_s = check_positive_int(factor_s, "factor_s")
        self.factor_t = check_positive_int(factor_t, "factor_t")
        self.in_channels = check_positive_int(in_channels, "in_channels")
        n = len(self.multipliers) - 1
        n_up = n if upsample_last_unit else n - 1
        if base_size is not None and low_size is not None:
            raise ValueError("give at most one of base_size and low_size")
        if low_size is not None:
            out = check_positive_int(low_size, "low_size") * factor_s
            if out % (2**n_up):
                raise ValueError(f"low_size * factor_s = {out} is not divisible by 2**{n_up} (the units' upsampling)")
            base_size = out // 2**n_up
        elif base_size is None:
            raise ValueError("give one of base_size and low_size")
        self.base_size = check_positive_int(base_size, "base_size")
        self.resolution = base_size * 2**n_up
        if self.resolution % factor_s:
            raise ValueError(f"output size {self.resolution} is not divisible by factor_s={factor_s}")
        self.low_size = self.resolution // factor_s
        self.conditioning = Conditioning(z_dim, num_classes, class_dim, sn=sn)
        self.z_dim = self.conditioning.z_dim
        self.num_classes = self.conditioning.num_classes
        cond_dim = self.conditioning.cond_dim
        widths = [ch * m for m in self.multipliers]
        self.stem = NoiseStem(cond_dim, widths[0], base_size, sn=sn)
        units = []
        size = base_size
        for i in range(n):
            up = upsample_last_unit or i < n - 1
            units.append(
                UpsamplingUnit(
                    widths[i],
                    widths[i + 1],
                    cond_dim,
                    size=size,
                    low_size=self.low_size,
                    num_blocks=blocks_per_unit,
                    upsample=up,
                    in_video_channels=in_channels,
                    sn=sn,
                    recurrent=None if recurrent_layer is None else recurrent_layer(widths[i], widths[i], sn=sn),
                )
            )
            size = size * 2 if up else size
        self.units = nn.ModuleList(units)
        self.head = OutputHead(widths[-1], in_channels, sn=sn)
        self.recurrent = recurrent_layer is not None

    def forward(
        self, z: torch.Tensor, y: torch.Tensor | None = None, *, low_res: torch.Tensor, **context: object
    ) -> torch.Tensor:
        """Generate the next level's video from the low-resolution one.

        Args:
            z: noise.
            y: labels (when ``num_classes`` is set).
            low_res: the previous level's video (any number of frames).
            **context: other context keywords are accepted and ignored.

        Shape:
            - z: ``(B, z_dim)``; low_res: ``(B, 3, T_in, low_size, low_size)``
            - output: ``(B, 3, T_in * factor_t, resolution, resolution)``
        """
        check_video(low_res, "low_res", channels=self.in_channels, hw=(self.low_size, self.low_size))
        if not isinstance(z, torch.Tensor) or z.shape[:1] != low_res.shape[:1]:
            raise ValueError(f"z: expected batch size {low_res.shape[0]} to match low_res, got {tuple(getattr(z, 'shape', ()))}")
        cond = self.conditioning(z, y)
        x = self.stem(cond, low_res.shape[2] * self.factor_t)  # [B, C0, T_out, S, S]
        for unit in self.units:
            x = unit(x, low_res, cond)
        return self.head(x)
