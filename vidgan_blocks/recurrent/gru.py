"""Convolutional GRUs: ConvGRU (TrIVD-GAN-FP eq. 1-5) and DVD-GAN's multiplicative ConvGRU (A.2)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._checks import check_positive_int
from ..layers.spectral import SNConv2d
from .base import ActLayer, RecurrentUnit, conv, split_fuse

__all__ = ["ConvGRU", "MultiplicativeConvGRU"]


def _odd_kernel(kernel_size: int) -> int:
    k = check_positive_int(kernel_size, "kernel_size")
    if k % 2 == 0:
        raise ValueError(f"kernel_size: expected an odd int (same-size convolution), got {k}")
    return k


class ConvGRU(RecurrentUnit):
    """Convolutional GRU (Ballas et al.), as written in TrIVD-GAN-FP eq. 1-5::

        r   = sigmoid(W_r *k [h_{t-1}; x_t] + b_r)
        h'  = r * h_{t-1}
        c   = rho(W_c *k [h'; x_t] + b_c)
        u   = sigmoid(W_u *k [h_{t-1}; x_t] + b_u)
        h_t = u * h_{t-1} + (1 - u) * c

    ``rho`` is ReLU by default, as in DVD-GAN-FP and TrIVD-GAN-FP appendix F.1.
    The ``x_t`` halves of all three convolutions run once over all frames; the
    ``h_{t-1}`` halves of ``r`` and ``u`` share one convolution per step.

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: channels of ``h_t``.
        kernel_size: odd ``k`` of the gate convolutions.
        act_layer: builds ``rho`` (a module class or factory).
        sn: spectral norm on every convolution.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, hidden_channels)
        k = _odd_kernel(kernel_size)
        cat = hidden_channels + in_channels
        self.conv_r = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.conv_u = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.conv_c = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.act = act_layer()

    def _prepare(self) -> dict[str, Any]:
        ch = self.hidden_channels
        w_h, w_x, b = split_fuse([self.conv_r, self.conv_u, self.conv_c], ch)
        return {"w_h_ru": w_h[: 2 * ch], "w_h_c": w_h[2 * ch :], "w_x": w_x, "b_x": b}

    def _project(self, xf: torch.Tensor, p: dict[str, Any]) -> list[torch.Tensor]:
        return [conv(xf, p["w_x"], p["b_x"])]  # [N, 3*C_h, H, W]: r, u, c parts

    def _cell(self, xp: list[torch.Tensor], h: torch.Tensor, p: dict[str, Any]):
        ch = self.hidden_channels
        x_ru, x_c = xp[0].split([2 * ch, ch], dim=1)
        r, u = torch.sigmoid(conv(h, p["w_h_ru"]) + x_ru).chunk(2, dim=1)
        c = self.act(conv(r * h, p["w_h_c"]) + x_c)
        return torch.lerp(c, h, u), None  # u * h + (1 - u) * c


class MultiplicativeConvGRU(RecurrentUnit):
    """Multiplicative convolutional GRU of DVD-GAN (appendix A.2)::

        g   = (W_gh *1 h_{t-1} + b_gh) * (W_gx *1 x_t + b_gx)
        r   = sigmoid(W_r *k [g; x_t] + b_r)
        u   = sigmoid(W_u *k [g; x_t] + b_u)
        c   = rho(W_c *k [x_t; r * g] + b_c)
        h_t = u * g + (1 - u) * c

    ``rho`` is ReLU by default (DVD-GAN A.2) and ``k = 3``. The 1x1 input
    gating and the ``x_t`` parts of ``r``, ``u``, ``c`` run once over all frames.

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: channels of ``h_t``.
        kernel_size: odd ``k`` of the ``r``, ``u``, ``c`` convolutions.
        act_layer: builds ``rho``.
        sn: spectral norm on every convolution.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, hidden_channels)
        k = _odd_kernel(kernel_size)
        cat = hidden_channels + in_channels
        self.conv_gh = SNConv2d(hidden_channels, hidden_channels, 1, sn=sn)
        self.conv_gx = SNConv2d(in_channels, hidden_channels, 1, sn=sn)
        self.conv_r = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)  # over [g; x]
        self.conv_u = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)  # over [g; x]
        self.conv_c = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)  # over [x; r*g]
        self.act = act_layer()

    def _prepare(self) -> dict[str, Any]:
        ch, cin = self.hidden_channels, self.in_channels
        w_g_ru, w_x_ru, b_ru = split_fuse([self.conv_r, self.conv_u], ch)
        w_x_c, w_g_c, b_c = split_fuse([self.conv_c], cin)
        return {
            "w_gh": self.conv_gh.weight,
            "b_gh": self.conv_gh.bias,
            "w_gx": self.conv_gx.weight,
            "b_gx": self.conv_gx.bias,
            "w_g_ru": w_g_ru,
            "w_g_c": w_g_c,
            "w_x": torch.cat([w_x_ru, w_x_c], dim=0),
            "b_x": torch.cat([b_ru, b_c], dim=0),  # type: ignore[list-item]
        }

    def _project(self, xf: torch.Tensor, p: dict[str, Any]) -> list[torch.Tensor]:
        return [conv(xf, p["w_gx"], p["b_gx"]), conv(xf, p["w_x"], p["b_x"])]

    def _cell(self, xp: list[torch.Tensor], h: torch.Tensor, p: dict[str, Any]):
        ch = self.hidden_channels
        gx, x_rest = xp
        x_ru, x_c = x_rest.split([2 * ch, ch], dim=1)
        g = conv(h, p["w_gh"], p["b_gh"]) * gx
        r, u = torch.sigmoid(conv(g, p["w_g_ru"]) + x_ru).chunk(2, dim=1)
        c = self.act(conv(r * g, p["w_g_c"]) + x_c)
        return torch.lerp(c, g, u), None  # u * g + (1 - u) * c
