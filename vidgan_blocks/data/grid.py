"""Tiling a batch of videos into one video or one image, the way the papers show samples.

``video_grid`` lays a batch ``(B, 3, T, H, W)`` out on a grid of tiles that play
together as one video. ``frames_grid`` writes a still image with one row per sample
and one column per selected time step (DVD-GAN Fig. 1/4, TrIVD-GAN-FP Fig. 5, CVG
Fig. 4 present their samples that way).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
from einops import rearrange

from .._checks import check_int, check_positive_int, check_video

__all__ = ["video_grid", "frames_grid", "to_uint8", "check_pixel_range"]

#: Values this far outside [-1, 1] are still accepted (and clamped) to absorb float rounding.
RANGE_TOLERANCE = 1e-3


def check_pixel_range(x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """Raise ``ValueError`` unless every value of ``x`` lies in [-1, 1] (up to rounding)."""
    if x.numel() == 0:
        return x
    lo, hi = float(x.min()), float(x.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name}: expected finite pixel values in [-1, 1], got non-finite values")
    if lo < -1.0 - RANGE_TOLERANCE or hi > 1.0 + RANGE_TOLERANCE:
        raise ValueError(
            f"{name}: expected pixel values in [-1, 1], got range [{lo:.4g}, {hi:.4g}]; "
            "map images with x / 127.5 - 1 (uint8) or 2 * x - 1 ([0, 1]) first"
        )
    return x


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Map [-1, 1] floats to uint8 [0, 255] with rounding (values are clamped first)."""
    return ((x.detach().float().clamp(-1.0, 1.0) + 1.0) * 127.5).round_().to(torch.uint8)


def video_grid(
    batch: torch.Tensor,
    nrow: int | None = None,
    padding: int = 1,
    pad_value: float = -1.0,
) -> torch.Tensor:
    """Tile a batch of videos into one video.

    Tiles fill the grid row by row; the grid has ``nrow`` tiles per row (default
    ``ceil(sqrt(B))``) and as many rows as needed. Empty cells and the ``padding``
    pixels around every tile hold ``pad_value``.

    Args:
        batch: videos ``(B, C, T, H, W)`` (any C; values are not checked here).
        nrow: tiles per row.
        padding: border in pixels around each tile.
        pad_value: fill value of borders and empty cells (-1 is black).

    Shape:
        - batch: ``(B, C, T, H, W)``
        - output: ``(C, T, rows * (H + p) + p, nrow * (W + p) + p)`` with ``p = padding``
    """
    check_video(batch, "batch")
    b, c, t, h, w = batch.shape
    ncol = math.ceil(math.sqrt(b)) if nrow is None else check_positive_int(nrow, "nrow")
    ncol = min(ncol, b)
    check_int(padding, "padding", minimum=0)
    rows = math.ceil(b / ncol)
    p = padding
    # Each tile owns its top/left border; one extra border closes the bottom/right edge.
    tiles = batch.new_full((rows * ncol, c, t, h + p, w + p), pad_value)
    tiles[:b, :, :, p:, p:] = batch
    grid = rearrange(tiles, "(r k) c t h w -> c t (r h) (k w)", r=rows, k=ncol)
    out = batch.new_full((c, t, rows * (h + p) + p, ncol * (w + p) + p), pad_value)
    out[:, :, : grid.shape[2], : grid.shape[3]] = grid
    return out


def frames_grid(
    batch: torch.Tensor,
    path: str | os.PathLike[str] | None = None,
    *,
    every: int = 1,
    padding: int = 1,
    pad_value: float = -1.0,
) -> torch.Tensor:
    """Lay a batch out as a still image: one row per sample, one column per time step.

    Columns show frames ``0, every, 2 * every, ...``. If ``path`` is given, the image
    is written there as PNG (through PIL, which comes with torchvision).

    Args:
        batch: videos ``(B, 3, T, H, W)`` (or ``(3, T, H, W)`` for one sample), in [-1, 1].
        path: where to write the PNG (suffix ``.png``), or ``None`` to only return the image.
        every: temporal step between the shown frames.
        padding: border in pixels around each frame.
        pad_value: border fill value (-1 is black).

    Returns:
        The image as a uint8 tensor ``(3, B * (H + p) + p, n * (W + p) + p)`` with
        ``n = ceil(T / every)``.

    Shape:
        - batch: ``(B, 3, T, H, W)`` or ``(3, T, H, W)``
        - output: ``(3, H_img, W_img)`` uint8
    """
    if isinstance(batch, torch.Tensor) and batch.dim() == 4:
        batch = batch.unsqueeze(0)
    check_video(batch, "batch", channels=3)
    check_positive_int(every, "every")
    check_pixel_range(batch, "batch")
    if path is not None and Path(path).suffix.lower() != ".png":
        raise ValueError(f"frames_grid: expected a path ending in .png, got {str(path)!r}")
    sel = batch[:, :, ::every]  # [B, 3, n, H, W]
    b, c, n, h, w = sel.shape
    # Treat each row (sample) as one tile-row of a grid whose columns are time steps.
    frames = rearrange(sel, "b c n h w -> (b n) c 1 h w")
    image = video_grid(frames, nrow=n, padding=padding, pad_value=pad_value)[:, 0]  # [3, H_img, W_img]
    image_u8 = to_uint8(image)
    if path is not None:
        from PIL import Image

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rearrange(image_u8, "c h w -> h w c").contiguous().numpy()).save(str(path), format="PNG")
    return image_u8
