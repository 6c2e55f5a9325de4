"""Orthogonal regularisation (BigGAN; TrIVD-GAN-FP E.2 uses weight 1e-4 on G)."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["orthogonal_regularization"]


def orthogonal_regularization(
    module: nn.Module,
    weight: float = 1e-4,
    *,
    exclude: Iterable[type[nn.Module]] = (nn.Embedding,),
) -> torch.Tensor:
    """BigGAN's off-diagonal orthogonality penalty, summed over the weight matrices.

    For every weight ``W`` with at least two dimensions, viewed as a ``(out, -1)``
    matrix, the penalty is ``weight * || W W^T * (1 - I) ||_F^2``: it pushes rows to
    be orthogonal without constraining their norms. Spectral-normalised layers are
    penalised on their raw (un-normalised) weight, the parameter the optimiser sees.

    Args:
        module: the network (usually the generator).
        weight: the coefficient (1e-4 in TrIVD-GAN-FP).
        exclude: module types whose weights are skipped (class embeddings by default).

    Returns:
        A scalar tensor, to be added to the generator loss.
    """
    if weight < 0:
        raise ValueError(f"weight: expected a non-negative coefficient, got {weight}")
    skip = tuple(exclude)
    total: torch.Tensor | None = None
    for m in module.modules():
        if skip and isinstance(m, skip):
            continue
        params = m.parametrizations.weight.original if hasattr(m, "parametrizations") and "weight" in m.parametrizations else getattr(m, "weight", None)
        if not isinstance(params, torch.Tensor) or params.dim() < 2 or not params.requires_grad:
            continue
        w = params.reshape(params.shape[0], -1)
        gram = w @ w.T
        off = gram - torch.diag_embed(torch.diagonal(gram))
        term = off.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros((), device=next((p.device for p in module.parameters()), torch.device("cpu")))
    return weight * total
