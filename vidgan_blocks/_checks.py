"""Input guards shared by every public forward.

Each guard is cheap (shape and dtype only, never the values) and raises an error
that names what was expected and what was received, so a wrong call fails at the
boundary of the block that received it instead of deep inside a convolution.

Checks of values (:func:`check_label_range`) read the tensor on the host. On an
accelerator that read waits for every queued kernel, so blocks only check values
of CPU tensors; accelerator values are checked where the data enters (the
trainer's batches, the label samplers), while they are still on the CPU.

Empty batches: :func:`check_video`, :func:`check_frames` and :func:`check_features`
refuse ``B = 0`` unless told otherwise (``allow_empty=True``), so every block, head,
recurrent unit, generator and discriminator raises a ``ValueError`` saying that a
non-empty batch is expected, instead of failing in a reshape that divides by the batch
size. Zero-length dimensions (no channels, no frames, no pixels) are refused the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "check_video",
    "check_frames",
    "check_features",
    "check_labels",
    "check_int",
    "check_positive_int",
    "check_pair",
    "check_label_range",
]


def _shape(x: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


def check_video(
    x: object,
    name: str = "x",
    *,
    channels: int | None = None,
    min_t: int = 1,
    min_hw: int | tuple[int, int] = 1,
    t: int | None = None,
    hw: tuple[int, int] | None = None,
    allow_empty: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a floating ``(B, C, T, H, W)`` video tensor.

    Args:
        x: the value to check.
        name: how the argument is called in the error message.
        channels: required C, if any.
        min_t: smallest allowed T.
        min_hw: smallest allowed H and W (one int for both, or a pair).
        t: required T, if any.
        hw: required (H, W), if any.
        allow_empty: accept an empty batch (``B = 0``).

    Returns:
        ``x`` unchanged, so the guard can be used inline.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point.
        ValueError: wrong rank, channel count, an empty batch, or too few frames / pixels.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (B, C, T, H, W), got {type(x).__name__}")
    c_txt = "C" if channels is None else str(channels)
    expected = f"(B, {c_txt}, T, H, W)"
    if x.dim() != 5:
        raise ValueError(f"{name}: expected a 5-D video tensor {expected}, got shape {_shape(x)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point video tensor, got dtype {x.dtype}")
    b, c, tt, h, w = x.shape
    if channels is not None and c != channels:
        raise ValueError(f"{name}: expected {expected} with C={channels}, got shape {_shape(x)}")
    if c < 1:
        raise ValueError(f"{name}: expected at least one channel, got shape {_shape(x)}")
    if b < 1 and not allow_empty:
        raise ValueError(f"{name}: expected a non-empty batch (B >= 1), got shape {_shape(x)}")
    if t is not None and tt != t:
        raise ValueError(f"{name}: expected T={t} frames, got shape {_shape(x)}")
    if tt < min_t:
        raise ValueError(f"{name}: expected at least T={min_t} frames, got shape {_shape(x)}")
    mh, mw = (min_hw, min_hw) if isinstance(min_hw, int) else min_hw
    if h < mh or w < mw:
        raise ValueError(f"{name}: expected H >= {mh} and W >= {mw}, got shape {_shape(x)}")
    if hw is not None and (h, w) != tuple(hw):
        raise ValueError(f"{name}: expected spatial size (H, W) = {tuple(hw)}, got shape {_shape(x)}")
    return x


def check_frames(
    x: object, name: str = "x", *, channels: int | None = None, min_hw: int = 1, allow_empty: bool = False
) -> torch.Tensor:
    """Check that ``x`` is a floating ``(N, C, H, W)`` batch of frames or feature maps (``N >= 1``)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    c_txt = "C" if channels is None else str(channels)
    if x.dim() != 4:
        raise ValueError(f"{name}: expected a 4-D tensor (N, {c_txt}, H, W), got shape {_shape(x)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected (N, {channels}, H, W), got shape {_shape(x)}")
    if x.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one channel, got shape {_shape(x)}")
    if x.shape[0] < 1 and not allow_empty:
        raise ValueError(f"{name}: expected a non-empty batch (N >= 1), got shape {_shape(x)}")
    if x.shape[2] < min_hw or x.shape[3] < min_hw:
        raise ValueError(f"{name}: expected H, W >= {min_hw}, got shape {_shape(x)}")
    return x


def check_features(
    x: object,
    name: str,
    dim: int | None = None,
    *,
    batch: int | None = None,
    like: str = "x",
    per_step: bool = False,
    allow_empty: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a floating ``(B, F)`` feature vector per sample (``(B, F, T)`` if ``per_step``).

    Used for conditioning vectors, noise and pooled discriminator features.

    Args:
        x: the value to check.
        name: how the argument is called in the error message.
        dim: required F, if any (F >= 1 always).
        batch: required B, if any (the batch of another argument, named by ``like``).
        per_step: expect one vector per time step, ``(B, F, T)`` with ``T >= 1``.
        allow_empty: accept an empty batch (``B = 0``).

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point.
        ValueError: wrong rank, feature size, batch size, or a zero-length dimension.
    """
    f_txt = "F" if dim is None else str(dim)
    b_txt = "B" if batch is None else str(batch)
    expected = f"({b_txt}, {f_txt}, T)" if per_step else f"({b_txt}, {f_txt})"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape {expected}, got {type(x).__name__}")
    if x.dim() != (3 if per_step else 2):
        raise ValueError(f"{name}: expected shape {expected}, got shape {_shape(x)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor of shape {expected}, got dtype {x.dtype}")
    if (dim is not None and x.shape[1] != dim) or x.shape[1] < 1:
        raise ValueError(f"{name}: expected shape {expected}, got shape {_shape(x)}")
    if batch is not None and x.shape[0] != batch:
        raise ValueError(f"{name}: expected shape {expected} (batch size matching {like}), got shape {_shape(x)}")
    if per_step and x.shape[2] < 1:
        raise ValueError(f"{name}: expected at least one time step (T >= 1), got shape {_shape(x)}")
    if x.shape[0] < 1 and not allow_empty:
        raise ValueError(f"{name}: expected a non-empty batch (B >= 1), got shape {_shape(x)}")
    return x


def check_labels(y: object, num_classes: int, batch: int, name: str = "y", *, dtypes: str = "integer") -> torch.Tensor:
    """Check that ``y`` holds ``batch`` class labels in ``[0, num_classes)``.

    Shape and dtype always; the values only for CPU tensors (see :func:`check_label_range`).

    Args:
        y: the value to check.
        num_classes: number of classes.
        batch: required number of labels.
        name: how the argument is called in the error message.
        dtypes: ``"integer"`` (int32 or int64, what embeddings take) or ``"int64"``.

    Raises:
        ValueError: not an integer tensor of shape ``(batch,)``, or (CPU) a label out of range.
    """
    allowed = (torch.int64,) if dtypes == "int64" else (torch.int32, torch.int64)
    if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.shape[0] != batch or y.dtype not in allowed:
        got = f"shape {_shape(y)} dtype {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"{name}: expected {dtypes} labels of shape ({batch},), got {got}")
    return check_label_range(y, num_classes, name)


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Check that ``value`` is an int (bools refused) and at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} ({value!r})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return value


def check_positive_int(value: object, name: str) -> int:
    """Check that ``value`` is an int >= 1."""
    return check_int(value, name, minimum=1)


def check_pair(value: object, name: str) -> tuple[int, int]:
    """Normalise an int or a pair of ints to a ``(h, w)`` tuple of positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, Sequence) and len(value) == 2:
        pair = (value[0], value[1])
    else:
        raise TypeError(f"{name}: expected an int or a pair (h, w) of ints, got {value!r}")
    for v in pair:
        check_positive_int(v, name)
    return (int(pair[0]), int(pair[1]))


def check_label_range(y: torch.Tensor, num_classes: int, name: str = "y", *, force: bool = False) -> torch.Tensor:
    """Check that integer labels lie in ``[0, num_classes)``.

    The check reads the labels' extremes on the host. It runs for CPU tensors (where
    that read is free) and is skipped for accelerator tensors unless ``force`` is set
    (a synchronisation: use it where data enters, never per step), and always while
    ``torch.compile`` traces (a host read would break the graph).

    Returns:
        ``y`` unchanged.

    Raises:
        ValueError: a label is negative or not below ``num_classes``.
    """
    if not y.numel() or torch.compiler.is_compiling() or (y.device.type != "cpu" and not force):
        return y
    lo, hi = torch.stack(torch.aminmax(y)).tolist()
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"{name}: labels must lie in [0, {num_classes - 1}], got range [{lo}, {hi}]")
    return y
