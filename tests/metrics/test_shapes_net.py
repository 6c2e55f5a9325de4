"""ShapesNet (the MovingShapes feature network) and FVD-MS / KID-MS / class accuracy."""

from __future__ import annotations

import json

import pytest
import torch

from tests.metrics.test_cli import write_folder
from vidgan_blocks.data import MovingShapes
from vidgan_blocks.metrics import (
    ShapesNet,
    class_accuracy,
    fvd_ms,
    kid_ms,
    load_shapes_net,
    shapes_features,
    train_shapes_net,
)
from vidgan_blocks.metrics.cli import main
from vidgan_blocks.metrics.i3d import file_sha256
from vidgan_blocks.metrics.shapes_net import SHAPES_NET_WEIGHTS


@pytest.fixture(scope="module")
def net():
    return load_shapes_net()


@pytest.fixture(scope="module")
def clips():
    """24 held-out clips of 12 classes at 32x32, 16 frames, and their labels."""
    data = MovingShapes(24, frames=16, resolution=32, num_classes=12, seed=4242)
    return torch.stack([data[i][0] for i in range(24)]), torch.arange(24) % 12


def test_shipped_weights_load_and_match_their_record(net):
    record = json.loads(SHAPES_NET_WEIGHTS.with_suffix(".json").read_text())
    assert net.weights_sha256 == file_sha256(SHAPES_NET_WEIGHTS) == record["sha256"]
    assert SHAPES_NET_WEIGHTS.stat().st_size <= 5 * 2**20
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert record["test_accuracy"] >= 0.9


def test_recognises_held_out_clips(net, clips):
    videos, labels = clips
    assert class_accuracy(videos, labels, net) >= 0.75


def test_fvd_ms_is_zero_on_identical_sets_and_grows_with_noise(net, clips):
    videos = clips[0]
    assert fvd_ms(videos, videos, net) == pytest.approx(0.0, abs=1e-6)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(videos.shape, generator=g)
    values = [fvd_ms(videos, (videos + s * noise).clamp(-1, 1), net) for s in (0.05, 0.2, 0.6)]
    assert 0 < values[0] < values[1] < values[2]


def test_features_accept_any_size_and_length(net):
    out = net(torch.rand(2, 3, 5, 8, 8) * 2 - 1)
    assert out.features.shape == (2, ShapesNet.feature_dim) and out.logits.shape == (2, 12)
    out = net(torch.rand(1, 3, 40, 64, 48) * 2 - 1)
    assert out.features.shape == (1, ShapesNet.feature_dim)


def test_features_of_batches_match_one_pass(net, clips):
    videos = clips[0][:6]
    whole = shapes_features(videos, net, batch_size=6)
    parts = shapes_features(iter([videos[:2], videos[2:]]), net)
    torch.testing.assert_close(whole.features, parts.features, rtol=1e-4, atol=1e-5)


def test_kid_ms_is_near_zero_on_identical_sets(net, clips):
    videos = clips[0]
    same, _ = kid_ms(videos, videos, net, subsets=4, subset_size=12)
    other, _ = kid_ms(videos, torch.zeros_like(videos), net, subsets=4, subset_size=12)
    assert abs(same) < other


@pytest.mark.parametrize(
    "bad, match",
    [(torch.zeros(2, 3, 8, 8), r"expected \(B, 3, T >= 2, H, W\)"), (torch.zeros(2, 1, 4, 8, 8), "got shape"),
     (torch.zeros(2, 3, 1, 8, 8), "T >= 2")],
)
def test_bad_input_is_refused(net, bad, match):
    with pytest.raises(ValueError, match=match):
        net(bad)
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        net([1, 2])


def test_class_accuracy_checks_labels(net, clips):
    videos = clips[0][:4]
    with pytest.raises(ValueError, match="one per clip"):
        class_accuracy(videos, [0, 1], net)
    with pytest.raises(ValueError, match=r"values in \[0, 11\]"):
        class_accuracy(videos, [0, 1, 2, 12], net)
    with pytest.raises(ValueError, match="at least 2 clips"):
        fvd_ms(videos[:1], videos, net)


def test_missing_weight_file_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m vidgan_blocks.metrics.shapes_net"):
        load_shapes_net(tmp_path / "none.safetensors")


def test_training_script_writes_loadable_weights(tmp_path):
    path = tmp_path / "net.safetensors"
    report = train_shapes_net(path, steps=2, batch_size=4, train_clips=12, test_clips=12, log_every=0)
    assert report["sha256"] == file_sha256(path)
    assert json.loads(path.with_suffix(".json").read_text())["steps"] == 2
    loaded = load_shapes_net(path)
    assert loaded.weights_sha256 == report["sha256"]


def test_vidgan_eval_scores_with_the_shapes_network(tmp_path, clips, capsys):
    videos = clips[0]
    real = write_folder(tmp_path / "real", videos[:12, :, :8])
    fake = write_folder(tmp_path / "fake", videos[12:, :, :8])
    out = tmp_path / "scores.json"
    code = main(["--real", str(real), "--fake", str(fake), "--network", "shapes", "--frames", "8",
                 "--kid-subsets", "4", "--device", "cpu", "--no-progress", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert set(report["scores"]) == {"fvd_ms", "kid_ms"}
    assert report["samples"] == {"real_clips": 12, "fake_clips": 12, "frames_per_clip": 8}
    assert report["weights"]["shapes_net"]["sha256"] == file_sha256(SHAPES_NET_WEIGHTS)
    assert "fewer than the 64 feature dimensions" in capsys.readouterr().err


def test_vidgan_eval_refuses_i3d_options_with_the_shapes_network(tmp_path, clips, capsys):
    real = write_folder(tmp_path / "real", clips[0][:2, :, :8])
    code = main(["--real", str(real), "--fake", str(real), "--network", "shapes", "--random-i3d", "--frames", "8"])
    assert code == 1
    assert "--network shapes scores FVD-MS and KID-MS only" in capsys.readouterr().err


def test_pattern_accuracy_ignores_the_speed_tier(net, clips):
    videos, labels = clips
    tier0 = labels % 6
    assert class_accuracy(videos, tier0, net, patterns_only=True) >= class_accuracy(videos, labels, net) - 1e-9
    with pytest.raises(ValueError, match=r"values in \[0, 5\]"):
        class_accuracy(videos, labels, net, patterns_only=True)
