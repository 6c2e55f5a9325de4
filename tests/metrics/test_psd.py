"""Radially averaged power spectra against a plain numpy computation; summary and plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vidgan_blocks.metrics import plot_power_spectra, power_spectrum, psd_frequencies, psd_summary


def reference_psd(frame: np.ndarray) -> np.ndarray:
    """(C, H, W) -> radially averaged power, channels averaged, plain loops over the coefficients."""
    c, h, w = frame.shape
    s = min(h, w)
    power = np.mean(np.abs(np.fft.fft2(frame)) ** 2, axis=0) / (h * w)
    sums, counts = np.zeros(s // 2 + 1), np.zeros(s // 2 + 1)
    for i in range(h):
        for j in range(w):
            fy = (i if i < (h + 1) // 2 else i - h) / h * s
            fx = (j if j < (w + 1) // 2 else j - w) / w * s
            r = int(np.round(np.hypot(fy, fx)))
            if r <= s // 2:
                sums[r] += power[i, j]
                counts[r] += 1
    return sums / counts


@pytest.mark.parametrize("h,w", [(8, 8), (9, 12), (16, 10)])
def test_matches_reference(h, w):
    x = torch.randn(2, 3, 5, h, w, dtype=torch.float64)
    got = power_spectrum(x, frames=[0, 4])
    assert got.shape == (2, 2, min(h, w) // 2 + 1)
    for b in range(2):
        for k, f in enumerate([0, 4]):
            assert np.allclose(got[b, k].numpy(), reference_psd(x[b, :, f].numpy()), rtol=1e-10)


def test_sinusoid_peaks_at_its_frequency():
    n, k = 32, 5
    xs = torch.arange(n, dtype=torch.float64)
    plane = torch.cos(2 * torch.pi * k * xs / n)[None, :].expand(n, n)
    psd = power_spectrum(plane[None, None, None].expand(1, 3, 1, n, n))
    assert int(psd[0, 0].argmax()) == k
    assert psd_frequencies(n, n)[k] == k


def test_all_frames_by_default_and_errors():
    x = torch.rand(1, 3, 4, 8, 8)
    assert power_spectrum(x).shape == (1, 4, 5)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        power_spectrum(x, frames=[4])
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        power_spectrum(x[0])


def test_summary_over_groups():
    psd = torch.rand(7, 2, 5, dtype=torch.float64)
    mean, std = psd_summary(psd, groups=3)
    groups = torch.stack([psd[0:2].mean(0), psd[2:4].mean(0), psd[4:6].mean(0)])
    assert torch.allclose(mean, groups.mean(0)) and torch.allclose(std, groups.std(0, unbiased=False))
    with pytest.raises(ValueError, match="groups"):
        psd_summary(psd, groups=8)
    with pytest.raises(ValueError, match=r"\(B, F, R\)"):
        psd_summary(psd[0])


def test_plot_writes_png(tmp_path):
    real = power_spectrum(torch.rand(6, 3, 3, 16, 16) * 2 - 1, frames=[0, 2])
    fake = power_spectrum(torch.rand(5, 3, 3, 16, 16) * 0.2, frames=[0, 2])
    path = tmp_path / "psd.png"
    plot_power_spectra(real, fake, path, frames=[0, 2], panel_size=(200, 150))
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (400, 150)
        assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 3
    with pytest.raises(ValueError, match="equal F, R"):
        plot_power_spectra(real, fake[:, :1], path)
