"""Motion read-out: expected flow of kernels, coarse-to-fine combination, colour rendering."""

from __future__ import annotations

import colorsys
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import close
from vidgan_blocks.ops import kernel_warp
from vidgan_blocks.recurrent import TSRU, combine_flows, expected_flow, flow_to_rgb


def one_hot(k, dy, dx, n=2, hw=(4, 5), device=None):
    w = torch.zeros(n, k * k, *hw, device=device)
    w[:, (dy + (k - 1) // 2) * k + dx + (k - 1) // 2] = 1.0
    return w


class TestExpectedFlow:
    @pytest.mark.parametrize("dy,dx", [(0, 1), (1, 0), (-1, 0), (0, -1), (1, -1), (0, 0)])
    def test_one_hot_shift_is_unit_displacement(self, dy, dx, device):
        flow = expected_flow(one_hot(3, dy, dx, device=device))
        assert flow.shape == (2, 2, 4, 5)
        close(flow[:, 0], torch.full((2, 4, 5), float(dx), device=device), device)
        close(flow[:, 1], torch.full((2, 4, 5), float(dy), device=device), device)

    def test_flow_points_where_the_warp_reads(self, device):
        # A one-hot kernel on (dy, dx) = (0, 1) makes out[i, j] = h[i, j + 1]: flow (dx, dy) = (1, 0).
        h = torch.randn(1, 1, 4, 5, device=device)
        w = one_hot(3, 0, 1, n=1, device=device)
        close(kernel_warp(h, w)[..., :-1], h[..., 1:], device)
        close(expected_flow(w)[0, :, 0, 0], torch.tensor([1.0, 0.0], device=device), device)

    def test_uniform_kernel_has_zero_flow(self, device):
        w = torch.full((1, 9, 3, 3), 1 / 9, device=device)
        close(expected_flow(w), torch.zeros(1, 2, 3, 3, device=device), device)

    @given(k=st.sampled_from([1, 3, 5]), seed=st.integers(0, 1000))
    @settings(max_examples=20)
    def test_is_probability_weighted_offset(self, k, seed, device):
        g = torch.Generator().manual_seed(seed)
        w = torch.rand(1, k * k, 2, 2, generator=g).softmax(dim=1).to(device)  # drawn on the CPU
        flow = expected_flow(w)
        lo = (k - 1) // 2
        ex = sum(w[0, m * k + n] * (n - lo) for m in range(k) for n in range(k))
        ey = sum(w[0, m * k + n] * (m - lo) for m in range(k) for n in range(k))
        close(flow[0, 0], ex, device)
        close(flow[0, 1], ey, device)

    def test_video_kernels_from_a_unit(self, device):
        unit = TSRU(3, 4).to(device)
        unit(torch.randn(2, 3, 5, 4, 4, device=device))
        flow = expected_flow(unit.last_kernels)
        assert flow.shape == (2, 2, 5, 4, 4)
        assert float(flow.abs().max()) <= 1.0 + 1e-6  # a 3x3 kernel reads at most one pixel away

    def test_errors(self):
        with pytest.raises(ValueError, match="k\\*k"):
            expected_flow(torch.randn(1, 8, 3, 3))
        with pytest.raises(ValueError, match=r"\(N, k\*k, H, W\)"):
            expected_flow(torch.randn(9, 3, 3))
        with pytest.raises(TypeError):
            expected_flow(None)


class TestCombineFlows:
    def test_two_constant_fields(self, device):
        a = torch.tensor([0.5, -0.25], device=device).view(1, 2, 1, 1).expand(1, 2, 2, 3)
        b = torch.tensor([0.1, 0.3], device=device).view(1, 2, 1, 1).expand(1, 2, 4, 6)
        out = combine_flows([a, b])
        close(out, (2 * a[..., :1, :1] + b[..., :1, :1]).expand(1, 2, 4, 6), device)

    def test_three_levels_scale_by_each_factor(self, device):
        a = torch.full((1, 2, 2, 2), 1.0, device=device)
        b = torch.full((1, 2, 4, 4), 0.5, device=device)
        c = torch.full((1, 2, 8, 8), -0.25, device=device)
        close(combine_flows([a, b, c]), torch.full((1, 2, 8, 8), 4 * 1.0 + 2 * 0.5 - 0.25, device=device), device)

    def test_matches_bilinear_upsampling(self, device):
        a = torch.randn(2, 2, 3, 3, device=device)
        b = torch.randn(2, 2, 6, 6, device=device)
        ref = 2 * F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=False) + b
        close(combine_flows([a, b]), ref, device)

    def test_video_fields(self, device):
        a = torch.randn(1, 2, 3, 2, 2, device=device)
        b = torch.randn(1, 2, 3, 4, 4, device=device)
        out = combine_flows([a, b])
        assert out.shape == (1, 2, 3, 4, 4)
        close(out[:, :, 1], combine_flows([a[:, :, 1], b[:, :, 1]]), device)

    def test_single_field_unchanged(self, device):
        a = torch.randn(1, 2, 3, 3, device=device)
        close(combine_flows([a]), a, device)

    def test_errors(self):
        with pytest.raises(ValueError, match="integer multiple"):
            combine_flows([torch.randn(1, 2, 2, 2), torch.randn(1, 2, 3, 3)])
        with pytest.raises(ValueError, match="integer multiple"):
            combine_flows([torch.randn(1, 2, 2, 2), torch.randn(1, 2, 4, 6)])
        with pytest.raises(ValueError, match="leading dims"):
            combine_flows([torch.randn(1, 2, 2, 2), torch.randn(2, 2, 4, 4)])
        with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
            combine_flows([torch.randn(1, 3, 2, 2)])
        with pytest.raises(ValueError, match="at least one"):
            combine_flows([])
        with pytest.raises(TypeError, match="sequence"):
            combine_flows(torch.randn(1, 2, 2, 2))


class TestFlowToRgb:
    def test_matches_colorsys(self, device):
        angles = torch.linspace(0, 2 * math.pi, 13, device=device)[:-1]
        mags = torch.linspace(0.2, 2.0, 12, device=device)
        flow = torch.stack([mags * torch.cos(angles), mags * torch.sin(angles)]).view(1, 2, 3, 4)
        rgb = flow_to_rgb(flow, max_magnitude=2.0)
        assert rgb.shape == (1, 3, 3, 4)
        for idx in range(12):
            i, j = divmod(idx, 4)
            hue = (math.atan2(float(flow[0, 1, i, j]), float(flow[0, 0, i, j])) / (2 * math.pi)) % 1.0
            r, g, b = colorsys.hsv_to_rgb(hue, 1.0, min(1.0, float(mags[idx]) / 2.0))
            close(rgb[0, :, i, j], torch.tensor([r, g, b], device=device) * 2 - 1, device, atol=1e-5, rtol=0)

    def test_zero_flow_is_black_and_right_is_red(self, device):
        flow = torch.zeros(1, 2, 1, 2, device=device)
        flow[0, 0, 0, 1] = 3.0
        rgb = flow_to_rgb(flow)
        close(rgb[0, :, 0, 0], torch.tensor([-1.0, -1.0, -1.0], device=device), device)
        close(rgb[0, :, 0, 1], torch.tensor([1.0, -1.0, -1.0], device=device), device)

    def test_video_and_range(self, device):
        rgb = flow_to_rgb(torch.randn(2, 2, 3, 4, 4, device=device))
        assert rgb.shape == (2, 3, 3, 4, 4)
        assert float(rgb.min()) >= -1 and float(rgb.max()) <= 1

    def test_errors(self):
        with pytest.raises(ValueError, match=r"\(N, 2, H, W\)"):
            flow_to_rgb(torch.randn(1, 3, 4, 4))
        with pytest.raises(ValueError, match="positive"):
            flow_to_rgb(torch.randn(1, 2, 4, 4), max_magnitude=0.0)
