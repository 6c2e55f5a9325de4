"""Frame-conditional generator for video prediction (DVD-GAN-FP A.4, TrIVD-GAN-FP A).

Given ``C`` conditioning frames, an encoder with the architecture of the spatial
discriminator's trunk processes each frame separately. For every recurrent layer
of the generator, the encoder features at that layer's resolution are reshaped by
folding the conditioning frames into channels and compressed by one convolution
into the layer's initial state (DVD-GAN-FP A.4: a 1x1 convolution to 512 channels
at 4x4, no activation named; TrIVD-GAN-FP A and F.3: one state per stage at 8, 16
and 32 pixels, each from a 3x3 convolution followed by a ReLU).
Optional U-Net skips concatenate the encoder features at a unit's output
resolution to that unit's output (broadcast over the predicted frames) and map
the result back to the unit's width with one 3x3 convolution.

The generator then produces only the predicted frames; the discriminators see
them after the conditioning frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .._checks import check_positive_int, check_video
from ..blocks.residual import DBlock
from ..layers.spectral import SNConv2d
from .dvd import DVDGenerator, RecurrentFactory, _check_multipliers

__all__ = ["encoder_trunk", "FrameEncoder", "ConditioningSkip", "FramePredictionGenerator"]


def encoder_trunk(
    ch: int, multipliers: Sequence[int], *, in_channels: int = 3, num_downsample: int | None = None, sn: bool = True
) -> nn.ModuleList:
    """The residual trunk of a BigGAN / DVD-GAN spatial discriminator.

    One :class:`~vidgan_blocks.blocks.DBlock` per multiplier, block ``k`` with
    ``ch * multipliers[k]`` output channels; every block but the last halves the
    resolution, and the first has no input ReLU (TrIVD-GAN-FP A: "five stages,
    each containing a single D residual block, the first four of which employ
    average pooling"). DVD-GAN A.2 uses ``[2, 4, 8, 16, 16]`` at 64x64 and
    ``[1, 2, 4, 8, 16, 16]`` at 128x128. ``num_downsample`` blocks (default: all but
    the last) halve the resolution; the first blocks of a trunk can be taken alone
    by giving fewer multipliers and ``num_downsample=len(multipliers)``.

    Returns:
        The blocks, in order, as an ``nn.ModuleList``.
    """
    check_positive_int(ch, "ch")
    mults = tuple(multipliers)
    if not mults:
        raise ValueError("multipliers: expected at least one entry, got ()")
    n_down = len(mults) - 1 if num_downsample is None else num_downsample
    if not 0 <= n_down <= len(mults):
        raise ValueError(f"num_downsample: expected an int in [0, {len(mults)}], got {num_downsample}")
    blocks = []
    c_in = check_positive_int(in_channels, "in_channels")
    for k, m in enumerate(mults):
        c_out = ch * check_positive_int(m, "multipliers")
        blocks.append(DBlock(c_in, c_out, downsample=k < n_down, preactivation=k > 0, sn=sn))
        c_in = c_out
    return nn.ModuleList(blocks)


class FrameEncoder(nn.Module):
    """Spatial-discriminator trunk applied to each conditioning frame; returns every block's output.

    Args:
        ch, multipliers, num_downsample: as in :func:`encoder_trunk`.
        in_channels: channels of the frames (3).
        sn: spectral norm on the convolutions.

    Shape:
        - frames: ``(B, in_channels, C, H, W)``
        - output: a list, entry ``k`` of shape ``(B, ch * multipliers[k], C, H_k, W_k)``
          with ``H_k = H / 2**(k+1)`` for all blocks but the last (which keeps the
          previous size)
    """

    def __init__(
        self, ch: int, multipliers: Sequence[int], *, in_channels: int = 3, num_downsample: int | None = None, sn: bool = True
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.blocks = encoder_trunk(ch, multipliers, in_channels=in_channels, num_downsample=num_downsample, sn=sn)
        self.channels = [b.out_channels for b in self.blocks]

    def sizes(self, size: int) -> list[int]:
        """Spatial size after every block for a ``size x size`` input."""
        return self.block_sizes(size, len(self.blocks), sum(b.downsample for b in self.blocks))

    @staticmethod
    def block_sizes(size: int, num_blocks: int, num_downsample: int | None = None) -> list[int]:
        """Spatial sizes after each of ``num_blocks`` trunk blocks, the first ``num_downsample`` halving."""
        n_down = num_blocks - 1 if num_downsample is None else num_downsample
        return [size // 2 ** min(k + 1, n_down) for k in range(num_blocks)]

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        check_video(frames, "frames", channels=self.in_channels)
        feats = []
        x = frames
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return feats


class ConditioningSkip(nn.Module):
    """U-Net skip: concatenate per-clip encoder features to every frame, then one 3x3 conv.

    Mathematically ``conv3x3([x_t; e])`` for every frame ``t``. The convolution of a
    concatenation is the sum of the convolutions of its parts, so the encoder part
    (the same for every frame) is convolved once per clip and broadcast over time.

    Args:
        channels: channels of the generator features (kept).
        cond_channels: channels of the encoder features (conditioning frames folded in).
        sn: spectral norm on the convolution (one norm for the whole kernel).

    Shape:
        - x: ``(B, channels, T, H, W)``; e: ``(B, cond_channels, H, W)``
        - output: ``(B, channels, T, H, W)``
    """

    def __init__(self, channels: int, cond_channels: int, *, sn: bool = True) -> None:
        super().__init__()
        self.channels = check_positive_int(channels, "channels")
        self.cond_channels = check_positive_int(cond_channels, "cond_channels")
        self.conv = SNConv2d(channels + cond_channels, channels, 3, padding=1, sn=sn)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.channels)
        b, c, _, h, w = x.shape
        if not isinstance(e, torch.Tensor) or e.shape != (b, self.cond_channels, h, w):
            got = tuple(e.shape) if isinstance(e, torch.Tensor) else type(e).__name__
            raise ValueError(f"e: expected shape ({b}, {self.cond_channels}, {h}, {w}), got {got}")
        if not e.is_floating_point():
            raise TypeError(f"e: expected a floating-point tensor, got dtype {e.dtype}")
        weight = self.conv.weight  # read once: one power iteration per call
        hx = F.conv2d(rearrange(x, "b c t h w -> (b t) c h w"), weight[:, :c], self.conv.bias, padding=1)
        he = F.conv2d(e, weight[:, c:], None, padding=1)  # [B, C, H, W], shared by all frames
        return rearrange(hx, "(b t) c h w -> b c t h w", b=b) + he[:, :, None]


class FramePredictionGenerator(DVDGenerator):
    """Video prediction generator: a :class:`DVDGenerator` whose recurrent states come from the past.

    Args:
        ch, multipliers, recurrent_layer: as in :class:`DVDGenerator`.
        cond_frames: number of conditioning frames ``C``.
        encoder_ch, encoder_multipliers: widths of the encoder (the spatial
            discriminator's, e.g. 128 and ``[2, 4, 8, 16, 16]`` at 64x64).
        unet_skips: add :class:`ConditioningSkip` after every unit whose output
            resolution the encoder also produces (DVD-GAN-FP A.4).
        state_kernel: kernel size of the convolution forming each initial state
            (DVD-GAN-FP A.4: 1x1; TrIVD-GAN-FP F.3: 3x3).
        state_relu: apply a ReLU after that convolution (TrIVD-GAN-FP F.3); DVD-GAN-FP
            A.4 names no activation there, so its builder turns it off.
        **kwargs: every other :class:`DVDGenerator` argument; ``num_classes``
            defaults to None (no class), ``frames`` to 11.

    Shape:
        - z: ``(B, z_dim)``; cond_frames: ``(B, 3, C, S, S)``
        - output: ``(B, 3, frames, S, S)`` in ``[-1, 1]`` (predicted frames only)
    """

    def __init__(
        self,
        ch: int,
        multipliers: Sequence[int],
        recurrent_layer: RecurrentFactory,
        *,
        cond_frames: int = 5,
        encoder_ch: int = 128,
        encoder_multipliers: Sequence[int] = (2, 4, 8, 16, 16),
        unet_skips: bool = True,
        state_kernel: int = 1,
        state_relu: bool = True,
        frames: int = 11,
        num_classes: int | None = None,
        sn: bool = True,
        **kwargs: object,
    ) -> None:
        super().__init__(ch, multipliers, recurrent_layer, frames=frames, num_classes=num_classes, sn=sn, **kwargs)  # type: ignore[arg-type]
        self.cond_frames = check_positive_int(cond_frames, "cond_frames")
        if check_positive_int(state_kernel, "state_kernel") % 2 == 0:
            raise ValueError(f"state_kernel: expected an odd kernel size, got {state_kernel}")
        enc_mults = _check_multipliers((1, *encoder_multipliers))[1:]
        enc_channels = [encoder_ch * m for m in enc_mults]
        enc_sizes = FrameEncoder.block_sizes(self.resolution, len(enc_mults))
        # For every size, the last encoder block producing it.
        by_size = {s: k for k, s in enumerate(enc_sizes)}
        self._state_source: dict[str, int] = {}
        self.state_convs = nn.ModuleDict()
        for i, unit in enumerate(self.units):
            if unit.recurrent is None:
                continue
            size = self.unit_sizes[i]
            if size not in by_size:
                raise ValueError(
                    f"encoder: no block produces the {size}x{size} features needed by the recurrent layer of unit {i} "
                    f"(encoder sizes {enc_sizes} for {self.resolution}x{self.resolution} frames)"
                )
            k = by_size[size]
            hidden = unit.recurrent.hidden_channels
            self.state_convs[str(i)] = nn.Sequential(
                SNConv2d(enc_channels[k] * cond_frames, hidden, state_kernel, padding=state_kernel // 2, sn=sn),
                nn.ReLU() if state_relu else nn.Identity(),  # index 1 either way: same state_dict keys
            )
            self._state_source[str(i)] = k
        self.skips = nn.ModuleDict()
        self._skip_source: dict[str, int] = {}
        if unet_skips:
            for i, unit in enumerate(self.units):
                out_size = self.unit_sizes[i] * (2 if unit.upsample else 1)
                if out_size in by_size:
                    k = by_size[out_size]
                    self.skips[str(i)] = ConditioningSkip(unit.out_channels, enc_channels[k] * cond_frames, sn=sn)
                    self._skip_source[str(i)] = k
        # Blocks deeper than the deepest feature used would get no gradient: leave them out
        # (TrIVD-GAN-FP's deepest state is at 8x8, so its encoder stops there).
        used = max([*self._state_source.values(), *self._skip_source.values()])
        self.encoder = FrameEncoder(
            encoder_ch,
            enc_mults[: used + 1],
            in_channels=self.out_channels,
            num_downsample=min(used + 1, len(enc_mults) - 1),
            sn=sn,
        )

    def forward(  # type: ignore[override]
        self,
        z: torch.Tensor,
        y: torch.Tensor | None = None,
        *,
        cond_frames: torch.Tensor,
        frames: int | None = None,
        return_motion: bool = False,
        **context: object,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Predict the frames that follow ``cond_frames``.

        Args:
            z: noise.
            y: labels (only with ``num_classes`` set).
            cond_frames: the conditioning frames, in ``[-1, 1]``.
            frames: number of frames to predict (default ``self.frames``).
            return_motion: also return :meth:`motion_fields` of this call.
            **context: other context keywords are accepted and ignored.

        Shape:
            - z: ``(B, z_dim)``; cond_frames: ``(B, 3, C, S, S)``
            - output: ``(B, 3, frames, S, S)``; with ``return_motion`` also a list of
              ``(B, k*k, frames, H_i, W_i)`` warping kernels
        """
        check_video(
            cond_frames, "cond_frames", channels=self.out_channels, t=self.cond_frames, hw=(self.resolution, self.resolution)
        )
        if not isinstance(z, torch.Tensor) or z.shape[:1] != cond_frames.shape[:1]:
            raise ValueError(f"z: expected batch size {cond_frames.shape[0]} to match cond_frames, got {tuple(getattr(z, 'shape', ()))}")
        t = self.frames if frames is None else check_positive_int(frames, "frames")
        feats = [rearrange(f, "b c t h w -> b (c t) h w") for f in self.encoder(cond_frames)]  # frames folded into channels
        states = {int(i): conv(feats[self._state_source[i]]) for i, conv in self.state_convs.items()}

        def skip(i: int, x: torch.Tensor) -> torch.Tensor:
            key = str(i)
            if key not in self.skips:
                return x
            return self.skips[key](x, feats[self._skip_source[key]])

        video = self._generate(z, y, t, states, skip)
        if return_motion:
            return video, self.motion_fields()
        return video
