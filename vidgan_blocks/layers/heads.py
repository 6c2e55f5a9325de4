"""Discriminator output heads: projection and mixed projection.

Projection discriminator (Miyato and Koyama; used by DVD-GAN A.3 and BigGAN): from
pooled features ``h_b`` the head gives ``o_b = w . h_b + c + <e(y_b), h_b>`` where
``e`` is a learned class embedding. Without classes the last term is dropped.

Mixed projection (TrIVD-GAN-FP appendix E.1, eq. 15): from per-time features
``h_{b,t}`` it extracts ``r_x[b, t] = w . h_{b,t} + c`` and
``r_xy[b, t] = <e(y_b), h_{b,t}>`` and returns ``B x B x T`` outputs

    o[b, b', t] = r_x[b, t] + sum_{t'} r_xy[b', t'].

Video prediction has no classes: TrIVD-GAN-FP uses a constant zero class label,
which is the default here (``num_classes=1``, ``y`` omitted).
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_features, check_labels, check_positive_int
from .spectral import SNEmbedding, SNLinear

__all__ = ["ProjectionHead", "MixedProjectionHead"]


def _check_labels(y: torch.Tensor | None, batch: int, num_classes: int | None, *, default_zero: bool) -> torch.Tensor | None:
    if y is None:
        if num_classes is not None and not default_zero:
            raise ValueError(f"y: this head is class-conditional ({num_classes} classes); pass labels of shape ({batch},)")
        return None
    if num_classes is None:
        raise ValueError("y: this head is unconditional (num_classes=None) but labels were given")
    # Values are only checked on the CPU: on a GPU the read would stall every forward pass,
    # and the trainer checks the labels of each batch before moving it to the device.
    return check_labels(y, num_classes, batch)


class ProjectionHead(nn.Module):
    """Per-sample score from pooled features, with optional class projection.

    Args:
        in_features: F, the size of the pooled feature vector.
        num_classes: number of classes, or ``None`` for an unconditional head.
        sn: spectral norm on the linear map and the embedding.

    Shape:
        - h: ``(B, F)`` floating point, ``B >= 1``
        - y: ``(B,)`` int64 labels (required iff ``num_classes`` is set)
        - output: ``(B,)``
    """

    def __init__(self, in_features: int, num_classes: int | None = None, *, sn: bool = True) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.num_classes = None if num_classes is None else check_positive_int(num_classes, "num_classes")
        self.linear = SNLinear(in_features, 1, sn=sn)
        self.embed = SNEmbedding(num_classes, in_features, sn=sn) if num_classes is not None else None

    def forward(self, h: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_features(h, "h", self.in_features)  # pooled features
        y = _check_labels(y, h.shape[0], self.num_classes, default_zero=False)
        out = self.linear(h).squeeze(1)
        if self.embed is not None and y is not None:
            out = out + (self.embed(y) * h).sum(dim=1)
        return out


class MixedProjectionHead(nn.Module):
    """Mixed projection head of TrIVD-GAN-FP (eq. 15): ``B x B x T`` outputs.

    Args:
        in_features: F, the feature size at every time step.
        num_classes: number of classes (default 1: the constant zero label used
            for video prediction).
        sn: spectral norm on the linear map and the embedding.

    Shape:
        - h: ``(B, F, T)`` features pooled over space, one vector per time step (``B, T >= 1``)
        - y: ``(B,)`` int64 labels, default all zeros
        - output: ``(B, B, T)`` with ``out[b, b', t] = r_x[b, t] + sum_t' r_xy[b', t']``
    """

    def __init__(self, in_features: int, num_classes: int = 1, *, sn: bool = True) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.linear = SNLinear(in_features, 1, sn=sn)
        self.embed = SNEmbedding(num_classes, in_features, sn=sn)

    def forward(self, h: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        check_features(h, "h", self.in_features, per_step=True)
        b = h.shape[0]
        y = _check_labels(y, b, self.num_classes, default_zero=True)
        if y is None:
            y = torch.zeros(b, dtype=torch.long, device=h.device)
        r_x = self.linear(h.transpose(1, 2)).squeeze(2)  # [B, T]
        r_xy = torch.einsum("bf,bft->bt", self.embed(y), h)  # [B, T]
        return r_x[:, None, :] + r_xy.sum(dim=1)[None, :, None]
