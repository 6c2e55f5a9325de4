"""Trunk and score head: widths, 3D/2D layout, output shapes, eq. 15 and projection by hand, gradcheck."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import close, gradcheck
from vidgan_blocks.blocks import DBlock, DBlock3d
from vidgan_blocks.discriminators import DiscriminatorTrunk, ScoreHead
from vidgan_blocks.layers import freeze_spectral_norm


@pytest.mark.parametrize(
    ("multipliers", "blocks_3d"),
    [(m, n) for m in [(1,), (1, 2), (2, 4, 8, 16, 16), (1, 2, 4, 8, 8, 16, 16)] for n in (0, 1, 2) if n <= len(m)],
)
def test_layout_follows_the_multipliers(multipliers, blocks_3d):
    trunk = DiscriminatorTrunk(3, 2, multipliers, blocks_3d=blocks_3d, sn=False)
    blocks = list(trunk.blocks)
    assert [b.out_channels for b in blocks] == [2 * m for m in multipliers]
    assert [b.in_channels for b in blocks] == [3] + [2 * m for m in multipliers[:-1]]
    assert [isinstance(b, DBlock3d) for b in blocks] == [i < blocks_3d for i in range(len(blocks))]
    assert all(isinstance(b, (DBlock, DBlock3d)) for b in blocks)
    # BigGAN: no ReLU on the input pixels; every block but the last downsamples.
    assert [b.preactivation for b in blocks] == [i > 0 for i in range(len(blocks))]
    assert [b.downsample for b in blocks] == [i < len(blocks) - 1 for i in range(len(blocks))]
    assert trunk.out_features == 2 * multipliers[-1]
    assert trunk.reduction_factor == 2 ** (len(multipliers) - 1)


@pytest.mark.parametrize("shape", [(2, 3, 1, 4, 4), (1, 3, 5, 8, 4), (3, 3, 2, 12, 8)])
def test_output_is_sum_over_space_of_relu_features(shape, device):
    trunk = DiscriminatorTrunk(3, 2, (1, 2, 3), blocks_3d=1, sn=False).to(device)
    x = torch.randn(shape, device=device)
    out = trunk(x)
    assert out.shape == (shape[0], 6, shape[2])
    ref = F.relu(trunk.blocks(x)).sum(dim=(3, 4))
    close(out, ref, device)
    assert (out >= 0).all()


def test_frames_are_independent_after_the_3d_blocks(device):
    """With no 3D block, frame t's features depend on frame t only."""
    trunk = DiscriminatorTrunk(3, 2, (1, 2), blocks_3d=0, sn=False).to(device)
    x = torch.randn(2, 3, 4, 8, 8, device=device)
    y = x.clone()
    y[:, :, 3] = torch.randn(2, 3, 8, 8, device=device)
    a, b = trunk(x), trunk(y)
    close(a[..., :3], b[..., :3], device)
    assert not torch.allclose(a[..., 3], b[..., 3])


def test_trunk_rejects_bad_inputs():
    trunk = DiscriminatorTrunk(3, 2, (1, 2, 2), sn=False)
    with pytest.raises(ValueError, match="C=3"):
        trunk(torch.randn(1, 4, 2, 8, 8))
    with pytest.raises(ValueError, match="multiples of 4"):
        trunk(torch.randn(1, 3, 2, 6, 8))
    with pytest.raises(TypeError):
        trunk(torch.zeros(1, 3, 2, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="blocks_3d"):
        DiscriminatorTrunk(3, 2, (1, 2), blocks_3d=3)
    with pytest.raises(TypeError, match="multipliers"):
        DiscriminatorTrunk(3, 2, ())


def test_gradcheck_float64(device):
    trunk = DiscriminatorTrunk(3, 1, (1, 2), blocks_3d=1).double()
    freeze_spectral_norm(trunk).to(device)
    x = torch.randn(1, 3, 2, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(trunk, (x,), device, eps=1e-6, atol=1e-4, fast_mode=True)


# --------------------------------------------------------------------------- heads


def _projection_by_hand(head: ScoreHead, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    w = head.head.linear.weight[0]  # [F]
    c = head.head.linear.bias[0]
    per_step = torch.einsum("f,bft->bt", w, h) + c  # [B, T]
    if y is not None:
        e = head.head.embed.weight[y]  # [B, F]
        per_step = per_step + torch.einsum("bf,bft->bt", e, h)
    return per_step


@pytest.mark.parametrize("num_classes", [None, 3])
@pytest.mark.parametrize("reduce", ["sum", "mean", "none"])
def test_projection_head_scores_every_step_then_reduces(num_classes, reduce, device):
    head = ScoreHead(5, num_classes, reduce=reduce).eval().to(device)
    h = torch.randn(4, 5, 3, device=device)
    y = torch.tensor([0, 2, 1, 2], device=device) if num_classes else None
    out = head(h, y)
    ref = _projection_by_hand(head, h, y)
    ref = {"sum": ref.sum(1), "mean": ref.mean(1), "none": ref}[reduce]
    close(out, ref, device)


@pytest.mark.parametrize("num_classes", [None, 3])
def test_mixed_projection_matches_eq15_by_hand(num_classes, device):
    head = ScoreHead(4, num_classes, mixed_projection=True).eval().to(device)
    b, t = 3, 2
    h = torch.randn(b, 4, t, device=device)
    y = torch.tensor([2, 0, 1], device=device) if num_classes else None
    out = head(h, y)
    assert out.shape == (b, b, t)
    w = head.head.linear.weight[0].detach()
    c = head.head.linear.bias[0].detach()
    emb = head.head.embed.weight.detach()
    labels = y if y is not None else torch.zeros(b, dtype=torch.long, device=device)
    ref = torch.empty(b, b, t)  # filled with Python floats: on the CPU
    h = h.detach()
    for i in range(b):
        for j in range(b):
            for s in range(t):
                r_x = float(w @ h[i, :, s] + c)
                r_xy = sum(float(emb[labels[j]] @ h[j, :, s2]) for s2 in range(t))
                ref[i, j, s] = r_x + r_xy
    close(out, ref, device, rtol=1e-5, atol=1e-5)


def test_head_rejects_bad_inputs():
    with pytest.raises(ValueError, match="reduce"):
        ScoreHead(4, reduce="max")  # type: ignore[arg-type]
    head = ScoreHead(4, 3)
    with pytest.raises(ValueError, match=r"\(B, F, T\)"):
        head(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        head(torch.randn(2, 4, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="labels"):
        head(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="unconditional"):
        ScoreHead(4, None)(torch.randn(2, 4, 3), torch.tensor([0, 0]))
    with pytest.raises(ValueError, match="unconditional"):
        ScoreHead(4, None, mixed_projection=True)(torch.randn(2, 4, 3), torch.tensor([0, 0]))


@pytest.mark.parametrize("blocks_3d", [0, 1, 3])
def test_folded_2d_blocks_match_the_blocks_run_one_by_one(blocks_3d, device):
    torch.manual_seed(0)
    trunk = freeze_spectral_norm(DiscriminatorTrunk(3, 2, (1, 2, 2), blocks_3d=blocks_3d).double()).to(device)
    x = torch.randn(2, 3, 3, 8, 8, dtype=torch.float64, device=device)
    ref = torch.relu(trunk.blocks(x)).sum(dim=(3, 4))  # every block's own forward on the video
    close(trunk(x), ref, device, rtol=1e-12, atol=1e-12)
