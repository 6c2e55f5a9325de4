"""Recipes end to end at micro size, and the paper presets against the papers' numbers (docs/recipes.md)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
import torch

from .conftest import RECIPES, recipe_module

# recipe -> extra arguments of its micro run (a few steps of the tiny preset)
MICRO = {
    "dvd_gan_kinetics": ["--steps", "2"],
    "dvd_gan_ucf101": ["--steps", "2"],
    "dvd_gan_fp_kinetics": ["--steps", "2"],
    "dvd_gan_fp_bair": ["--steps", "1"],
    "trivd_gan_fp_kinetics": ["--steps", "2"],
    "trivd_gan_fp_bair": ["--steps", "1", "--decomposition", "cropped_downsampled"],
    "ssw_gan_kinetics": ["--steps", "1", "--no-matching"],
    "ssw_gan_bdd100k": ["--steps", "1"],
    "cvg_ucf101": ["--steps", "1"],
    "cvg_bdd100k": ["--steps", "1"],
}


@pytest.mark.parametrize("name", sorted(MICRO))
def test_micro_run_end_to_end(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: torch.device) -> None:
    out = tmp_path / "run"
    argv = [str(RECIPES / f"{name}.py"), "--out", str(out), "--device", str(device), *MICRO[name]]
    monkeypatch.setattr(sys, "argv", argv)
    threads = torch.get_num_threads()
    try:
        runpy.run_path(argv[0], run_name="__main__")
    finally:
        torch.set_num_threads(threads)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recipe"] == name and summary["preset"] == "tiny"
    assert "note" in summary["metrics"] and "I3D" in summary["metrics"]["note"]
    # FVD-MS on the built-in data, untrained and trained, on the same real clips
    quality = summary["quality"]
    assert quality["start"]["fvd_ms"] > 0 and quality["end"]["fvd_ms"] > 0
    n_quality = recipe_module(name).PRESETS["tiny"].quality_samples
    assert quality["start"]["real_clips"] == quality["end"]["real_clips"] == n_quality
    samples = [Path(p) for p in summary["files"]["samples"]]
    grids = [Path(p) for p in summary["files"]["grids"]]
    assert all(p.exists() and p.stat().st_size > 0 for p in samples + grids)
    # one mp4 per sample (what vidgan-eval --fake reads); the tiled grids in their own folder
    assert samples and all(p.parent == out / "samples" and p.name.startswith("sample_") for p in samples)
    assert not any(p.suffix == ".png" for p in (out / "samples").iterdir())
    names = {p.name for p in grids}
    assert names & {"samples.mp4", "level2.mp4", "level3.mp4"}
    if name.endswith(("_fp_kinetics", "_fp_bair")):
        assert "prediction.png" in names
    if name.startswith("trivd"):
        assert "motion_fields.png" in names
    if "levels" in summary:  # cascades: every level sampled, the top one also streamed
        assert {f"level{i + 1}.mp4" for i in range(len(summary["levels"]))} <= names and "unrolled_long.mp4" in names
        assert summary["matching"] is ("--no-matching" not in MICRO[name])


@pytest.fixture
def fast_sn(monkeypatch: pytest.MonkeyPatch) -> None:
    # Building spectral norm runs 15 power iterations, which meta tensors execute slowly in
    # Python; they change no shape, so the meta builds skip them.
    from torch.nn.utils import parametrizations

    monkeypatch.setattr(parametrizations._SpectralNorm, "_power_method", lambda self, w, n: None)


def _meta(fn):
    with torch.device("meta"):
        return fn()


def _widths(module: torch.nn.Module) -> set[int]:
    return {m.out_channels for m in module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))}


@pytest.mark.parametrize(
    ("res", "frames", "g_ch", "g_mult", "d_mult", "unit"),
    [
        (64, 12, 128, (8, 8, 8, 4, 2), (2, 4, 8, 16, 16), "mconv_gru"),
        (64, 48, 64, (8, 8, 8, 4, 2), (2, 4, 8, 16, 16), "conv_gru"),
        (128, 12, 64, (16, 16, 8, 4, 2, 1), (1, 2, 4, 8, 16, 16), "mconv_gru"),
        (128, 48, 64, (16, 16, 8, 4, 2, 1), (1, 2, 4, 8, 16, 16), "conv_gru"),
    ],
)
def test_dvd_gan_paper_presets(res, frames, g_ch, g_mult, d_mult, unit, fast_sn) -> None:
    mod = recipe_module("dvd_gan_kinetics")
    P = mod.paper_preset(res, frames)
    assert (P.resolution, P.g.frames, P.stride, P.k, P.d_ch) == (res, frames, 2, 8, 128)
    assert (P.g.ch, P.g.multipliers, P.d_mult, P.g.recurrent) == (g_ch, g_mult, d_mult, unit)
    assert (P.g.z_dim, P.g.class_dim, P.lr_g, P.lr_d, P.effective_batch) == (120, 120, 1e-4, 2e-4, 512)
    assert (P.ema_start, P.ema_decay, P.steps) == (20_000, 0.9999, 300_000)
    G, D, _ = _meta(lambda: mod.build_models(P, 600))
    assert next(G.parameters()).is_meta
    assert D.names() == ["spatial", "temporal"]
    assert (G.num_classes, G.z_dim, G.frames, G.resolution) == (600, 120, frames, res)
    assert max(_widths(D)) == 16 * 128 and g_ch * g_mult[-1] in _widths(G)


def test_dvd_gan_ucf101_paper_preset() -> None:
    P = recipe_module("dvd_gan_ucf101").PRESETS["paper"]
    assert (P.resolution, P.g.frames, P.num_classes, P.g.ch, P.g.multipliers) == (128, 16, 101, 64, (16, 16, 8, 4, 2, 1))
    assert (P.d_ch, P.d_mult, P.g.recurrent) == (128, (1, 2, 4, 8, 16, 16), "mconv_gru")


@pytest.mark.parametrize(
    ("recipe", "preset", "g_ch", "d_ch", "cond", "pred", "lrs"),
    [
        ("trivd_gan_fp_kinetics", "paper", 48, 48, 5, 11, (1e-4, 5e-4)),
        ("trivd_gan_fp_kinetics", "paper_large", 120, 120, 5, 11, (1e-4, 5e-4)),
        ("trivd_gan_fp_bair", "paper", 48, 92, 1, 15, (2e-5, 3e-5)),
    ],
)
def test_trivd_gan_fp_paper_presets(recipe, preset, g_ch, d_ch, cond, pred, lrs, fast_sn) -> None:
    from vidgan_blocks.generators import build_generator

    P = recipe_module(recipe).PRESETS[preset]
    assert (P.g.ch, P.g.multipliers, P.g.base_size, P.g.recurrent) == (g_ch, (8, 8, 4, 2), 8, "tsru_p")
    assert (P.g.cond_frames, P.g.frames, P.resolution, P.stride) == (cond, pred, 64, 1)
    assert (P.d.decomposition, P.d.ch, P.d.multipliers, P.d.mixed_projection) == ("trivd_stronger", d_ch, (2, 4, 8, 16, 16), True)
    # appendix A: the encoder is the spatial D's network; F.3: 3x3 state convolutions + ReLU
    assert (P.g.encoder_ch, P.g.encoder_multipliers) == (P.d.ch, P.d.multipliers)
    assert (P.g.state_kernel, P.g.state_relu) == (3, True)
    assert ((P.lr_g, P.lr_d), P.ortho_reg, P.effective_batch, P.ema_start) == (lrs, 1e-4, 512, 20_000)
    G = _meta(lambda: build_generator(P.g))
    D = _meta(P.d.build)
    assert D.names() == ["spatial", "cropped", "temporal"]
    assert G.resolution == 64 and len(G.units) == 3 and all(u.recurrent is not None for u in G.units)
    assert g_ch * 8 in _widths(G) and d_ch * 16 in _widths(D)


@pytest.mark.parametrize(("recipe", "cond", "pred"), [("dvd_gan_fp_kinetics", 5, 11), ("dvd_gan_fp_bair", 1, 15)])
def test_dvd_gan_fp_paper_presets(recipe, cond, pred, fast_sn) -> None:
    from vidgan_blocks.generators import build_generator

    P = recipe_module(recipe).PRESETS["paper"]
    assert (P.g.ch, P.g.multipliers, P.g.encoder_ch, P.g.encoder_multipliers) == (128, (8, 8, 8, 4, 2), 128, (2, 4, 8, 16, 16))
    assert (P.g.cond_frames, P.g.frames, P.resolution, P.stride, P.g.num_classes) == (cond, pred, 64, 1, 1)
    assert (P.g.recurrent, P.g.recurrent_channels, P.g.unet_skips, P.g.state_kernel) == ("mconv_gru", 512, True, 1)
    assert not P.g.state_relu and recipe_module(recipe).PRESETS["tiny"].g.num_classes == 1
    assert (P.d.decomposition, P.d.ch, P.d.multipliers, P.d.k, P.d.frame_conditioning) == ("dvd_gan_fp", 128, (2, 4, 8, 16, 16), 8, True)
    assert (P.lr_g, P.lr_d, P.effective_batch) == (1e-4, 2e-4, 512)
    G = _meta(lambda: build_generator(P.g))
    D = _meta(P.d.build)
    assert D.names() == ["spatial", "temporal"] and G.resolution == 64 and G.cond_frames == cond
    assert 128 * 16 in _widths(D) and 512 in _widths(G)


# recipe -> per level: (frames, resolution, window in, G ch, G per-unit multipliers, D ch, D multipliers, has matching)
CASCADES = {
    "cvg_kinetics": [
        (24, 32, None, 128, (8, 8, 4, 2), 128, (2, 4, 8, 16, 16), False),
        (48, 128, 6, 128, (8, 8, 4, 2, 1), 96, (1, 2, 4, 8, 16, 16), True),
    ],
    "ssw_gan_kinetics": [
        (25, 32, None, 128, (8, 8, 4, 2), 128, (2, 4, 8, 16, 16), False),
        (50, 128, 6, 128, (8, 8, 4, 2, 1), 96, (1, 2, 4, 8, 16, 16), True),
    ],
    "ssw_gan_bdd100k": [
        (25, 32, None, 128, (8, 8, 4, 2), 128, (2, 4, 8, 16, 16), False),
        (50, 64, 6, 96, (8, 4, 4, 2), 64, (2, 4, 8, 8, 16), True),
        (100, 128, 6, 96, (8, 4, 4, 2, 2), 64, (1, 2, 4, 8, 8, 16), True),
    ],
    "cvg_ucf101": [
        (8, 64, None, 128, (8, 8, 4, 2, 1), 128, (2, 4, 8, 16, 16), False),
        (16, 128, None, 128, (8, 8, 4, 2, 1), 96, (1, 2, 4, 8, 16, 16), True),
    ],
    "cvg_bdd100k": [
        (12, 64, None, 128, (8, 8, 4, 2, 1), 128, (2, 4, 8, 16, 16), False),
        (24, 128, 6, 96, (8, 8, 4, 2, 1), 96, (1, 2, 4, 8, 16, 16), True),  # HVG B.2
        (48, 256, 6, 96, (8, 4, 4, 4, 2, 1), 96, (1, 2, 4, 8, 8, 16, 16), True),
    ],
}


@pytest.mark.parametrize("recipe", sorted(CASCADES))
def test_cascade_paper_presets(recipe: str, fast_sn) -> None:
    from vidgan_blocks.generators import build_generator

    P = recipe_module(recipe).PRESETS["paper"]
    expected = CASCADES[recipe]
    assert len(P.levels) == len(expected)
    assert (P.lr_g, P.lr_d, P.effective_batch) == (1e-4, 5e-4, 512)
    frames, size = P.frames, P.resolution
    for spec, (t, res, window, g_ch, g_units, d_ch, d_mult, matching) in zip(reversed(P.levels), reversed(expected)):
        assert (frames, size, spec.window) == (t, res, window)
        assert (spec.g.ch, spec.g.multipliers[1:], spec.d.ch, spec.d.multipliers) == (g_ch, g_units, d_ch, d_mult)
        assert (spec.d.decomposition == "cascade_level") == matching
        G = _meta(lambda: build_generator(spec.g))
        D = _meta(spec.d.build)
        if spec.window is None and matching:  # whole clips: G's input is the full lower level
            assert spec.g.frames_in == frames // spec.factors[0]
        assert G.config.ch == g_ch and ("matching" in D.names()) == matching
        if hasattr(spec.g, "low_size"):
            assert (spec.g.factor_t, spec.g.factor_s) == spec.factors and spec.g.low_size * spec.factors[1] == size
        else:
            assert spec.g.frames == frames and G.resolution == size
        frames, size = frames // spec.factors[0], size // spec.factors[1]


def test_prediction_presets_match_library_builders(fast_sn) -> None:
    from vidgan_blocks.generators import dvd_gan_fp_generator, trivd_gan_fp_generator

    trivd = recipe_module("trivd_gan_fp_kinetics").PRESETS
    fp = recipe_module("dvd_gan_fp_kinetics").PRESETS
    assert trivd["paper"].g == _meta(lambda: trivd_gan_fp_generator(48)).config
    assert trivd["paper_large"].g == _meta(lambda: trivd_gan_fp_generator(120)).config
    assert fp["paper"].g == _meta(lambda: dvd_gan_fp_generator(64)).config
    bair = recipe_module("trivd_gan_fp_bair").PRESETS["paper"]
    assert bair.g == _meta(lambda: trivd_gan_fp_generator(48, cond_frames=1, frames=15, encoder_ch=92)).config
