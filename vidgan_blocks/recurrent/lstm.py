"""Convolutional LSTM baseline of TrIVD-GAN-FP (appendix F.3)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._checks import check_frames
from ..layers.spectral import SNConv2d
from .base import ActLayer, RecurrentUnit, _shape, conv, split_fuse
from .gru import _odd_kernel

__all__ = ["ConvLSTM"]


class ConvLSTM(RecurrentUnit):
    """Convolutional LSTM (Shi et al., without peephole terms)::

        i, f, o = sigmoid(W_{i,f,o} *k [h_{t-1}; x_t] + b_{i,f,o})
        g       = rho(W_g *k [h_{t-1}; x_t] + b_g)
        c_t     = f * c_{t-1} + i * g
        h_t     = o * rho(c_t)

    Following TrIVD-GAN-FP F.3, the hidden state and the memory cell each have
    ``hidden_channels / 2`` channels, so that the unit's output, the
    concatenation ``[h_t; c_t]`` at every step, has as many channels as the
    single-state units it is compared with. ``rho`` is ReLU by default (F.1
    reports ReLU clearly ahead of tanh).

    The state is the pair ``(h, c)``. :meth:`state_from_features` splits
    encoder features ``(B, hidden_channels, H, W)`` into ``h`` (first half of
    the channels) and ``c`` (second half), as F.3 initialises them.

    Args:
        in_channels: channels of ``x_t``.
        hidden_channels: output channels (even); ``h`` and ``c`` have half each.
        kernel_size: odd ``k`` of the gate convolutions.
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
        if hidden_channels % 2:
            raise ValueError(f"hidden_channels: expected an even int (h and c take half each), got {hidden_channels}")
        k = _odd_kernel(kernel_size)
        half = hidden_channels // 2
        self.state_channels = half
        cat = half + in_channels
        self.conv_i = SNConv2d(cat, half, k, padding=k // 2, sn=sn)
        self.conv_f = SNConv2d(cat, half, k, padding=k // 2, sn=sn)
        self.conv_o = SNConv2d(cat, half, k, padding=k // 2, sn=sn)
        self.conv_g = SNConv2d(cat, half, k, padding=k // 2, sn=sn)
        self.act = act_layer()

    def state_from_features(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Split features ``(B, hidden_channels, H, W)`` into ``(h, c)``: first half, second half."""
        check_frames(f, "features", channels=self.hidden_channels)
        h, c = f.chunk(2, dim=1)
        return h, c

    def output_from_state(self, state: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``[h; c]`` along channels: ``(B, hidden_channels, H, W)``."""
        return torch.cat(state, dim=1)

    def _check_state(self, state: Any, x_t: torch.Tensor, name: str = "h") -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(
                f"{name}: expected the ConvLSTM state as a pair (h, c) of (B, {self.state_channels}, H, W) "
                f"tensors, got {type(state).__name__}"
            )
        b, _, hh, ww = x_t.shape
        for part, s in zip(("h", "c"), state):
            check_frames(s, f"{name}[{part}]", channels=self.state_channels)
            if s.shape[0] != b or s.shape[2:] != x_t.shape[2:]:
                raise ValueError(
                    f"{name}[{part}]: expected ({b}, {self.state_channels}, {hh}, {ww}) to match the input "
                    f"frames, got {_shape(s)}"
                )
        return state[0], state[1]

    def _prepare(self) -> dict[str, Any]:
        w_h, w_x, b = split_fuse([self.conv_i, self.conv_f, self.conv_o, self.conv_g], self.state_channels)
        return {"w_h": w_h, "w_x": w_x, "b_x": b}

    def _project(self, xf: torch.Tensor, p: dict[str, Any]) -> list[torch.Tensor]:
        return [conv(xf, p["w_x"], p["b_x"])]  # [N, 4 * C_h/2, H, W]: i, f, o, g parts

    def _cell(self, xp: list[torch.Tensor], state: tuple[torch.Tensor, torch.Tensor], p: dict[str, Any]):
        h, c = state
        half = self.state_channels
        z = conv(h, p["w_h"]) + xp[0]
        i, f, o = torch.sigmoid(z[:, : 3 * half]).chunk(3, dim=1)
        g = self.act(z[:, 3 * half :])
        c = torch.addcmul(f * c, i, g)
        h = o * self.act(c)
        return (h, c), None
