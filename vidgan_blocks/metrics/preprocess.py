"""Named preprocessing presets for the I3D metrics; every score records the one it used.

Published FVD numbers disagree partly because clips reach the I3D differently:
resize kernel (TensorFlow 1.x bilinear vs. PyTorch bilinear with or without
anti-aliasing), aspect handling (squash straight to 224x224 vs. resize the shorter
side and centre-crop), and whether generated float frames are first rounded to
8-bit as a saved video would be. A :class:`Preprocess` names all of these.

* ``"reference"`` - what the original TensorFlow FVD code does (Unterthiner et al.,
  used by DVD-GAN-FP and TrIVD-GAN-FP): uint8 frames, ``tf.image.resize_bilinear``
  (TF 1.x, ``align_corners=False``, no anti-aliasing) straight to 224x224, then
  ``2 x / 255 - 1``. Float inputs are rounded to the 256 levels first. The resize
  is torch-fidelity's TF1-exact bilinear function.
* ``"center_crop"`` - resize the shorter side to 224 with anti-aliased bilinear
  (PyTorch), centre-crop 224x224, rounding to 8-bit first (the pipeline of several
  PyTorch FVD ports).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from einops import rearrange

__all__ = ["Preprocess", "PRESETS", "get_preset", "preprocess_video"]

ResizeKernel = Literal["tf1_bilinear", "bilinear", "bicubic", "area"]
Crop = Literal["squash", "center"]
_KERNELS = ("tf1_bilinear", "bilinear", "bicubic", "area")
_CROPS = ("squash", "center")


@dataclass(frozen=True)
class Preprocess:
    """How a clip is turned into I3D input (recorded in every score's protocol).

    Attributes:
        name: preset name.
        size: output side (224 for the Kinetics I3D).
        resize: ``"tf1_bilinear"`` (TensorFlow 1.x bilinear, torch-fidelity's function),
            ``"bilinear"`` / ``"bicubic"`` (``F.interpolate``, ``align_corners=False``)
            or ``"area"``.
        antialias: anti-alias when downsampling with ``"bilinear"``/``"bicubic"``.
        crop: ``"squash"`` resizes H and W straight to ``size``; ``"center"`` resizes
            the shorter side to ``size`` and takes the central square.
        quantize: round float input to the 256 8-bit levels before resizing.
    """

    name: str
    size: int = 224
    resize: ResizeKernel = "tf1_bilinear"
    antialias: bool = False
    crop: Crop = "squash"
    quantize: bool = True

    def __post_init__(self) -> None:
        if self.resize not in _KERNELS:
            raise ValueError(f"resize: expected one of {_KERNELS}, got {self.resize!r}")
        if self.crop not in _CROPS:
            raise ValueError(f"crop: expected one of {_CROPS}, got {self.crop!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size: expected a positive int, got {self.size!r}")

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return preprocess_video(x, self)


PRESETS: dict[str, Preprocess] = {
    "reference": Preprocess("reference", 224, "tf1_bilinear", False, "squash", True),
    "center_crop": Preprocess("center_crop", 224, "bilinear", True, "center", True),
}


def get_preset(preset: str | Preprocess) -> Preprocess:
    """A :class:`Preprocess` from a preset name (or the object itself)."""
    if isinstance(preset, Preprocess):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"preprocess: expected one of {sorted(PRESETS)} or a Preprocess, got {preset!r}")
    return PRESETS[preset]


def _to_levels(x: torch.Tensor, quantize: bool) -> torch.Tensor:
    """Pixel values on the 0..255 scale, float32."""
    if x.dtype == torch.uint8:
        return x.float()
    y = (x.float() + 1.0) * 127.5
    return y.round_().clamp_(0, 255) if quantize else y.clamp_(0, 255)


def preprocess_video(x: torch.Tensor, preset: str | Preprocess = "reference") -> torch.Tensor:
    """Resize a batch of clips to I3D input according to a preset.

    Args:
        x: clips, float in [-1, 1] or uint8 in [0, 255].
        preset: a name from :data:`PRESETS` or a :class:`Preprocess`.

    Returns:
        float32 clips in [-1, 1] of spatial size ``preset.size``.

    Shape:
        - x: ``(B, 3, T, H, W)``
        - output: ``(B, 3, T, size, size)``
    """
    p = get_preset(preset)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor (B, 3, T, H, W), got {type(x).__name__}")
    if x.dim() != 5 or x.shape[1] != 3 or min(x.shape[2:]) < 1:
        raise ValueError(f"x: expected a video batch (B, 3, T, H, W), got shape {tuple(x.shape)}")
    if not (x.is_floating_point() or x.dtype == torch.uint8):
        raise TypeError(f"x: expected float in [-1, 1] or uint8, got dtype {x.dtype}")
    b = x.shape[0]
    frames = rearrange(_to_levels(x, p.quantize), "b c t h w -> (b t) c h w")
    h, w = frames.shape[-2:]
    if p.crop == "squash":
        out_hw = (p.size, p.size)
    else:
        scale = p.size / min(h, w)
        out_hw = (max(p.size, round(h * scale)), max(p.size, round(w * scale)))
    if (h, w) != out_hw:
        if p.resize == "tf1_bilinear":
            # Imported here: torch-fidelity pulls in torchvision, which commands that never resize skip.
            from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

            frames = interpolate_bilinear_2d_like_tensorflow1x(frames, size=out_hw, align_corners=False)
        elif p.resize == "area":
            frames = F.interpolate(frames, size=out_hw, mode="area")
        else:
            frames = F.interpolate(frames, size=out_hw, mode=p.resize, align_corners=False, antialias=p.antialias)
    if p.crop == "center":
        top, left = (out_hw[0] - p.size) // 2, (out_hw[1] - p.size) // 2
        frames = frames[:, :, top : top + p.size, left : left + p.size]
    frames = frames.clamp(0, 255) * (2.0 / 255.0) - 1.0
    return rearrange(frames, "(b t) c h w -> b c t h w", b=b).contiguous()
