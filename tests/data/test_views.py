"""make_views / window_pair against explicit indexing; hypothesis on window arithmetic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import tolerances
from vidgan_blocks.data import ViewFactors, make_views, window_pair


def explicit_down(x, ft, fs, mode):
    x = x[:, :, ::ft]
    if mode == "nearest":
        return x[..., ::fs, ::fs]
    b, c, t, h, w = x.shape
    if mode == "avg":
        return x.reshape(b, c, t, h // fs, fs, w // fs, fs).mean(dim=(4, 6))
    frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    out = F.interpolate(frames, size=(h // fs, w // fs), mode="bilinear", antialias=True)
    return out.reshape(b, t, c, h // fs, w // fs).permute(0, 2, 1, 3, 4)


class TestMakeViews:
    @pytest.mark.parametrize("mode", ["nearest", "avg", "bilinear"])
    def test_three_levels_against_indexing(self, mode, device):
        x = torch.randn(2, 3, 13, 16, 16, device=device)
        spec = [ViewFactors(2, 2, mode), ViewFactors(3, 4, mode)]
        v1, v2, v3 = make_views(x, spec)
        assert v3 is x
        ref2 = explicit_down(x, 3, 4, mode)
        ref1 = explicit_down(ref2, 2, 2, mode)
        tol = tolerances(device, atol=1e-6)
        assert v2.shape == (2, 3, 5, 4, 4) and v1.shape == (2, 3, 3, 2, 2)
        assert v2.shape == ref2.shape and torch.allclose(v2, ref2, **tol)
        assert v1.shape == ref1.shape and torch.allclose(v1, ref1, **tol)

    def test_cvg_kinetics_geometry(self):
        x = torch.zeros(1, 3, 48, 128, 128)
        low, high = make_views(x, [ViewFactors(temporal=2, spatial=4)])
        assert low.shape == (1, 3, 24, 32, 32) and high.shape == x.shape

    def test_single_level(self):
        x = torch.randn(1, 3, 4, 8, 8)
        assert make_views(x, []) == [x]

    def test_errors(self):
        x = torch.randn(1, 3, 4, 6, 6)
        with pytest.raises(ValueError, match="divisible"):
            make_views(x, [ViewFactors(1, 4)])
        with pytest.raises(TypeError, match="ViewFactors"):
            make_views(x, ViewFactors(1, 2))
        with pytest.raises(TypeError, match="ViewFactors"):
            make_views(x, [(1, 2)])
        with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
            make_views(torch.randn(3, 4, 6, 6), [])
        with pytest.raises(ValueError, match="mode"):
            ViewFactors(1, 2, "cubic")
        with pytest.raises(ValueError, match="temporal"):
            ViewFactors(0, 2)
        with pytest.raises(Exception):
            ViewFactors().temporal = 3  # frozen


class TestWindowPair:
    @pytest.mark.parametrize("mode", ["nearest", "avg", "bilinear"])
    def test_windows_stay_aligned(self, mode, device):
        x = torch.randn(4, 3, 12, 8, 8, device=device)
        f = ViewFactors(2, 2, mode)
        low, high = make_views(x, [f])
        g = torch.Generator().manual_seed(0)
        hw, lw, starts = window_pair(high, low, 2, 3, g)
        assert hw.shape == (4, 3, 6, 8, 8) and lw.shape == (4, 3, 3, 4, 4)
        assert torch.allclose(f.apply(hw), lw, **tolerances(device, atol=1e-6))
        for b in range(4):
            s = int(starts[b])
            assert torch.equal(lw[b], low[b, :, s : s + 3])
            assert torch.equal(hw[b], high[b, :, 2 * s : 2 * s + 6])

    def test_given_starts_and_errors(self, device):
        high, low = torch.randn(2, 3, 8, 4, 4, device=device), torch.randn(2, 3, 4, 2, 2, device=device)
        hw, lw, s = window_pair(high, low, 2, 2, starts=torch.tensor([0, 2]))
        assert torch.equal(lw[1], low[1, :, 2:4]) and torch.equal(hw[1], high[1, :, 4:8])
        with pytest.raises(ValueError, match="starts"):
            window_pair(high, low, 2, 2, starts=torch.tensor([0, 3]))
        with pytest.raises(ValueError, match="starts"):
            window_pair(high, low, 2, 2, starts=torch.tensor([0.0, 1.0]))
        with pytest.raises(ValueError, match="does not fit"):
            window_pair(high, low, 2, 5)
        with pytest.raises(ValueError, match="batch"):
            window_pair(high, low[:1], 2, 2)

    @given(
        t_low=st.integers(1, 20),
        ft=st.integers(1, 4),
        window=st.integers(1, 20),
        extra=st.integers(0, 3),
        seed=st.integers(0, 1000),
    )
    def test_window_arithmetic(self, t_low, ft, window, extra, seed, device):
        t_high = t_low * ft + extra
        high = torch.arange(t_high, dtype=torch.float32, device=device).view(1, 1, t_high, 1, 1).expand(3, 1, t_high, 1, 1)
        low = high[:, :, ::ft][:, :, :t_low]
        length = min(t_low, t_high // ft)
        if window > length:
            with pytest.raises(ValueError):
                window_pair(high, low, ft, window)
            return
        hw, lw, starts = window_pair(high, low, ft, window, torch.Generator().manual_seed(seed))
        assert ((starts >= 0) & (starts <= length - window)).all()
        # Each low frame is the first of its f_t high frames; the high window is contiguous.
        assert torch.equal(hw[:, :, ::ft], lw)
        assert torch.equal(hw[:, 0, :, 0, 0], (starts[:, None] * ft + torch.arange(window * ft)).to(device))
