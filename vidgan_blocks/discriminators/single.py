"""Single video discriminators: what each one looks at, and the trunk it uses.

Notation of TrIVD-GAN-FP section 3.1 and Table 1:

* F  — k random full-resolution frames, scored one by one (DVD-GAN's D_S):
  :class:`SpatialDiscriminator` with ``downsample=1``.
* dF — the same frames downsampled by s: :class:`SpatialDiscriminator` with
  ``downsample=s``.
* dV — the whole clip downsampled by s (DVD-GAN's D_T, phi = s x s average
  pooling): :class:`TemporalDiscriminator` with ``downsample=s``.
* clV — the whole clip at full resolution (MoCoGAN's video discriminator):
  :class:`TemporalDiscriminator` with ``downsample=1``.
* crV — a random full-resolution ``H/s x W/s`` crop of the whole clip:
  :class:`CroppedDiscriminator`.
* the matching discriminator of SSW-GAN (section 4, B.2) and CVG: scores
  (high-resolution window, low-resolution window) pairs:
  :class:`MatchingDiscriminator`.

Every discriminator has ``forward(video, y=None, **context)``. Context keywords a
discriminator does not use are ignored, so one call serves every decomposition.
With ``frame_conditioning=True`` the ``cond_frames=`` context is prepended in
time to the video before anything else (DVD-GAN A.4: "Both D_T and D_S operate
on the concatenation of the conditioning frames and the output of G").

Random choices (frames, crop positions) draw from ``self.generator`` when it is a
``torch.Generator``, so a seeded generator reproduces them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._checks import check_pair, check_positive_int, check_video
from ..ops import (
    DownsampleMode,
    random_crop,
    sample_frames,
    spatial_downsample,
    temporal_subsample,
)
from .trunk import DiscriminatorTrunk, Reduction, ScoreHead

__all__ = [
    "VideoDiscriminator",
    "SpatialDiscriminator",
    "TemporalDiscriminator",
    "CroppedDiscriminator",
    "MatchingDiscriminator",
    "prepend_cond_frames",
]

_MODES = ("bilinear", "nearest", "avg")


def prepend_cond_frames(video: torch.Tensor, cond_frames: torch.Tensor | None) -> torch.Tensor:
    """Concatenate conditioning frames before a video in time (DVD-GAN A.4).

    Shape:
        - video: ``(B, C, T, H, W)``; cond_frames: ``(B, C, T_c, H, W)`` or ``None``
        - output: ``(B, C, T_c + T, H, W)`` (``video`` itself when ``cond_frames`` is ``None``)
    """
    check_video(video, "video")
    if cond_frames is None:
        return video
    b, c, _, h, w = video.shape
    check_video(cond_frames, "cond_frames", channels=c, hw=(h, w))
    if cond_frames.shape[0] != b:
        raise ValueError(
            f"cond_frames: expected batch {b} to match video {tuple(video.shape)}, got shape {tuple(cond_frames.shape)}"
        )
    return torch.cat([cond_frames, video], dim=2)


class VideoDiscriminator(nn.Module):
    """Shared plumbing: frame conditioning, input checks, trunk and head.

    Subclasses implement :meth:`view`, which maps the (conditioned) video to the
    trunk input.
    """

    def __init__(
        self,
        trunk: DiscriminatorTrunk,
        *,
        num_classes: int | None,
        mixed_projection: bool,
        reduce: Reduction,
        frame_conditioning: bool,
        generator: torch.Generator | None,
        sn: bool,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if num_classes is not None:
            check_positive_int(num_classes, "num_classes")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.num_classes = num_classes
        self.frame_conditioning = bool(frame_conditioning)
        self.generator = generator
        self.trunk = trunk
        self.head = ScoreHead(trunk.out_features, num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)

    def view(self, video: torch.Tensor, **context: torch.Tensor) -> torch.Tensor:
        """The trunk input built from the video (and context). Overridden by every subclass."""
        return video

    def forward(self, video: torch.Tensor, y: torch.Tensor | None = None, **context: torch.Tensor) -> torch.Tensor:
        """Score a batch of videos.

        Args:
            video: ``(B, 3, T, H, W)`` in [-1, 1].
            y: ``(B,)`` int64 class labels (class-conditional discriminators only).
            **context: ``cond_frames=`` (used in frame-conditioning mode),
                ``low_res=`` (used by :class:`MatchingDiscriminator`); others ignored.

        Shape:
            - video: ``(B, 3, T, H, W)``
            - output: ``(B,)`` with ``reduce="sum"`` / ``"mean"``, ``(B, T')``
              with ``reduce="none"``, ``(B, B, T')`` with mixed projection, where
              T' is the number of frames the trunk sees.
        """
        check_video(video, "video", channels=self.in_channels)
        if self.frame_conditioning:
            video = prepend_cond_frames(video, context.get("cond_frames"))
        x = self.view(video, **context)
        return self.head(self.trunk(x), y)


class SpatialDiscriminator(VideoDiscriminator):
    """Per-frame discriminator on k random frames (F; with ``downsample=s`` it is dF).

    DVD-GAN 3.1 / A.2: k frames are drawn uniformly without replacement (k = 8),
    each is scored by a 2D BigGAN trunk, and the per-frame scores are summed.
    TrIVD-GAN-FP 3.1: dF downsamples those frames by s (s = 2).

    Args:
        k: frames per video.
        downsample: spatial factor s applied to the sampled frames (1 = F).
        ch, multipliers: trunk width (see :class:`DiscriminatorTrunk`).
        num_classes: projection classes, or ``None``.
        mixed_projection: TrIVD-GAN-FP's ``(B, B, k)`` head.
        reduce: reduction of the k per-frame scores (projection head only).
        downsample_mode: how frames are downsampled (``"avg"``: s x s average pooling).
        frame_conditioning: prepend ``cond_frames`` before sampling.
        generator: optional ``torch.Generator`` for the frame choice.
        sn: spectral norm.

    Shape:
        - video: ``(B, 3, T, H, W)`` with ``T >= k`` (after conditioning frames)
        - output: ``(B,)``, ``(B, k)`` (``reduce="none"``) or ``(B, B, k)`` (mixed)
    """

    def __init__(
        self,
        k: int = 8,
        downsample: int = 1,
        *,
        ch: int,
        multipliers: Sequence[int],
        num_classes: int | None = None,
        mixed_projection: bool = False,
        reduce: Reduction = "sum",
        downsample_mode: DownsampleMode = "avg",
        frame_conditioning: bool = False,
        generator: torch.Generator | None = None,
        sn: bool = True,
    ) -> None:
        self.k = check_positive_int(k, "k")
        self.downsample = check_positive_int(downsample, "downsample")
        if downsample_mode not in _MODES:
            raise ValueError(f"downsample_mode: expected one of {_MODES}, got {downsample_mode!r}")
        self.downsample_mode: DownsampleMode = downsample_mode
        trunk = DiscriminatorTrunk(3, ch, multipliers, blocks_3d=0, sn=sn)
        super().__init__(
            trunk,
            num_classes=num_classes,
            mixed_projection=mixed_projection,
            reduce=reduce,
            frame_conditioning=frame_conditioning,
            generator=generator,
            sn=sn,
        )

    def view(self, video: torch.Tensor, **context: torch.Tensor) -> torch.Tensor:
        if video.shape[2] < self.k:
            raise ValueError(f"video: expected at least k={self.k} frames, got shape {tuple(video.shape)}")
        frames = sample_frames(video, self.k, self.generator)  # [B, 3, k, H, W]
        return spatial_downsample(frames, self.downsample, self.downsample_mode)  # type: ignore[arg-type]

    def extra_repr(self) -> str:
        return f"k={self.k}, downsample={self.downsample}, mode={self.downsample_mode!r}"


class TemporalDiscriminator(VideoDiscriminator):
    """Clip discriminator on the whole, spatially downsampled video (dV; s = 1 is clV).

    DVD-GAN 3.1 / A.2: phi is a 2x2 average pooling, the first two residual blocks
    are 3D (3x3x3 convolutions), the rest per frame.

    Args:
        downsample: spatial factor s (2 for DVD-GAN's D_T, 1 for clV).
        blocks_3d: leading 3D blocks (2 in every paper).
        other arguments: as :class:`SpatialDiscriminator`.

    Shape:
        - video: ``(B, 3, T, H, W)``
        - output: ``(B,)``, ``(B, T)`` (``reduce="none"``) or ``(B, B, T)`` (mixed)
    """

    def __init__(
        self,
        downsample: int = 2,
        *,
        ch: int,
        multipliers: Sequence[int],
        blocks_3d: int = 2,
        num_classes: int | None = None,
        mixed_projection: bool = False,
        reduce: Reduction = "sum",
        downsample_mode: DownsampleMode = "avg",
        frame_conditioning: bool = False,
        generator: torch.Generator | None = None,
        sn: bool = True,
    ) -> None:
        self.downsample = check_positive_int(downsample, "downsample")
        if downsample_mode not in _MODES:
            raise ValueError(f"downsample_mode: expected one of {_MODES}, got {downsample_mode!r}")
        self.downsample_mode: DownsampleMode = downsample_mode
        trunk = DiscriminatorTrunk(3, ch, multipliers, blocks_3d=blocks_3d, sn=sn)
        super().__init__(
            trunk,
            num_classes=num_classes,
            mixed_projection=mixed_projection,
            reduce=reduce,
            frame_conditioning=frame_conditioning,
            generator=generator,
            sn=sn,
        )

    def view(self, video: torch.Tensor, **context: torch.Tensor) -> torch.Tensor:
        return spatial_downsample(video, self.downsample, self.downsample_mode)

    def extra_repr(self) -> str:
        return f"downsample={self.downsample}, mode={self.downsample_mode!r}"


class CroppedDiscriminator(VideoDiscriminator):
    """Clip discriminator on a random full-resolution spatial crop (crV, TrIVD-GAN-FP 3.1).

    Every video is cropped at its own uniformly random position, the same box for
    all its frames; the crop is ``T x H/s x W/s`` with s = 2 in the paper.

    Args:
        crop: crop size ``(h, w)`` (or one int); exclusive with ``factor``.
        factor: crop ``(H // factor, W // factor)`` of whatever size arrives.
        blocks_3d: leading 3D blocks (2).
        other arguments: as :class:`SpatialDiscriminator`.

    Shape:
        - video: ``(B, 3, T, H, W)`` with ``H >= h``, ``W >= w``
        - output: ``(B,)``, ``(B, T)`` (``reduce="none"``) or ``(B, B, T)`` (mixed)
    """

    def __init__(
        self,
        crop: int | tuple[int, int] | None = None,
        *,
        factor: int | None = None,
        ch: int,
        multipliers: Sequence[int],
        blocks_3d: int = 2,
        num_classes: int | None = None,
        mixed_projection: bool = False,
        reduce: Reduction = "sum",
        frame_conditioning: bool = False,
        generator: torch.Generator | None = None,
        sn: bool = True,
    ) -> None:
        if (crop is None) == (factor is None):
            raise ValueError(f"give exactly one of crop= and factor=, got crop={crop!r}, factor={factor!r}")
        self.crop = None if crop is None else check_pair(crop, "crop")
        self.factor = None if factor is None else check_positive_int(factor, "factor")
        trunk = DiscriminatorTrunk(3, ch, multipliers, blocks_3d=blocks_3d, sn=sn)
        super().__init__(
            trunk,
            num_classes=num_classes,
            mixed_projection=mixed_projection,
            reduce=reduce,
            frame_conditioning=frame_conditioning,
            generator=generator,
            sn=sn,
        )

    def crop_size(self, h: int, w: int) -> tuple[int, int]:
        """The crop ``(h, w)`` taken from frames of size ``(H, W)``."""
        if self.crop is not None:
            return self.crop
        assert self.factor is not None
        if h % self.factor or w % self.factor:
            raise ValueError(f"video: H and W must be multiples of factor={self.factor}, got {(h, w)}")
        return (h // self.factor, w // self.factor)

    def view(self, video: torch.Tensor, **context: torch.Tensor) -> torch.Tensor:
        size = self.crop_size(video.shape[3], video.shape[4])
        if size[0] > video.shape[3] or size[1] > video.shape[4]:
            raise ValueError(f"video: crop {size} is larger than the frames of shape {tuple(video.shape)}")
        return random_crop(video, size, self.generator)  # type: ignore[return-value]

    def extra_repr(self) -> str:
        return f"crop={self.crop}" if self.crop is not None else f"factor={self.factor}"


class MatchingDiscriminator(VideoDiscriminator):
    """Scores (high-resolution window, low-resolution window) pairs (SSW-GAN 4, B.2; CVG 3).

    The high-resolution video is brought to the low-resolution window's shape
    with the cascade's own views, ``f_s(f_t(video))`` = :func:`temporal_subsample`
    by ``factor_t`` (offset 0) then :func:`spatial_downsample` by ``factor_s``,
    and concatenated on channels after the low-resolution window:
    ``x = cat([low_res, f_s(f_t(video))], dim=1)`` (6 channels). That pair is
    scored by the temporal discriminator's trunk (first ``blocks_3d`` blocks 3D)
    without further pooling. A real pair built with the same views therefore
    matches exactly.

    Args:
        factor_t: temporal subsampling between the two levels.
        factor_s: spatial downsampling between the two levels.
        mode: spatial downsampling mode (``"bilinear"``: CVG's f_s; SSW-GAN
            section 3 uses ``"nearest"``).
        other arguments: as :class:`TemporalDiscriminator`.

    Shape:
        - video: ``(B, 3, T, H, W)``
        - low_res (context, required): ``(B, 3, ceil(T / factor_t), H / factor_s, W / factor_s)``
        - output: ``(B,)``, ``(B, t)`` (``reduce="none"``) or ``(B, B, t)`` (mixed),
          t the low-resolution frame count
    """

    def __init__(
        self,
        factor_t: int = 2,
        factor_s: int = 4,
        mode: DownsampleMode = "bilinear",
        *,
        ch: int,
        multipliers: Sequence[int],
        blocks_3d: int = 2,
        num_classes: int | None = None,
        mixed_projection: bool = False,
        reduce: Reduction = "sum",
        frame_conditioning: bool = False,
        generator: torch.Generator | None = None,
        sn: bool = True,
    ) -> None:
        self.factor_t = check_positive_int(factor_t, "factor_t")
        self.factor_s = check_positive_int(factor_s, "factor_s")
        if mode not in _MODES:
            raise ValueError(f"mode: expected one of {_MODES}, got {mode!r}")
        self.mode: DownsampleMode = mode
        trunk = DiscriminatorTrunk(6, ch, multipliers, blocks_3d=blocks_3d, sn=sn)
        super().__init__(
            trunk,
            num_classes=num_classes,
            mixed_projection=mixed_projection,
            reduce=reduce,
            frame_conditioning=frame_conditioning,
            generator=generator,
            sn=sn,
        )

    def expected_low_res_shape(self, video_shape: Sequence[int]) -> tuple[int, int, int, int, int]:
        """The low-resolution shape that pairs with a video of ``video_shape``."""
        b, c, t, h, w = (int(s) for s in video_shape)
        return (b, c, -(-t // self.factor_t), h // self.factor_s, w // self.factor_s)

    def pair(self, video: torch.Tensor, low_res: torch.Tensor) -> torch.Tensor:
        """The 6-channel input: low-res window, then the downsampled high-res window.

        Shape:
            - video: ``(B, 3, T, H, W)``; low_res: ``(B, 3, ceil(T / f_t), H / f_s, W / f_s)``
            - output: ``(B, 6, ceil(T / f_t), H / f_s, W / f_s)``
        """
        check_video(video, "video", channels=3)
        check_video(low_res, "low_res", channels=3)
        b, c, t, h, w = video.shape
        if h % self.factor_s or w % self.factor_s:
            raise ValueError(
                f"video: H and W must be multiples of factor_s={self.factor_s}, got shape {tuple(video.shape)}"
            )
        expected = self.expected_low_res_shape(video.shape)
        if tuple(low_res.shape) != expected:
            raise ValueError(
                f"low_res: a video of shape {tuple(video.shape)} pairs with a low-resolution window of shape "
                f"{expected} (factor_t={self.factor_t}, factor_s={self.factor_s}), got {tuple(low_res.shape)}"
            )
        down = spatial_downsample(temporal_subsample(video, self.factor_t), self.factor_s, self.mode)
        return torch.cat([low_res, down], dim=1)  # [B, 6, t, h, w]

    def forward(self, video: torch.Tensor, y: torch.Tensor | None = None, **context: torch.Tensor) -> torch.Tensor:
        """Score (video, low_res) pairs; ``low_res=`` is a required context keyword.

        Shape:
            - video: ``(B, 3, T, H, W)``
            - low_res: ``(B, 3, ceil(T / factor_t), H / factor_s, W / factor_s)``
            - output: ``(B,)``, ``(B, t)`` (``reduce="none"``) or ``(B, B, t)`` (mixed)
        """
        check_video(video, "video", channels=3)
        low_res = context.get("low_res")
        if low_res is None:
            raise ValueError("low_res: the matching discriminator needs the low-resolution window (low_res=...)")
        if self.frame_conditioning:
            video = prepend_cond_frames(video, context.get("cond_frames"))
        return self.head(self.trunk(self.pair(video, low_res)), y)

    def extra_repr(self) -> str:
        return f"factor_t={self.factor_t}, factor_s={self.factor_s}, mode={self.mode!r}"
