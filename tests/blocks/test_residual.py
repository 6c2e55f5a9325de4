"""G and D residual blocks and low-resolution skips: references, shapes, gradients, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import close, gradcheck, missing_grads
from vidgan_blocks.blocks import DBlock, DBlock3d, GBlock, GBlock3d, LowResSkip
from vidgan_blocks.layers import freeze_spectral_norm


def per_frame(fn, x):
    return torch.stack([fn(x[:, :, t]) for t in range(x.shape[2])], dim=2)


class TestGBlock:
    @pytest.mark.parametrize("upsample", [True, False])
    @pytest.mark.parametrize("shape", [(1, 4, 1, 2, 2), (3, 4, 3, 4, 6), (2, 4, 5, 1, 3)])
    def test_shapes(self, upsample, shape, device):
        b, c, t, h, w = shape
        s = 2 if upsample else 1
        y = GBlock(c, 6, 5, upsample=upsample).to(device)(torch.randn(*shape, device=device), torch.randn(b, 5, device=device))
        assert y.shape == (b, 6, t, h * s, w * s)

    def test_matches_reference(self, device):
        blk = freeze_spectral_norm(GBlock(3, 4, 2)).to(device)
        x, c = torch.randn(2, 3, 3, 4, 4, device=device), torch.randn(2, 2, device=device)

        def up(z):
            return F.interpolate(z, scale_factor=2, mode="nearest")

        h = F.relu(blk.norm1(x, c))
        h = per_frame(lambda f: blk.conv1(up(f)), h)
        h = per_frame(blk.conv2, F.relu(blk.norm2(h, c)))
        ref = h + per_frame(lambda f: blk.shortcut(up(f)), x)
        close(blk(x, c), ref, device, atol=1e-5, rtol=1e-5)

    def test_identity_shortcut_when_shapes_agree(self):
        blk = GBlock(4, 4, 3, upsample=False)
        assert blk.shortcut is None

    def test_frames_independent_in_training(self, device):
        blk = freeze_spectral_norm(GBlock(3, 3, 2, upsample=False)).to(device)
        x, c = torch.randn(4, 3, 4, 4, 4, device=device), torch.randn(4, 2, device=device)
        x2 = x.clone()
        x2[:, :, 1] = torch.randn(4, 3, 4, 4, device=device)
        y, y2 = blk(x, c), blk(x2, c)
        close(y[:, :, [0, 2, 3]], y2[:, :, [0, 2, 3]], device)

    def test_gradients_and_gradcheck(self, device):
        blk = GBlock(3, 4, 2).to(device)
        blk(torch.randn(2, 3, 2, 4, 4, device=device), torch.randn(2, 2, device=device)).square().mean().backward()
        assert missing_grads(blk) == []
        blk64 = freeze_spectral_norm(GBlock(2, 2, 2, upsample=True).double()).to(device)
        for m in blk64.modules():
            if hasattr(m, "track_running_stats"):
                m.track_running_stats = False
        x = torch.randn(2, 2, 2, 2, 2, dtype=torch.float64, device=device, requires_grad=True)
        c = torch.randn(2, 2, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(blk64, (x, c), device)

    def test_errors(self):
        blk = GBlock(3, 4, 2)
        with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
            blk(torch.randn(2, 5, 2, 4, 4), torch.randn(2, 2))
        with pytest.raises(ValueError, match=r"cond: expected shape \(2, 2\)"):
            blk(torch.randn(2, 3, 2, 4, 4), torch.randn(3, 2))


class TestGBlock3d:
    def test_shapes_and_time_mixing(self, device):
        blk = freeze_spectral_norm(GBlock3d(3, 5, 4)).to(device)
        x, c = torch.randn(2, 3, 6, 4, 4, device=device), torch.randn(2, 4, device=device)
        assert blk(x, c).shape == (2, 5, 6, 4, 4)
        assert GBlock3d(3, 5, 4, upsample=True).to(device)(x, c).shape == (2, 5, 6, 8, 8)
        blk.eval()
        x2 = x.clone()
        x2[:, :, 0] += 1.0
        y, y2 = blk(x, c), blk(x2, c)
        assert not torch.allclose(y[:, :, 1], y2[:, :, 1])  # neighbour sees the change (temporal kernel 3)
        close(y[:, :, 3:], y2[:, :, 3:], device)  # two kernel-3 convs: receptive field of 5 frames

    def test_gradients(self, device):
        blk = GBlock3d(3, 5, 4, upsample=True).to(device)
        blk(torch.randn(2, 3, 3, 4, 4, device=device), torch.randn(2, 4, device=device)).mean().backward()
        assert missing_grads(blk) == []


class TestDBlock:
    @pytest.mark.parametrize("cls", [DBlock, DBlock3d])
    @pytest.mark.parametrize("downsample", [True, False])
    def test_shapes(self, cls, downsample, device):
        y = cls(3, 8, downsample=downsample).to(device)(torch.randn(2, 3, 4, 8, 6, device=device))
        assert y.shape == ((2, 8, 4, 4, 3) if downsample else (2, 8, 4, 8, 6))

    def test_2d_matches_reference(self, device):
        blk = freeze_spectral_norm(DBlock(3, 4)).to(device)
        x = torch.randn(2, 3, 3, 4, 4, device=device)

        def frame(f):
            h = blk.conv2(F.relu(blk.conv1(F.relu(f))))
            return F.avg_pool2d(h, 2) + F.avg_pool2d(blk.shortcut(f), 2)

        close(blk(x), per_frame(frame, x), device, atol=1e-5, rtol=1e-5)

    def test_input_block_has_no_preactivation(self, device):
        blk = freeze_spectral_norm(DBlock(3, 4, preactivation=False)).to(device)
        x = torch.randn(1, 3, 2, 4, 4, device=device)

        def frame(f):
            h = blk.conv2(F.relu(blk.conv1(f)))
            return F.avg_pool2d(h, 2) + blk.shortcut(F.avg_pool2d(f, 2))

        close(blk(x), per_frame(frame, x), device, atol=1e-5, rtol=1e-5)

    def test_3d_uses_3d_kernels_and_keeps_time(self, device):
        blk = freeze_spectral_norm(DBlock3d(2, 4)).to(device)
        assert blk.conv1.weight.shape == (4, 2, 3, 3, 3)
        x = torch.randn(1, 2, 5, 4, 4, device=device)
        ref = F.avg_pool3d(blk.conv2(F.relu(blk.conv1(F.relu(x)))), (1, 2, 2)) + F.avg_pool3d(blk.shortcut(x), (1, 2, 2))
        close(blk(x), ref, device, atol=1e-5, rtol=1e-5)

    @pytest.mark.parametrize("cls", [DBlock, DBlock3d])
    def test_gradcheck(self, cls, device):
        blk = freeze_spectral_norm(cls(2, 2).double()).to(device)
        x = torch.randn(1, 2, 2, 4, 4, dtype=torch.float64, device=device, requires_grad=True)
        assert gradcheck(blk, (x,), device)

    def test_errors(self):
        with pytest.raises(ValueError, match="even"):
            DBlock(3, 4)(torch.randn(1, 3, 2, 5, 4))
        with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
            DBlock3d(3, 4)(torch.randn(1, 4, 2, 4, 4))


class TestLowResSkip:
    def test_matches_resize_repeat_project(self, device):
        skip = freeze_spectral_norm(LowResSkip(3, 5)).to(device)
        low = torch.randn(2, 3, 3, 8, 8, device=device)
        y = skip(low, (6, 4, 4))
        resized = low[..., ::2, ::2].repeat_interleave(2, dim=2)
        ref = torch.einsum("oc,bcthw->bothw", skip.proj.weight[:, :, 0, 0, 0], resized) + skip.proj.bias.view(1, -1, 1, 1, 1)
        close(y, ref, device, atol=1e-5, rtol=1e-5)
        assert skip(low, (3, 8, 8)).shape == (2, 5, 3, 8, 8)

    def test_refuses_larger_features(self):
        skip = LowResSkip(3, 5)
        with pytest.raises(ValueError, match="exceeds the low-resolution input"):
            skip(torch.randn(1, 3, 2, 8, 8), (2, 16, 16))
        with pytest.raises(ValueError, match="not a multiple"):
            skip(torch.randn(1, 3, 2, 8, 8), (3, 8, 8))
        with pytest.raises(ValueError, match="integer multiple"):
            skip(torch.randn(1, 3, 2, 8, 8), (2, 3, 3))
        assert LowResSkip.accepts((8, 8), (4, 4)) and not LowResSkip.accepts((8, 8), (16, 16))


@pytest.mark.parametrize("contiguous", [True, False])
def test_dblock_folded_frames_and_3d_pooling_match_the_video_forward(contiguous, device):
    torch.manual_seed(0)
    block = freeze_spectral_norm(DBlock(3, 4).double()).to(device)
    x = torch.randn(2, 3, 5, 8, 8, dtype=torch.float64, device=device)
    folded = block.forward_frames(x.permute(0, 2, 1, 3, 4).reshape(10, 3, 8, 8))
    close(folded.reshape(2, 5, 4, 4, 4).permute(0, 2, 1, 3, 4), block(x), device, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="folded frames"):
        block.forward_frames(x)
    block3d = freeze_spectral_norm(DBlock3d(3, 4).double()).to(device)
    h = x if contiguous else x.transpose(3, 4).contiguous().transpose(3, 4)  # 2x2 windows either way
    close(block3d._pool(h), F.avg_pool3d(h, kernel_size=(1, 2, 2)), device, rtol=1e-12, atol=1e-12)
