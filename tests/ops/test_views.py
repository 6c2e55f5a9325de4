"""View operators: shapes, numerics against explicit indexing, properties, errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import close, gradcheck
from vidgan_blocks.ops import (
    RandomCrop,
    SampleFrames,
    SpatialDownsample,
    TemporalRepeat,
    TemporalSubsample,
    gather_windows,
    random_crop,
    random_window_starts,
    sample_frames,
    spatial_downsample,
    spatial_upsample,
    temporal_repeat,
    temporal_subsample,
    temporal_windows,
    widen_windows,
)


def video(b=2, c=3, t=6, h=8, w=8, dtype=torch.float32, device=None):
    return torch.randn(b, c, t, h, w, dtype=dtype, device=device)


class TestSpatialDownsample:
    @pytest.mark.parametrize("mode", ["bilinear", "nearest", "avg"])
    @pytest.mark.parametrize("shape", [(1, 3, 1, 4, 4), (2, 5, 3, 8, 12), (3, 1, 7, 16, 8)])
    @pytest.mark.parametrize("factor", [1, 2, 4])
    def test_shapes(self, mode, shape, factor, device):
        x = torch.randn(*shape, device=device)
        y = spatial_downsample(x, factor, mode)
        b, c, t, h, w = shape
        assert y.shape == (b, c, t, h // factor, w // factor)

    def test_nearest_is_top_left_indexing(self, device):
        x = video(device=device)
        torch.testing.assert_close(spatial_downsample(x, 2, "nearest"), x[..., ::2, ::2])

    def test_avg_is_block_mean(self, device):
        x = video(h=4, w=4, device=device)
        y = spatial_downsample(x, 2, "avg")
        ref = x.reshape(2, 3, 6, 2, 2, 2, 2).mean(dim=(4, 6))
        close(y, ref, device)

    def test_bilinear_is_per_frame_antialiased_resize(self, device):
        x = video(h=8, w=8, device=device)
        y = spatial_downsample(x, 4, "bilinear")
        for t in range(x.shape[2]):
            ref = F.interpolate(x[:, :, t], size=(2, 2), mode="bilinear", antialias=True, align_corners=False)
            close(y[:, :, t], ref, device)
        # The anti-aliasing filter is a convex combination: values stay inside the input's range.
        y2 = spatial_downsample(x, 2, "bilinear")
        assert float(y2.max()) <= float(x.max()) + 1e-6 and float(y2.min()) >= float(x.min()) - 1e-6

    def test_constant_video_is_preserved(self, device):
        x = torch.full((1, 2, 3, 8, 8), 0.25, device=device)
        for mode in ("bilinear", "nearest", "avg"):
            close(spatial_downsample(x, 4, mode), torch.full((1, 2, 3, 2, 2), 0.25, device=device), device)

    @pytest.mark.parametrize("mode", ["bilinear", "nearest", "avg"])
    def test_module_matches_function(self, mode, device):
        x = video(device=device)
        torch.testing.assert_close(SpatialDownsample(2, mode)(x), spatial_downsample(x, 2, mode))

    def test_gradcheck(self, device):
        x = video(b=1, c=1, t=2, h=4, w=4, dtype=torch.float64, device=device).requires_grad_()
        for mode in ("bilinear", "avg", "nearest"):
            assert gradcheck(lambda v: spatial_downsample(v, 2, mode), (x,), device)

    def test_errors(self):
        with pytest.raises(ValueError, match=r"multiples of factor=3"):
            spatial_downsample(video(h=8), 3)
        with pytest.raises(ValueError, match=r"5-D"):
            spatial_downsample(torch.randn(2, 3, 8, 8), 2)
        with pytest.raises(TypeError, match="floating"):
            spatial_downsample(torch.zeros(1, 3, 2, 4, 4, dtype=torch.uint8), 2)
        with pytest.raises(ValueError, match="mode"):
            spatial_downsample(video(), 2, "bicubic")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=">= 1"):
            SpatialDownsample(0)
        with pytest.raises(TypeError, match="int"):
            spatial_downsample(video(), 2.0)  # type: ignore[arg-type]

    def test_upsample_inverts_nearest(self, device):
        x = video(h=4, w=4, device=device)
        up = spatial_upsample(x, 2)
        assert up.shape == (2, 3, 6, 8, 8)
        torch.testing.assert_close(spatial_downsample(up, 2, "nearest"), x)
        torch.testing.assert_close(spatial_downsample(up, 2, "avg"), x)


class TestTemporal:
    def test_subsample_matches_indexing(self, device):
        x = video(t=10, device=device)
        torch.testing.assert_close(temporal_subsample(x, 3, 1), x[:, :, [1, 4, 7]])
        torch.testing.assert_close(TemporalSubsample(3, 1)(x), temporal_subsample(x, 3, 1))

    def test_repeat_matches_indexing(self, device):
        x = video(t=3, device=device)
        y = temporal_repeat(x, 2)
        torch.testing.assert_close(y, x[:, :, [0, 0, 1, 1, 2, 2]])
        torch.testing.assert_close(TemporalRepeat(2)(x), y)

    @given(t=st.integers(1, 40), factor=st.integers(1, 8), data=st.data())
    def test_frame_counts(self, t, factor, data, device):
        offset = data.draw(st.integers(0, min(factor - 1, t - 1)))
        x = torch.zeros(1, 1, t, 1, 1, device=device)
        assert temporal_subsample(x, factor, offset).shape[2] == -(-(t - offset) // factor)
        assert temporal_repeat(x, factor).shape[2] == t * factor
        torch.testing.assert_close(temporal_subsample(temporal_repeat(x, factor), factor), x)

    def test_errors(self):
        with pytest.raises(ValueError, match="offset"):
            temporal_subsample(video(), 2, 2)
        with pytest.raises(ValueError, match="T > offset"):
            temporal_subsample(video(t=1), 4, 2)
        with pytest.raises(ValueError, match=">= 1"):
            temporal_repeat(video(), 0)


class TestSampleFrames:
    @given(t=st.integers(1, 20), data=st.data())
    def test_distinct_sorted_in_range(self, t, data, device):
        k = data.draw(st.integers(1, t))
        x = torch.arange(t, dtype=torch.float32, device=device).view(1, 1, t, 1, 1).expand(3, 1, t, 1, 1)
        y, idx = sample_frames(x, k, torch.Generator().manual_seed(t), return_indices=True)
        assert y.shape == (3, 1, k, 1, 1)
        for b in range(3):
            frames = y[b, 0, :, 0, 0].tolist()
            assert frames == sorted(set(frames)) and len(frames) == k
            assert frames == idx[b].float().tolist()

    def test_reproducible_and_matches_indexing(self, device):
        x = video(t=9, device=device)
        a, ia = sample_frames(x, 4, torch.Generator().manual_seed(3), return_indices=True)
        b, ib = sample_frames(x, 4, torch.Generator().manual_seed(3), return_indices=True)
        torch.testing.assert_close(a, b)
        assert torch.equal(ia, ib)
        for s in range(2):
            torch.testing.assert_close(a[s], x[s][:, ia[s]])

    def test_module(self, device):
        x = video(t=9, device=device)
        m = SampleFrames(4, torch.Generator().manual_seed(1))
        torch.testing.assert_close(m(x), sample_frames(x, 4, torch.Generator().manual_seed(1)))

    def test_too_few_frames(self):
        with pytest.raises(ValueError, match="at least k=8"):
            sample_frames(video(t=5), 8)


class TestRandomCrop:
    @given(h=st.integers(1, 12), w=st.integers(1, 12), data=st.data())
    def test_boxes_inside_frame(self, h, w, data, device):
        ch, cw = data.draw(st.integers(1, h)), data.draw(st.integers(1, w))
        x = torch.randn(4, 1, 2, h, w, device=device)
        y, boxes = random_crop(x, (ch, cw), torch.Generator().manual_seed(h * w), return_boxes=True)
        assert y.shape == (4, 1, 2, ch, cw)
        assert bool((boxes[:, 0] >= 0).all() and (boxes[:, 0] + ch <= h).all())
        assert bool((boxes[:, 1] >= 0).all() and (boxes[:, 1] + cw <= w).all())
        for i, (tp, lf) in enumerate(boxes.tolist()):
            torch.testing.assert_close(y[i], x[i, :, :, tp : tp + ch, lf : lf + cw])

    def test_module_and_errors(self):
        x = video()
        torch.testing.assert_close(RandomCrop(4, torch.Generator().manual_seed(0))(x), random_crop(x, 4, torch.Generator().manual_seed(0)))
        with pytest.raises(ValueError, match="larger than the frame"):
            random_crop(x, (9, 2))
        with pytest.raises(TypeError, match="pair"):
            random_crop(x, (1, 2, 3))  # type: ignore[arg-type]

    def test_crops_differ_across_samples(self, device):
        x = torch.arange(64.0, device=device).view(1, 1, 1, 8, 8).expand(16, 1, 1, 8, 8)
        _, boxes = random_crop(x, 2, torch.Generator().manual_seed(0), return_boxes=True)
        assert len({tuple(b) for b in boxes.tolist()}) > 1


class TestWindows:
    @given(length=st.integers(1, 60), data=st.data())
    def test_enumeration_covers_and_stays_in_range(self, length, data):
        window = data.draw(st.integers(1, length))
        stride = data.draw(st.integers(1, window))
        starts = temporal_windows(length, window, stride)
        assert starts == sorted(set(starts)) and starts[0] == 0
        assert all(0 <= s <= length - window for s in starts)
        covered = set()
        for s in starts:
            covered.update(range(s, s + window))
        assert covered == set(range(length))

    @given(length=st.integers(1, 60), batch=st.integers(1, 8), data=st.data())
    def test_random_starts_in_range(self, length, batch, data):
        window = data.draw(st.integers(1, length))
        starts = random_window_starts(batch, length, window, torch.Generator().manual_seed(length))
        assert starts.shape == (batch,) and starts.dtype == torch.int64
        assert bool((starts >= 0).all() and (starts <= length - window).all())

    def test_random_starts_reach_both_ends(self):
        starts = random_window_starts(2000, 10, 4, torch.Generator().manual_seed(0))
        assert set(starts.tolist()) == set(range(7))

    @given(length=st.integers(1, 40), batch=st.integers(1, 6), context=st.integers(0, 6), data=st.data())
    def test_widened_windows_hold_the_windows_with_all_the_context_there_is(self, length, batch, context, data):
        window = data.draw(st.integers(1, length))
        starts = random_window_starts(batch, length, window, torch.Generator().manual_seed(length + context))
        wide_starts, wide, offsets = widen_windows(starts, length, window, context)
        assert wide == min(length, window + 2 * context)
        assert torch.equal(wide_starts + offsets, starts)
        assert bool((wide_starts >= 0).all() and (wide_starts + wide <= length).all())
        for s, u in zip(starts.tolist(), wide_starts.tolist(), strict=True):
            # each side gets `context` frames, or every frame the video has on that side, or more when the
            # other side is short and the wide window shifts inwards
            assert s - u >= min(context, s)
            assert (u + wide) - (s + window) >= min(context, length - (s + window))

    def test_widened_windows_values(self, device):
        starts = torch.tensor([0, 3, 8], device=device)
        wide_starts, wide, offsets = widen_windows(starts, 10, 2, 2)
        assert wide == 6 and wide_starts.device == starts.device
        assert wide_starts.tolist() == [0, 1, 4] and offsets.tolist() == [0, 2, 4]
        wide_starts, wide, offsets = widen_windows(starts, 10, 2, 0)
        assert wide == 2 and torch.equal(wide_starts, starts) and not offsets.any()
        with pytest.raises(ValueError, match="context"):
            widen_windows(starts, 10, 2, -1)
        with pytest.raises(TypeError, match="context"):
            widen_windows(starts, 10, 2, True)
        with pytest.raises(TypeError, match="context"):
            widen_windows(starts, 10, 2, 1.0)
        with pytest.raises(TypeError, match="starts"):
            widen_windows([0, 3], 10, 2, 1)
        with pytest.raises(ValueError, match="longer than"):
            widen_windows(starts, 1, 2, 1)
        with pytest.raises(ValueError, match="integer tensor"):
            widen_windows(starts.float(), 10, 2, 1)

    def test_gather_matches_indexing(self, device):
        x = video(t=10, device=device)
        y = gather_windows(x, torch.tensor([2, 5]), 4)
        torch.testing.assert_close(y[0], x[0, :, 2:6])
        torch.testing.assert_close(y[1], x[1, :, 5:9])

    def test_errors(self):
        with pytest.raises(ValueError, match="longer than"):
            temporal_windows(3, 4)
        with pytest.raises(ValueError, match="uncovered"):
            temporal_windows(10, 2, 3)
        with pytest.raises(ValueError, match="outside"):
            gather_windows(video(t=5), [0, 3], 3)
        with pytest.raises(ValueError, match="integer starts"):
            gather_windows(video(t=5), [0], 3)
