"""A named collection of discriminators scored together (DVD-GAN 3.1, TrIVD-GAN-FP 3.1).

The decompositions of the papers are several discriminators that each look at a
different view of the same video; their outputs are concatenated and the
geometric hinge loss is averaged over all of them (SSW-GAN B.1, TrIVD-GAN-FP
eq. 13). :class:`MultiDiscriminator` returns a dict name -> output, which
:func:`~vidgan_blocks.losses.d_hinge_loss` and
:func:`~vidgan_blocks.losses.g_hinge_loss` accept as they are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import torch
from torch import nn

from .._checks import check_video
from .single import prepend_cond_frames

__all__ = ["MultiDiscriminator"]


class MultiDiscriminator(nn.Module):
    """Several discriminators under names, called with one signature.

    Args:
        discriminators: mapping name -> discriminator module, each with
            ``forward(video, y=None, **context)``.
        frame_conditioning: video-prediction mode; ``cond_frames=`` given to
            :meth:`forward` is prepended in time to the video once, and every
            sub-discriminator sees the conditioning frames followed by the
            generated (or real future) frames, with no marker of which frames were
            given (DVD-GAN A.4, TrIVD-GAN-FP appendix A). Without ``cond_frames``
            the video is scored as it is (e.g. a whole real clip).

    Shape:
        - video: ``(B, 3, T, H, W)``; y: ``(B,)`` int64 or ``None``
        - output: dict name -> tensor whose first dimension is B (mixed-projection
          outputs are ``(B, B, T')``)
    """

    def __init__(self, discriminators: Mapping[str, nn.Module], *, frame_conditioning: bool = False) -> None:
        super().__init__()
        if not isinstance(discriminators, Mapping) or not discriminators:
            raise ValueError(f"discriminators: expected a non-empty mapping name -> module, got {discriminators!r}")
        for name, d in discriminators.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"discriminators: names must be non-empty strings, got {name!r}")
            if not isinstance(d, nn.Module):
                raise TypeError(f"discriminators[{name!r}]: expected an nn.Module, got {type(d).__name__}")
            if getattr(d, "frame_conditioning", False):
                raise ValueError(
                    f"discriminators[{name!r}] prepends conditioning frames itself; set frame_conditioning on the "
                    "MultiDiscriminator only, so the frames are not prepended twice"
                )
        self.discriminators = nn.ModuleDict(dict(discriminators))
        self.frame_conditioning = bool(frame_conditioning)

    def __getitem__(self, name: str) -> nn.Module:
        return self.discriminators[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.discriminators)

    def __len__(self) -> int:
        return len(self.discriminators)

    def names(self) -> list[str]:
        """Names of the sub-discriminators, in call order."""
        return list(self.discriminators.keys())

    def forward(
        self, video: torch.Tensor, y: torch.Tensor | None = None, **context: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Score a batch with every sub-discriminator.

        Args:
            video: ``(B, 3, T, H, W)`` in [-1, 1].
            y: ``(B,)`` int64 labels for class-conditional members.
            **context: ``cond_frames=`` (prepended in frame-conditioning mode,
                ignored otherwise), ``low_res=`` (for matching discriminators);
                forwarded to every member, which ignores what it does not use.

        Shape:
            - video: ``(B, 3, T, H, W)``
            - output: dict name -> ``(B, ...)`` or ``(B, B, T')``
        """
        check_video(video, "video", channels=3)
        context = dict(context)
        cond_frames = context.pop("cond_frames", None)
        if self.frame_conditioning:
            video = prepend_cond_frames(video, cond_frames)
        return {name: d(video, y, **context) for name, d in self.discriminators.items()}

    def extra_repr(self) -> str:
        return f"frame_conditioning={self.frame_conditioning}"
