from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import close
from vidgan_blocks.ops.views import spatial_downsample, temporal_subsample
from vidgan_blocks.training import FrameConditionalMixin, GANTrainer, StandingStatsMixin, TrainerConfig, WindowedTrainingMixin

from .tiny import TinyDiscriminator, TinyGenerator, TinyVideos


class Recorder(torch.nn.Module):
    """Calls a discriminator and records what it was given."""

    def __init__(self, d):
        super().__init__()
        self.d, self.calls = d, []

    def forward(self, video, y=None, **ctx):
        self.calls.append({"video": video.detach().clone(), "y": y, **{k: v.detach().clone() for k, v in ctx.items()}})
        return self.d(video, y, **ctx)


def d_step_views(rec):
    """The real and the fake view of one recorded D step: one D call over both, split in halves."""
    (call,) = rec.calls
    n = call["video"].shape[0] // 2

    def part(sl):
        return {k: (v[sl] if isinstance(v, torch.Tensor) else v) for k, v in call.items()}

    return part(slice(None, n)), part(slice(n, None))


class FPTrainer(FrameConditionalMixin, StandingStatsMixin, GANTrainer):
    """Video prediction trainer with standing statistics."""


class WinTrainer(WindowedTrainingMixin, StandingStatsMixin, GANTrainer):
    def standing_context(self, n, generator):
        # unrolling: statistics for the whole lower-level video, not for windows
        return {"low_res": self.sample_lower(n, None, generator)}


def _cfg(**kw):
    base = dict(batch_size=2, max_steps=1, progress=False, tensorboard=False, n_dis=1)
    base.update(kw)
    return TrainerConfig(**base)


def test_frame_conditional_views(device):
    torch.manual_seed(0)
    data = TinyVideos(n=4, frames=7)
    tr = FPTrainer(TinyGenerator(num_classes=None, frames=4), TinyDiscriminator(), data, _cfg(), device=device,
                   cond_frames=3, standing_passes=2)
    rec = Recorder(tr.D)
    tr.D_fwd = rec
    tr.d_step()
    real, fake = d_step_views(rec)
    clips = torch.stack([data[i]["video"] for i in tr.sampler.epoch_indices(0)[:2].tolist()]).to(device)
    assert torch.equal(real["cond_frames"], clips[:, :, :3]) and torch.equal(real["video"], clips[:, :, 3:])
    assert torch.equal(fake["cond_frames"], real["cond_frames"])  # fakes predict from the same real frames
    assert fake["video"].shape == (2, 3, 4, 8, 8) and real["y"] is None
    rec.calls.clear()
    seen = tr.counters.samples_seen
    tr.g_step()
    (g_call,) = rec.calls
    assert g_call["cond_frames"].shape == (2, 3, 3, 8, 8)
    assert tr.counters.samples_seen == seen + 2  # the G step draws its own conditioning clips
    ctx = tr.sample_context(3)
    assert torch.equal(ctx["cond_frames"], torch.stack([data[i]["video"][:, :3] for i in range(3)]).to(device))
    assert tr.standing_stats(tr.G) == 3


def test_frame_conditional_rejects_short_clips(device):
    tr = FPTrainer(TinyGenerator(num_classes=None), TinyDiscriminator(), TinyVideos(n=4, frames=3), _cfg(),
                   device=device, cond_frames=3)
    with pytest.raises(ValueError, match="at least T=4"):
        tr.d_step()


def _lower(calls):
    def lower(n, labels, generator):
        calls.append((n, labels))
        # a fake frozen lower level: 6 frames at 4x4, on the device of the trainer's noise generator
        return torch.rand(n, 3, 6, 4, 4, generator=generator, device=None if generator is None else generator.device) * 2 - 1

    return lower


def test_windowed_training_pairs_and_windows(device):
    torch.manual_seed(0)
    calls = []
    data = TinyVideos(n=4, frames=12)  # x^l: 12 frames at 8x8; x^{l-1}: 6 frames at 4x4
    tr = WinTrainer(TinyGenerator(num_classes=3, temporal_factor=2), TinyDiscriminator(num_classes=3), data, _cfg(),
                    device=device, lower_level=_lower(calls), window=2, temporal_factor=2, spatial_factor=2)
    rec = Recorder(tr.D)
    tr.D_fwd = rec
    tr.d_step()
    real, fake = d_step_views(rec)
    assert real["video"].shape == (2, 3, 4, 8, 8) and real["low_res"].shape == (2, 3, 2, 4, 4)
    # the real pair is one window of one clip: low_res = f_s(f_t(video window))
    expected = spatial_downsample(temporal_subsample(real["video"], 2), 2)
    close(real["low_res"], expected, device)
    assert fake["video"].shape == (2, 3, 4, 8, 8) and fake["low_res"].shape == (2, 3, 2, 4, 4)
    assert not torch.equal(fake["low_res"], real["low_res"])
    assert calls and calls[0][0] == 2 and calls[0][1] is not None and torch.equal(calls[0][1], fake["y"])
    out = tr.D(real["video"], real["y"], low_res=real["low_res"])
    assert set(out) == {"spatial", "temporal", "match"}
    rec.calls.clear()
    tr.g_step()
    assert rec.calls[0]["low_res"].shape == (2, 3, 2, 4, 4)
    # An explicit low-res input is used as given (e.g. to unroll over a whole lower-level video).
    tr.train_step()
    low = torch.rand(1, 3, 6, 4, 4, device=device) * 2 - 1
    with pytest.raises(ValueError, match="standing statistics at T=12"):
        tr.sample(1, context={"low_res": low})
    tr.standing_stats(tr.G, passes=2, frames=12)
    vid = tr.sample(1, context={"low_res": low})
    assert vid.shape == (1, 3, 12, 8, 8)


def test_windowed_without_window_uses_whole_clip(device):
    data = TinyVideos(n=4, frames=12)
    tr = WinTrainer(TinyGenerator(num_classes=None), TinyDiscriminator(), data, _cfg(), device=device,
                    lower_level=_lower([]), window=None, temporal_factor=2, spatial_factor=2)
    rec = Recorder(tr.D)
    tr.D_fwd = rec
    tr.d_step()
    real, fake = d_step_views(rec)
    assert real["video"].shape == (2, 3, 12, 8, 8) and real["low_res"].shape == (2, 3, 6, 4, 4)
    assert fake["video"].shape == (2, 3, 12, 8, 8)


def test_windowed_requires_callable():
    with pytest.raises(TypeError, match="lower_level"):
        WinTrainer(TinyGenerator(), TinyDiscriminator(), TinyVideos(), _cfg(), device="cpu", lower_level=3)


@given(
    low_len=st.integers(1, 9), factor=st.integers(1, 3), window=st.integers(1, 9), seed=st.integers(0, 99)
)
def test_window_alignment_property(low_len, factor, window, seed):
    if window > low_len:
        return
    tr = object.__new__(WinTrainer)  # only the window arithmetic is exercised
    tr.window, tr.temporal_factor = window, factor
    t = low_len * factor
    high = torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(3, 3, t, 1, 1).contiguous()
    low = temporal_subsample(high, factor)
    high_w, low_w = tr._windows(high, low, torch.Generator().manual_seed(seed))
    assert high_w.shape[2] == window * factor and low_w.shape[2] == window
    assert torch.equal(temporal_subsample(high_w, factor), low_w)  # same window in both views
    starts = low_w[:, 0, 0, 0, 0]
    assert bool(((starts >= 0) & (starts <= (low_len - window) * factor)).all())
