"""I3D: the InceptionI3d weight layout, shapes, padding arithmetic, eval-mode batch independence."""

from __future__ import annotations

import math
import os
import pickle

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import save_file

from tests.helpers import tolerances
from vidgan_blocks.metrics import I3D, I3D_WEIGHTS_ENV, file_sha256, load_i3d
from vidgan_blocks.metrics.i3d import _same_pad

# The layout of the PyTorch port's i3d_pretrained_400.pt, written out independently of the module:
# (name, in channels, out channels, kernel) for the stem units, and the Inception blocks with their
# input width and (b0, b1a, b1b, b2a, b2b, b3b) widths.
STEM = [("Conv3d_1a_7x7", 3, 64, 7), ("Conv3d_2b_1x1", 64, 64, 1), ("Conv3d_2c_3x3", 64, 192, 3)]
MIXED = [
    ("Mixed_3b", 192, (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", 256, (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", 480, (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", 512, (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", 512, (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", 512, (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", 528, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", 832, (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", 832, (384, 192, 384, 48, 128, 128)),
]


def port_state_dict(num_classes: int = 400, with_counter: bool = True, width: float = 1.0) -> dict[str, torch.Tensor]:
    """Random tensors in the port's layout; ``width`` < 1 scales every channel count (fast tests)."""
    g = torch.Generator().manual_seed(0)
    sd: dict[str, torch.Tensor] = {}

    def unit(prefix: str, cin: int, cout: int, k: int) -> None:
        cin = 3 if cin == 3 else max(1, round(cin * width))
        cout = max(1, round(cout * width))
        sd[f"{prefix}.conv3d.weight"] = torch.randn(cout, cin, k, k, k, generator=g) * (cin * k**3) ** -0.5
        sd[f"{prefix}.bn.weight"] = torch.rand(cout, generator=g) + 0.5
        sd[f"{prefix}.bn.bias"] = torch.randn(cout, generator=g) * 0.1
        sd[f"{prefix}.bn.running_mean"] = torch.randn(cout, generator=g) * 0.1
        sd[f"{prefix}.bn.running_var"] = torch.rand(cout, generator=g) + 0.5
        if with_counter:
            sd[f"{prefix}.bn.num_batches_tracked"] = torch.tensor(1000)

    for name, cin, cout, k in STEM:
        unit(name, cin, cout, k)
    for name, cin, (c0, c1a, c1b, c2a, c2b, c3) in MIXED:
        unit(f"{name}.b0", cin, c0, 1)
        unit(f"{name}.b1a", cin, c1a, 1)
        unit(f"{name}.b1b", c1a, c1b, 3)
        unit(f"{name}.b2a", cin, c2a, 1)
        unit(f"{name}.b2b", c2a, c2b, 3)
        unit(f"{name}.b3b", cin, c3, 1)
    sd["logits.conv3d.weight"] = torch.randn(num_classes, round(1024 * width), 1, 1, 1, generator=g) * 0.03
    sd["logits.conv3d.bias"] = torch.randn(num_classes, generator=g)
    return sd


def test_module_keys_are_the_port_layout():
    ours = I3D().state_dict()
    ref = port_state_dict()
    assert set(ours) == set(ref)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in ref.items()}


@pytest.mark.parametrize("suffix,with_counter", [(".pt", True), (".pt", False), (".safetensors", True)])
def test_weights_round_trip_through_file(tmp_path, suffix, with_counter):
    width = 1.0 if with_counter and suffix == ".pt" else 0.25
    sd = port_state_dict(with_counter=with_counter, width=width)
    path = tmp_path / f"i3d_pretrained_400{suffix}"
    if suffix == ".pt":
        torch.save(sd, path)
    else:
        save_file(sd, str(path))
    model = load_i3d(path, width=width)
    assert not model.training and model.num_classes == 400
    assert model.weights_sha256 == file_sha256(path) and len(model.weights_sha256) == 64
    got = model.state_dict()
    for k, v in sd.items():
        assert torch.equal(got[k], v), k


def test_weights_from_environment_and_kinetics600(tmp_path, monkeypatch):
    path = tmp_path / "i3d_600.pt"
    torch.save(port_state_dict(num_classes=600, width=0.25), path)
    monkeypatch.setenv(I3D_WEIGHTS_ENV, str(path))
    model = load_i3d()  # width read from the file
    assert model.num_classes == 600 and model.width == 0.25 and model.weights_path == str(path)


def test_missing_or_wrong_files_raise(tmp_path, monkeypatch):
    monkeypatch.delenv(I3D_WEIGHTS_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=r"i3d_pretrained_400\.pt.*VIDGAN_I3D_WEIGHTS"):
        load_i3d()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_i3d(tmp_path / "nope.pt")
    sd = port_state_dict(width=0.25)
    sd["extra.weight"] = torch.zeros(1)
    torch.save(sd, tmp_path / "extra.pt")
    with pytest.raises(RuntimeError, match="extra.weight"):
        load_i3d(tmp_path / "extra.pt", width=0.25)
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_i3d(tmp_path / "extra.pt", width=1.0)  # full-width network, quarter-width file
    torch.save({"a": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(RuntimeError, match="logits.conv3d.weight"):
        load_i3d(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not both"):
        load_i3d(tmp_path / "other.pt", random_weights=True)


class _RunsCode:
    """Unpickling this would call ``os.system("true")``; the loaders must refuse it unrun."""

    def __reduce__(self):
        return (os.system, ("true",))


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_refuses_pickled_code(tmp_path, writer):
    path = tmp_path / "evil.pt"
    payload = {"logits.conv3d.weight": _RunsCode()}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(ValueError) as info:
        load_i3d(path)
    message = str(info.value)
    assert str(path) in message and "refused: loading it would execute code" in message
    assert "\n" not in message and "weights_only" not in message
    if writer == "torch.save":
        assert "it calls posix.system" in message or "it calls nt.system" in message


@pytest.mark.parametrize("t,h,w", [(1, 16, 16), (4, 24, 20), (9, 33, 40)])
def test_output_shapes(t, h, w, device):
    model = I3D(num_classes=7, width=0.125).eval().to(device)
    out = model(torch.rand(2, 3, t, h, w, device=device) * 2 - 1)
    assert out.logits.shape == (2, 7)
    assert out.features.shape == (2, model.feature_dim) == (2, 128)
    assert torch.isfinite(out.logits).all()


def test_features_are_the_port_pooling_and_logits_are_linear(device):
    model = I3D(num_classes=5, width=0.125).eval().to(device)
    seen = {}
    model.Mixed_5c.register_forward_hook(lambda m, i, o: seen.setdefault("map", o))
    out = model(torch.rand(2, 3, 16, 224, 224, device=device) * 2 - 1)
    fmap = seen["map"]
    assert fmap.shape[2:] == (2, 7, 7)  # one 2x7x7 window, as in the port at 16x224x224
    assert torch.allclose(out.features, fmap.mean(dim=(2, 3, 4)), **tolerances(device, atol=1e-6))
    w = model.logits.conv3d.weight.flatten(1)
    assert torch.allclose(out.logits, out.features @ w.T + model.logits.conv3d.bias, **tolerances(device, atol=1e-5))


def test_batch_size_independence_in_eval(device):
    model = I3D(width=0.125).eval().to(device)
    x = torch.rand(4, 3, 8, 32, 32, device=device) * 2 - 1
    full = model(x)
    tol = tolerances(device, atol=1e-5)
    for i in range(4):
        one = model(x[i : i + 1])
        assert torch.allclose(full.logits[i], one.logits[0], **tol)
        assert torch.allclose(full.features[i], one.features[0], **tol)


def test_input_guard():
    model = I3D(width=0.125)
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        model(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="C=3"):
        model(torch.zeros(1, 1, 2, 8, 8))
    with pytest.raises(TypeError):
        model(torch.zeros(1, 3, 2, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError):
        I3D(num_classes=0)


@given(n=st.integers(1, 300), k=st.integers(1, 7), s=st.integers(1, 3))
def test_same_padding_arithmetic(n, k, s):
    front, back = _same_pad(n, k, s)
    assert 0 <= front <= back <= front + 1
    out = (n + front + back - k) // s + 1
    assert out == math.ceil(n / s)


def test_folded_batch_norm_equals_conv_then_bn(device):
    model = I3D(width=0.125).eval().to(device)
    unit = model.Mixed_4b.b1b
    with torch.no_grad():
        unit.bn.running_mean.uniform_(-0.5, 0.5)
        unit.bn.running_var.uniform_(0.5, 2.0)
        unit.bn.weight.uniform_(0.5, 1.5)
        unit.bn.bias.uniform_(-0.2, 0.2)
        x = torch.randn(2, unit.conv3d.in_channels, 3, 6, 5, device=device)
        ref = torch.relu(torch.nn.functional.batch_norm(
            unit.conv3d(x), unit.bn.running_mean, unit.bn.running_var, unit.bn.weight, unit.bn.bias,
            training=False, eps=unit.bn.eps,
        ))  # fmt: skip
        assert torch.allclose(unit(x), ref, **tolerances(device, atol=1e-5))


def test_channels_last_does_not_change_results(device):
    model = I3D(width=0.125).eval().to(device)
    x = torch.rand(2, 3, 6, 24, 24, device=device) * 2 - 1
    with torch.no_grad():
        a = model(x)
        model.channels_last = False
        b = model(x)
    tol = tolerances(device, atol=1e-5)
    assert torch.allclose(a.logits, b.logits, **tol) and torch.allclose(a.features, b.features, **tol)
