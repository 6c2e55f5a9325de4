"""View operators on ``(B, C, T, H, W)`` videos.

These are the functions the papers write as f_s (spatial view), f_t (temporal view)
and phi (the temporal discriminator's pooling), plus the sampling helpers the
discriminators and the windowed trainers use. Every function has a module twin
below it that simply calls it.

* CVG section 3 / SSW-GAN section 3.1: ``x^l = f_s(f_t(x^{l+1}))`` with f_t a
  temporal subsampling and f_s a spatial downsampling (bilinear in CVG, nearest
  in SSW-GAN's matching discriminator).
* DVD-GAN section 3.1: phi is an s x s average pooling; D_S sees k random frames.
* TrIVD-GAN-FP section 3.1: crV is a random spatial crop of the full video.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .._checks import check_int, check_pair, check_positive_int, check_video

__all__ = [
    "DownsampleMode",
    "spatial_downsample",
    "SpatialDownsample",
    "spatial_upsample",
    "temporal_subsample",
    "TemporalSubsample",
    "temporal_repeat",
    "TemporalRepeat",
    "sample_frames",
    "SampleFrames",
    "random_crop",
    "RandomCrop",
    "temporal_windows",
    "random_window_starts",
    "widen_windows",
    "gather_windows",
]

DownsampleMode = Literal["bilinear", "nearest", "avg"]
_MODES = ("bilinear", "nearest", "avg")


def _rand(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Uniform samples on ``device``: drawn from ``generator`` where given, else from the global RNG.

    A generator on another device (a CPU generator for a CUDA video, say) draws on its
    own device; the samples are then copied without blocking the host. Without a
    generator the draw happens on ``device`` itself, so nothing crosses the bus.
    """
    if generator is None:
        return torch.rand(shape, device=device)
    u = torch.rand(shape, generator=generator, device=generator.device)
    return u.to(device, non_blocking=True)


# --------------------------------------------------------------------------- f_s


def spatial_downsample(x: torch.Tensor, factor: int, mode: DownsampleMode = "bilinear") -> torch.Tensor:
    """Downsample every frame of a video by an integer factor (the view f_s / phi).

    Args:
        x: video ``(B, C, T, H, W)``; H and W must be multiples of ``factor``.
        factor: integer downsampling factor s >= 1 (1 returns ``x``).
        mode: ``"bilinear"`` (anti-aliased bilinear, CVG's f_s), ``"nearest"``
            (keeps the top-left pixel of every s x s cell, SSW-GAN) or ``"avg"``
            (s x s average pooling, DVD-GAN's phi).

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C, T, H / s, W / s)``
    """
    check_video(x)
    check_positive_int(factor, "factor")
    if mode not in _MODES:
        raise ValueError(f"mode: expected one of {_MODES}, got {mode!r}")
    b, _, t, h, w = x.shape
    if h % factor or w % factor:
        raise ValueError(
            f"spatial_downsample: H and W must be multiples of factor={factor}, got shape {tuple(x.shape)}"
        )
    if factor == 1:
        return x
    if mode == "avg":
        return F.avg_pool3d(x, kernel_size=(1, factor, factor))
    if mode == "nearest":
        return x[..., ::factor, ::factor]
    frames = rearrange(x, "b c t h w -> (b t) c h w")
    # The anti-aliased kernel has no bf16/fp16 version on every backend (none on CPU): under
    # autocast the filter runs in float32 and the result returns in the input's dtype.
    low_precision = frames.dtype in (torch.bfloat16, torch.float16)
    out = F.interpolate(frames.float() if low_precision else frames, size=(h // factor, w // factor),
                        mode="bilinear", align_corners=False, antialias=True)
    return rearrange(out.to(x.dtype), "(b t) c h w -> b c t h w", b=b, t=t)


class SpatialDownsample(nn.Module):
    """Module twin of :func:`spatial_downsample`."""

    def __init__(self, factor: int, mode: DownsampleMode = "bilinear") -> None:
        super().__init__()
        check_positive_int(factor, "factor")
        if mode not in _MODES:
            raise ValueError(f"mode: expected one of {_MODES}, got {mode!r}")
        self.factor = factor
        self.mode: DownsampleMode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: ``(B, C, T, H, W) -> (B, C, T, H / s, W / s)``."""
        return spatial_downsample(x, self.factor, self.mode)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, mode={self.mode!r}"


def spatial_upsample(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Nearest-neighbour spatial upsampling of every frame by an integer factor.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C, T, H * s, W * s)``
    """
    check_video(x)
    check_positive_int(factor, "factor")
    if factor == 1:
        return x
    return x.repeat_interleave(factor, dim=3).repeat_interleave(factor, dim=4)


# --------------------------------------------------------------------------- f_t


def temporal_subsample(x: torch.Tensor, factor: int, offset: int = 0) -> torch.Tensor:
    """Keep every ``factor``-th frame starting at ``offset`` (the view f_t).

    Shape:
        - x: ``(B, C, T, H, W)`` with ``T > offset``
        - output: ``(B, C, ceil((T - offset) / factor), H, W)``
    """
    check_video(x)
    check_positive_int(factor, "factor")
    check_int(offset, "offset", minimum=0)
    if offset >= factor:
        raise ValueError(f"offset: expected 0 <= offset < factor={factor}, got {offset}")
    if x.shape[2] <= offset:
        raise ValueError(f"temporal_subsample: need T > offset={offset}, got shape {tuple(x.shape)}")
    return x[:, :, offset::factor]


class TemporalSubsample(nn.Module):
    """Module twin of :func:`temporal_subsample`."""

    def __init__(self, factor: int, offset: int = 0) -> None:
        super().__init__()
        check_positive_int(factor, "factor")
        check_int(offset, "offset", minimum=0)
        if offset >= factor:
            raise ValueError(f"offset: expected 0 <= offset < factor={factor}, got {offset}")
        self.factor = factor
        self.offset = offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: ``(B, C, T, H, W) -> (B, C, ceil((T - offset) / factor), H, W)``."""
        return temporal_subsample(x, self.factor, self.offset)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, offset={self.offset}"


def temporal_repeat(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Nearest temporal interpolation: every frame is repeated ``factor`` times.

    This is how an upsampling level sees its low-resolution input at the output
    frame rate (SSW-GAN B.2). ``temporal_subsample(temporal_repeat(x, f), f) == x``.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C, T * factor, H, W)``
    """
    check_video(x)
    check_positive_int(factor, "factor")
    if factor == 1:
        return x
    return x.repeat_interleave(factor, dim=2)


class TemporalRepeat(nn.Module):
    """Module twin of :func:`temporal_repeat`."""

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = check_positive_int(factor, "factor")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: ``(B, C, T, H, W) -> (B, C, T * factor, H, W)``."""
        return temporal_repeat(x, self.factor)

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


# --------------------------------------------------------------------------- sampling


def sample_frames(
    x: torch.Tensor,
    k: int,
    generator: torch.Generator | None = None,
    *,
    return_indices: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Pick ``k`` distinct frames per sample, uniformly at random (DVD-GAN's D_S input).

    The chosen frames keep their temporal order. Draws come from ``generator``
    (else from the global RNG of ``x``'s device), so a seeded generator reproduces
    the choice.

    Args:
        x: video ``(B, C, T, H, W)`` with ``T >= k``.
        k: frames per sample.
        generator: optional ``torch.Generator`` for reproducible draws.
        return_indices: also return the ``(B, k)`` frame indices.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C, k, H, W)`` (and indices ``(B, k)``)
    """
    check_video(x)
    check_positive_int(k, "k")
    b, _, t = x.shape[:3]
    if t < k:
        raise ValueError(f"sample_frames: need at least k={k} frames, got shape {tuple(x.shape)}")
    idx = _rand((b, t), generator, x.device).argsort(dim=1)[:, :k].sort(dim=1).values  # [B, k]
    frames = rearrange(x, "b c t h w -> b t c h w")[torch.arange(b, device=x.device)[:, None], idx]
    out = rearrange(frames, "b k c h w -> b c k h w")
    return (out, idx) if return_indices else out


class SampleFrames(nn.Module):
    """Module twin of :func:`sample_frames` (uses the global RNG unless a generator is set)."""

    def __init__(self, k: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.k = check_positive_int(k, "k")
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: ``(B, C, T, H, W) -> (B, C, k, H, W)``."""
        return sample_frames(x, self.k, self.generator)  # type: ignore[return-value]

    def extra_repr(self) -> str:
        return f"k={self.k}"


def random_crop(
    x: torch.Tensor,
    size_hw: int | tuple[int, int],
    generator: torch.Generator | None = None,
    *,
    return_boxes: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Crop every sample of a video at its own uniformly random spatial position.

    The same box is used for all frames of one sample (TrIVD-GAN-FP's crV).

    Args:
        x: video ``(B, C, T, H, W)``.
        size_hw: crop size ``(h, w)`` (or one int for a square), at most ``(H, W)``.
        generator: optional ``torch.Generator`` for reproducible draws.
        return_boxes: also return the ``(B, 2)`` top-left corners ``(top, left)``.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: ``(B, C, T, h, w)`` (and boxes ``(B, 2)``)
    """
    check_video(x)
    ch, cw = check_pair(size_hw, "size_hw")
    b, _, _, h, w = x.shape
    if ch > h or cw > w:
        raise ValueError(f"random_crop: crop {(ch, cw)} is larger than the frame {(h, w)} of shape {tuple(x.shape)}")
    u = _rand((b, 2), generator, x.device)
    top = (u[:, 0] * (h - ch + 1)).floor().long().clamp_(max=h - ch)
    left = (u[:, 1] * (w - cw + 1)).floor().long().clamp_(max=w - cw)
    boxes = torch.stack([top, left], dim=1)
    # One gather for the whole batch: no per-sample Python loop and no device-to-host copy of the
    # boxes (a synchronisation on GPUs, a graph break under torch.compile).
    rows = (top[:, None] + torch.arange(ch, device=x.device))[:, :, None]  # [B, h, 1]
    cols = (left[:, None] + torch.arange(cw, device=x.device))[:, None, :]  # [B, 1, w]
    idx = torch.arange(b, device=x.device)[:, None, None]
    crops = x.permute(0, 3, 4, 1, 2)[idx, rows, cols]  # [B, h, w, C, T]
    crops = crops.permute(0, 3, 4, 1, 2).contiguous()
    return (crops, boxes) if return_boxes else crops


class RandomCrop(nn.Module):
    """Module twin of :func:`random_crop`."""

    def __init__(self, size_hw: int | tuple[int, int], generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.size_hw = check_pair(size_hw, "size_hw")
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shape: ``(B, C, T, H, W) -> (B, C, T, h, w)``."""
        return random_crop(x, self.size_hw, self.generator)  # type: ignore[return-value]

    def extra_repr(self) -> str:
        return f"size_hw={self.size_hw}"


# --------------------------------------------------------------------------- windows


def temporal_windows(length: int, window: int, stride: int | None = None) -> list[int]:
    """Start indices of windows of ``window`` frames that together cover ``length`` frames.

    Windows step by ``stride`` (default: ``window``, no overlap); the last window is
    moved back so it ends exactly at ``length``, so every frame is covered and no
    window runs past the end. This is the enumeration used to unroll a level over
    a long input window by window.

    Returns:
        Sorted, distinct start indices, each in ``[0, length - window]``.
    """
    check_positive_int(length, "length")
    check_positive_int(window, "window")
    stride = window if stride is None else check_positive_int(stride, "stride")
    if window > length:
        raise ValueError(f"temporal_windows: window={window} is longer than length={length}")
    if stride > window:
        raise ValueError(f"temporal_windows: stride={stride} > window={window} would leave frames uncovered")
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def random_window_starts(
    batch: int,
    length: int,
    window: int,
    generator: torch.Generator | None = None,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """One uniformly random window start per sample, in ``[0, length - window]``.

    Partial-view training (CVG section 3.2, SSW-GAN section 3.2) draws these at the
    lowest resolution involved and scales them by the temporal factor for the
    level above, which keeps the two views aligned. The range holds by
    construction, so :func:`gather_windows` need not read the starts back.

    Returns:
        ``(batch,)`` int64 tensor on ``device`` (default: the generator's device,
        else the CPU).
    """
    check_positive_int(batch, "batch")
    check_positive_int(length, "length")
    check_positive_int(window, "window")
    if window > length:
        raise ValueError(f"random_window_starts: window={window} is longer than length={length}")
    if device is None:
        device = generator.device if generator is not None else torch.device("cpu")
    u = _rand((batch,), generator, torch.device(device))
    return (u * (length - window + 1)).floor().long().clamp_(max=length - window)


def widen_windows(starts: torch.Tensor, length: int, window: int, context: int) -> tuple[torch.Tensor, int, torch.Tensor]:
    """Widen ``window``-frame windows by up to ``context`` frames on each side, within ``[0, length)``.

    A level trained on windows with temporal padding sees a padded edge next to every
    window, while convolutional unrolling runs it over whole videos, where most frames
    have real neighbours. Feeding the generator the wider window and keeping only the
    frames of the original one trains those frames as unrolling computes them: with
    ``context`` at least the generator's temporal radius (in input frames), a kept frame
    equals the same frame of the whole-video output unless the video's own edge is
    nearer, and then that edge is in the wider window too.

    All wider windows have the same length ``min(length, window + 2 * context)``, so they
    batch; near the video's edges they are shifted inwards rather than cut.

    Args:
        starts: ``(B,)`` starts of the windows (e.g. from :func:`random_window_starts`).
        length: frames of the video the windows are taken from.
        window: frames per window.
        context: frames to add on each side (0 keeps the windows).

    Returns:
        ``(wide_starts, wide_length, offsets)``: ``gather_windows(x, wide_starts, wide_length)``
        holds every window, which starts at ``offsets`` inside it
        (``wide_starts + offsets == starts``). Tensors on ``starts``' device; nothing is read back.
    """
    check_positive_int(length, "length")
    check_positive_int(window, "window")
    check_int(context, "context", minimum=0)
    if window > length:
        raise ValueError(f"widen_windows: window={window} is longer than length={length}")
    if not isinstance(starts, torch.Tensor):
        raise TypeError(f"starts: expected a 1-D integer tensor, got {type(starts).__name__}")
    if starts.dim() != 1 or starts.is_floating_point() or starts.dtype == torch.bool:
        raise ValueError(f"starts: expected a 1-D integer tensor, got {getattr(starts, 'shape', type(starts).__name__)}")
    wide = min(length, window + 2 * context)
    wide_starts = (starts - context).clamp(min=0, max=length - wide)
    return wide_starts, wide, starts - wide_starts


def gather_windows(x: torch.Tensor, starts: torch.Tensor | Sequence[int], window: int) -> torch.Tensor:
    """Take the window ``x[b, :, starts[b] : starts[b] + window]`` of every sample.

    ``starts`` may live on any device. Their range is checked when they are on the
    CPU (a list, or a CPU tensor); starts already on an accelerator are not read
    back, since that read would stall it: draw them with
    :func:`random_window_starts`, whose range holds by construction.

    Shape:
        - x: ``(B, C, T, H, W)``
        - starts: ``(B,)`` integer start indices
        - output: ``(B, C, window, H, W)``
    """
    check_video(x)
    check_positive_int(window, "window")
    b, t = x.shape[0], x.shape[2]
    if window > t:
        raise ValueError(f"gather_windows: window={window} is longer than T={t}")
    starts_t = starts if isinstance(starts, torch.Tensor) else torch.as_tensor(starts, dtype=torch.long)
    if starts_t.dim() != 1 or starts_t.shape[0] != b or starts_t.is_floating_point() or starts_t.dtype == torch.bool:
        raise ValueError(f"starts: expected {b} integer starts, got {tuple(starts_t.shape)} {starts_t.dtype}")
    if starts_t.device.type == "cpu" and not torch.compiler.is_compiling():
        lo, hi = torch.stack(torch.aminmax(starts_t)).tolist()
        if lo < 0 or hi + window > t:
            raise ValueError(f"gather_windows: windows [{lo}, {hi}+{window}) fall outside T={t}")
    idx = starts_t.to(x.device, non_blocking=True)[:, None] + torch.arange(window, device=x.device)  # [B, window]
    frames = rearrange(x, "b c t h w -> b t c h w")[torch.arange(b, device=x.device)[:, None], idx]
    return rearrange(frames, "b t c h w -> b c t h w")
