"""Kernel warping (eq. 11) and factorized kernels (eq. 12): numerics, directions, gradients, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import close, gradcheck
from vidgan_blocks.ops import FactorizedKernels, KernelWarp, factorized_kernels, kernel_offsets, kernel_warp


def unfold_warp(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Eq. 11 through an explicit im2col buffer (odd k)."""
    n, c, hh, ww = h.shape
    k = int(round(weights.shape[1] ** 0.5))
    cols = F.unfold(h, k, padding=k // 2).view(n, c, k * k, hh * ww)
    return (cols * weights.reshape(n, 1, k * k, hh * ww)).sum(2).view(n, c, hh, ww)


def loop_warp(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Eq. 11 written pixel by pixel (tiny sizes only), any k."""
    n, c, hh, ww = h.shape
    k = int(round(weights.shape[1] ** 0.5))
    out = torch.zeros_like(h)
    for i in range(hh):
        for j in range(ww):
            for m in range(k):
                for nn_ in range(k):
                    ii, jj = i + m - (k - 1) // 2, j + nn_ - (k - 1) // 2
                    if 0 <= ii < hh and 0 <= jj < ww:
                        out[:, :, i, j] += weights[:, m * k + nn_, i, j][:, None] * h[:, :, ii, jj]
    return out


def one_hot_kernel(n, k, hh, ww, dy, dx, dtype=torch.float32, device=None):
    w = torch.zeros(n, k * k, hh, ww, dtype=dtype, device=device)
    q = (dy + (k - 1) // 2) * k + (dx + (k - 1) // 2)
    w[:, q] = 1.0
    return w


class TestKernelWarp:
    @pytest.mark.parametrize("k", [1, 3, 5])
    @pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 3, 5, 7), (3, 2, 6, 3)])
    def test_matches_unfold(self, k, shape, device):
        h = torch.randn(*shape, device=device)
        w = torch.randn(shape[0], k * k, *shape[2:], device=device)
        close(kernel_warp(h, w), unfold_warp(h, w), device)

    @pytest.mark.parametrize("k", [2, 3, 4])
    def test_matches_pixel_loop(self, k, device):
        h = torch.randn(2, 2, 4, 5, dtype=torch.float64, device=device)
        w = torch.randn(2, k * k, 4, 5, dtype=torch.float64, device=device)
        close(kernel_warp(h, w), loop_warp(h, w), device)

    def test_identity_kernel(self, device):
        h = torch.randn(2, 4, 6, 5, device=device)
        close(kernel_warp(h, one_hot_kernel(2, 3, 6, 5, 0, 0, device=device)), h, device)

    def test_shift_right_tap_moves_map_left(self, device):
        h = torch.randn(2, 3, 5, 6, device=device)
        out = kernel_warp(h, one_hot_kernel(2, 3, 5, 6, dy=0, dx=1, device=device))
        close(out[..., :-1], h[..., 1:], device)  # out[i, j] = h[i, j + 1]
        assert torch.all(out[..., -1] == 0)

    def test_shift_down_tap_moves_map_up(self, device):
        h = torch.randn(2, 3, 5, 6, device=device)
        out = kernel_warp(h, one_hot_kernel(2, 3, 5, 6, dy=1, dx=0, device=device))
        close(out[..., :-1, :], h[..., 1:, :], device)  # out[i, j] = h[i + 1, j]
        assert torch.all(out[..., -1, :] == 0)

    @given(
        k=st.integers(1, 5),
        dy=st.integers(-2, 2),
        dx=st.integers(-2, 2),
        hh=st.integers(1, 7),
        ww=st.integers(1, 7),
    )
    def test_one_hot_is_padded_shift(self, k, dy, dx, hh, ww, device):
        lo = (k - 1) // 2
        dy = max(-lo, min(k - 1 - lo, dy))
        dx = max(-lo, min(k - 1 - lo, dx))
        h = torch.arange(2 * hh * ww, dtype=torch.float64, device=device).view(1, 2, hh, ww) + 1
        out = kernel_warp(h, one_hot_kernel(1, k, hh, ww, dy, dx, torch.float64, device))
        padded = F.pad(h, (2, 2, 2, 2))
        ref = padded[:, :, 2 + dy : 2 + dy + hh, 2 + dx : 2 + dx + ww]
        close(out, ref, device)
        offsets = kernel_offsets(k)
        q = (dy + lo) * k + (dx + lo)
        assert offsets[q].tolist() == [dy, dx]

    def test_video_matches_frames(self, device):
        h = torch.randn(2, 3, 4, 5, 5, device=device)
        w = torch.randn(2, 9, 4, 5, 5, device=device)
        out = kernel_warp(h, w)
        assert out.shape == h.shape
        for t in range(4):
            close(out[:, :, t], kernel_warp(h[:, :, t], w[:, :, t]), device)

    def test_module_matches_function(self, device):
        h, w = torch.randn(2, 3, 4, 4, device=device), torch.randn(2, 9, 4, 4, device=device)
        close(KernelWarp()(h, w), kernel_warp(h, w), device)

    @pytest.mark.parametrize("k", [2, 3])
    def test_gradcheck(self, k, device):
        h = torch.randn(2, 2, 4, 3, dtype=torch.float64, device=device, requires_grad=True)
        w = torch.randn(2, k * k, 4, 3, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(kernel_warp, (h, w), device)

    def test_gradcheck_video(self, device):
        h = torch.randn(1, 2, 2, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
        w = torch.randn(1, 9, 2, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(kernel_warp, (h, w), device)

    def test_grad_of_one_input_only(self, device):
        h = torch.randn(1, 2, 4, 4, device=device, requires_grad=True)
        w = torch.randn(1, 9, 4, 4, device=device)
        kernel_warp(h, w).sum().backward()
        h2 = h.detach().clone().requires_grad_()
        unfold_warp(h2, w).sum().backward()
        close(h.grad, h2.grad, device)

    def test_errors(self):
        h = torch.randn(2, 3, 4, 4)
        with pytest.raises(ValueError, match=r"k\*k"):
            kernel_warp(h, torch.randn(2, 8, 4, 4))
        with pytest.raises(ValueError, match=r"\(2, k\*k, 4, 4\)"):
            kernel_warp(h, torch.randn(2, 9, 4, 5))
        with pytest.raises(ValueError, match=r"\(2, k\*k, 4, 4\)"):
            kernel_warp(h, torch.randn(1, 9, 4, 4))
        with pytest.raises(TypeError, match="dtype"):
            kernel_warp(h, torch.randn(2, 9, 4, 4, dtype=torch.float64))
        with pytest.raises(TypeError, match="torch.Tensor"):
            kernel_warp(h, [1.0])
        with pytest.raises(ValueError, match=r"\(2, k\*k, 3, 4, 4\)"):
            kernel_warp(torch.randn(2, 3, 3, 4, 4), torch.randn(2, 9, 2, 4, 4))
        with pytest.raises(ValueError, match="4-D"):
            kernel_warp(torch.randn(3, 4, 4), torch.randn(9, 4, 4))


class TestFactorizedKernels:
    def test_matches_sum_over_kernels(self, device):
        w = torch.randn(2, 9, 5, device=device)
        s = torch.randn(2, 5, 3, 4, device=device)
        ref = torch.zeros(2, 9, 3, 4, device=device)
        for l in range(5):
            ref += s[:, l : l + 1] * w[:, :, l, None, None]
        close(factorized_kernels(w, s), ref, device)

    def test_one_hot_selection_picks_kernel(self, device):
        w = torch.randn(2, 9, 4, device=device)
        choice = torch.randint(0, 4, (2, 3, 5), device=device)
        s = F.one_hot(choice, 4).permute(0, 3, 1, 2).float()
        out = factorized_kernels(w, s)
        for b in range(2):
            for i in range(3):
                for j in range(5):
                    close(out[b, :, i, j], w[b, :, choice[b, i, j]], device)

    def test_probabilities_stay_probabilities(self, device):
        w = torch.randn(3, 9, 9, device=device).softmax(dim=1)
        s = torch.randn(3, 9, 4, 4, device=device).softmax(dim=1)
        out = factorized_kernels(w, s)
        close(out.sum(1), torch.ones(3, 4, 4, device=device), device)
        assert torch.all(out >= 0)

    def test_video_selection_shares_kernels(self, device):
        w = torch.randn(2, 9, 3, device=device)
        s = torch.randn(2, 3, 4, 5, 5, device=device)
        out = factorized_kernels(w, s)
        assert out.shape == (2, 9, 4, 5, 5)
        for t in range(4):
            close(out[:, :, t], factorized_kernels(w, s[:, :, t]), device)

    def test_module_matches_function(self, device):
        w, s = torch.randn(2, 9, 3, device=device), torch.randn(2, 3, 4, 4, device=device)
        close(FactorizedKernels()(w, s), factorized_kernels(w, s), device)

    def test_gradcheck(self, device):
        w = torch.randn(2, 4, 3, dtype=torch.float64, device=device, requires_grad=True)
        s = torch.randn(2, 3, 2, 3, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(factorized_kernels, (w, s), device)

    def test_errors(self):
        with pytest.raises(ValueError, match=r"\(B, k\*k, N\)"):
            factorized_kernels(torch.randn(2, 9), torch.randn(2, 3, 4, 4))
        with pytest.raises(ValueError, match="k\\*k"):
            factorized_kernels(torch.randn(2, 8, 3), torch.randn(2, 3, 4, 4))
        with pytest.raises(ValueError, match=r"\(2, 3, \.\.\.\)"):
            factorized_kernels(torch.randn(2, 9, 3), torch.randn(2, 4, 4, 4))
        with pytest.raises(TypeError):
            factorized_kernels(torch.randn(2, 9, 3), None)
