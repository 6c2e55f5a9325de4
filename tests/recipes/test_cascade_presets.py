"""Cascade presets follow their papers: f_s filter of the views and weight averaging.

SSW-GAN section 3.1 makes its views with nearest-neighbour downsampling and its
matching discriminator (B.2) downsamples the same way; CVG section 3 uses bilinear
f_s. Either way a real pair must equal the matching discriminator's own
downsample. HVG and SSW-GAN appendix A: no weight moving average, no orthogonal
penalty.
"""

from __future__ import annotations

import pytest
import torch

from vidgan_blocks.discriminators.single import MatchingDiscriminator

from .conftest import recipe_module

FILTER = {"ssw_gan_kinetics": "nearest", "ssw_gan_bdd100k": "nearest", "cvg_kinetics": "bilinear",
          "cvg_ucf101": "bilinear", "cvg_bdd100k": "bilinear"}
CASES = [(r, p) for r in sorted(FILTER) for p in ("paper", "tiny")] + [("cvg_kinetics", "hvg"),
                                                                       ("cvg_kinetics", "hvg_tiny")]


@pytest.mark.parametrize(("recipe", "preset"), CASES)
def test_real_pair_equals_matching_downsample(recipe: str, preset: str) -> None:
    P = recipe_module(recipe).PRESETS[preset]
    checked = 0
    for spec in P.levels[1:]:
        views = spec.view_factors()
        assert (views.temporal, views.spatial, views.mode) == (*spec.factors, FILTER[recipe])
        if spec.d.decomposition != "cascade_level":
            continue
        d = spec.d
        assert (d.factor_t, d.factor_s, d.mode) == (views.temporal, views.spatial, views.mode)
        matching = MatchingDiscriminator(d.factor_t, d.factor_s, d.mode, ch=1, multipliers=(1, 1), sn=False)
        size = spec.g.low_size * spec.factors[1]
        clip = torch.rand(2, 3, 2 * spec.factors[0], size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
        low = views.apply(clip)  # the real lower-level window made by the cascade's views
        assert torch.equal(matching.pair(clip, low)[:, 3:], low)
        checked += 1
    assert checked == len(P.levels) - 1


@pytest.mark.parametrize(("recipe", "preset"), CASES)
def test_no_weight_average_and_no_orthogonal_penalty(recipe: str, preset: str) -> None:
    P = recipe_module(recipe).PRESETS[preset]
    assert P.ema_start is None
    assert not hasattr(P, "ortho_reg") or P.ortho_reg == 0


# HVG section 5.2 (Kinetics-600): level 1 24/32x32 at temporal subsampling 8, level 2 upsamples 6/32x32
# windows to 12/128x128 at subsampling 4; unrolled over the 24 first-level frames: 48/128x128.
@pytest.mark.parametrize("preset", ["hvg", "hvg_tiny"])
def test_hvg_kinetics_preset_subsamples_level_one_by_eight(preset: str) -> None:
    mod = recipe_module("cvg_kinetics")
    P, base = mod.PRESETS[preset], mod.PRESETS["paper" if preset == "hvg" else "tiny"]
    top, low = P.levels[1], P.levels[0]
    assert P.stride * top.factors[0] == 8 and P.stride == 4  # level 1 subsampling 8, level 2 subsampling 4
    assert P.frames // top.factors[0] == low.g.frames  # level 1's view is the length level 1 generates
    assert top.window * top.factors[0] * 2 <= P.frames  # training windows are shorter than the unrolled output
    assert P.levels == base.levels and P.long_frames == base.long_frames  # only the clips' stride differs
    if preset == "hvg":
        assert (P.frames, P.resolution, low.g.frames, top.window, top.g.low_size) == (48, 128, 24, 6, 32)
        assert (top.window * top.factors[0], top.g.low_size * top.factors[1]) == (12, 128)


def test_hvg_kinetics_preset_builds_at_paper_width(monkeypatch: pytest.MonkeyPatch) -> None:
    from torch.nn.utils import parametrizations

    from vidgan_blocks.generators import build_generator

    monkeypatch.setattr(parametrizations._SpectralNorm, "_power_method", lambda self, w, n: None)
    P = recipe_module("cvg_kinetics").PRESETS["hvg"]
    with torch.device("meta"):
        g1, g2 = (build_generator(spec.g) for spec in P.levels)
        d2 = P.levels[1].d.build()
        low = g1(torch.zeros(2, g1.z_dim, device="meta"))
        out = g2(torch.zeros(2, g2.z_dim, device="meta"), low_res=low[:, :, : P.levels[1].window])
    assert low.shape == (2, 3, 24, 32, 32) and out.shape == (2, 3, 12, 128, 128)
    assert g1.config.ch == g2.config.ch == 128 and "matching" in d2.names()


def test_hvg_preset_is_selectable_from_the_command_line() -> None:
    from _common import base_parser

    mod = recipe_module("cvg_kinetics")
    assert base_parser("x", mod.PRESETS).parse_args(["--preset", "hvg_tiny"]).preset == "hvg_tiny"


@pytest.mark.parametrize("recipe", sorted(FILTER))
def test_tiny_unrolled_video_is_longer_than_the_top_level_samples(recipe: str) -> None:
    # grids/unrolled_long.mp4 would repeat grids/levelL.mp4 if it had the samples' length
    P = recipe_module(recipe).PRESETS["tiny"]
    sample_frames = P.levels[0].g.frames
    for spec in P.levels[1:]:
        sample_frames *= spec.factors[0]
    assert sample_frames == P.frames and P.long_frames > sample_frames
    if recipe == "cvg_kinetics":  # the main job: 4x its level-2 samples (README)
        assert P.long_frames == 4 * sample_frames
