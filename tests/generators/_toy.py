"""A small recurrent unit with the RecurrentUnit calling convention, for generator tests.

``h_t = tanh(W_x * x_t + W_h * h_{t-1})`` with 3x3 convolutions; it also records
fake warping kernels (a softmax over 9 taps) in ``last_kernels`` so the motion
read-out of the generators can be tested without the transformation-based units.
"""

from __future__ import annotations

import torch
from torch import nn


class ToyUnit(nn.Module):
    def __init__(self, in_channels: int, hidden_channels: int, sn: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.wx = nn.Conv2d(in_channels, hidden_channels, 3, padding=1)
        self.wh = nn.Conv2d(hidden_channels, hidden_channels, 3, padding=1, bias=False)
        self.last_kernels: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        b, _, t, hh, ww = x.shape
        h = x.new_zeros(b, self.hidden_channels, hh, ww) if h0 is None else h0
        outs, kernels = [], []
        for x_t in x.unbind(dim=2):
            h = torch.tanh(self.wx(x_t) + self.wh(h))
            outs.append(h)
            kernels.append(torch.cat([h.detach()[:, :1] * k for k in range(9)], dim=1).softmax(dim=1))
        self.last_kernels = torch.stack(kernels, dim=2)
        return torch.stack(outs, dim=2)


def open_attention(module: nn.Module, value: float = 0.5) -> nn.Module:
    """Set every attention ``gamma`` (zero at init, which blocks the branch's gradients) to ``value``."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("gamma"):
                p.fill_(value)
    return module
