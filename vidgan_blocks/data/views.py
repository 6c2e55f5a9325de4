"""Cascade views of real clips and aligned windows for partial-view training.

CVG (section 3, "Problem setting") builds the training targets of an L-level
cascade from one real clip: ``x^L = x`` and ``x^l = f_s(f_t(x^{l+1}))``, with f_t a
temporal subsampling and f_s a spatial downsampling (bilinear in CVG; SSW-GAN
section 3.1 uses nearest-neighbour downsampling for its matching discriminator).
Partial-view training (CVG section 3.2, SSW-GAN section 3.2) trains level l on a
temporal window of ``w`` frames of ``x^{l-1}`` and the ``w * f_t`` frames of ``x^l``
that it covers; the window start is drawn at the lower level and scaled by f_t, so
the pair stays aligned: ``f_s(f_t(high window)) == low window``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .._checks import check_int, check_positive_int, check_video
from ..ops import DownsampleMode, gather_windows, random_window_starts, spatial_downsample, temporal_subsample

__all__ = ["ViewFactors", "make_views", "window_pair"]

_MODES = ("bilinear", "nearest", "avg")


@dataclass(frozen=True)
class ViewFactors:
    """How one cascade level's view is made from the level above: f_t, then f_s.

    Attributes:
        temporal: temporal subsampling factor f_t (keep every f_t-th frame, from frame 0).
        spatial: spatial downsampling factor f_s.
        mode: f_s filter: ``"bilinear"`` (CVG), ``"nearest"`` (SSW-GAN) or ``"avg"``.
    """

    temporal: int = 1
    spatial: int = 1
    mode: DownsampleMode = "bilinear"

    def __post_init__(self) -> None:
        check_positive_int(self.temporal, "temporal")
        check_positive_int(self.spatial, "spatial")
        if self.mode not in _MODES:
            raise ValueError(f"mode: expected one of {_MODES}, got {self.mode!r}")

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """``f_s(f_t(x))``.

        Shape:
            - x: ``(B, C, T, H, W)`` with H, W multiples of ``spatial``
            - output: ``(B, C, ceil(T / temporal), H / spatial, W / spatial)``
        """
        return spatial_downsample(temporal_subsample(x, self.temporal), self.spatial, self.mode)


def make_views(clip: torch.Tensor, spec: Sequence[ViewFactors]) -> list[torch.Tensor]:
    """All cascade views ``[x^1, ..., x^L]`` of a real clip (CVG section 3).

    Args:
        clip: the finest view ``x^L``, ``(B, C, T, H, W)``.
        spec: ``L - 1`` factors, coarsest first: ``spec[l - 1]`` makes ``x^l`` from
            ``x^{l+1}``. E.g. CVG's two-level Kinetics model (24/32x32 at subsampling 4
            under 48/128x128 at subsampling 2) is ``[ViewFactors(2, 4)]``.

    Returns:
        ``L`` tensors, coarsest first; the last one is ``clip`` itself.

    Shape:
        - clip: ``(B, C, T, H, W)``
        - output[l - 1]: ``(B, C, T_l, H_l, W_l)`` with ``T_l = ceil(T_{l+1} / f_t)``, ``H_l = H_{l+1} / f_s``
    """
    check_video(clip, "clip")
    if isinstance(spec, ViewFactors) or not all(isinstance(f, ViewFactors) for f in spec):
        raise TypeError(f"spec: expected a sequence of ViewFactors, got {spec!r}")
    views = [clip]
    for level, factors in zip(range(len(spec), 0, -1), reversed(spec)):
        above = views[0]
        if above.shape[3] % factors.spatial or above.shape[4] % factors.spatial:
            raise ValueError(
                f"make_views: level {level + 1} view of shape {tuple(above.shape)} is not divisible by "
                f"the spatial factor {factors.spatial} of level {level}"
            )
        views.insert(0, factors.apply(above))
    return views


def window_pair(
    high: torch.Tensor,
    low: torch.Tensor,
    temporal: int,
    window: int,
    generator: torch.Generator | None = None,
    *,
    starts: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Aligned temporal windows of two adjacent cascade views, one start per sample.

    The low view gets frames ``[s, s + window)`` and the high view the frames
    ``[s * f_t, (s + window) * f_t)`` they were subsampled from.

    Args:
        high: view ``x^l``, ``(B, C, T_h, H, W)``.
        low: view ``x^{l-1}``, ``(B, C, T_l, h, w)`` with the same B.
        temporal: f_t between the two views.
        window: window length at the low view.
        generator: source of the random starts.
        starts: ``(B,)`` starts at the low view to use instead of random ones.

    Returns:
        ``(high window, low window, starts)``.

    Shape:
        - high window: ``(B, C, window * f_t, H, W)``
        - low window: ``(B, C, window, h, w)``
        - starts: ``(B,)`` int64
    """
    check_video(high, "high")
    check_video(low, "low")
    check_positive_int(temporal, "temporal")
    check_positive_int(window, "window")
    b = high.shape[0]
    if low.shape[0] != b:
        raise ValueError(f"window_pair: batch sizes differ, high {tuple(high.shape)} vs low {tuple(low.shape)}")
    length = min(low.shape[2], high.shape[2] // temporal)  # low frames whose whole f_t span exists above
    if window > length:
        raise ValueError(
            f"window_pair: window={window} does not fit: low view has {low.shape[2]} frames and the high view "
            f"{high.shape[2]} = {temporal} x {high.shape[2] / temporal:g}"
        )
    if starts is None:
        starts = random_window_starts(b, length, window, generator).cpu()
    else:
        starts = torch.as_tensor(starts)
        if starts.shape != (b,) or starts.is_floating_point():
            raise ValueError(f"starts: expected {b} integer starts, got {tuple(starts.shape)} {starts.dtype}")
        lo, hi = int(starts.min()), int(starts.max())
        check_int(lo, "starts", minimum=0)
        if hi > length - window:
            raise ValueError(f"starts: expected values in [0, {length - window}], got max {hi}")
    starts = starts.long()
    return (
        gather_windows(high, starts * temporal, window * temporal),
        gather_windows(low, starts, window),
        starts,
    )
