"""SeparableConv3d, self-attention (full and separable) and projection heads."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import close, gradcheck, tolerances
from vidgan_blocks.layers import (
    AxialSelfAttention,
    MixedProjectionHead,
    ProjectionHead,
    SelfAttention,
    SeparableConv3d,
    SeparableSelfAttention,
    freeze_spectral_norm,
)


class TestSeparableConv3d:
    @pytest.mark.parametrize("shape", [(1, 4, 1, 3, 3), (2, 4, 5, 6, 4), (3, 4, 2, 1, 7)])
    def test_shapes(self, shape, device):
        assert SeparableConv3d(4, 6).to(device)(torch.randn(*shape, device=device)).shape == (shape[0], 6, *shape[2:])

    def test_matches_temporal_then_spatial_reference(self, device):
        m = freeze_spectral_norm(SeparableConv3d(2, 3, mid_channels=4)).to(device)
        x = torch.randn(2, 2, 4, 5, 5, device=device)
        wt, bt = m.temporal.weight[:, :, :, 0, 0], m.temporal.bias  # [4, 2, 3]
        xp = F.pad(x, (0, 0, 0, 0, 1, 1))
        mid = torch.stack([torch.einsum("oik,bikhw->bohw", wt, xp[:, :, t : t + 3]) for t in range(4)], dim=2)
        mid = mid + bt.view(1, -1, 1, 1, 1)
        ws, bs = m.spatial.weight[:, :, 0], m.spatial.bias
        ref = torch.stack([F.conv2d(mid[:, :, t], ws, bs, padding=1) for t in range(4)], dim=2)
        close(m(x), ref, device, atol=1e-5, rtol=1e-5)

    def test_gradcheck_and_errors(self, device):
        m = freeze_spectral_norm(SeparableConv3d(2, 2).double()).to(device)
        x = torch.randn(1, 2, 3, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(m, (x,), device)
        with pytest.raises(ValueError, match=r"\(B, 2, T, H, W\)"):
            m(torch.randn(1, 3, 3, 3, 3, dtype=torch.float64, device=device))
        with pytest.raises(ValueError, match="odd"):
            SeparableConv3d(2, 2, kernel_t=2)


def attention_reference(m: AxialSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Plain softmax attention along one axis, one sequence at a time."""
    c8, c2 = m.qk_channels, m.v_channels
    w_qkv = m.qkv.weight[:, :, 0, 0, 0]
    w_out = m.out.weight[:, :, 0, 0, 0]
    q, k, v = torch.einsum("oc,bcthw->bothw", w_qkv, x).split([c8, c8, c2], dim=1)
    b, _, t, h, w = x.shape
    out = torch.zeros(b, c2, t, h, w, dtype=x.dtype, device=x.device)
    scale = 1 / math.sqrt(c8) if m.scale is None else m.scale

    def attend(qs, ks, vs):  # [L, c] each
        return torch.softmax(qs @ ks.T * scale, dim=-1) @ vs

    for bi in range(b):
        if m.axis == "all":
            flat = lambda z: z[bi].reshape(z.shape[1], -1).T  # noqa: E731
            out[bi] = attend(flat(q), flat(k), flat(v)).T.reshape(c2, t, h, w)
        elif m.axis == "h":
            for ti in range(t):
                for wi in range(w):
                    out[bi, :, ti, :, wi] = attend(q[bi, :, ti, :, wi].T, k[bi, :, ti, :, wi].T, v[bi, :, ti, :, wi].T).T
        elif m.axis == "w":
            for ti in range(t):
                for hi in range(h):
                    out[bi, :, ti, hi, :] = attend(q[bi, :, ti, hi].T, k[bi, :, ti, hi].T, v[bi, :, ti, hi].T).T
        else:
            for hi in range(h):
                for wi in range(w):
                    out[bi, :, :, hi, wi] = attend(q[bi, :, :, hi, wi].T, k[bi, :, :, hi, wi].T, v[bi, :, :, hi, wi].T).T
    return x + m.gamma * torch.einsum("oc,bcthw->bothw", w_out, out)


class TestAttention:
    @pytest.mark.parametrize("axis", ["all", "t", "h", "w"])
    def test_axial_matches_reference(self, axis, device):
        m = freeze_spectral_norm(AxialSelfAttention(16, axis)).to(device)
        with torch.no_grad():
            m.gamma.fill_(0.7)
        x = torch.randn(2, 16, 3, 4, 5, device=device)
        close(m(x), attention_reference(m, x), device, atol=1e-5, rtol=1e-4)

    def test_separable_is_height_then_width_then_time(self, device):
        m = freeze_spectral_norm(SeparableSelfAttention(8)).to(device)
        with torch.no_grad():
            for sub in (m.height, m.width, m.time):
                sub.gamma.fill_(0.5)
        x = torch.randn(1, 8, 3, 4, 2, device=device)
        ref = attention_reference(m.time, attention_reference(m.width, attention_reference(m.height, x)))
        close(m(x), ref, device, atol=1e-5, rtol=1e-4)

    def test_zero_gamma_is_identity_and_time_mixing(self, device):
        x = torch.randn(2, 8, 4, 3, 3, device=device)
        close(SelfAttention(8).to(device)(x), x, device)
        m = freeze_spectral_norm(SeparableSelfAttention(8)).to(device)
        with torch.no_grad():
            m.time.gamma.fill_(1.0)
        x2 = x.clone()
        x2[:, :, 0] += 1
        assert not torch.allclose(m(x)[:, :, 3], m(x2)[:, :, 3])  # time attention mixes frames

    @pytest.mark.parametrize("cls", [SelfAttention, SeparableSelfAttention])
    def test_gradcheck(self, cls, device):
        m = freeze_spectral_norm(cls(8).double()).to(device)
        with torch.no_grad():
            for p in m.parameters():
                if p.dim() == 0:
                    p.fill_(0.3)
        x = torch.randn(1, 8, 2, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(m, (x,), device)

    def test_errors(self):
        with pytest.raises(ValueError, match="at least 8"):
            SelfAttention(4)
        with pytest.raises(ValueError, match="axis"):
            AxialSelfAttention(8, "z")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"\(B, 8, T, H, W\)"):
            SeparableSelfAttention(8)(torch.randn(1, 4, 2, 2, 2))


class TestHeads:
    def test_projection_matches_formula(self, device):
        head = freeze_spectral_norm(ProjectionHead(6, num_classes=4)).to(device)
        h, y = torch.randn(3, 6, device=device), torch.tensor([0, 3, 1], device=device)
        ref = h @ head.linear.weight[0] + head.linear.bias[0] + (head.embed.weight[y] * h).sum(1)
        close(head(h, y), ref, device)
        uncond = freeze_spectral_norm(ProjectionHead(6)).to(device)
        close(uncond(h), h @ uncond.linear.weight[0] + uncond.linear.bias[0], device)

    def test_mixed_projection_matches_eq15_by_hand(self, device):
        head = freeze_spectral_norm(MixedProjectionHead(3, num_classes=2)).to(device)
        h = torch.randn(2, 3, 4, device=device)
        y = torch.tensor([1, 0], device=device)
        tol = tolerances(device, atol=1e-5)
        w, c, e = (v.detach() for v in (head.linear.weight[0], head.linear.bias[0], head.embed.weight))
        out = head(h, y).detach()
        assert out.shape == (2, 2, 4)
        for b in range(2):
            for bp in range(2):
                for t in range(4):
                    r_x = sum(float(w[f] * h[b, f, t]) for f in range(3)) + float(c)
                    r_xy = sum(float(e[y[bp], f] * h[bp, f, tp]) for f in range(3) for tp in range(4))
                    assert float(out[b, bp, t]) == pytest.approx(r_x + r_xy, rel=tol.get("rtol"), abs=tol.get("atol"))

    def test_mixed_default_zero_class(self, device):
        head = MixedProjectionHead(3).to(device)
        h = torch.randn(2, 3, 5, device=device)
        close(head(h), head(h, torch.zeros(2, dtype=torch.long, device=device)), device)

    def test_errors(self):
        with pytest.raises(ValueError, match=r"pass labels of shape \(2,\)"):
            ProjectionHead(4, 3)(torch.randn(2, 4))
        with pytest.raises(ValueError, match="unconditional"):
            ProjectionHead(4)(torch.randn(2, 4), torch.tensor([0, 1]))
        with pytest.raises(ValueError, match=r"lie in \[0, 2\]"):
            ProjectionHead(4, 3)(torch.randn(2, 4), torch.tensor([0, 3]))
        with pytest.raises(ValueError, match=r"\(B, 4, T\)"):
            MixedProjectionHead(4)(torch.randn(2, 4))
        with pytest.raises(ValueError, match="integer labels"):
            MixedProjectionHead(4, 2)(torch.randn(2, 4, 3), torch.tensor([0.0, 1.0]))
