"""Recurrent video generators: DVD-GAN and the first level of a cascade.

Both are one network: a conditioning vector ``[z; e(y)]`` is mapped to a small
feature map, repeated over the ``T`` output frames, and passed through a stack
of *units*. A unit is an optional convolutional recurrent layer that runs over
time, optional attention, an optional per-frame convolution, then BigGAN
residual blocks applied to every frame with per-frame conditional batch norm; the
last block of a unit upsamples by 2. A final ``BN-ReLU-conv-tanh`` gives RGB.

* DVD-GAN (A.2): one recurrent unit at 4x4 followed by non-causal self-attention
  over the ``T x 4 x 4`` features, then two blocks per resolution ("we double the
  number of overall blocks", BigGAN-deep) with the whole conditioning vector fed to
  every block, and separable self-attention before the last block.
* SSW-GAN B.1 / HVG B.1 (first level): every unit is a ConvGRU and two 2D ResNet
  blocks; every unit but the last upsamples.
* TrIVD-GAN-FP A (used through :class:`~vidgan_blocks.generators.FramePredictionGenerator`):
  three stages from 8x8, each a recurrent unit, a convolution and two blocks.

Widths follow BigGAN's convention: ``multipliers = [m_0, m_1, ..., m_n]`` gives a
stem of ``ch * m_0`` channels and ``n`` units, unit ``i`` mapping ``ch * m_{i-1}``
to ``ch * m_i`` channels. SSW-GAN writes its lists per unit output with the input
equal to the first one, so its ``[8, 8, 4, 2]`` is ``[8, 8, 8, 4, 2]`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .._checks import check_positive_int, check_video
from ..blocks.residual import GBlock
from ..layers.attention import SelfAttention, SeparableSelfAttention
from ..layers.spectral import SNConv2d
from .base import Conditioning, NoiseStem, OutputHead, per_frame

__all__ = ["RecurrentFactory", "GeneratorUnit", "DVDGenerator", "CascadeFirstLevelGenerator"]

# ``factory(in_channels, hidden_channels, sn=...)`` -> a recurrent unit whose
# ``forward(x, h0=None)`` maps (B, in, T, H, W) to (B, hidden, T, H, W).
RecurrentFactory = Callable[..., nn.Module]


def _check_multipliers(multipliers: Sequence[int]) -> tuple[int, ...]:
    m = tuple(multipliers)
    if len(m) < 2:
        raise ValueError(f"multipliers: expected at least 2 entries (stem, then one per unit), got {m}")
    for v in m:
        check_positive_int(v, "multipliers")
    return m


class GeneratorUnit(nn.Module):
    """One stage of a recurrent generator: ``[RNN] -> [attention] -> [conv] -> blocks``.

    Args:
        in_channels: channels entering the unit.
        out_channels: channels leaving it.
        cond_dim: size of the conditioning vector fed to every block's batch norms.
        recurrent: a recurrent unit (``forward(x, h0)``) run over time first, or None.
        recurrent_channels: its output channels (``recurrent.hidden_channels``).
        attention: full self-attention over ``T x H x W`` after the recurrent layer.
        frame_conv: a per-frame 3x3 convolution before the blocks (TrIVD-GAN-FP A).
        num_blocks: residual blocks in the unit; the first changes the width.
        upsample: the last block upsamples by 2 in space.
        attention_before_last: separable self-attention before the last block.
        sn: spectral norm on every weight.

    Shape:
        - x: ``(B, in_channels, T, H, W)``; cond: ``(B, cond_dim)``;
          h0: the recurrent layer's initial state or None
        - output: ``(B, out_channels, T, 2H, 2W)`` if ``upsample`` else ``(B, out_channels, T, H, W)``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        cond_dim: int,
        *,
        recurrent: nn.Module | None = None,
        recurrent_channels: int | None = None,
        attention: bool = False,
        frame_conv: bool = False,
        num_blocks: int = 2,
        upsample: bool = True,
        attention_before_last: bool = False,
        sn: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        check_positive_int(num_blocks, "num_blocks")
        self.upsample = upsample
        self.recurrent = recurrent
        width = in_channels
        if recurrent is not None:
            width = check_positive_int(
                recurrent_channels if recurrent_channels is not None else getattr(recurrent, "hidden_channels", None),
                "recurrent_channels",
            )
        self.attention = SelfAttention(width, sn=sn) if attention else None
        self.frame_conv = SNConv2d(width, in_channels, 3, padding=1, sn=sn) if frame_conv else None
        if frame_conv:
            width = in_channels
        blocks = []
        for j in range(num_blocks):
            last = j == num_blocks - 1
            blocks.append(GBlock(width, out_channels, cond_dim, upsample=upsample and last, sn=sn))
            width = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.late_attention = (
            SeparableSelfAttention(self.blocks[-1].in_channels, sn=sn) if attention_before_last else None
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor, h0: object = None) -> torch.Tensor:
        check_video(x, channels=self.in_channels)
        if self.recurrent is not None:
            x = self.recurrent(x, h0)  # [B, C_rnn, T, H, W]
        if self.attention is not None:
            x = self.attention(x)
        if self.frame_conv is not None:
            x = per_frame(self.frame_conv, x)
        last = len(self.blocks) - 1
        for j, block in enumerate(self.blocks):
            if j == last and self.late_attention is not None:
                x = self.late_attention(x)
            x = block(x, cond)
        return x


class DVDGenerator(nn.Module):
    """Recurrent class-conditional video generator (DVD-GAN A.2).

    Args:
        ch: base channel count.
        multipliers: ``[m_0, ..., m_n]``; stem width ``ch * m_0``, unit ``i`` outputs
            ``ch * m_i`` (DVD-GAN: ``[8, 8, 8, 4, 2]`` at 64x64,
            ``[16, 16, 8, 4, 2, 1]`` at 128x128).
        recurrent_layer: ``factory(in_channels, hidden_channels, sn=...)`` building a
            recurrent unit, e.g. ``MultiplicativeConvGRU`` (< 48 frames) or
            ``ConvGRU`` (48 frames).
        z_dim: noise size (120 in DVD-GAN).
        num_classes: classes for the class embedding, or None.
        class_dim: class-embedding size (120 in DVD-GAN).
        base_size: spatial size of the stem map (4).
        frames: number of frames generated when ``forward`` is not told otherwise.
        recurrent_every_unit: a recurrent layer in every unit (cascade first level,
            TrIVD-GAN-FP) instead of only in the first one (DVD-GAN).
        recurrent_channels: hidden channels of the first unit's recurrent layer
            (default ``ch * m_0``; DVD-GAN-FP uses 512).
        attention: non-causal self-attention over the first unit's features.
        separable_attention: separable self-attention before the last block.
        frame_conv: a per-frame convolution after each recurrent layer.
        blocks_per_unit: residual blocks per unit (2).
        upsample_last_unit: whether the last unit upsamples (DVD-GAN yes,
            SSW-GAN's first level no).
        sn: spectral norm on every weight; ``sn_stem`` for the stem's linear map.
        out_channels: channels of the output video (3).

    Shape:
        - z: ``(B, z_dim)``; y: ``(B,)`` int64 when ``num_classes`` is set
        - output: ``(B, out_channels, frames, S, S)`` in ``[-1, 1]`` with
          ``S = base_size * 2**(number of upsampling units)``
    """

    def __init__(
        self,
        ch: int,
        multipliers: Sequence[int],
        recurrent_layer: RecurrentFactory,
        *,
        z_dim: int = 120,
        num_classes: int | None = None,
        class_dim: int = 120,
        base_size: int = 4,
        frames: int = 12,
        recurrent_every_unit: bool = False,
        recurrent_channels: int | None = None,
        attention: bool = True,
        separable_attention: bool = True,
        frame_conv: bool = False,
        blocks_per_unit: int = 2,
        upsample_last_unit: bool = True,
        sn: bool = True,
        sn_stem: bool = True,
        out_channels: int = 3,
    ) -> None:
        super().__init__()
        self.ch = check_positive_int(ch, "ch")
        self.multipliers = _check_multipliers(multipliers)
        self.base_size = check_positive_int(base_size, "base_size")
        self.frames = check_positive_int(frames, "frames")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.conditioning = Conditioning(z_dim, num_classes, class_dim, sn=sn)
        self.z_dim = self.conditioning.z_dim
        self.num_classes = self.conditioning.num_classes
        cond_dim = self.conditioning.cond_dim
        widths = [ch * m for m in self.multipliers]
        self.stem = NoiseStem(cond_dim, widths[0], base_size, sn=sn_stem)
        n = len(widths) - 1
        units = []
        size = base_size
        self.unit_sizes: list[int] = []  # spatial size at the input of each unit
        for i in range(n):
            has_rnn = i == 0 or recurrent_every_unit
            hidden = widths[i]
            if i == 0 and recurrent_channels is not None:
                hidden = check_positive_int(recurrent_channels, "recurrent_channels")
            rnn = recurrent_layer(widths[i], hidden, sn=sn) if has_rnn else None
            up = upsample_last_unit or i < n - 1
            units.append(
                GeneratorUnit(
                    widths[i],
                    widths[i + 1],
                    cond_dim,
                    recurrent=rnn,
                    recurrent_channels=hidden if has_rnn else None,
                    attention=attention and i == 0,
                    frame_conv=frame_conv and has_rnn,
                    num_blocks=blocks_per_unit,
                    upsample=up,
                    attention_before_last=separable_attention and i == n - 1,
                    sn=sn,
                )
            )
            self.unit_sizes.append(size)
            size = size * 2 if up else size
        self.units = nn.ModuleList(units)
        self.resolution = size
        self.head = OutputHead(widths[-1], out_channels, sn=sn)

    @property
    def cond_dim(self) -> int:
        """Size of the conditioning vector ``[z; e(y)]``."""
        return self.conditioning.cond_dim

    def motion_fields(self) -> list[torch.Tensor]:
        """Warping kernels of the transformation-based recurrent layers from the last call.

        One ``(B, k*k, T, H, W)`` tensor per recurrent layer that predicts kernels
        (TSRU, PTSRU, K-TrajGRU), in unit order; empty for other layers.
        """
        out = []
        for unit in self.units:
            k = getattr(unit.recurrent, "last_kernels", None) if unit.recurrent is not None else None
            if isinstance(k, torch.Tensor):
                out.append(k)
        return out

    def _generate(
        self,
        z: torch.Tensor,
        y: torch.Tensor | None,
        frames: int,
        states: dict[int, torch.Tensor] | None = None,
        skip: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        cond = self.conditioning(z, y)  # [B, cond_dim]
        x = self.stem(cond, frames)  # [B, C0, T, S, S]
        for i, unit in enumerate(self.units):
            x = unit(x, cond, None if states is None else states.get(i))
            if skip is not None:
                x = skip(i, x)
        return self.head(x)  # [B, 3, T, H, W]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, *, frames: int | None = None, **context: object) -> torch.Tensor:
        """Generate videos from noise (and labels).

        Args:
            z: noise.
            y: class labels (required when ``num_classes`` > 1).
            frames: number of frames (default ``self.frames``).
            **context: other context keywords of the shared calling convention
                are accepted and ignored (this generator uses none).

        Shape:
            - z: ``(B, z_dim)``; y: ``(B,)``
            - output: ``(B, 3, frames, H, W)`` in ``[-1, 1]``
        """
        t = self.frames if frames is None else check_positive_int(frames, "frames")
        return self._generate(z, y, t)


class CascadeFirstLevelGenerator(DVDGenerator):
    """First level of a cascade (SSW-GAN B.1, HVG B.1): a recurrent layer in every unit.

    The same network as :class:`DVDGenerator` with the first-level defaults:
    each unit is a recurrent layer (ConvGRU) and two 2D residual blocks, no
    attention, every unit but the last upsamples, noise and class embedding of
    128 entries each.

    Shape:
        - z: ``(B, z_dim)``; y: ``(B,)`` int64 when ``num_classes`` is set
        - output: ``(B, 3, frames, S, S)`` in ``[-1, 1]``
    """

    def __init__(
        self,
        ch: int,
        multipliers: Sequence[int],
        recurrent_layer: RecurrentFactory,
        *,
        z_dim: int = 128,
        num_classes: int | None = None,
        class_dim: int = 128,
        base_size: int = 4,
        frames: int = 25,
        blocks_per_unit: int = 2,
        upsample_last_unit: bool = False,
        sn: bool = True,
        out_channels: int = 3,
    ) -> None:
        super().__init__(
            ch,
            multipliers,
            recurrent_layer,
            z_dim=z_dim,
            num_classes=num_classes,
            class_dim=class_dim,
            base_size=base_size,
            frames=frames,
            recurrent_every_unit=True,
            attention=False,
            separable_attention=False,
            blocks_per_unit=blocks_per_unit,
            upsample_last_unit=upsample_last_unit,
            sn=sn,
            out_channels=out_channels,
        )
