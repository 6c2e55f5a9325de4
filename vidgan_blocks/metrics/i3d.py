"""Inflated Inception-v1 (I3D) for FVD, I3D FID and I3D Inception Score.

The papers score videos with an I3D classifier (Carreira & Zisserman, "Quo Vadis,
Action Recognition?"): FVD uses the logits of the Kinetics-400 network
(Unterthiner et al.; DVD-GAN section 4.2, TrIVD-GAN-FP section 5, SSW-GAN and CVG
section 5), IS the softmax of the same logits, and DVD-GAN's / SSW-GAN's / CVG's
"FID" the average-pooled 1024-d activations of a Kinetics-600 network.

:class:`I3D` reproduces the parameter names of the widely used PyTorch port of the
DeepMind weights (the ``InceptionI3d`` module that reads ``i3d_pretrained_400.pt``),
so such a file loads with ``strict=True``: top-level blocks ``Conv3d_1a_7x7``,
``Conv3d_2b_1x1``, ``Conv3d_2c_3x3``, ``Mixed_3b`` ... ``Mixed_5c`` and ``logits``;
each convolution unit holds ``conv3d`` (and ``bn``); each Inception block holds the
branches ``b0``, ``b1a``/``b1b``, ``b2a``/``b2b`` and ``b3b`` (``b3a`` is the
parameter-free max pool). The same layout with 600 logits loads a Kinetics-600 file.

Padding is TensorFlow's "SAME" (computed from the input size, asymmetric for
stride 2), as in the original network. Max pools pad with zeros in the port; all
pooled tensors come out of a ReLU, so this equals TensorFlow's ignore-padding max.

Weights are read from a local file only (``torch.load(weights_only=True)`` or
safetensors; nothing that executes code is unpickled). A network with random
weights is built only by an explicit ``I3D(...)`` or ``load_i3d(random_weights=True)``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_video

__all__ = [
    "I3D",
    "I3DOutput",
    "I3D_WEIGHTS_ENV",
    "I3D_WEIGHTS_FILE",
    "load_i3d",
    "load_state_dict_file",
    "resolve_weights_path",
    "file_sha256",
]

#: Environment variable read when no weight path is passed.
I3D_WEIGHTS_ENV = "VIDGAN_I3D_WEIGHTS"
#: Name of the Kinetics-400 file of the PyTorch port, as it is usually distributed.
I3D_WEIGHTS_FILE = "i3d_pretrained_400.pt"

# Inception-v1 branch widths (b0, b1a, b1b, b2a, b2b, b3b) per mixed block, Carreira & Zisserman Fig. 3.
_MIXED: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding (front, back) for one dimension."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: Sequence[int], stride: Sequence[int]) -> torch.Tensor:
    t, h, w = x.shape[-3:]
    pt, ph, pw = (_same_pad(s, k, st) for s, k, st in zip((t, h, w), kernel, stride))
    if pt == ph == pw == (0, 0):
        return x
    return F.pad(x, (*pw, *ph, *pt))


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last_3d if x.is_contiguous(memory_format=torch.channels_last_3d) else torch.contiguous_format


class _Unit3d(nn.Module):
    """Conv3d (no bias) + BatchNorm + ReLU with SAME padding; parameters ``conv3d``, ``bn``."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        *,
        bn_eps: float = 1e-3,
        use_bn: bool = True,
        use_bias: bool = False,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        # Stride 1 with an odd kernel pads symmetrically: let the convolution do it (no copy).
        self._inline = all(s == 1 for s in stride) and all(k % 2 for k in kernel)
        padding = tuple((k - 1) // 2 for k in kernel) if self._inline else 0
        self.conv3d = nn.Conv3d(in_ch, out_ch, kernel, stride=stride, padding=padding, bias=use_bias)
        self.bn = nn.BatchNorm3d(out_ch, eps=bn_eps, momentum=0.01) if use_bn else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._inline:
            x = _pad_same(x, self.kernel, self.stride)
        conv, bn = self.conv3d, self.bn
        if bn is not None and not bn.training and bn.running_var is not None and bn.running_mean is not None:
            # Eval mode: fold the batch norm into the convolution (one pass over the activations, not two).
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)  # type: ignore[operator]
            weight = (conv.weight * scale.view(-1, 1, 1, 1, 1)).contiguous(memory_format=_memory_format(x))
            bias = bn.bias - bn.running_mean * scale  # type: ignore[operator]
            x = F.conv3d(x, weight, bias, conv.stride, conv.padding)
        else:
            x = conv(x)
            if bn is not None:
                x = bn(x)
        return F.relu(x, inplace=True) if self.relu else x


class _MaxPoolSame(nn.Module):
    """Max pool with SAME padding (zeros; inputs are non-negative)."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class _Mixed(nn.Module):
    """Inflated Inception block: 1x1 | 1x1-3x3 | 1x1-3x3 | pool-1x1, concatenated on channels."""

    def __init__(self, in_ch: int, widths: Sequence[int], bn_eps: float) -> None:
        super().__init__()
        c0, c1a, c1b, c2a, c2b, c3 = widths
        self.b0 = _Unit3d(in_ch, c0, bn_eps=bn_eps)
        self.b1a = _Unit3d(in_ch, c1a, bn_eps=bn_eps)
        self.b1b = _Unit3d(c1a, c1b, (3, 3, 3), bn_eps=bn_eps)
        self.b2a = _Unit3d(in_ch, c2a, bn_eps=bn_eps)
        self.b2b = _Unit3d(c2a, c2b, (3, 3, 3), bn_eps=bn_eps)
        self.b3b = _Unit3d(in_ch, c3, bn_eps=bn_eps)
        self.out_channels = c0 + c1b + c2b + c3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.max_pool3d(x, 3, stride=1, padding=1)  # b3a; -inf padding == zero padding after ReLU
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(pooled)], dim=1)


class I3DOutput(NamedTuple):
    """What :class:`I3D` returns: time-averaged class logits and pooled features."""

    logits: torch.Tensor  # [B, num_classes]
    features: torch.Tensor  # [B, 1024 * width]


class I3D(nn.Module):
    """Inception-v1 I3D with the parameter names of the PyTorch ``InceptionI3d`` port.

    Args:
        num_classes: logits (400 for Kinetics-400, 600 for Kinetics-600).
        width: channel multiplier; 1.0 is the published network (tests use less).
            Parameter names do not depend on it.
        bn_eps: batch-norm epsilon (1e-3 as in the original TensorFlow network;
            some ports use 1e-5). Recorded in every score's protocol.

    The network expects RGB in [-1, 1], usually 224x224 (see
    :mod:`vidgan_blocks.metrics.preprocess`); any T, H, W >= 1 runs. After
    ``Mixed_5c`` the port averages over 2x7x7 windows with stride 1, applies the 1x1x1
    logits convolution and averages the logits over time. We average the same
    windows and then over every remaining position, which is the port's result when
    the windows tile the map exactly once per time step (16 frames at 224x224 give a
    single 2x7x7 window) and its natural extension otherwise; since the logits layer
    is linear, ``logits = W features + b`` exactly.

    Attributes:
        weights_path, weights_sha256: set by :func:`load_i3d`; ``None`` for random weights.

    Shape:
        - x: ``(B, 3, T, H, W)`` float in [-1, 1]
        - output.logits: ``(B, num_classes)``; output.features: ``(B, 1024 * width)``
    """

    def __init__(self, num_classes: int = 400, *, width: float = 1.0, bn_eps: float = 1e-3) -> None:
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes: expected a positive int, got {num_classes!r}")
        if not width > 0:
            raise ValueError(f"width: expected a positive multiplier, got {width!r}")
        self.num_classes, self.width, self.bn_eps = num_classes, float(width), float(bn_eps)
        self.weights_path: str | None = None
        self.weights_sha256: str | None = None
        #: Run in channels-last (NDHWC) layout: 1.5x faster on CPU (oneDNN), no change in results.
        self.channels_last = True

        def c(n: int) -> int:
            return max(1, int(round(n * width)))

        unit = dict(bn_eps=bn_eps)
        self.Conv3d_1a_7x7 = _Unit3d(3, c(64), (7, 7, 7), (2, 2, 2), **unit)
        self.MaxPool3d_2a_3x3 = _MaxPoolSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = _Unit3d(c(64), c(64), **unit)
        self.Conv3d_2c_3x3 = _Unit3d(c(64), c(192), (3, 3, 3), **unit)
        self.MaxPool3d_3a_3x3 = _MaxPoolSame((1, 3, 3), (1, 2, 2))
        ch = c(192)
        for name in ("Mixed_3b", "Mixed_3c"):
            block = _Mixed(ch, [c(n) for n in _MIXED[name]], bn_eps)
            self.add_module(name, block)
            ch = block.out_channels
        self.MaxPool3d_4a_3x3 = _MaxPoolSame((3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            block = _Mixed(ch, [c(n) for n in _MIXED[name]], bn_eps)
            self.add_module(name, block)
            ch = block.out_channels
        self.MaxPool3d_5a_2x2 = _MaxPoolSame((2, 2, 2), (2, 2, 2))
        for name in ("Mixed_5b", "Mixed_5c"):
            block = _Mixed(ch, [c(n) for n in _MIXED[name]], bn_eps)
            self.add_module(name, block)
            ch = block.out_channels
        self.feature_dim = ch
        self.logits = _Unit3d(ch, num_classes, use_bn=False, use_bias=True, relu=False)
        self._trunk = (
            "Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
            "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
            "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c",
        )  # fmt: skip
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal convolutions (variance-preserving through the ReLUs), unit BN, zero biases.

        Only matters for random-weight networks (tests, benchmarks): with PyTorch's
        default convolution init the activations shrink layer after layer and all
        clips get nearly the same logits.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                m.reset_parameters()
        nn.init.normal_(self.logits.conv3d.weight, std=self.feature_dim**-0.5)

    def forward(self, x: torch.Tensor) -> I3DOutput:
        """Logits and pooled features of a batch of clips.

        Shape:
            - x: ``(B, 3, T, H, W)`` float in [-1, 1]
            - output.logits: ``(B, num_classes)``
            - output.features: ``(B, feature_dim)``
        """
        check_video(x, channels=3)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        for name in self._trunk:
            x = getattr(self, name)(x)  # ends [B, 1024, ceil(T/8), ceil(H/32), ceil(W/32)]
        t, h, w = x.shape[-3:]
        x = F.avg_pool3d(x, (min(2, t), min(7, h), min(7, w)), stride=1)
        features = x.mean(dim=(2, 3, 4))  # [B, 1024]
        logits = self.logits(features[:, :, None, None, None]).flatten(1)  # [B, num_classes]
        return I3DOutput(logits=logits, features=features)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_weights_path(
    path: str | os.PathLike[str] | None, *, env: str = I3D_WEIGHTS_ENV, expected: str = I3D_WEIGHTS_FILE
) -> Path:
    """The weight file to read: ``path``, else ``$env``; raises if neither names an existing file.

    Raises:
        FileNotFoundError: with the expected file name and how to provide it.
    """
    source = "argument"
    if path is None:
        path = os.environ.get(env) or None
        source = f"${env}"
    if path is None:
        raise FileNotFoundError(
            f"no I3D weight file given: expected a local copy of {expected!r} (the PyTorch InceptionI3d port of "
            f"the Kinetics I3D weights); pass its path, or set the environment variable {env}=/path/to/{expected}. "
            "Weights are never downloaded."
        )
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(
            f"I3D weight file {str(p)!r} (from {source}) does not exist: expected a local copy of {expected!r}; "
            f"pass the right path or set {env}."
        )
    return p


_PICKLED_CALLABLE = re.compile(r"GLOBAL (\S+) (?:was not|whose module)")


def _refused_pickle_message(path: str | os.PathLike[str], detail: str = "") -> str:
    """One line saying that ``path`` is refused because loading it would execute code.

    ``detail`` is the restricted unpickler's message; the callable it names, if any,
    is quoted.
    """
    m = _PICKLED_CALLABLE.search(detail)
    what = f"it calls {m.group(1)}" if m else "it holds pickled objects other than tensors"
    return (
        f"{str(path)!r} refused: loading it would execute code ({what}). Weight files must hold tensors only: "
        "a .safetensors file or a state dict of tensors saved with torch.save"
    )


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a tensor dictionary without running code from the file.

    ``.safetensors`` files are read with safetensors; anything else with
    ``torch.load(weights_only=True)``. A ``{"state_dict": ...}`` wrapper and a
    ``module.`` prefix on every key (``DataParallel``) are removed.

    Raises:
        ValueError: the file is not a dictionary of tensors, or it is a pickle that
            would execute code when loaded (refused, never run).
    """
    p = Path(path)
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        state: object = load_file(str(p))
    else:
        try:
            with warnings.catch_warnings():  # torch's note on the pickle protocol is noise here
                warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
                state = torch.load(str(p), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise ValueError(_refused_pickle_message(p, str(err))) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{str(p)!r}: expected a dictionary of tensors (a state dict), got {type(state).__name__}")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return dict(state)


def load_i3d(
    path: str | os.PathLike[str] | None = None,
    *,
    random_weights: bool = False,
    num_classes: int = 400,
    width: float | None = None,
    bn_eps: float = 1e-3,
    device: torch.device | str | None = None,
) -> I3D:
    """Build an :class:`I3D` in eval mode, with weights from a local file.

    Args:
        path: weight file in the ``InceptionI3d`` layout (``.pt``/``.pth`` or
            ``.safetensors``); ``None`` reads ``$VIDGAN_I3D_WEIGHTS``.
        random_weights: build a randomly initialised network instead (tests,
            benchmarks); ``path`` must then be ``None``. Scores record ``"random"``.
        num_classes: used with ``random_weights``; a file sets it from its logits layer.
        width: see :class:`I3D`; ``None`` reads it from the file (its first
            convolution has ``64 * width`` filters), or 1.0 for random weights.
        bn_eps: see :class:`I3D`.
        device: where to put the network.

    Raises:
        FileNotFoundError: no file given or the file is missing (names what is expected).
        ValueError: the file is refused because loading it would execute code, or it
            holds something other than a dictionary of tensors.
        RuntimeError: the file does not match the layout (``load_state_dict(strict=True)``).
    """
    if random_weights:
        if path is not None:
            raise ValueError("load_i3d: pass either a weight path or random_weights=True, not both")
        model = I3D(num_classes, width=1.0 if width is None else width, bn_eps=bn_eps)
    else:
        p = resolve_weights_path(path)
        state = load_state_dict_file(p)
        logits_w = state.get("logits.conv3d.weight")
        if logits_w is None:
            raise RuntimeError(
                f"{str(p)!r} is not an InceptionI3d state dict: key 'logits.conv3d.weight' is missing "
                f"(found e.g. {sorted(state)[:3]})"
            )
        if width is None:
            stem = state.get("Conv3d_1a_7x7.conv3d.weight")
            width = 1.0 if stem is None else stem.shape[0] / 64
        model = I3D(int(logits_w.shape[0]), width=width, bn_eps=bn_eps)
        model.load_state_dict(state, strict=True)
        model.weights_path, model.weights_sha256 = str(p), file_sha256(p)
    model.requires_grad_(False)
    model.eval()
    return model.to(device) if device is not None else model
