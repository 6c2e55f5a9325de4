"""Geometric hinge loss (TrIVD-GAN-FP appendix E.1, eq. 13-14; SSW-GAN B.1).

Sign convention: the discriminator outputs a *realness* score — large for real
videos, small (negative) for generated ones.

* Discriminator (eq. 13): ``mean_d relu(1 - D(x)_d) + mean_d relu(1 + D(G(z))_d)``
* Generator (eq. 14): ``- mean_d D(G(z))_d``

where ``d`` runs over every output of every discriminator and every sample. When
several discriminators are used their outputs are concatenated and the mean is
taken over the concatenation ("We concatenate the output of both discriminators
and use a geometric hinge loss. The loss is averaged over samples and outputs",
SSW-GAN B.1), so a discriminator with more output locations weighs more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

import torch
import torch.nn.functional as F

__all__ = ["DiscriminatorOutputs", "flatten_outputs", "d_hinge_loss", "g_hinge_loss"]

DiscriminatorOutputs = Union[torch.Tensor, Sequence[torch.Tensor], Mapping[str, torch.Tensor]]


def flatten_outputs(outputs: DiscriminatorOutputs, name: str = "outputs") -> torch.Tensor:
    """Concatenate one tensor, a sequence or a name -> tensor mapping into one 1-D tensor.

    Mappings are read in sorted key order so real and fake outputs line up.
    """
    if isinstance(outputs, torch.Tensor):
        parts = [outputs]
    elif isinstance(outputs, Mapping):
        if not outputs:
            raise ValueError(f"{name}: got an empty mapping of discriminator outputs")
        parts = [outputs[k] for k in sorted(outputs)]
    elif isinstance(outputs, Sequence) and not isinstance(outputs, (str, bytes)):
        if not outputs:
            raise ValueError(f"{name}: got an empty sequence of discriminator outputs")
        parts = list(outputs)
    else:
        raise TypeError(f"{name}: expected a tensor, a sequence of tensors or a mapping name -> tensor, got {type(outputs).__name__}")
    for i, p in enumerate(parts):
        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            got = p.dtype if isinstance(p, torch.Tensor) else type(p).__name__
            raise TypeError(f"{name}[{i}]: expected a floating-point tensor, got {got}")
        if p.numel() == 0:
            raise ValueError(f"{name}[{i}]: got an empty tensor of shape {tuple(p.shape)}")
    return torch.cat([p.reshape(-1) for p in parts])


def _check_same_keys(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> None:
    if isinstance(real, Mapping) and isinstance(fake, Mapping) and set(real) != set(fake):
        raise ValueError(f"real and fake outputs come from different discriminators: {sorted(real)} vs {sorted(fake)}")


def d_hinge_loss(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> torch.Tensor:
    """Discriminator geometric hinge loss (eq. 13); minimise it.

    Args:
        real: discriminator outputs on real videos (tensor, sequence or mapping).
        fake: discriminator outputs on generated videos, same structure.

    Returns:
        Scalar ``mean(relu(1 - real)) + mean(relu(1 + fake))``.
    """
    _check_same_keys(real, fake)
    r = flatten_outputs(real, "real")
    f = flatten_outputs(fake, "fake")
    return F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()


def g_hinge_loss(fake: DiscriminatorOutputs) -> torch.Tensor:
    """Generator hinge loss (eq. 14); minimise it: ``-mean(D(G(z)))``."""
    return -flatten_outputs(fake, "fake").mean()
