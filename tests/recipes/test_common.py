"""The recipe plumbing: the metric step (a note without weights, I3D scores with a weight file),
per-sample export and the options' help text."""

from __future__ import annotations

import math

import pytest
import torch

from .conftest import recipe_module


def test_evaluate_without_weights_leaves_a_note() -> None:
    common = recipe_module("_common")
    out = common.evaluate(None, torch.zeros(2, 3, 4, 8, 8), torch.zeros(2, 3, 4, 8, 8), torch.device("cpu"))
    assert set(out) == {"note"} and "--i3d-weights" in out["note"]


def test_evaluate_with_a_weight_file_scores_fvd_fid_is(tmp_path, device) -> None:
    from safetensors.torch import save_file

    from vidgan_blocks.metrics import load_i3d

    common = recipe_module("_common")
    path = tmp_path / "i3d.safetensors"
    save_file({k: v.contiguous() for k, v in load_i3d(random_weights=True).state_dict().items()}, str(path))
    g = torch.Generator().manual_seed(0)
    real = torch.rand(4, 3, 8, 16, 16, generator=g) * 2 - 1
    fake = (torch.rand(4, 3, 8, 16, 16, generator=g) * 2 - 1).clamp(-0.2, 0.2)
    out = common.evaluate(str(path), real, fake, device)  # the clips start on the CPU, like a recipe's
    assert out["num_videos"] == 4 and out["weights"] == str(path)
    assert {"fvd", "fid", "is"} <= set(out)
    assert all(math.isfinite(out[k]["value"]) for k in ("fvd", "fid", "is"))
    assert out["fvd"]["value"] > 0


def test_seed_everything_seeds_torch_python_and_numpy() -> None:
    import random

    import numpy as np

    from vidgan_blocks.training.rng import capture_rng_state, restore_rng_state

    common = recipe_module("_common")
    saved = capture_rng_state()
    try:
        runs = []
        for _ in range(2):  # two runs with the same seed, each after unrelated draws
            random.random(), np.random.rand(), torch.rand(3)
            common.seed_everything(7)
            runs.append(capture_rng_state())
        assert runs[0].keys() == runs[1].keys() and {"torch", "python", "numpy"} <= set(runs[0])
        assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
        common.seed_everything(8)
        other = capture_rng_state()
        assert not any(torch.equal(runs[0][k], other[k]) for k in ("torch", "python", "numpy"))
    finally:
        restore_rng_state(saved)


def test_export_samples_writes_one_clip_per_file_that_vidgan_eval_reads(tmp_path) -> None:
    from vidgan_blocks.data import read_video
    from vidgan_blocks.metrics.cli import VideoFiles

    common = recipe_module("_common")
    videos = torch.rand(5, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    folder = tmp_path / "samples"
    common.export_samples(torch.zeros(7, 3, 4, 16, 16), folder)  # an earlier run with more samples
    written = common.export_samples(videos, folder)
    assert written == sorted(folder.iterdir()) and len(written) == 5  # stale sample_0005/6 removed
    assert read_video(written[0]).shape == (3, 4, 16, 16)  # a single clip, not a tiled grid
    assert len(list(VideoFiles(folder, frames=4, clips_per_video=1).clips())) == 5


def _parser(recipe: str, monkeypatch):
    """The argument parser a recipe's ``main`` builds (captured before it parses anything)."""
    import argparse

    class Captured(Exception):
        pass

    seen = {}

    def capture(self, args=None, namespace=None):
        seen["parser"] = self
        raise Captured

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    try:
        recipe_module(recipe).main([])
    except Captured:
        pass
    return seen["parser"]


RECIPE_NAMES = ["cvg_kinetics", "cvg_bdd100k", "cvg_ucf101", "ssw_gan_kinetics", "ssw_gan_bdd100k",
                "dvd_gan_kinetics", "dvd_gan_ucf101", "dvd_gan_fp_kinetics", "dvd_gan_fp_bair",
                "trivd_gan_fp_kinetics", "trivd_gan_fp_bair"]



@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_every_recipe_option_has_help_text(recipe: str, monkeypatch) -> None:
    parser = _parser(recipe, monkeypatch)
    missing = [a.option_strings for a in parser._actions if a.option_strings and not (a.help or "").strip()]
    assert not missing
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text
    steps = next(a for a in parser._actions if "--steps" in a.option_strings)
    preset = recipe_module(recipe).PRESETS["tiny"]
    shown = ",".join(map(str, preset.steps)) if isinstance(preset.steps, tuple) else str(preset.steps)
    assert f"tiny {shown}" in steps.help  # the preset's value, not None
