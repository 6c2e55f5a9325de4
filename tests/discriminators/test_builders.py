"""Named decompositions: shapes, gradients, conditioning, configs, paper widths on the meta device."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tests.helpers import close, missing_grads
from vidgan_blocks.discriminators import (
    DECOMPOSITIONS,
    PAPER_CONFIGS,
    CroppedDiscriminator,
    DiscriminatorConfig,
    MatchingDiscriminator,
    MultiDiscriminator,
    SpatialDiscriminator,
    TemporalDiscriminator,
    cascade_level,
    mocogan_like,
    paper_config,
    paper_discriminator,
    trivd_stronger,
)
from vidgan_blocks.losses import d_hinge_loss, g_hinge_loss

B, T, HW, K = 2, 4, 8, 2
TINY = dict(ch=4, multipliers=(1, 2))

# name -> (members and their kinds, spatial downsample, temporal downsample)
EXPECTED = {
    "dvd_gan": {"spatial": (SpatialDiscriminator, 1), "temporal": (TemporalDiscriminator, 2)},
    "dvd_gan_fp": {"spatial": (SpatialDiscriminator, 1), "temporal": (TemporalDiscriminator, 2)},
    "trivd_faster": {"spatial": (SpatialDiscriminator, 2), "cropped": (CroppedDiscriminator, 2)},
    "trivd_stronger": {
        "spatial": (SpatialDiscriminator, 2),
        "cropped": (CroppedDiscriminator, 2),
        "temporal": (TemporalDiscriminator, 2),
    },
    "mocogan_like": {"spatial": (SpatialDiscriminator, 1), "temporal": (TemporalDiscriminator, 1)},
    "clip": {"temporal": (TemporalDiscriminator, 1)},
    "downsampled": {"temporal": (TemporalDiscriminator, 2)},
    "cropped": {"cropped": (CroppedDiscriminator, 2)},
    "cropped_downsampled": {"cropped": (CroppedDiscriminator, 2), "temporal": (TemporalDiscriminator, 2)},
    "cascade_level": {
        "spatial": (SpatialDiscriminator, 1),
        "temporal": (TemporalDiscriminator, 2),
        "matching": (MatchingDiscriminator, 1),
    },
}


def build(name: str, device: torch.device | None = None, **kw) -> MultiDiscriminator:
    cfg = DiscriminatorConfig(name, k=K, factor_t=2, factor_s=2, **{**TINY, **kw})
    d = cfg.build(generator=torch.Generator().manual_seed(0))
    return d if device is None else d.to(device)


def call(d: MultiDiscriminator, video: torch.Tensor, y=None, cond=None):
    ctx = {"low_res": torch.randn(B, 3, T // 2, HW // 2, HW // 2, device=video.device)}
    if cond is not None:
        ctx["cond_frames"] = cond
    return d(video, y, **ctx)


def test_every_decomposition_is_tested():
    assert set(EXPECTED) == set(DECOMPOSITIONS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_members_and_their_views(name):
    d = build(name)
    assert d.names() == list(EXPECTED[name])
    for member, (cls, s) in EXPECTED[name].items():
        sub = d[member]
        assert type(sub) is cls
        if cls is SpatialDiscriminator:
            assert sub.downsample == s and sub.k == K
        elif cls is TemporalDiscriminator:
            assert sub.downsample == s and sub.trunk.blocks_3d == 2
        elif cls is CroppedDiscriminator:
            assert sub.factor == s and sub.trunk.blocks_3d == 2
        else:
            assert sub.trunk.in_channels == 6


def _steps(name: str, member: str) -> int:
    cls = EXPECTED[name][member][0]
    return K if cls is SpatialDiscriminator else (T // 2 if cls is MatchingDiscriminator else T)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("mixed", [False, True])
def test_output_shapes(name, mixed, device):
    d = build(name, device, mixed_projection=mixed)
    with torch.no_grad():
        out = call(d, torch.randn(B, 3, T, HW, HW, device=device))
    assert set(out) == set(EXPECTED[name])
    for member, o in out.items():
        assert o.shape == ((B, B, _steps(name, member)) if mixed else (B,)), member
        assert torch.isfinite(o).all()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_parameter_gets_a_gradient(name, device):
    mixed = name in ("trivd_faster", "trivd_stronger", "mocogan_like", "cropped")
    d = build(name, device, mixed_projection=mixed)
    real = torch.randn(B, 3, T, HW, HW, device=device)
    fake = torch.randn(B, 3, T, HW, HW, device=device, requires_grad=True)
    out_real, out_fake = call(d, real), call(d, fake)
    # The hinge terms alone can cancel exactly (e.g. the head bias gets -1/N from every real
    # and +1/N from every fake output inside the margins), so add a squared term as a probe.
    loss = d_hinge_loss(out_real, out_fake) + sum(o.square().mean() for o in out_fake.values())
    loss.backward()
    assert missing_grads(d) == []
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert torch.isfinite(g_hinge_loss(out_fake))


@pytest.mark.parametrize("name", ["dvd_gan", "trivd_stronger", "cascade_level"])
def test_class_conditional(name, device):
    d = build(name, device, num_classes=5)
    y = torch.tensor([4, 1], device=device)
    out = call(d, torch.randn(B, 3, T, HW, HW, device=device), y)
    assert all(v.shape == (B,) for v in out.values())
    (g_hinge_loss(out) + sum(o.square().mean() for o in out.values())).backward()
    assert missing_grads(d) == []
    with pytest.raises(ValueError, match="labels"):
        call(d, torch.randn(B, 3, T, HW, HW, device=device))


@pytest.mark.parametrize("name", ["dvd_gan_fp", "trivd_stronger"])
def test_frame_conditioning_prepends_for_every_member(name, device):
    d = build(name, device, frame_conditioning=True, reduce="none").eval()
    assert d.frame_conditioning
    cond, future = torch.randn(B, 3, 2, HW, HW, device=device), torch.randn(B, 3, T - 2, HW, HW, device=device)
    whole = torch.cat([cond, future], dim=2)
    for gen_state_owner in [m for m in d.discriminators.values() if m.generator is not None][:1]:
        gen_state_owner.generator.manual_seed(7)
    out = d(future, cond_frames=cond)
    for m in d.discriminators.values():
        if m.generator is not None:
            m.generator.manual_seed(7)
    ref = d(whole)
    assert out.keys() == ref.keys()
    for key in out:
        close(out[key], ref[key], device)
        if key != "spatial":
            assert out[key].shape[-1] == T  # the conditioning frames are scored too


def test_random_draws_are_reproducible_with_a_seeded_generator(device):
    video = torch.randn(B, 3, T, HW, HW, device=device)
    for name in ["spatial", "cropped"]:
        g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
        a = trivd_stronger(generator=g1, k=K, **TINY).to(device)[name]
        b = trivd_stronger(generator=g2, k=K, **TINY).to(device)[name]
        close(a.view(video), b.view(video), device)
        views = [a.view(video) for _ in range(6)]
        assert any(not torch.equal(views[0], v) for v in views[1:])  # the generator advances


def test_multi_discriminator_contract():
    spatial = SpatialDiscriminator(2, **TINY)
    with pytest.raises(ValueError, match="non-empty"):
        MultiDiscriminator({})
    with pytest.raises(TypeError, match="nn.Module"):
        MultiDiscriminator({"a": lambda v: v})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="twice"):
        MultiDiscriminator({"a": TemporalDiscriminator(2, frame_conditioning=True, **TINY)}, frame_conditioning=True)
    d = MultiDiscriminator({"s": spatial})
    assert list(d) == ["s"] and len(d) == 1 and d["s"] is spatial
    with pytest.raises(ValueError, match="C=3"):
        d(torch.randn(B, 1, T, HW, HW))
    out = d(torch.randn(B, 3, T, HW, HW), unknown_context=torch.zeros(1))
    assert out["s"].shape == (B,)


def test_cascade_level_needs_low_res_and_checks_it():
    d = cascade_level(2, 2, "nearest", k=K, **TINY)
    video = torch.randn(B, 3, T, HW, HW)
    with pytest.raises(ValueError, match="low_res"):
        d(video)
    with pytest.raises(ValueError, match="pairs with"):
        d(video, low_res=torch.randn(B, 3, T, HW // 2, HW // 2))


def test_mocogan_like_k():
    assert mocogan_like(1, **TINY)["spatial"].k == 1
    assert mocogan_like(8, **TINY)["spatial"].k == 8


# --------------------------------------------------------------------------- configs


@pytest.mark.parametrize("name", sorted(PAPER_CONFIGS))
def test_paper_configs_round_trip_through_json(name):
    cfg = paper_config(name)
    text = json.dumps(cfg.to_dict())
    back = DiscriminatorConfig.from_dict(json.loads(text))
    assert back == cfg
    assert back.notes == cfg.notes
    assert DiscriminatorConfig.from_json(cfg.to_json()) == cfg
    assert isinstance(back.multipliers, tuple)


def test_config_errors_and_overrides():
    with pytest.raises(ValueError, match="decomposition"):
        DiscriminatorConfig("nope")
    with pytest.raises(ValueError, match="unknown keys"):
        DiscriminatorConfig.from_dict({"decomposition": "clip", "depth": 3})
    with pytest.raises(ValueError, match="name"):
        paper_config("biggan")
    cfg = paper_config("dvd_gan_128", num_classes=600)
    assert cfg.num_classes == 600 and cfg.multipliers == (1, 2, 4, 8, 16, 16) and cfg.ch == 128
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.ch = 3  # type: ignore[misc]


PAPER_WIDTHS = {
    # name: (ch, multipliers)
    "dvd_gan_64": (128, (2, 4, 8, 16, 16)),
    "dvd_gan_128": (128, (1, 2, 4, 8, 16, 16)),
    "dvd_gan_fp": (128, (2, 4, 8, 16, 16)),
    "trivd_gan_fp": (48, (2, 4, 8, 16, 16)),
    "trivd_gan_fp_large": (120, (2, 4, 8, 16, 16)),
    "ssw_gan_stage1": (128, (2, 4, 8, 16, 16)),
    "ssw_gan_stage2_kinetics": (96, (1, 2, 4, 8, 16, 16)),
    "ssw_gan_stage2_bdd": (64, (1, 2, 4, 8, 8, 16)),
    "hvg_kinetics_level2": (96, (1, 2, 4, 8, 16, 16)),
    "hvg_bdd128": (96, (1, 2, 4, 8, 16, 16)),
    "hvg_bdd256": (96, (1, 2, 4, 8, 8, 16, 16)),
}

# name: (video T, H, W, low-res (t, h, w) or None, expected members)
PAPER_INPUTS = {
    "dvd_gan_64": ((12, 64, 64), None),
    "dvd_gan_128": ((48, 128, 128), None),
    "dvd_gan_fp": ((11, 64, 64), None),
    "trivd_gan_fp": ((11, 64, 64), None),
    "trivd_gan_fp_large": ((11, 64, 64), None),
    "ssw_gan_stage1": ((25, 32, 32), None),
    "ssw_gan_stage2_kinetics": ((12, 128, 128), (6, 32, 32)),
    "ssw_gan_stage2_bdd": ((12, 128, 128), (6, 64, 64)),
    "hvg_kinetics_level2": ((12, 128, 128), (6, 32, 32)),
    "hvg_bdd128": ((12, 128, 128), (6, 64, 64)),
    "hvg_bdd256": ((12, 256, 256), (6, 128, 128)),
}


def test_paper_tables_cover_every_config():
    assert set(PAPER_WIDTHS) == set(PAPER_CONFIGS) == set(PAPER_INPUTS)


@pytest.mark.parametrize("name", sorted(PAPER_CONFIGS))
def test_paper_width_on_meta_device(name):
    """Full-size discriminators build and give the right shapes without allocating memory.

    Spectral norm is switched off here only because its power-iteration warm-up is slow on
    the meta device; it does not change any parameter shape (one model below keeps it).
    """
    ch, mults = PAPER_WIDTHS[name]
    cfg = paper_config(name)
    assert (cfg.ch, cfg.multipliers) == (ch, mults)
    (t, h, w), low = PAPER_INPUTS[name]
    with torch.device("meta"):
        d = paper_discriminator(name, sn=False)
        video = torch.empty(2, 3, t, h, w)
        ctx = {} if low is None else {"low_res": torch.empty(2, 3, *low)}
        if cfg.frame_conditioning:
            ctx["cond_frames"] = torch.empty(2, 3, 5, h, w)
        out = d(video, **ctx)
    assert all(p.is_meta for p in d.parameters())
    widths = [b.out_channels for b in next(iter(d.discriminators.values())).trunk.blocks]
    assert widths == [ch * m for m in mults]
    t_seen = t + (5 if cfg.frame_conditioning else 0)
    for member, o in out.items():
        assert o.is_meta
        if cfg.mixed_projection:
            steps = cfg.k if member == "spatial" else t_seen
            assert o.shape == (2, 2, steps)
        else:
            assert o.shape == (2,)


def test_paper_width_with_spectral_norm_on_meta_device():
    with torch.device("meta"):
        d = SpatialDiscriminator(8, ch=128, multipliers=(2, 4, 8, 16, 16))
        out = d(torch.empty(2, 3, 25, 32, 32))
    assert out.shape == (2,) and out.is_meta
    assert all(p.is_meta for p in d.parameters())
    n = sum(p.numel() for p in d.parameters())
    assert n > 100_000_000  # DVD-GAN-sized: widths up to 2048 channels
