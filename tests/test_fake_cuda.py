"""Every block runs on a CUDA device without a CPU tensor in its way, and without host reads.

These tests need no GPU: :mod:`tests.fake_cuda` gives tensors the device ``cuda``
under torch's ``FakeTensorMode``, which checks devices op by op exactly like a real
GPU does. A factory call inside library code that forgets ``device=`` makes a CPU
tensor, and the first op that combines it with a CUDA tensor raises
``FakeTensorDeviceMismatchError`` here, as ``RuntimeError: Expected all tensors to
be on the same device`` would on a GPU.

The same runs count host reads of CUDA values (``.item()``, ``int(t)``, ``bool(t)``,
``.tolist()``, copies to the CPU). Each is a synchronisation that empties the GPU's
queue; forward and backward passes of the blocks make none, and a training
iteration makes a fixed, small number (the non-finite guard), checked below.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from unittest import mock

import pytest
import torch
from torch import nn

import vidgan_blocks as vb
from tests.cascade.test_cascade import Clips, tiny_cascade
from tests.cascade.test_cascade import cfg as cascade_cfg
from tests.fake_cuda import CUDA, cuda_tensors, fake_cuda, to_cuda
from vidgan_blocks.cascade import Cascade
from vidgan_blocks.discriminators import DECOMPOSITIONS, DiscriminatorConfig
from vidgan_blocks.generators import (
    CascadeFirstLevelConfig,
    DVDGeneratorConfig,
    FramePredictionConfig,
    UpsamplingGeneratorConfig,
    build_generator,
)
from vidgan_blocks.ops import gather_windows, random_crop, random_window_starts, sample_frames

B, T, S = 2, 4, 8


def video(c: int = 3, t: int = T, s: int = S, b: int = B) -> torch.Tensor:
    return torch.rand(b, c, t, s, s, device="cuda") * 2 - 1


def labels(n: int = B, classes: int = 3) -> torch.Tensor:
    return torch.randint(classes, (n,), device="cuda")


def noise(dim: int, n: int = B) -> torch.Tensor:
    return torch.randn(n, dim, device="cuda")


def disc(name: str, **kw) -> Callable[[], nn.Module]:
    cfg = dict(ch=2, multipliers=(1, 2), k=2, factor_t=2, factor_s=2, num_classes=3)
    return lambda: DiscriminatorConfig(name, **{**cfg, **kw}).build()


UNIT = dict(in_channels=3, hidden_channels=4)
SINGLE_D = dict(ch=2, multipliers=(1, 2), num_classes=3)

# name -> (constructor, inputs (args, kwargs) made on the fake device). One entry per
# public nn.Module of vidgan_blocks (a test below keeps the list complete).
MODULES: dict[str, tuple[Callable[[], nn.Module], Callable[[], tuple[tuple, dict]]]] = {
    # ops
    "SpatialDownsample": (lambda: vb.SpatialDownsample(2), lambda: ((video(),), {})),
    "TemporalSubsample": (lambda: vb.TemporalSubsample(2), lambda: ((video(),), {})),
    "TemporalRepeat": (lambda: vb.TemporalRepeat(2), lambda: ((video(),), {})),
    "SampleFrames": (lambda: vb.SampleFrames(2), lambda: ((video(),), {})),
    "RandomCrop": (lambda: vb.RandomCrop(4), lambda: ((video(),), {})),
    "KernelWarp": (vb.KernelWarp, lambda: ((video(4), torch.randn(B, 9, T, S, S, device="cuda")), {})),
    "FactorizedKernels": (vb.FactorizedKernels, lambda: ((torch.randn(B, 9, 3, device="cuda"), video()), {})),
    # layers
    "SNConv1d": (lambda: vb.SNConv1d(3, 4, 3, padding=1), lambda: ((torch.randn(B, 3, S, device="cuda"),), {})),
    "SNConv2d": (lambda: vb.SNConv2d(3, 4, 3, padding=1), lambda: ((torch.randn(B, 3, S, S, device="cuda"),), {})),
    "SNConv3d": (lambda: vb.SNConv3d(3, 4, 3, padding=1), lambda: ((video(),), {})),
    "SNLinear": (lambda: vb.SNLinear(3, 4), lambda: ((torch.randn(B, 3, device="cuda"),), {})),
    "SNEmbedding": (lambda: vb.SNEmbedding(3, 4), lambda: ((labels(),), {})),
    "FrameBatchNorm": (lambda: vb.FrameBatchNorm(3), lambda: ((video(),), {})),
    "ConditionalBatchNorm": (lambda: vb.ConditionalBatchNorm(3, 5), lambda: ((video(), noise(5)), {})),
    "SeparableConv3d": (lambda: vb.SeparableConv3d(3, 4), lambda: ((video(),), {})),
    "SelfAttention": (lambda: vb.SelfAttention(8), lambda: ((video(8),), {})),
    "SeparableSelfAttention": (lambda: vb.SeparableSelfAttention(8), lambda: ((video(8),), {})),
    "AxialSelfAttention": (lambda: vb.AxialSelfAttention(8, "t"), lambda: ((video(8),), {})),
    "ProjectionHead": (lambda: vb.ProjectionHead(6, 3), lambda: ((torch.randn(B, 6, device="cuda"), labels()), {})),
    "MixedProjectionHead": (
        lambda: vb.MixedProjectionHead(6, 3),
        lambda: ((torch.randn(B, 6, T, device="cuda"), labels()), {}),
    ),
    "ScoreHead": (lambda: vb.ScoreHead(6, 3), lambda: ((torch.randn(B, 6, T, device="cuda"), labels()), {})),
    # blocks
    "GBlock": (lambda: vb.GBlock(3, 4, 5), lambda: ((video(), noise(5)), {})),
    "GBlock3d": (lambda: vb.GBlock3d(3, 4, 5, upsample=True), lambda: ((video(), noise(5)), {})),
    "DBlock": (lambda: vb.DBlock(3, 4), lambda: ((video(),), {})),
    "DBlock3d": (lambda: vb.DBlock3d(3, 4), lambda: ((video(),), {})),
    "LowResSkip": (lambda: vb.LowResSkip(3, 4), lambda: ((video(), (2 * T, S // 2, S // 2)), {})),
    # recurrent units
    "ConvGRU": (lambda: vb.ConvGRU(**UNIT), lambda: ((video(),), {})),
    "MultiplicativeConvGRU": (lambda: vb.MultiplicativeConvGRU(**UNIT), lambda: ((video(),), {})),
    "ConvLSTM": (lambda: vb.ConvLSTM(**UNIT), lambda: ((video(),), {})),
    "KTrajGRU": (lambda: vb.KTrajGRU(**UNIT), lambda: ((video(),), {})),
    "TSRU": (lambda: vb.TSRU(**UNIT, variant="c"), lambda: ((video(),), {})),
    "TSRUp": (lambda: vb.TSRU(**UNIT, variant="p"), lambda: ((video(),), {})),
    "TSRUs": (lambda: vb.TSRU(**UNIT, variant="s"), lambda: ((video(),), {})),
    "PTSRU": (lambda: vb.PTSRU(**UNIT), lambda: ((video(),), {})),
    "RecurrentUnit": (lambda: vb.ConvGRU(**UNIT), lambda: ((video(), torch.randn(B, 4, S, S, device="cuda")), {})),
    "FactorizedKernelNet": (lambda: vb.FactorizedKernelNet(6), lambda: ((torch.randn(B, 6, S, S, device="cuda"),), {})),
    "PixelwiseKernelNet": (lambda: vb.PixelwiseKernelNet(6), lambda: ((torch.randn(B, 6, S, S, device="cuda"),), {})),
    # generator parts
    "Conditioning": (lambda: vb.Conditioning(5, 3, 4), lambda: ((noise(5), labels()), {})),
    "NoiseStem": (lambda: vb.NoiseStem(5, 4, 4), lambda: ((noise(5), T), {})),
    "OutputHead": (lambda: vb.OutputHead(4), lambda: ((video(4),), {})),
    "GeneratorUnit": (
        lambda: vb.GeneratorUnit(4, 4, 5, recurrent=vb.ConvGRU(4, 4), num_blocks=1),
        lambda: ((video(4), noise(5)), {}),
    ),
    "UpsamplingUnit": (
        lambda: vb.UpsamplingUnit(4, 4, 5, size=4, low_size=4, num_blocks=1),
        lambda: ((video(4, s=4), video(s=4), noise(5)), {}),
    ),
    "FrameEncoder": (lambda: vb.FrameEncoder(2, (1, 2, 4)), lambda: ((video(s=16),), {})),
    "ConditioningSkip": (lambda: vb.ConditioningSkip(3, 4), lambda: ((video(), torch.randn(B, 4, S, S, device="cuda")), {})),
    # generators
    "DVDGenerator": (
        lambda: build_generator(DVDGeneratorConfig(ch=8, multipliers=(1, 1, 1), z_dim=6, class_dim=4, num_classes=3,
                                                   frames=T, recurrent="conv_gru")),
        lambda: ((noise(6), labels()), {}),
    ),
    "CascadeFirstLevelGenerator": (
        lambda: build_generator(CascadeFirstLevelConfig(ch=2, multipliers=(2, 2, 1), z_dim=6, class_dim=4,
                                                        num_classes=3, frames=T, base_size=4)),
        lambda: ((noise(6), labels()), {}),
    ),
    "FramePredictionGenerator": (
        lambda: build_generator(FramePredictionConfig(ch=8, multipliers=(2, 1, 1), z_dim=6, cond_frames=2,
                                                      encoder_ch=1, encoder_multipliers=(2, 4, 4), frames=3,
                                                      recurrent="tsru_p")),
        lambda: ((noise(6),), {"cond_frames": video(t=2, s=16)}),
    ),
    "UpsamplingGenerator": (
        lambda: build_generator(UpsamplingGeneratorConfig(ch=2, multipliers=(2, 2, 1), low_size=4, factor_s=2,
                                                          factor_t=2, frames_in=2, z_dim=6, class_dim=4,
                                                          num_classes=3)),
        lambda: ((noise(6), labels()), {"low_res": video(t=2, s=4)}),
    ),
    "UpsamplingGeneratorConvGRU": (
        lambda: build_generator(UpsamplingGeneratorConfig(ch=2, multipliers=(2, 2, 1), low_size=4, factor_s=2,
                                                          factor_t=2, frames_in=2, z_dim=6, class_dim=4,
                                                          num_classes=3, recurrent="conv_gru")),
        lambda: ((noise(6), labels()), {"low_res": video(t=2, s=4)}),
    ),
    # discriminators
    "DiscriminatorTrunk": (lambda: vb.DiscriminatorTrunk(3, 2, (1, 2), blocks_3d=1), lambda: ((video(),), {})),
    "SpatialDiscriminator": (lambda: vb.SpatialDiscriminator(2, **SINGLE_D), lambda: ((video(), labels()), {})),
    "TemporalDiscriminator": (lambda: vb.TemporalDiscriminator(2, **SINGLE_D), lambda: ((video(), labels()), {})),
    "CroppedDiscriminator": (lambda: vb.CroppedDiscriminator(4, **SINGLE_D), lambda: ((video(), labels()), {})),
    "MatchingDiscriminator": (
        lambda: vb.MatchingDiscriminator(2, 2, **SINGLE_D),
        lambda: ((video(), labels()), {"low_res": video(t=T // 2, s=S // 2)}),
    ),
    "VideoDiscriminator": (
        lambda: vb.TemporalDiscriminator(2, **SINGLE_D, mixed_projection=True),
        lambda: ((video(), labels()), {}),
    ),
    "MultiDiscriminator": (disc("dvd_gan"), lambda: ((video(), labels()), {})),
    "I3D": (lambda: vb.I3D(num_classes=5, width=0.125).eval(), lambda: ((video(t=8, s=32),), {})),
    # training
    "VideoAugment": (
        lambda: vb.VideoAugment("color,translation,cutout"),
        lambda: (({"video": video(), "low_res": video(t=T // 2, s=S // 2), "label": labels()},), {}),
    ),
}


def _decomposition_inputs(name: str) -> Callable[[], tuple[tuple, dict]]:
    def inputs() -> tuple[tuple, dict]:
        ctx = {}
        if name == "cascade_level":
            ctx["low_res"] = video(t=T // 2, s=S // 2)
        if DECOMPOSITIONS[name][2] and name in ("dvd_gan_fp", "trivd_faster", "trivd_stronger"):
            ctx["cond_frames"] = video(t=2)
        return (video(), labels()), ctx

    return inputs


DECOMPOSITION_CASES = {f"decomposition:{n}": (disc(n), _decomposition_inputs(n)) for n in DECOMPOSITIONS}


def test_catalogue_covers_every_public_module():
    import inspect

    public = {n for n in vb.__all__ if inspect.isclass(getattr(vb, n)) and issubclass(getattr(vb, n), nn.Module)}
    assert public <= set(MODULES), f"add these to MODULES: {sorted(public - set(MODULES))}"


def _run(factory, make_inputs, *, calls: int = 1):
    module = factory()
    with fake_cuda() as syncs:
        to_cuda(module)
        for _ in range(calls):
            args, kwargs = make_inputs()
            out = module(*args, **kwargs)
            outs = cuda_tensors(out if not hasattr(out, "_asdict") else out._asdict())
            assert outs and all(t.device == CUDA for t in outs), [t.device for t in outs]
            module.eval()
    return syncs.syncs


@pytest.mark.parametrize("name", sorted({**MODULES, **DECOMPOSITION_CASES}))
def test_forward_stays_on_cuda_without_host_reads(name):
    factory, make_inputs = {**MODULES, **DECOMPOSITION_CASES}[name]
    syncs = _run(factory, make_inputs)
    assert syncs == [], "host reads: " + "; ".join(map(str, syncs))


@pytest.mark.parametrize("name", ["DVDGenerator", "UpsamplingGenerator", "FramePredictionGenerator", "I3D"])
def test_eval_mode_after_a_training_pass(name):
    """Eval mode reads the running per-frame statistics sized by the training pass: on the device too."""
    factory, make_inputs = MODULES[name]
    assert _run(lambda: factory().train(), make_inputs, calls=2) == []


# ------------------------------------------------------------------------ view, window and crop ops


def test_view_ops_on_cuda():
    with fake_cuda() as syncs:
        x = video(t=8)
        gen = torch.Generator(device="cuda").manual_seed(0)
        assert vb.spatial_downsample(x, 2).device == CUDA
        assert vb.spatial_downsample(x, 2, mode="nearest").device == CUDA
        assert vb.spatial_upsample(x, 2).device == CUDA
        assert vb.temporal_subsample(x, 2).device == CUDA
        assert vb.temporal_repeat(x, 2).device == CUDA
        for g in (None, gen):
            frames, idx = sample_frames(x, 3, generator=g, return_indices=True)
            crops, boxes = random_crop(x, 4, generator=g, return_boxes=True)
            assert frames.device == idx.device == crops.device == CUDA
            assert boxes.device == CUDA
        starts = random_window_starts(B, 8, 3, generator=gen)
        assert starts.device == CUDA
        assert gather_windows(x, starts, 3).device == CUDA
        assert gather_windows(x, [0, 5], 3).device == CUDA
    assert syncs.syncs == []


def test_gather_windows_with_cuda_starts():
    """Window starts drawn on the device (as the windowed trainers do) index a CUDA video."""
    with fake_cuda() as syncs:
        x, starts = video(t=8), torch.tensor([0, 5]).to("cuda", non_blocking=True)
        out = gather_windows(x, starts, 3)
    assert out.device == CUDA and out.shape == (B, 3, 3, S, S)
    assert syncs.syncs == []


def test_kernel_warp_backward_on_cuda():
    """The warp's hand-written backward (autograd itself cannot run on a fake device)."""
    from types import SimpleNamespace

    from vidgan_blocks.ops.warp import _KernelWarp

    with fake_cuda() as syncs:
        h, w = torch.randn(B * T, 4, S, S, device="cuda"), torch.randn(B * T, 9, S, S, device="cuda")
        ctx = SimpleNamespace(needs_input_grad=(True, True))
        ctx.save_for_backward = lambda *ts: setattr(ctx, "saved_tensors", ts)
        out = _KernelWarp.forward(ctx, h, w)
        grad_h, grad_w = _KernelWarp.backward(ctx, torch.ones_like(out))
        assert out.device == grad_h.device == grad_w.device == CUDA
        assert grad_h.shape == h.shape and grad_w.shape == w.shape
    assert syncs.syncs == []


def test_losses_and_regularisation_on_cuda():
    g = MODULES["DVDGenerator"][0]()
    with fake_cuda() as syncs:
        real, fake = torch.randn(B, device="cuda"), torch.randn(B, device="cuda")
        assert vb.d_hinge_loss({"a": real}, {"a": fake}).device == CUDA
        assert vb.g_hinge_loss({"a": fake}).device == CUDA
        assert vb.orthogonal_regularization(to_cuda(g), 1e-4).device == CUDA
    assert syncs.syncs == []


def test_sampling_helpers_on_cuda():
    g = MODULES["DVDGenerator"][0]()
    with fake_cuda() as syncs:
        z = vb.sample_noise(3, 6, device="cuda", seed=1)
        zt = vb.sample_noise(3, 6, device="cuda", seed=1, truncation=1.0, mode="scale")
        y = vb.sample_labels(3, 5, device="cuda", seed=1)
        assert z.device == zt.device == y.device == CUDA
        syncs.clear()
        # Noise and labels are drawn on the CPU (the same samples on every device) and copied once.
        v = vb.sample_videos(to_cuda(g), 4, seed=0, batch_size=2)
        assert v.device == CUDA and v.shape == (4, 3, T, 16, 16)
    assert {s.op for s in syncs.syncs} <= {"blocking copy to cuda"} and len(syncs.syncs) <= 2, syncs.syncs


# ------------------------------------------------------------------------ training and sampling


@contextlib.contextmanager
def no_backward():
    """Skip ``Tensor.backward``: torch's autograd engine needs a real GPU to run on CUDA tensors.

    Autograd derives every backward op from the forward op, on the forward op's device;
    the one hand-written backward of the library is checked directly above.
    """
    with mock.patch.object(torch.Tensor, "backward", lambda self, *a, **k: None):
        yield


def _tiny_cascade() -> Cascade:
    """Built on the CPU (as users build it), level 1 sized by one training pass and frozen."""
    cascade = tiny_cascade()
    g1 = cascade.levels[0].generator
    g1(torch.randn(2, g1.z_dim), torch.tensor([0, 1]))  # a training pass sizes level 1's statistics
    cascade.levels[0].freeze()  # level 1 "trained": its frozen sampler conditions level 2
    return cascade


def _to_cuda(cascade: Cascade) -> Cascade:
    for level in cascade.levels:
        for module in (level.generator, level.discriminator, level._sampler):
            if module is not None:
                to_cuda(module)
    return cascade


@pytest.mark.filterwarnings("ignore:.*pin_memory.*:UserWarning")
def test_windowed_level2_training_iteration_on_cuda():
    """Data to device, real and fake windows, frozen level-1 samples, D and G steps, EMA."""
    cascade = _tiny_cascade()
    with fake_cuda() as syncs, no_backward():
        _to_cuda(cascade)
        trainer = cascade.make_trainer(2, Clips(), cascade_cfg(max_steps=1), device="cuda", ema_start=0)
        try:
            real = trainer.prepare_real(trainer.next_batch())
            assert real["video"].device == real["low_res"].device == CUDA
            fake = trainer.make_fake(2, trainer.d_fake_context(real))
            assert fake["video"].device == fake["low_res"].device == fake["label"].device == CUDA
            syncs.clear()
            trainer.train_step()
            # One read per optimiser update (the non-finite guard): n_dis D steps and one G step.
            guard = [s for s in syncs.syncs if s.where.startswith("vidgan_blocks/training/trainer.py") and "_guard" in s.where]
            assert len(guard) == trainer.config.n_dis + 1
            assert [s for s in syncs.syncs if s not in guard] == [], syncs.syncs
            assert trainer.step == 1
            ema = trainer.eval_model()
            assert all(p.device == CUDA for p in ema.parameters())
        finally:
            trainer.close()


@contextlib.contextmanager
def _sampling_cascade_on_cuda():
    """Both levels trained and frozen, moved to the fake device; yields (cascade, recorder) with no reads yet."""
    cascade = _tiny_cascade()
    cascade.levels[1].freeze()
    with fake_cuda() as syncs:
        _to_cuda(cascade)
        syncs.clear()
        yield cascade, syncs
    # The requested class list is copied to the device once per call; nothing is read back.
    assert [s for s in syncs.syncs if s.op != "blocking copy to cuda"] == [], syncs.syncs


def test_cascade_sample_on_cuda():
    """Standing statistics at the new length, then both levels unrolled over 8 top frames."""
    with _sampling_cascade_on_cuda() as (cascade, _):
        out = cascade.generate(2, classes=[0, 2], frames=8, passes=1, stats_batch=2, return_levels=True)
        assert [o.device for o in out] == [CUDA, CUDA]
        assert out[-1].shape == (2, 3, 8, 16, 16)


def test_cascade_window_protocol_and_truncation_on_cuda():
    """Random low-resolution windows (drawn and gathered on the device) and truncated noise: no host reads."""
    with _sampling_cascade_on_cuda() as (cascade, _):
        out, low, starts = cascade.generate_windows(2, classes=[0, 2], passes=1, stats_batch=2, truncation=0.5,
                                                    truncation_mode="resample", return_windows=True)
        assert out.device == low.device == starts.device == CUDA
        assert out.shape == (2, 3, 4, 16, 16) and low.shape == (2, 3, 2, 8, 8)
    # A fresh cascade: a change of length between calls is another matter.
    with _sampling_cascade_on_cuda() as (cascade, _):
        out = cascade.generate(2, classes=[0, 2], frames=8, passes=1, stats_batch=2, truncation=0.5)
        assert out.device == CUDA


def test_logged_statistics_cross_to_the_host_once():
    """Reporting a CUDA loss never reads it; collecting many names is one copy, at log time."""
    from vidgan_blocks.training import StatsCollector

    with fake_cuda() as syncs:
        stats = StatsCollector()
        for name in ("loss/d", "loss/g", "loss/g_ortho"):
            stats.report(name, torch.randn(3, device="cuda"))
        assert syncs.syncs == []
        assert set(stats.collect()) == {"loss/d", "loss/g", "loss/g_ortho"}
    assert [s.op for s in syncs.syncs] == ["copy to cpu"], syncs.syncs
