"""Transformation-based recurrent units of TrIVD-GAN-FP: TSRU (c/p/s), PTSRU and K-TrajGRU.

Each unit predicts per-pixel warping kernels ``theta = f(h_{t-1}, x_t)`` with a
hypernetwork (:mod:`vidgan_blocks.recurrent.hyper`), warps its previous state
with them (:func:`vidgan_blocks.ops.kernel_warp`, eq. 11) and mixes the warped
state with newly generated content. The kernels of the last call are kept in
``last_kernels`` (``(B, k*k, T, H, W)``, detached) for the motion read-out in
:mod:`vidgan_blocks.recurrent.motion`.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from .._checks import check_positive_int
from ..layers.spectral import SNConv2d
from ..ops.warp import kernel_warp
from .base import ActLayer, RecurrentUnit, conv, split_fuse
from .gru import _odd_kernel
from .hyper import FactorizedKernelNet, PixelwiseKernelNet

__all__ = ["TSRU", "PTSRU", "KTrajGRU", "TSRUVariant"]

TSRUVariant = Literal["c", "p", "s"]
_VARIANTS = ("c", "p", "s")


class TSRU(RecurrentUnit):
    """Transformation-based Spatial Recurrent Unit (TrIVD-GAN-FP section 3.2, eq. 6-10)::

        theta    = f(h_{t-1}, x_t)                         (6)
        h~_{t-1} = w(h_{t-1}; theta)                       (7)
        c        = rho(W_c *k [h~_{t-1}; x_t] + b_c)       (8)
        u        = sigmoid(W_u *k [h_{t-1}; x_t] + b_u)    (9)
        h_t      = u * h~_{t-1} + (1 - u) * c              (10)

    That is ``variant="c"``. The two other variants change the information flow:

    * ``"p"`` computes ``theta``, ``u`` and ``c`` in parallel from
      ``[h_{t-1}; x_t]``: eq. 8 becomes ``c = rho(W_c *k [h_{t-1}; x_t] + b_c)``.
      All per-step convolutions then share one convolution of ``h_{t-1}``, which
      makes it the cheapest variant (TrIVD-GAN-FP's final model uses it).
    * ``"s"`` is fully sequential: eq. 9 becomes
      ``u = sigmoid(W_u *k [h~_{t-1}; c] + b_u)``.

    ``f`` is the factorized hypernetwork (:class:`FactorizedKernelNet`: ``N``
    kernels of ``k x k`` plus a selection map, eq. 12; ``N = k*k = 9`` in the
    paper) and ``w`` is :func:`vidgan_blocks.ops.kernel_warp` (eq. 11).
    ``rho`` is ReLU by default, following the ConvGRU it replaces (F.1).

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: channels of ``h_t``.
        variant: ``"c"``, ``"p"`` or ``"s"``.
        kernel_size: odd ``k`` of the gate convolutions and of the
            hypernetwork's convolutions.
        warp_kernel_size: ``k`` of the warping kernels.
        num_kernels: ``N`` (factorized warping); ``warp_kernel_size**2`` when None.
        act_layer: builds ``rho``.
        sn: spectral norm on every convolution and linear layer.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        variant: TSRUVariant = "p",
        kernel_size: int = 3,
        warp_kernel_size: int = 3,
        num_kernels: int | None = None,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, hidden_channels)
        if variant not in _VARIANTS:
            raise ValueError(f"variant: expected one of {_VARIANTS}, got {variant!r}")
        self.variant = variant
        k = _odd_kernel(kernel_size)
        self.warp_kernel_size = check_positive_int(warp_kernel_size, "warp_kernel_size")
        cat = hidden_channels + in_channels
        self.hyper = self._build_hyper(cat, k, num_kernels, sn)
        self.conv_c = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        # c / p: u over [h_{t-1}; x_t]; s: u over [h~_{t-1}; c].
        u_in = 2 * hidden_channels if variant == "s" else cat
        self.conv_u = SNConv2d(u_in, hidden_channels, k, padding=k // 2, sn=sn)
        self.act = act_layer()

    def _build_hyper(self, cat: int, k: int, num_kernels: int | None, sn: bool) -> nn.Module:
        return FactorizedKernelNet(cat, self.warp_kernel_size, num_kernels, conv_kernel_size=k, sn=sn)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, variant={self.variant!r}, warp_kernel_size={self.warp_kernel_size}"

    def _stage1(self) -> list[nn.Conv2d]:
        """Convolutions over ``[h_{t-1}; x_t]``, applied together to ``h_{t-1}`` at each step."""
        convs = list(self.hyper.input_convs)
        if self.variant == "p":
            convs.append(self.conv_c)
        if self.variant in ("c", "p"):
            convs.append(self.conv_u)
        return convs

    def _prepare(self) -> dict[str, Any]:
        ch = self.hidden_channels
        stage1 = self._stage1()
        w_h, w_x, b_x = split_fuse(stage1, ch)
        p: dict[str, Any] = {"w_h": w_h, "hyper": self.hyper.params(), "n1": w_h.shape[0]}
        if self.variant != "p":  # c sees the warped state: its h-part runs after the warp
            w_hc, w_xc, b_c = split_fuse([self.conv_c], ch)
            p["w_h_c"] = w_hc
            w_x = torch.cat([w_x, w_xc], dim=0)
            b_x = torch.cat([b_x, b_c], dim=0)  # type: ignore[list-item]
        if self.variant == "s":
            p["w_u"], p["b_u"] = self.conv_u.weight, self.conv_u.bias
        p["w_x"], p["b_x"] = w_x, b_x
        p["n_hyper"] = sum(c.out_channels for c in self.hyper.input_convs)
        return p

    def _project(self, xf: torch.Tensor, p: dict[str, Any]) -> list[torch.Tensor]:
        return [conv(xf, p["w_x"], p["b_x"])]

    def _cell(self, xp: list[torch.Tensor], h: torch.Tensor, p: dict[str, Any]):
        ch, nh = self.hidden_channels, p["n_hyper"]
        # Channel groups are taken with split (its backward concatenates the gradients
        # once) rather than slicing (each slice's backward zero-fills a full-size buffer).
        if self.variant == "p":
            z = conv(h, p["w_h"]) + xp[0]  # [B, n_hyper + 2*C_h, H, W]
            pre, c_pre, u_pre = z.split([nh, ch, ch], dim=1)
        else:
            x1, x_c = xp[0].split([p["n1"], ch], dim=1)
            z = conv(h, p["w_h"]) + x1
            pre, u_pre = z.split([nh, ch], dim=1) if self.variant == "c" else (z, None)
        kernels = self.hyper.kernels_from(pre, p["hyper"])  # eq. 6 (+ eq. 12)
        h_warp = kernel_warp(h, kernels)  # eq. 7
        if self.variant == "p":
            c = self.act(c_pre)
            u = torch.sigmoid(u_pre)
        else:
            c = self.act(conv(h_warp, p["w_h_c"]) + x_c)  # eq. 8
            if u_pre is not None:
                u = torch.sigmoid(u_pre)  # eq. 9
            else:
                u = torch.sigmoid(conv(torch.cat([h_warp, c], dim=1), p["w_u"], p["b_u"]))
        return torch.lerp(c, h_warp, u), kernels  # eq. 10: u * h~ + (1 - u) * c


class PTSRU(TSRU):
    """Pixelwise TSRU (TrIVD-GAN-FP section 3.2): a TSRU whose hypernetwork predicts a
    ``k x k`` kernel at every pixel directly (:class:`PixelwiseKernelNet`, a
    resolution-preserving CNN with two hidden layers, F.1) instead of the
    factorized kernels of eq. 12.

    The paper evaluates the sequential form (PTSRUs), hence ``variant="s"`` by
    default; the other variants are available as for :class:`TSRU`.

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: channels of ``h_t``.
        variant: ``"c"``, ``"p"`` or ``"s"``.
        kernel_size: odd ``k`` of the gate and hypernetwork convolutions.
        warp_kernel_size: ``k`` of the warping kernels.
        act_layer: builds ``rho``.
        sn: spectral norm on every convolution.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        variant: TSRUVariant = "s",
        kernel_size: int = 3,
        warp_kernel_size: int = 3,
        act_layer: ActLayer = nn.ReLU,
        sn: bool = True,
    ) -> None:
        super().__init__(
            in_channels,
            hidden_channels,
            variant=variant,
            kernel_size=kernel_size,
            warp_kernel_size=warp_kernel_size,
            num_kernels=None,
            act_layer=act_layer,
            sn=sn,
        )

    def _build_hyper(self, cat: int, k: int, num_kernels: int | None, sn: bool) -> nn.Module:
        return PixelwiseKernelNet(cat, self.warp_kernel_size, conv_kernel_size=k, sn=sn)


class KTrajGRU(RecurrentUnit):
    """Kernel-based TrajGRU (TrIVD-GAN-FP appendix F.2, eq. 16-22)::

        theta    = f(h_{t-1}, x_t)                          (16)
        h~_{t-1} = w(h_{t-1}; theta)                        (17)
        r        = sigmoid(W_r *k [h~_{t-1}; x_t] + b_r)    (18)
        h'_t     = r * h~_{t-1}                             (19)
        c        = rho(W_c *k [h'_t; x_t] + b_c)            (20)
        u        = sigmoid(W_u *k [h~_{t-1}; x_t] + b_u)    (21)
        h_t      = u * h_{t-1} + (1 - u) * c                (22)

    The warped state feeds every gate, but the update mixes the *unwarped*
    ``h_{t-1}`` with ``c``. ``f`` and ``w`` are the factorized hypernetwork and
    warp of :class:`TSRU`. ``rho`` is tanh by default, as F.2 states.

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: channels of ``h_t``.
        kernel_size: odd ``k`` of the gate and hypernetwork convolutions.
        warp_kernel_size: ``k`` of the warping kernels.
        num_kernels: ``N``; ``warp_kernel_size**2`` when None.
        act_layer: builds ``rho``.
        sn: spectral norm on every convolution and linear layer.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        warp_kernel_size: int = 3,
        num_kernels: int | None = None,
        act_layer: ActLayer = nn.Tanh,
        sn: bool = True,
    ) -> None:
        super().__init__(in_channels, hidden_channels)
        k = _odd_kernel(kernel_size)
        self.warp_kernel_size = check_positive_int(warp_kernel_size, "warp_kernel_size")
        cat = hidden_channels + in_channels
        self.hyper = FactorizedKernelNet(cat, self.warp_kernel_size, num_kernels, conv_kernel_size=k, sn=sn)
        self.conv_r = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.conv_u = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.conv_c = SNConv2d(cat, hidden_channels, k, padding=k // 2, sn=sn)
        self.act = act_layer()

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, warp_kernel_size={self.warp_kernel_size}"

    def _prepare(self) -> dict[str, Any]:
        ch = self.hidden_channels
        w_hyper, x_hyper, b_hyper = split_fuse(self.hyper.input_convs, ch)
        w_gates, x_gates, b_gates = split_fuse([self.conv_r, self.conv_u, self.conv_c], ch)
        return {
            "w_hyper": w_hyper,
            "w_h_ru": w_gates[: 2 * ch],
            "w_h_c": w_gates[2 * ch :],
            "w_x": torch.cat([x_hyper, x_gates], dim=0),
            "b_x": torch.cat([b_hyper, b_gates], dim=0),  # type: ignore[list-item]
            "n_hyper": w_hyper.shape[0],
            "hyper": self.hyper.params(),
        }

    def _project(self, xf: torch.Tensor, p: dict[str, Any]) -> list[torch.Tensor]:
        return [conv(xf, p["w_x"], p["b_x"])]

    def _cell(self, xp: list[torch.Tensor], h: torch.Tensor, p: dict[str, Any]):
        ch, nh = self.hidden_channels, p["n_hyper"]
        x_hyper, x_ru, x_c = xp[0].split([nh, 2 * ch, ch], dim=1)
        kernels = self.hyper.kernels_from(conv(h, p["w_hyper"]) + x_hyper, p["hyper"])  # eq. 16
        h_warp = kernel_warp(h, kernels)  # eq. 17
        r, u = torch.sigmoid(conv(h_warp, p["w_h_ru"]) + x_ru).chunk(2, dim=1)  # eq. 18, 21
        c = self.act(conv(r * h_warp, p["w_h_c"]) + x_c)  # eq. 19-20
        return torch.lerp(c, h, u), kernels  # eq. 22
