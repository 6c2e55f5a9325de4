"""Spectral-normalised, orthogonally initialised layers.

All five papers apply spectral normalisation to every weight layer of G and D,
estimating the first singular value with one power iteration per update, and
initialise weights orthogonally (DVD-GAN A.3, TrIVD-GAN-FP E.2, SSW-GAN A).

The layers below are the plain ``torch.nn`` layers with ``nn.init.orthogonal_``
applied to the weight, a zero bias, and (unless ``sn=False``)
``torch.nn.utils.parametrizations.spectral_norm`` registered on the weight.

One power iteration runs at every access of ``.weight`` in training mode. A
discriminator is called several times per step (real, fake, several
decompositions); wrap the step in :func:`spectral_norm_cache` to run the power
iteration once per step and reuse the normalised weight: the weight is divided
by the same power-iteration estimate of sigma as without the cache, but ``u``
advances once per step (as in BigGAN) instead of once per call.
``benchmarks/bench_spectral_norm.py`` measures the cost of both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _torch_spectral_norm

__all__ = [
    "SNConv2d",
    "SNConv3d",
    "SNConv1d",
    "SNLinear",
    "SNEmbedding",
    "orthogonal_init_",
    "apply_spectral_norm",
    "spectral_norm_cache",
    "freeze_spectral_norm",
    "has_spectral_norm",
]

SN_EPS = 1e-6


def orthogonal_init_(module: nn.Module) -> nn.Module:
    """Orthogonal weight, zero bias, in place; returns ``module``.

    The weight is viewed as a ``(out, in * k...)`` matrix (``nn.init.orthogonal_``).
    """
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
        nn.init.orthogonal_(weight)
    bias = getattr(module, "bias", None)
    if isinstance(bias, torch.Tensor):
        nn.init.zeros_(bias)
    return module


def apply_spectral_norm(module: nn.Module, *, n_power_iterations: int = 1, eps: float = SN_EPS) -> nn.Module:
    """Register a spectral-norm parametrization on ``module.weight`` (one power iteration)."""
    return _torch_spectral_norm(module, n_power_iterations=n_power_iterations, eps=eps)


def has_spectral_norm(module: nn.Module) -> bool:
    """Whether ``module.weight`` is spectral-normalised by a parametrization."""
    return parametrize.is_parametrized(module, "weight")


@contextlib.contextmanager
def spectral_norm_cache() -> Iterator[None]:
    """Compute each spectral-normalised weight once inside the block, then reuse it.

    Use around a whole training step (all discriminator calls, the loss and the
    backward pass). The power iteration then advances once per step, as in the
    original BigGAN implementation, instead of once per call.
    """
    with parametrize.cached():
        yield


def freeze_spectral_norm(module: nn.Module) -> nn.Module:
    """Stop the power iteration (keep ``u``, ``v`` fixed) without changing other modes.

    The spectral-norm parametrizations are put in eval mode while the rest of the
    model keeps its mode, so batch norm can still use batch statistics. Useful
    for ``gradcheck`` and for exact comparisons between two forward passes.
    """
    for m in module.modules():
        if type(m).__name__ == "_SpectralNorm":
            m.eval()
    return module


class SNConv2d(nn.Conv2d):
    """``nn.Conv2d`` with orthogonal init and (by default) spectral norm.

    Takes every ``nn.Conv2d`` argument plus ``sn: bool = True``.
    """

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNConv3d(nn.Conv3d):
    """``nn.Conv3d`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNConv1d(nn.Conv1d):
    """``nn.Conv1d`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNLinear(nn.Linear):
    """``nn.Linear`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNEmbedding(nn.Embedding):
    """``nn.Embedding`` with orthogonal init and (by default) spectral norm.

    Used for class embeddings in the projection discriminator (BigGAN style).
    """

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        nn.init.orthogonal_(self.weight)
        if sn:
            apply_spectral_norm(self)
