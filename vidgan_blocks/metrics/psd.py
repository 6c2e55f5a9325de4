"""Radially averaged power spectral density per frame (SSW-GAN appendix E, Figure 9).

SSW-GAN checks that unrolled generations do not blur over time by comparing, at
frames 1, 10, 25 and 50, the radially averaged power spectrum of generated and
real videos (following Ayzel et al.'s rapsd): per video and frame, the 2-D power
spectrum ``|FFT(x)|^2 / (H W)`` averaged over rings of equal integer spatial
frequency; the curves are averaged over the videos of each of 3 sets (600 videos
each in the paper), and the mean and standard deviation over the sets are plotted.

:func:`power_spectrum` computes the per-video curves in one batched FFT,
:func:`psd_summary` the per-set mean / std, and :func:`plot_power_spectra` writes
the comparison figure as a PNG (drawn with Pillow, no plotting library needed).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch

from .._checks import check_video

__all__ = ["power_spectrum", "psd_frequencies", "psd_summary", "plot_power_spectra"]


def psd_frequencies(h: int, w: int) -> torch.Tensor:
    """Radial frequency of each PSD bin, in cycles per ``min(H, W)`` pixels: ``0 .. min(H, W) // 2``."""
    return torch.arange(min(h, w) // 2 + 1, dtype=torch.float64)


def _ring_index(h: int, w: int, device: torch.device) -> torch.Tensor:
    """Integer radial frequency of every FFT coefficient, on a common scale for non-square frames."""
    s = min(h, w)
    ky = torch.fft.fftfreq(h, device=device, dtype=torch.float64) * s
    kx = torch.fft.fftfreq(w, device=device, dtype=torch.float64) * s
    return torch.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2).round().long()  # [H, W]


def power_spectrum(videos: torch.Tensor, frames: Sequence[int] | None = None) -> torch.Tensor:
    """Radially averaged power spectrum of selected frames of every video.

    The spectrum of each channel is computed and the channels are averaged.
    Frequencies above ``min(H, W) // 2`` (the corners of the spectrum) are dropped.

    Args:
        videos: clips, float (any range; [-1, 1] by convention).
        frames: 0-based frame indices (the paper's frames 1, 10, 25, 50 are
            ``(0, 9, 24, 49)``); ``None``: every frame.

    Returns:
        float64 PSD; bin ``k`` is frequency ``k`` of :func:`psd_frequencies`.

    Shape:
        - videos: ``(B, C, T, H, W)``
        - output: ``(B, len(frames), min(H, W) // 2 + 1)``
    """
    check_video(videos)
    t, h, w = videos.shape[2:]
    idx = list(range(t)) if frames is None else [int(f) for f in frames]
    if not idx or any(not 0 <= f < t for f in idx):
        raise ValueError(f"frames: expected 0-based indices in [0, {t}) for videos of T={t}, got {frames!r}")
    x = videos[:, :, idx].to(torch.float64)  # [B, C, F, H, W]
    power = torch.fft.fft2(x).abs().square().mean(dim=1) / (h * w)  # [B, F, H, W]
    ring = _ring_index(h, w, videos.device).flatten()
    n_bins = min(h, w) // 2 + 1
    keep = ring < n_bins
    ring = ring[keep]
    flat = power.flatten(2)[..., keep]  # [B, F, K]
    sums = torch.zeros(*flat.shape[:2], n_bins, dtype=torch.float64, device=flat.device)
    sums.index_add_(2, ring, flat)
    counts = torch.bincount(ring, minlength=n_bins).to(torch.float64)
    return sums / counts


def psd_summary(psd: torch.Tensor, groups: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation over ``groups`` disjoint sets of the per-set average PSD.

    Videos are split in order into ``groups`` sets of equal size (a remainder is
    dropped), as SSW-GAN appendix E does with 3 x 600 videos.

    Shape:
        - psd: ``(B, F, R)``, B >= ``groups``
        - output: two ``(F, R)`` tensors
    """
    if not isinstance(psd, torch.Tensor) or psd.dim() != 3:
        got = tuple(psd.shape) if isinstance(psd, torch.Tensor) else type(psd).__name__
        raise ValueError(f"psd: expected (B, F, R) from power_spectrum, got {got}")
    if isinstance(groups, bool) or not isinstance(groups, int) or not 1 <= groups <= psd.shape[0]:
        raise ValueError(f"groups: expected an int in [1, {psd.shape[0]}] (the number of videos), got {groups!r}")
    per = psd.shape[0] // groups
    means = psd[: per * groups].reshape(groups, per, *psd.shape[1:]).mean(dim=1)  # [G, F, R]
    std = means.std(dim=0, unbiased=False) if groups > 1 else torch.zeros_like(means[0])
    return means.mean(dim=0), std


def plot_power_spectra(
    real: torch.Tensor,
    fake: torch.Tensor,
    path: str | os.PathLike[str],
    *,
    frames: Sequence[int] | None = None,
    groups: int = 3,
    labels: tuple[str, str] = ("real", "generated"),
    panel_size: tuple[int, int] = (360, 280),
) -> None:
    """Write a PNG comparing real and generated PSD curves, one panel per frame (Figure 9).

    Each panel shows log10 power against spatial frequency (DC bin omitted): the
    mean over ``groups`` sets as a line and +-1 standard deviation as a band.

    Args:
        real, fake: outputs of :func:`power_spectrum` with the same frames and bins.
        path: output ``.png``.
        frames: the frame indices, for the panel titles (shown 1-based as in the paper).
        groups: number of sets for the mean / std (:func:`psd_summary`).

    Shape:
        - real, fake: ``(B, F, R)`` (B may differ)
    """
    from PIL import Image, ImageDraw

    if real.dim() != 3 or fake.dim() != 3 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real, fake: expected (B, F, R) with equal F, R, got {tuple(real.shape)}, {tuple(fake.shape)}")
    n_frames, n_bins = real.shape[1:]
    if n_bins < 3:
        raise ValueError(f"plot_power_spectra: need at least 3 frequency bins, got {n_bins}")
    titles = [f"frame {f + 1}" for f in frames] if frames is not None else [f"frame {i + 1}" for i in range(n_frames)]
    if len(titles) != n_frames:
        raise ValueError(f"frames: expected {n_frames} indices to match the PSD, got {len(titles)}")
    curves = []
    for data in (real, fake):
        mean, std = psd_summary(data.detach().cpu(), min(groups, data.shape[0]))
        lo = torch.log10((mean - std).clamp_min(mean * 1e-3).clamp_min(1e-30))
        curves.append((torch.log10(mean.clamp_min(1e-30)), lo, torch.log10((mean + std).clamp_min(1e-30))))
    freq = torch.arange(n_bins, dtype=torch.float64)[1:]
    pw, ph = panel_size
    margin_l, margin_r, margin_t, margin_b = 56, 12, 28, 36
    image = Image.new("RGB", (pw * n_frames, ph), "white")
    draw = ImageDraw.Draw(image, "RGBA")
    colours = [(31, 119, 180), (214, 39, 40)]
    for f in range(n_frames):
        ys = torch.cat([c[k][f, 1:] for c in curves for k in range(3)])
        y_min, y_max = math.floor(float(ys.min())), math.ceil(float(ys.max()))
        y_max = max(y_max, y_min + 1)
        x0, x1 = f * pw + margin_l, (f + 1) * pw - margin_r
        y0, y1 = margin_t, ph - margin_b

        def to_px(xv: float, yv: float) -> tuple[float, float]:
            px = x0 + (xv - 1) / max(n_bins - 2, 1) * (x1 - x0)
            py = y1 - (yv - y_min) / (y_max - y_min) * (y1 - y0)
            return px, py

        draw.rectangle([x0, y0, x1, y1], outline="black")
        for e in range(y_min, y_max + 1):
            _, py = to_px(1, e)
            draw.line([x0 - 4, py, x0, py], fill="black")
            draw.text((x0 - 50, py - 6), f"1e{e}", fill="black")
        for k in range(0, n_bins, max(1, (n_bins - 1) // 4)):
            if k >= 1:
                px, _ = to_px(k, y_min)
                draw.line([px, y1, px, y1 + 4], fill="black")
                draw.text((px - 6, y1 + 6), str(k), fill="black")
        draw.text((x0 + 4, 8), f"PSD {titles[f]}", fill="black")
        draw.text(((x0 + x1) / 2 - 45, ph - 14), "spatial frequency", fill="black")
        for (mean, lo, hi), colour, label, row in zip(curves, colours, labels, range(2)):
            upper = [to_px(float(x), float(y)) for x, y in zip(freq, hi[f, 1:])]
            lower = [to_px(float(x), float(y)) for x, y in zip(freq, lo[f, 1:])]
            draw.polygon(upper + lower[::-1], fill=(*colour, 60))
            draw.line([to_px(float(x), float(y)) for x, y in zip(freq, mean[f, 1:])], fill=colour, width=2)
            draw.line([x1 - 90, y0 + 12 + 14 * row, x1 - 70, y0 + 12 + 14 * row], fill=colour, width=2)
            draw.text((x1 - 66, y0 + 6 + 14 * row), label, fill="black")
    image.save(str(path), format="PNG")
