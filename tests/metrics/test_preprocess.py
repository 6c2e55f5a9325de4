"""Preprocessing presets against plain reference resizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidgan_blocks.metrics import PRESETS, Preprocess, get_preset, preprocess_video


def tf1_bilinear_reference(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """TensorFlow 1.x resize_bilinear (align_corners=False, no half-pixel centres), one (H, W) plane."""
    in_h, in_w = img.shape
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        y = i * in_h / out_h
        y0 = int(np.floor(y))
        y1, dy = min(y0 + 1, in_h - 1), y - y0
        for j in range(out_w):
            x = j * in_w / out_w
            x0 = int(np.floor(x))
            x1, dx = min(x0 + 1, in_w - 1), x - x0
            top = img[y0, x0] + (img[y0, x1] - img[y0, x0]) * dx
            bottom = img[y1, x0] + (img[y1, x1] - img[y1, x0]) * dx
            out[i, j] = top + (bottom - top) * dy
    return out


def test_reference_preset_matches_tf1_bilinear_and_scaling():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (1, 3, 2, 7, 5), generator=g, dtype=torch.uint8)
    p = Preprocess("ref-small", size=12)
    out = preprocess_video(x, p)
    assert out.shape == (1, 3, 2, 12, 12)
    for c in range(3):
        for t in range(2):
            ref = tf1_bilinear_reference(x[0, c, t].double().numpy(), 12, 12) * 2 / 255 - 1
            assert np.allclose(out[0, c, t].numpy(), ref, atol=1e-5)


def test_float_input_is_rounded_like_uint8():
    g = torch.Generator().manual_seed(1)
    u8 = torch.randint(0, 256, (2, 3, 3, 9, 9), generator=g, dtype=torch.uint8)
    as_float = u8.float() / 127.5 - 1 + (torch.rand(u8.shape, generator=g) - 0.5) * 0.006  # < half a level
    for name in PRESETS:
        p = get_preset(name)
        small = Preprocess(p.name, 16, p.resize, p.antialias, p.crop, p.quantize)
        assert torch.allclose(preprocess_video(u8, small), preprocess_video(as_float, small), atol=1e-6)


def test_without_quantize_float_is_kept():
    x = torch.full((1, 3, 1, 4, 4), 0.001)
    p = Preprocess("raw", size=4, quantize=False)
    assert torch.allclose(preprocess_video(x, p), x, atol=1e-6)
    assert torch.allclose(preprocess_video(x, Preprocess("q", size=4)), torch.full_like(x, 1 / 255), atol=1e-6)


def test_center_crop_preset_is_shorter_side_resize_then_crop():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(2, 3, 2, 10, 20, generator=g) * 2 - 1
    p = Preprocess("cc", size=8, resize="bilinear", antialias=True, crop="center", quantize=False)
    out = preprocess_video(x, p)
    frames = ((x + 1) * 127.5).permute(0, 2, 1, 3, 4).reshape(4, 3, 10, 20)
    ref = F.interpolate(frames, size=(8, 16), mode="bilinear", align_corners=False, antialias=True)[..., 4:12]
    ref = (ref.clamp(0, 255) * 2 / 255 - 1).reshape(2, 2, 3, 8, 8).permute(0, 2, 1, 3, 4)
    assert torch.allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("hw", [(16, 16), (9, 31), (40, 12)])
def test_shapes_and_range(name, hw):
    base = get_preset(name)
    p = Preprocess(base.name, 20, base.resize, base.antialias, base.crop, base.quantize)
    out = preprocess_video(torch.rand(2, 3, 3, *hw) * 2 - 1, p)
    assert out.shape == (2, 3, 3, 20, 20) and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1


def test_presets_are_recorded_as_dicts():
    assert PRESETS["reference"].to_dict() == {
        "name": "reference", "size": 224, "resize": "tf1_bilinear", "antialias": False, "crop": "squash",
        "quantize": True,
    }  # fmt: skip
    assert PRESETS["center_crop"].crop == "center"


def test_errors():
    with pytest.raises(ValueError, match="reference"):
        get_preset("nope")
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        preprocess_video(torch.zeros(3, 2, 8, 8))
    with pytest.raises(TypeError, match="int32"):
        preprocess_video(torch.zeros(1, 3, 2, 8, 8, dtype=torch.int32))
    with pytest.raises(TypeError):
        preprocess_video(np.zeros((1, 3, 2, 8, 8)))
    with pytest.raises(ValueError, match="resize"):
        Preprocess("x", resize="lanczos")
    with pytest.raises(ValueError, match="crop"):
        Preprocess("x", crop="pad")
