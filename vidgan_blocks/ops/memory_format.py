"""Channels-last memory layout for video models.

Convolutions on tensor-core GPUs run fastest when channels are the innermost
dimension. Video models mix 2D (per-frame) and 3D convolutions, so one
``memory_format`` does not fit every tensor: 4D tensors take
``torch.channels_last`` and 5D tensors ``torch.channels_last_3d``; tensors of any
other rank are left as they are. ``Module.to(memory_format=...)`` cannot do this,
since it applies a single format to both ranks and fails on the other one.
"""

from __future__ import annotations

from typing import TypeVar

import torch
from torch import nn

__all__ = ["channels_last", "is_channels_last"]

_FORMAT = {4: torch.channels_last, 5: torch.channels_last_3d}
M = TypeVar("M", nn.Module, torch.Tensor)


def channels_last(obj: M) -> M:
    """Channels-last copy of a tensor, or a module converted in place (and returned).

    Args:
        obj: a tensor (4D -> ``channels_last``, 5D -> ``channels_last_3d``, other
            ranks unchanged) or a module, whose 4D and 5D parameters and buffers
            are re-laid-out in place; parameter identity is kept, so optimisers
            built before or after the call both work.

    Returns:
        The converted tensor, or ``obj`` itself for a module.
    """
    if isinstance(obj, torch.Tensor):
        fmt = _FORMAT.get(obj.dim())
        return obj if fmt is None else obj.contiguous(memory_format=fmt)
    if isinstance(obj, nn.Module):
        with torch.no_grad():
            for t in list(obj.parameters()) + list(obj.buffers()):
                fmt = _FORMAT.get(t.dim())
                if fmt is not None and not t.is_contiguous(memory_format=fmt):
                    t.data = t.data.contiguous(memory_format=fmt)
        return obj
    raise TypeError(f"channels_last: expected a torch.Tensor or nn.Module, got {type(obj).__name__}")


def is_channels_last(obj: nn.Module | torch.Tensor) -> bool:
    """Whether a tensor (or every 4D/5D parameter and buffer of a module) is channels-last."""
    if isinstance(obj, torch.Tensor):
        fmt = _FORMAT.get(obj.dim())
        return fmt is None or obj.is_contiguous(memory_format=fmt)
    if isinstance(obj, nn.Module):
        return all(is_channels_last(t) for t in list(obj.parameters()) + list(obj.buffers()))
    raise TypeError(f"is_channels_last: expected a torch.Tensor or nn.Module, got {type(obj).__name__}")
