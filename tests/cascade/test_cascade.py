"""Cascade levels: views, windowed training pairs, frozen lower levels, unrolled and streamed sampling, save/load."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tests.helpers import close
from vidgan_blocks.cascade import Cascade, Level, LevelOptim, VideoStreamWriter, chunk_plan, temporal_radius
from vidgan_blocks.data import ViewFactors, read_video
from vidgan_blocks.discriminators.builders import DiscriminatorConfig
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig, build_generator
from vidgan_blocks.training import TrainerConfig

NC = 3


def tiny_cascade(window: int = 2, frames: int = 4) -> Cascade:
    torch.manual_seed(0)
    g1 = build_generator(CascadeFirstLevelConfig(ch=2, multipliers=(2, 2, 1), z_dim=8, class_dim=4, num_classes=NC,
                                                 frames=frames, base_size=4))
    g2 = build_generator(UpsamplingGeneratorConfig(ch=2, multipliers=(2, 2, 1), low_size=8, factor_s=2, factor_t=2,
                                                   frames_in=window, z_dim=8, class_dim=4, num_classes=NC))
    d1 = DiscriminatorConfig("dvd_gan", ch=2, multipliers=(1, 2), num_classes=NC, k=2)
    d2 = DiscriminatorConfig("cascade_level", ch=2, multipliers=(1, 2), num_classes=NC, k=2, factor_t=2, factor_s=2)
    return Cascade([
        Level(g1, d1.build(), discriminator_config=d1),
        Level(g2, d2.build(), factors=ViewFactors(2, 2), window=window, discriminator_config=d2),
    ])


class Clips(torch.utils.data.Dataset):
    """Top-level clips whose pixel values encode the frame index: frame t holds t / T."""

    def __init__(self, n: int = 8, frames: int = 8, size: int = 16) -> None:
        self.n, self.t, self.s = n, frames, size

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ramp = torch.arange(self.t, dtype=torch.float32) / self.t
        video = ramp.view(1, self.t, 1, 1).expand(3, self.t, self.s, self.s).clone()
        return {"video": video, "label": torch.tensor(i % NC)}


def cfg(**kw) -> TrainerConfig:
    base = dict(batch_size=2, max_steps=2, progress=False, tensorboard=False, log_every=0, out_dir=None)
    return TrainerConfig(**{**base, **kw})


# ---------------------------------------------------------------------- index arithmetic

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 12), st.integers(0, 5))
def test_chunk_plan_covers_in_order(length, chunk, halo):
    plan = chunk_plan(length, chunk, halo)
    assert plan[0][0] == 0 and plan[-1][1] == length
    for (a, b, a2, b2), nxt in zip(plan, plan[1:] + [None]):
        assert 0 < b - a <= chunk
        assert a2 == max(0, a - halo) and b2 == min(length, b + halo)
        if nxt is not None:
            assert nxt[0] == b


def test_chunk_plan_rejects_bad_arguments():
    with pytest.raises(ValueError):
        chunk_plan(0, 2, 1)
    with pytest.raises(ValueError):
        chunk_plan(4, 2, -1)


def test_temporal_radius_sums_temporal_kernels():
    net = nn.Sequential(nn.Conv3d(1, 1, (3, 3, 3), padding=1), nn.Conv3d(1, 1, (5, 1, 1)), nn.Conv1d(1, 1, 3, dilation=2),
                        nn.Conv2d(1, 1, 3))
    assert temporal_radius(net) == 1 + 2 + 2
    g = tiny_cascade()[2].generator
    # two upsampling units, each a separable 3D block with two temporal kernels of 3
    assert temporal_radius(g) == 4


# ---------------------------------------------------------------------- construction and views

def test_level_and_cascade_validate():
    c = tiny_cascade()
    with pytest.raises(TypeError):
        Level(nn.Linear(2, 2))
    with pytest.raises(TypeError):
        Level(c[1].generator, factors=(2, 2))
    with pytest.raises(TypeError):
        Cascade([c[1], Level(c[1].generator)])  # level 2 must upsample
    with pytest.raises(ValueError):
        Cascade([c[1], Level(c[2].generator, factors=ViewFactors(3, 2))])  # f_t disagrees with the generator
    with pytest.raises(ValueError):
        c[3]
    with pytest.raises(ValueError):
        LevelOptim(lr_g=0)


def test_views_shapes_and_consistency(device):
    c = tiny_cascade()
    clip = torch.rand(2, 3, 8, 16, 16, device=device) * 2 - 1
    v1, v2 = c.views(clip)
    assert torch.equal(v2, clip)
    assert v1.shape == (2, 3, 4, 8, 8)
    close(v1, c.view(clip, 1), device)
    # with the block-average filter: keep frames 0, 2, ... then average 2x2 blocks
    c.levels[1].factors = ViewFactors(2, 2, "avg")
    ref = clip[:, :, ::2].reshape(2, 3, 4, 8, 2, 8, 2).mean(dim=(4, 6))
    close(c.view(clip, 1), ref, device, atol=1e-6, rtol=0)
    close(c.views(clip)[0], ref, device, atol=1e-6, rtol=0)
    with pytest.raises(ValueError):
        c.views(torch.rand(2, 3, 8, 16))


# ---------------------------------------------------------------------- windowed training

class _TimeCode(nn.Module):
    """Stand-in first level: frame t of every sample holds (offset + t) / 100."""

    z_dim, num_classes, frames = 4, NC, 4

    def forward(self, z, y=None, *, frames=None, **context):
        t = frames or self.frames
        ramp = (torch.arange(t, dtype=torch.float32, device=z.device) + 10 * z[:, :1].abs().round()) / 100  # [B, T]
        return ramp.view(-1, 1, t, 1, 1).expand(-1, 3, t, 8, 8).clone()


class _Spy(nn.Module):
    def __init__(self, g):
        super().__init__()
        self.g, self.z_dim, self.num_classes, self.factor_t = g, g.z_dim, g.num_classes, g.factor_t
        self.seen = []

    def forward(self, z, y=None, **context):
        self.seen.append(context["low_res"].detach().clone())
        return self.g(z, y, **context)


def test_real_and_fake_windows_are_aligned(device):
    c = tiny_cascade()
    c.levels[0] = Level(_TimeCode())
    c.levels[0].freeze()
    spy = _Spy(c[2].generator)
    c.levels[1] = Level(spy, c[2].discriminator, factors=ViewFactors(2, 2), window=2)
    trainer = c.make_trainer(2, Clips(), cfg(), device=device)
    for _ in range(5):
        real = trainer.prepare_real(trainer.next_batch())
        high, low = real["video"], real["low_res"]  # [B, 3, 4, 16, 16], [B, 3, 2, 8, 8]
        assert high.shape[2] == 4 and low.shape[2] == 2
        for b in range(high.shape[0]):
            frames_high = (high[b, 0, :, 0, 0] * 8).round().long()
            frames_low = (low[b, 0, :, 0, 0] * 8).round().long()
            start = int(frames_high[0])
            assert start % 2 == 0 and start + 4 <= 8
            assert frames_high.tolist() == list(range(start, start + 4))
            assert frames_low.tolist() == [start, start + 2]  # f_t(high window) == low window
        fake = trainer.make_fake(3, {})
        close(fake["low_res"], spy.seen[-1], device)  # the window G saw is the one D pairs
        codes = (fake["low_res"][:, 0, :, 0, 0] * 100).round()
        assert torch.all(codes[:, 1] - codes[:, 0] == 1)  # consecutive generated frames
        assert fake["video"].shape == (3, 3, 4, 16, 16)
    trainer.close()


def test_context_gives_g_the_wider_window_and_scores_the_window(device):
    c = tiny_cascade()
    first = _TimeCode()
    first.frames = 8
    c.levels[0] = Level(first)
    c.levels[0].freeze()
    spy = _Spy(c[2].generator)
    c.levels[1] = Level(spy, c[2].discriminator, factors=ViewFactors(2, 2), window=2, window_context=2)
    trainer = c.make_trainer(2, Clips(n=8, frames=16), cfg(), device=device)
    for _ in range(6):
        fake = trainer.make_fake(3, {})
        seen = spy.seen[-1]
        assert seen.shape[2] == 6 and fake["low_res"].shape[2] == 2  # 2 + 2 * 2 frames in, 2 scored
        assert fake["video"].shape == (3, 3, 4, 16, 16)
        for b in range(3):
            got = (seen[b, 0, :, 0, 0] * 100).round().long().tolist()  # offset + frame index, offset % 10 == 0
            kept = (fake["low_res"][b, 0, :, 0, 0] * 100).round().long().tolist()
            assert got == list(range(got[0], got[0] + 6))  # consecutive level-1 frames
            assert kept == [kept[0], kept[0] + 1] and kept[0] - got[0] in range(5)  # the scored window is inside
            u, s = got[0] % 10, kept[0] % 10  # frame indices of the wide and the scored window in the 8 frames
            assert u == min(max(s - 2, 0), 8 - 6)  # two frames each side, shifted inwards at the clip's edges
    trainer.close()
    with pytest.raises(ValueError, match="window=None"):
        Level(c[2].generator, c[2].discriminator, factors=ViewFactors(2, 2), window=None, window_context=1)
    with pytest.raises(ValueError, match="window_context"):
        Level(c[2].generator, c[2].discriminator, factors=ViewFactors(2, 2), window=2, window_context=-1)
    with pytest.raises(TypeError, match="window_context"):
        Level(c[2].generator, c[2].discriminator, factors=ViewFactors(2, 2), window=2, window_context=True)


def test_context_trains_window_frames_as_unrolling_computes_them(device):
    # an upsampling generator is convolutional in time: with context >= its radius in low-res frames, the kept
    # frames equal the same frames of the whole-video output, which plain windows (context 0) do not
    c = tiny_cascade()
    g = c[2].generator.to(device).train()
    f = g.factor_t
    halo = -(-temporal_radius(g) // f)
    low = torch.rand(2, 3, 12, 8, 8, device=device) * 2 - 1
    z = torch.randn(2, g.z_dim, device=device)
    y = torch.tensor([0, 1], device=device)
    starts = torch.tensor([5, 5], device=device)  # one start: per-frame batch statistics pair the same frames
    from vidgan_blocks.ops import gather_windows, widen_windows

    import copy

    with torch.no_grad():
        whole = gather_windows(copy.deepcopy(g)(z, y, low_res=low), starts * f, 2 * f)
        for context, equal in ((halo, True), (0, False)):
            wide_starts, wide, offsets = widen_windows(starts, 12, 2, context)
            out = copy.deepcopy(g)(z, y, low_res=gather_windows(low, wide_starts, wide))  # own running-stat length
            kept = gather_windows(out, offsets * f, 2 * f)
            assert torch.allclose(kept, whole, atol=1e-5) == equal, context


def test_context_is_saved_and_loaded(tmp_path, device):
    c = tiny_cascade()
    c.levels[1] = Level(c[2].generator, c[2].discriminator, factors=ViewFactors(2, 2), window=2, window_context=1,
                        generator_config=c[2].generator_config, discriminator_config=c[2].discriminator_config)
    assert c.spec()["levels"][1]["window_context"] == 1 and "window_context" not in c.spec()["levels"][0]
    c.save(tmp_path)
    assert Cascade.load(tmp_path)[2].window_context == 1
    assert "window_context=1" in repr(c[2])


def test_train_in_order_and_frozen_level_unchanged(device):
    c = tiny_cascade()
    with pytest.raises(RuntimeError, match="train or load level 1"):
        c.make_trainer(2, Clips(), cfg(), device=device)
    c.train_level(1, Clips(), cfg(), passes=1, stats_batch=2, ema_start=1, device=device)
    frozen = c[1].sampler
    assert frozen is not c[1].generator and not frozen.training
    before = {k: v.clone() for k, v in frozen.state_dict().items()}
    c.train_level(2, Clips(), cfg(max_steps=2), passes=1, stats_batch=2, ema_start=1, device=device)
    after = frozen.state_dict()
    assert before.keys() == after.keys()
    stats = ("running_mean", "running_var", "num_batches_tracked")  # re-estimated on purpose (standing statistics)
    for k in before:
        if not k.endswith(stats):
            assert torch.equal(before[k], after[k]), k
    assert all(p.grad is None and not p.requires_grad for p in frozen.parameters())


def test_trainers_keep_no_ema_unless_asked(device):
    # HVG / SSW-GAN appendix A: no weight moving average and no orthogonal penalty
    from vidgan_blocks.training import EMAMixin

    c = tiny_cascade()
    first = c.make_trainer(1, Clips(), cfg(), device=device)
    assert not isinstance(first, EMAMixin) and not hasattr(first, "ema")
    assert first.config.ortho_reg == 0 and first.eval_model() is first.G
    first.close()
    c[1].freeze()
    upper = c.make_trainer(2, Clips(), cfg(), device=device)
    assert not isinstance(upper, EMAMixin) and upper.config.ortho_reg == 0
    upper.close()
    for l in (1, 2):  # still available on request
        opted = c.make_trainer(l, Clips(), cfg(), ema_start=0, ema_decay=0.5, device=device)
        assert isinstance(opted, EMAMixin) and opted.ema_start == 0
        opted.close()


def test_matching_discriminator_must_use_the_level_views(device):
    c = tiny_cascade()
    g2, d2 = c[2].generator, c[2].discriminator  # matching D: f_t 2, f_s 2, bilinear
    for bad in (ViewFactors(2, 2, "nearest"), ViewFactors(2, 2, "avg")):
        with pytest.raises(ValueError, match="matching discriminator"):
            Cascade([c[1], Level(g2, d2, factors=bad, window=2)])
    dn = DiscriminatorConfig("cascade_level", ch=2, multipliers=(1, 2), num_classes=NC, k=2, factor_t=2, factor_s=2,
                             mode="nearest").build().to(device)
    nearest = Cascade([c[1], Level(g2, dn, factors=ViewFactors(2, 2, "nearest"), window=2)])
    nearest[1].freeze()
    trainer = nearest.make_trainer(2, Clips(), cfg(), device=device)
    clip = torch.rand(2, 3, 4, 16, 16, device=device) * 2 - 1
    high, low = trainer.real_pair(clip)
    # a real pair matches the matching discriminator's own downsample exactly
    assert torch.equal(dn["matching"].pair(high, low)[:, 3:], low)
    trainer.close()


def test_training_and_generate_use_the_same_lower_sampler(device):
    import copy

    c = tiny_cascade()
    c.train_level(1, Clips(), cfg(max_steps=3), passes=3, stats_batch=2, device=device)
    seen = {}
    sample_lower = c.sample_lower

    def spy(l, n, labels, gen):  # the level-1 sampler as level 2's trainer uses it
        seen.setdefault("state", copy.deepcopy(c[1].sampler.state_dict()))
        return sample_lower(l, n, labels, gen)

    c.sample_lower = spy
    c.train_level(2, Clips(), cfg(max_steps=1), passes=3, stats_batch=2, device=device)
    in_training = copy.deepcopy(c[1].sampler)
    in_training.load_state_dict(seen["state"])
    outs = c.generate(3, seed=5, passes=3, stats_batch=2, return_levels=True)
    gen = torch.Generator(device=device).manual_seed(5)  # generate's noise for level 1
    y = c._labels(3, None, gen)
    z = torch.randn(3, int(c[1].generator.z_dim), generator=gen, device=device)
    with torch.no_grad():
        assert torch.equal(in_training(z, y), outs[0])


# ---------------------------------------------------------------------- sampling

@pytest.fixture(scope="module")
def trained(tmp_path_factory, device):
    """A two-level cascade trained for one step per level on the test device, and where it was saved."""
    root = tmp_path_factory.mktemp("cascade")
    c = tiny_cascade()
    c.train_level(1, Clips(), cfg(max_steps=1), passes=1, stats_batch=2, ema_start=1, device=device)
    c.train_level(2, Clips(), cfg(max_steps=1), passes=1, stats_batch=2, ema_start=1, device=device)
    c.save(root)
    return c, root


@pytest.mark.parametrize("frames,chunk", [(16, 2), (16, 3), (24, 4), (12, 5), (8, 1)])
def test_stream_equals_one_shot(trained, frames, chunk, device):
    c, _ = trained
    kw = dict(frames=frames, seed=3, passes=2, stats_batch=2)
    ref = c.generate(2, classes=[0, 2], **kw)
    assert ref.shape == (2, 3, frames, 16, 16)
    chunks = []
    n = c.generate_stream(2, classes=[0, 2], chunk=chunk, on_chunk=chunks.append, **kw)
    assert n == frames and all(x.shape[2] <= chunk * 2 for x in chunks)
    close(torch.cat(chunks, 2), ref, device, atol=1e-5, rtol=1e-5)


def test_generate_returns_levels_and_validates(trained, device):
    c, _ = trained
    low, high = c.generate(2, frames=12, passes=1, stats_batch=2, return_levels=True)
    assert low.shape == (2, 3, 6, 8, 8) and high.shape == (2, 3, 12, 16, 16)
    assert low.device == high.device == device
    assert high.abs().max() <= 1
    with pytest.raises(ValueError, match="multiple of 2"):
        c.generate(2, frames=7)
    with pytest.raises(ValueError):
        c.generate(2, classes=[0])


def test_generate_stops_after_the_requested_levels(trained, device):
    c, _ = trained
    kw = dict(frames=12, seed=5, passes=1, stats_batch=2)
    low, _ = c.generate(2, return_levels=True, **kw)
    only_first = c.generate(2, levels=1, **kw)  # same noise and labels as the full pass
    close(only_first, low, device, atol=1e-6, rtol=1e-6)
    assert len(c.generate(2, levels=2, return_levels=True, **kw)) == 2
    with pytest.raises(ValueError, match="at most 2"):
        c.generate(2, levels=3)
    with pytest.raises(ValueError, match="levels"):
        c.generate(2, levels=0)


def test_stream_writes_mp4(trained, tmp_path):
    c, _ = trained
    path = tmp_path / "long.mp4"
    n = c.generate_stream(1, frames=20, path=path, chunk=3, passes=1, stats_batch=2)
    video = read_video(path)
    assert n == 20 and video.shape == (3, 20, 16, 16)


def test_reload_from_directory_samples_the_same(trained, device):
    c, root = trained
    assert (root / "cascade.json").exists() and (root / "level2" / "sampler.safetensors").exists()
    loaded = Cascade.load(root, device=device)
    kw = dict(frames=8, seed=1, passes=1, stats_batch=2)
    close(loaded.generate(2, **kw), c.generate(2, **kw), device)
    assert loaded[2].window == 2 and loaded[2].factors == ViewFactors(2, 2)


def test_stream_writer_validates(tmp_path):
    with pytest.raises(ValueError):
        VideoStreamWriter(tmp_path / "x.gif")
    with VideoStreamWriter(tmp_path / "x.mp4") as w:
        w.write(torch.zeros(1, 3, 2, 8, 8))
        with pytest.raises(ValueError):
            w.write(torch.zeros(1, 3, 2, 10, 10))
        with pytest.raises(ValueError):
            w.write(torch.zeros(1, 3, 8, 8))
    assert read_video(tmp_path / "x.mp4").shape == (3, 2, 8, 8)


def test_freeze_copies_with_local_statistics():
    from vidgan_blocks.layers.norm import FrameBatchNorm

    level = tiny_cascade()[2]
    norms = [m for m in level.generator.modules() if isinstance(m, FrameBatchNorm)]
    for m in norms:
        m.cross_replica = True  # as set by a multi-rank trainer
    assert not level.frozen and level.sampler is level.generator
    frozen = level.freeze()
    assert level.frozen and level.sampler is frozen and not frozen.training
    assert all(m.cross_replica for m in norms)
    assert not any(m.cross_replica for m in frozen.modules() if isinstance(m, FrameBatchNorm))
    assert not any(p.requires_grad for p in frozen.parameters())
    level.unfreeze()
    assert not level.frozen and level.sampler is level.generator
