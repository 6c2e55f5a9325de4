"""Sampling helpers: noise with truncation, fixed seeds, class choice, batched sampling.

Truncation (BigGAN, used for DVD-GAN's samples) trades variety for quality by
keeping the noise close to the mode. Two forms are offered:

* ``"resample"``: every entry with ``|z_i| > threshold`` is redrawn until it falls
  inside ``[-threshold, threshold]`` (a truncated normal);
* ``"scale"``: ``z = sigma * N(0, I)`` (a narrower normal).

A ``seed`` gives a private ``torch.Generator`` so that the same seed always
yields the same noise and labels, independently of the global RNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from .._checks import check_int, check_positive_int

__all__ = ["make_generator", "sample_noise", "sample_labels", "sample_videos", "TruncationMode"]

TruncationMode = Literal["resample", "scale"]


def make_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator | None:
    """A ``torch.Generator`` seeded with ``seed`` on ``device``, or None when ``seed`` is None."""
    if seed is None:
        return None
    gen = torch.Generator(device=device)
    gen.manual_seed(check_int(seed, "seed", minimum=0))
    return gen


def sample_noise(
    batch: int,
    dim: int,
    *,
    truncation: float | None = None,
    mode: TruncationMode = "resample",
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Draw ``(batch, dim)`` standard normal noise, optionally truncated.

    Args:
        batch, dim: output shape.
        truncation: threshold (``"resample"``) or standard deviation (``"scale"``);
            None for plain ``N(0, I)``.
        mode: ``"resample"`` or ``"scale"``.
        seed: seed of a private generator (ignored when ``generator`` is given).
        generator: a ``torch.Generator`` to draw from.
        device, dtype: of the result.

    Returns:
        A ``(batch, dim)`` tensor; with ``mode="resample"`` every entry lies in
        ``[-truncation, truncation]``.
    """
    check_positive_int(batch, "batch")
    check_positive_int(dim, "dim")
    if mode not in ("resample", "scale"):
        raise ValueError(f"mode: expected 'resample' or 'scale', got {mode!r}")
    if truncation is not None and not truncation > 0:
        raise ValueError(f"truncation: expected a positive float, got {truncation}")
    gen = generator if generator is not None else make_generator(seed, device)
    gen_device = gen.device if gen is not None else torch.device(device)
    z = torch.randn(batch, dim, generator=gen, device=gen_device)
    if truncation is not None:
        if mode == "scale":
            z = z * truncation
        else:
            # Redraw the entries outside the threshold until none is left. Each
            # round keeps a fixed fraction, so the loop ends after a few rounds
            # even for small thresholds.
            bad = z.abs() > truncation
            while bool(bad.any()):
                z = torch.where(bad, torch.randn(z.shape, generator=gen, device=gen_device), z)
                bad = z.abs() > truncation
    return z.to(device=device, dtype=dtype)


def sample_labels(
    batch: int,
    num_classes: int,
    *,
    classes: Sequence[int] | int | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Class labels ``(batch,)`` int64: uniform over ``num_classes`` or over a chosen set.

    Args:
        batch: number of labels.
        num_classes: number of classes of the model.
        classes: one class for every sample, or a sequence of classes to draw
            uniformly from; None draws from all classes.
        seed, generator, device: as in :func:`sample_noise`.
    """
    check_positive_int(batch, "batch")
    check_positive_int(num_classes, "num_classes")
    if isinstance(classes, int) and not isinstance(classes, bool):
        choice = [classes]
    elif classes is None:
        choice = list(range(num_classes))
    else:
        choice = [check_int(c, "classes") for c in classes]
        if not choice:
            raise ValueError("classes: expected at least one class, got an empty sequence")
    for c in choice:
        if not 0 <= c < num_classes:
            raise ValueError(f"classes: expected labels in [0, {num_classes}), got {c}")
    gen = generator if generator is not None else make_generator(seed, device)
    gen_device = gen.device if gen is not None else torch.device(device)
    idx = torch.randint(len(choice), (batch,), generator=gen, device=gen_device)
    return torch.tensor(choice, dtype=torch.long, device=gen_device)[idx].to(device)


@torch.no_grad()
def sample_videos(
    model: nn.Module,
    num: int,
    *,
    batch_size: int = 16,
    truncation: float | None = None,
    mode: TruncationMode = "resample",
    classes: Sequence[int] | int | None = None,
    seed: int | None = None,
    device: torch.device | str | None = None,
    **context: torch.Tensor,
) -> torch.Tensor:
    """Draw ``num`` videos from a generator in batches, without gradients.

    Noise (and labels, when the model has ``num_classes``) come from one generator
    seeded with ``seed``, so equal seeds give equal samples. Context tensors
    (``cond_frames=``, ``low_res=``) must have ``num`` entries and are split into the
    same batches. The model's train/eval mode is left as it is.

    Shape:
        - context tensors: ``(num, ...)``
        - output: ``(num, 3, T, H, W)`` on ``device``
    """
    check_positive_int(num, "num")
    check_positive_int(batch_size, "batch_size")
    z_dim = check_positive_int(getattr(model, "z_dim", None), "model.z_dim")
    num_classes = getattr(model, "num_classes", None)
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    for key, value in context.items():
        if not isinstance(value, torch.Tensor) or value.shape[0] != num:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{key}: expected a tensor with {num} entries in its first dimension, got {got}")
    gen = make_generator(seed if seed is not None else int(torch.randint(2**31, ()).item()))
    z = sample_noise(num, z_dim, truncation=truncation, mode=mode, generator=gen).to(device)
    y = None
    if num_classes is not None and (num_classes > 1 or classes is not None):
        y = sample_labels(num, num_classes, classes=classes, generator=gen).to(device)
    out = []
    for start in range(0, num, batch_size):
        sl = slice(start, start + batch_size)
        ctx = {k: v[sl].to(device) for k, v in context.items()}
        out.append(model(z[sl], None if y is None else y[sl], **ctx))
    return torch.cat(out, dim=0)
