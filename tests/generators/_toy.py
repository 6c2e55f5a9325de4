"""A small recurrent unit with the RecurrentUnit calling convention, for generator tests.

``h_t = tanh(W_x * x_t + W_h * h_{t-1})`` with 3x3 convolutions; it also records
fake warping kernels (a softmax over 9 taps) in ``last_kernels`` so the motion
read-out of the generators can be tested without the transformation-based units.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import _SpectralNorm


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


@contextlib.contextmanager
def meta_device() -> Iterator[None]:
    """Build modules on the ``meta`` device without running numerics that need values.

    Orthogonal initialisation and the spectral-norm vector set-up and power
    iterations have no meaning without values and are slow on ``meta`` (they run
    through Python reference kernels), so they are skipped for meta tensors only.
    """
    orthogonal = nn.init.orthogonal_
    power = _SpectralNorm._power_method
    normalize = F.normalize

    def _normalize(t: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return t if t.is_meta else normalize(t, *args, **kwargs)

    def _orthogonal(t: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return t if t.is_meta else orthogonal(t, *args, **kwargs)

    def _power(self: Any, weight_mat: torch.Tensor, n: int) -> None:
        if not weight_mat.is_meta:
            power(self, weight_mat, n)

    with mock.patch.object(nn.init, "orthogonal_", _orthogonal), mock.patch.object(
        _SpectralNorm, "_power_method", _power
    ), mock.patch.object(F, "normalize", _normalize), torch.device("meta"):
        yield


# A bias that feeds a batch norm directly has an exactly zero gradient (the norm
# removes any per-channel constant), so numerically it is 0 or tiny. In the
# generators these are the first convolution of every residual block (followed by
# norm2) and everything added at the end of the last block (followed by the
# output head's norm): its second convolution, its shortcut and a low-res skip.
_BIAS_BEFORE_NORM = re.compile(r"blocks\.\d+\.conv1\.(spatial\.)?bias$")


def _last_block_biases(module: nn.Module) -> set[str]:
    units = getattr(module, "units", None)
    if units is None:
        return set()
    i = len(units) - 1
    last = units[i]
    j = len(last.blocks) - 1
    names = {f"units.{i}.blocks.{j}.conv2.bias", f"units.{i}.blocks.{j}.conv2.spatial.bias", f"units.{i}.blocks.{j}.shortcut.bias"}
    for k, after in enumerate(getattr(last, "skip_after", [])):
        if after == j:
            names.add(f"units.{i}.skips.{k}.proj.bias")
    skips = getattr(module, "skips", None)
    if isinstance(skips, nn.ModuleDict) and str(i) in skips:
        names.add(f"skips.{i}.conv.bias")
    return names


def missing_grads_except_pre_norm_bias(module: nn.Module) -> list[str]:
    """``tests.helpers.missing_grads`` without the biases that feed a batch norm directly."""
    from tests.helpers import missing_grads

    exempt = _last_block_biases(module)
    return [n for n in missing_grads(module) if not _BIAS_BEFORE_NORM.search(n) and n not in exempt]
