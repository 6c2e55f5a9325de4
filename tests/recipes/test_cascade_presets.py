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
CASES = [(r, p) for r in sorted(FILTER) for p in ("paper", "tiny")]


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
