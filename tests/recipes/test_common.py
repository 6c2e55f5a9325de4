"""The recipe plumbing's metric step: a note without weights, I3D scores with a weight file."""

from __future__ import annotations

import math

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
