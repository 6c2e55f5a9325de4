"""Single discriminators: their views computed by hand, randomness, frame conditioning, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import close, gradcheck
from vidgan_blocks.discriminators import (
    CroppedDiscriminator,
    MatchingDiscriminator,
    SpatialDiscriminator,
    TemporalDiscriminator,
    prepend_cond_frames,
)
from vidgan_blocks.layers import freeze_spectral_norm
from vidgan_blocks.ops import random_crop, sample_frames, spatial_downsample, temporal_subsample

TINY = dict(ch=2, multipliers=(1, 2))


def per_frame_scores(d, frames: torch.Tensor) -> torch.Tensor:
    """Reference: score each frame on its own with the trunk and the projection weights. [B, k]"""
    lin = d.head.head.linear
    scores = []
    for t in range(frames.shape[2]):
        h = d.trunk(frames[:, :, t : t + 1])[..., 0]  # [B, F]
        scores.append(h @ lin.weight[0] + lin.bias[0])
    return torch.stack(scores, dim=1)


class TestSpatial:
    def test_sums_per_frame_scores_of_k_sampled_frames(self, device):
        gen = torch.Generator().manual_seed(3)
        d = SpatialDiscriminator(3, generator=gen, **TINY).eval().to(device)
        video = torch.randn(2, 3, 6, 8, 8, device=device)
        state = gen.get_state()
        out = d(video)
        gen.set_state(state)
        _, idx = sample_frames(video, 3, gen, return_indices=True)
        frames = torch.stack([video[b, :, idx[b]] for b in range(2)])
        close(out, per_frame_scores(d, frames).sum(1), device)

    @pytest.mark.parametrize("reduce", ["mean", "none"])
    def test_other_reductions(self, reduce, device):
        video = torch.randn(2, 3, 5, 8, 8, device=device)
        d = SpatialDiscriminator(5, reduce=reduce, generator=torch.Generator(), **TINY).eval().to(device)
        out = d(video)  # k = T: all frames, in order
        ref = per_frame_scores(d, video)
        close(out, ref.mean(1) if reduce == "mean" else ref, device)

    def test_downsampled_frames_df(self, device):
        gen = torch.Generator().manual_seed(1)
        d = SpatialDiscriminator(4, 2, generator=gen, **TINY).eval().to(device)
        video = torch.randn(2, 3, 4, 16, 16, device=device)
        out = d(video)
        ref = per_frame_scores(d, F.avg_pool3d(video, (1, 2, 2))).sum(1)
        close(out, ref, device)

    def test_frame_choice_is_reproducible_and_distinct(self, device):
        video = torch.arange(10.0, device=device).view(1, 1, 10, 1, 1).expand(2, 3, 10, 4, 4).contiguous()
        d = SpatialDiscriminator(4, generator=torch.Generator().manual_seed(5), **TINY).to(device)
        seen = []
        d.view = lambda v, **c: seen.append(SpatialDiscriminator.view(d, v, **c)) or seen[-1]  # type: ignore[method-assign]
        d(video)
        d.generator.manual_seed(5)
        d(video)
        first, second = seen
        close(first, second, device)
        chosen = first[:, 0, :, 0, 0]  # [B, k] frame values = frame indices
        for row in chosen:
            assert len(set(row.tolist())) == 4
            assert row.tolist() == sorted(row.tolist())

    def test_mixed_projection_shape(self, device):
        d = SpatialDiscriminator(3, 2, mixed_projection=True, **TINY).to(device)
        assert d(torch.randn(4, 3, 5, 8, 8, device=device)).shape == (4, 4, 3)

    def test_errors(self):
        d = SpatialDiscriminator(4, **TINY)
        with pytest.raises(ValueError, match="k=4"):
            d(torch.randn(2, 3, 3, 8, 8))
        with pytest.raises(ValueError, match="C=3"):
            d(torch.randn(2, 4, 6, 8, 8))
        with pytest.raises(TypeError, match="Tensor"):
            d([1, 2])
        with pytest.raises(ValueError, match="downsample_mode"):
            SpatialDiscriminator(4, downsample_mode="area", **TINY)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="Generator"):
            SpatialDiscriminator(4, generator=0, **TINY)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="multiples of 2"):
            SpatialDiscriminator(2, 2, **TINY)(torch.randn(1, 3, 2, 6, 6))


class TestTemporal:
    @pytest.mark.parametrize("s", [1, 2, 4])
    def test_is_the_trunk_on_the_pooled_clip(self, s, device):
        d = TemporalDiscriminator(s, **TINY).eval().to(device)
        video = torch.randn(2, 3, 3, 16, 16, device=device)
        h = d.trunk(F.avg_pool3d(video, (1, s, s)))  # [B, F, T]
        lin = d.head.head.linear
        ref = (torch.einsum("bft,f->bt", h, lin.weight[0]) + lin.bias[0]).sum(1)
        close(d(video), ref, device)

    def test_sees_motion_through_the_3d_blocks(self, device):
        d = TemporalDiscriminator(1, reduce="none", **TINY).eval().to(device)
        video = torch.randn(1, 3, 4, 8, 8, device=device)
        other = video.clone()
        other[:, :, 0] = torch.randn(3, 8, 8, device=device)
        a, b = d(video), d(other)
        assert not torch.allclose(a[:, 1], b[:, 1])  # frame 1 depends on frame 0

    def test_gradcheck_float64(self, device):
        d = TemporalDiscriminator(2, ch=1, multipliers=(1, 1), blocks_3d=1, num_classes=2).double()
        freeze_spectral_norm(d).to(device)
        video = torch.randn(2, 3, 2, 4, 4, dtype=torch.float64, device=device, requires_grad=True)
        y = torch.tensor([1, 0], device=device)
        assert gradcheck(lambda v: d(v, y), (video,), device, eps=1e-6, atol=1e-4, fast_mode=True)


class TestCropped:
    @pytest.mark.parametrize("kwargs", [dict(crop=(4, 8)), dict(crop=4), dict(factor=2)])
    def test_scores_the_crop_drawn_from_the_generator(self, kwargs, device):
        gen = torch.Generator().manual_seed(11)
        d = CroppedDiscriminator(generator=gen, reduce="none", **kwargs, **TINY).eval().to(device)
        video = torch.randn(3, 3, 2, 8, 16, device=device)
        state = gen.get_state()
        out = d(video)
        gen.set_state(state)
        size = d.crop_size(8, 16)
        crops, boxes = random_crop(video, size, gen, return_boxes=True)
        for b, (top, left) in enumerate(boxes.tolist()):
            assert 0 <= top <= 8 - size[0] and 0 <= left <= 16 - size[1]
            close(crops[b], video[b, :, :, top : top + size[0], left : left + size[1]], device)
        h = d.trunk(crops)
        lin = d.head.head.linear
        close(out, torch.einsum("bft,f->bt", h, lin.weight[0]) + lin.bias[0], device)

    @given(
        h_cells=st.integers(1, 4),
        w_cells=st.integers(1, 4),
        factor=st.sampled_from([1, 2, 3]),
        seed=st.integers(0, 2**16),
    )
    def test_crops_stay_in_bounds_and_are_slices_of_the_video(self, h_cells, w_cells, factor, seed, device):
        h, w = h_cells * factor, w_cells * factor
        d = CroppedDiscriminator(factor=factor, generator=torch.Generator().manual_seed(seed), ch=1, multipliers=(1,), blocks_3d=0, sn=False)
        d.to(device)
        # Every pixel value encodes its own (row, column), so a crop reveals where it came from.
        rows = torch.arange(h, device=device).view(h, 1).expand(h, w)
        cols = torch.arange(w, device=device).view(1, w).expand(h, w)
        video = (rows * 100 + cols).float().expand(3, 3, 2, h, w).contiguous()
        crops = d.view(video)
        assert crops.shape == (3, 3, 2, h // factor, w // factor)
        for b in range(3):
            top, left = divmod(int(crops[b, 0, 0, 0, 0]), 100)
            assert 0 <= top <= h - h // factor and 0 <= left <= w - w // factor
            close(crops[b], video[b, :, :, top : top + h // factor, left : left + w // factor], device)

    def test_errors(self):
        with pytest.raises(ValueError, match="exactly one"):
            CroppedDiscriminator(**TINY)
        with pytest.raises(ValueError, match="exactly one"):
            CroppedDiscriminator((4, 4), factor=2, **TINY)
        with pytest.raises(ValueError, match="larger than the frames"):
            CroppedDiscriminator((8, 8), **TINY)(torch.randn(1, 3, 2, 4, 8))
        with pytest.raises(ValueError, match="multiples of factor=2"):
            CroppedDiscriminator(factor=2, **TINY)(torch.randn(1, 3, 2, 5, 8))


class TestMatching:
    @pytest.mark.parametrize("mode", ["nearest", "avg", "bilinear"])
    def test_input_is_low_res_then_downsampled_high_res(self, mode, device):
        d = MatchingDiscriminator(2, 2, mode, **TINY).to(device)
        video = torch.randn(2, 3, 5, 8, 8, device=device)
        low = torch.randn(2, 3, 3, 4, 4, device=device)
        pair = d.pair(video, low)
        assert pair.shape == (2, 6, 3, 4, 4)
        close(pair[:, :3], low, device)
        frames = video[:, :, [0, 2, 4]]
        if mode == "nearest":
            ref = frames[..., ::2, ::2]
        elif mode == "avg":
            ref = (frames[..., ::2, ::2] + frames[..., 1::2, ::2] + frames[..., ::2, 1::2] + frames[..., 1::2, 1::2]) / 4
        else:
            ref = spatial_downsample(frames, 2, "bilinear")
        close(pair[:, 3:], ref, device)

    def test_forward_scores_the_pair(self, device):
        d = MatchingDiscriminator(2, 4, "nearest", num_classes=3, **TINY).eval().to(device)
        video = torch.randn(2, 3, 4, 16, 16, device=device)
        low = torch.randn(2, 3, 2, 4, 4, device=device)
        y = torch.tensor([2, 1], device=device)
        h = d.trunk(torch.cat([low, video[:, :, ::2, ::4, ::4]], dim=1))
        lin, emb = d.head.head.linear, d.head.head.embed
        ref = (torch.einsum("bft,f->bt", h, lin.weight[0]) + lin.bias[0] + torch.einsum("bft,bf->bt", h, emb.weight[y])).sum(1)
        close(d(video, y, low_res=low, cond_frames=torch.randn(2, 3, 1, 16, 16, device=device)), ref, device)

    def test_real_pair_from_the_views_is_accepted_and_a_wrong_one_is_not(self):
        d = MatchingDiscriminator(2, 2, **TINY)
        video = torch.randn(1, 3, 4, 8, 8)
        with pytest.raises(ValueError, match=r"\(1, 3, 2, 4, 4\)"):
            d(video, low_res=torch.randn(1, 3, 3, 4, 4))
        with pytest.raises(ValueError, match="low_res"):
            d(video)
        with pytest.raises(ValueError, match="C=3"):
            d(video, low_res=torch.randn(1, 4, 2, 4, 4))
        with pytest.raises(ValueError, match="factor_s=2"):
            d(torch.randn(1, 3, 4, 6, 7), low_res=torch.randn(1, 3, 2, 3, 3))

    @given(
        t=st.integers(1, 9),
        factor_t=st.integers(1, 3),
        factor_s=st.sampled_from([1, 2, 4]),
        cells=st.integers(1, 3),
        delta=st.sampled_from([(0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, 0, -1)]),
    )
    def test_shape_bookkeeping_matches_the_views(self, t, factor_t, factor_s, cells, delta):
        d = MatchingDiscriminator(factor_t, factor_s, "nearest", ch=1, multipliers=(1,), blocks_3d=1, sn=False)
        h = w = factor_s * cells
        video = torch.zeros(1, 3, t, h, w)
        view = spatial_downsample(temporal_subsample(video, factor_t), factor_s, "nearest")
        assert d.expected_low_res_shape(video.shape) == tuple(view.shape)
        lt, lh, lw = view.shape[2] + delta[0], view.shape[3] + delta[1], view.shape[4] + delta[2]
        low = torch.zeros(1, 3, max(lt, 1), max(lh, 1), max(lw, 1))
        if tuple(low.shape) == tuple(view.shape):
            assert d.pair(video, low).shape == (1, 6, *view.shape[2:])
        else:
            with pytest.raises(ValueError, match="pairs with"):
                d.pair(video, low)


class TestFrameConditioning:
    def test_prepends_in_time(self, device):
        video, cond = torch.randn(2, 3, 3, 4, 4, device=device), torch.randn(2, 3, 2, 4, 4, device=device)
        out = prepend_cond_frames(video, cond)
        close(out, torch.cat([cond, video], dim=2), device)
        assert prepend_cond_frames(video, None) is video
        with pytest.raises(ValueError, match="batch 2"):
            prepend_cond_frames(video, cond[:1])
        with pytest.raises(ValueError, match=r"\(H, W\)"):
            prepend_cond_frames(video, torch.randn(2, 3, 2, 8, 8, device=device))

    def test_single_discriminator_sees_the_conditioning_frames(self, device):
        d = TemporalDiscriminator(2, reduce="none", frame_conditioning=True, **TINY).eval().to(device)
        video, cond = torch.randn(2, 3, 3, 8, 8, device=device), torch.randn(2, 3, 2, 8, 8, device=device)
        out = d(video, cond_frames=cond)
        assert out.shape == (2, 5)
        plain = TemporalDiscriminator(2, reduce="none", **TINY).eval().to(device)
        plain.load_state_dict(d.state_dict())
        close(out, plain(torch.cat([cond, video], dim=2)), device)
        assert plain(video, cond_frames=cond).shape == (2, 3)  # not in conditioning mode: ignored
