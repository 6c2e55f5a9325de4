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
