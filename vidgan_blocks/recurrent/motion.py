"""Motion read-out from warping kernels (TrIVD-GAN-FP section 4, Figure 3).

A unit's per-pixel kernel is read as a probability distribution over the
``k x k`` displacements its taps read from; the expected displacement is a flow
vector per pixel. Fields from units at several resolutions are combined from
coarse to fine: upsample the coarse field, scale it by the upsampling factor and
add the finer field.

Convention: channel 0 of a flow is ``dx`` (columns, to the right), channel 1 is
``dy`` (rows, downwards), in pixels of its own resolution. The flow is a
*sampling* offset, like the taps of :func:`vidgan_blocks.ops.kernel_warp`: the
warped state at ``p`` takes its content from around ``p + flow(p)``, so the
content itself moves by ``-flow`` between two steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from einops import rearrange

from ..ops.warp import kernel_offsets

__all__ = ["expected_flow", "combine_flows", "flow_to_rgb"]


def _shape(x: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


def _check_map(x: object, name: str, channels: int | None, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a tensor {what}, got {type(x).__name__}")
    if x.dim() not in (4, 5):
        raise ValueError(f"{name}: expected {what}, got shape {_shape(x)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expected {what}, got shape {_shape(x)}")
    return x


def expected_flow(weights: torch.Tensor) -> torch.Tensor:
    """Expected displacement of per-pixel kernels (TrIVD-GAN-FP section 4).

    ``flow[:, 0] = sum_q W[:, q] * dx_q`` and ``flow[:, 1] = sum_q W[:, q] * dy_q``
    with ``(dy_q, dx_q)`` the offset tap ``q`` reads from (eq. 11). The kernels
    are taken as they are (a unit's kernels already sum to one).

    Args:
        weights: per-pixel kernels, ``(N, k*k, H, W)`` or ``(B, k*k, T, H, W)``
            (``unit.last_kernels``).

    Returns:
        Flow ``(N, 2, H, W)`` or ``(B, 2, T, H, W)``, channels ``(dx, dy)``.

    Shape:
        - weights: ``(N, k*k, H, W)`` or ``(B, k*k, T, H, W)``
        - output: ``(N, 2, H, W)`` or ``(B, 2, T, H, W)``
    """
    _check_map(weights, "weights", None, "(N, k*k, H, W) or (B, k*k, T, H, W)")
    k = math.isqrt(weights.shape[1])
    if k * k != weights.shape[1]:
        raise ValueError(f"weights: expected k*k taps in dim 1, got shape {_shape(weights)}")
    offsets = kernel_offsets(k, device=weights.device, dtype=weights.dtype).flip(1)  # [k*k, 2] as (dx, dy)
    return torch.einsum("bq...,qd->bd...", weights, offsets)


def _upsample(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if flow.dim() == 5:
        b = flow.shape[0]
        up = F.interpolate(rearrange(flow, "b c t h w -> (b t) c h w"), size=size, mode="bilinear", align_corners=False)
        return rearrange(up, "(b t) c h w -> b c t h w", b=b)
    return F.interpolate(flow, size=size, mode="bilinear", align_corners=False)


def combine_flows(coarse_to_fine: Sequence[torch.Tensor]) -> torch.Tensor:
    """Combine flow fields of increasing resolution into one field at the finest resolution.

    Starting from the coarsest field, repeatedly upsample it bilinearly to the
    next field's size, multiply it by the upsampling factor (displacements are
    measured in pixels) and add the next field (TrIVD-GAN-FP section 4).

    Args:
        coarse_to_fine: flows ``(N, 2, H_i, W_i)`` (or ``(B, 2, T, H_i, W_i)``),
            each an integer multiple larger than the previous one, with the
            same factor along H and W (2 between generator stages).

    Returns:
        The combined flow at the resolution of the last field.

    Shape:
        - coarse_to_fine[i]: ``(N, 2, H_i, W_i)`` or ``(B, 2, T, H_i, W_i)``
        - output: ``(N, 2, H_last, W_last)`` or ``(B, 2, T, H_last, W_last)``
    """
    if isinstance(coarse_to_fine, torch.Tensor) or not isinstance(coarse_to_fine, Sequence):
        raise TypeError(f"coarse_to_fine: expected a sequence of flow tensors, got {type(coarse_to_fine).__name__}")
    if len(coarse_to_fine) == 0:
        raise ValueError("coarse_to_fine: expected at least one flow field, got none")
    fields = [_check_map(f, f"coarse_to_fine[{i}]", 2, "(N, 2, H, W) or (B, 2, T, H, W)") for i, f in enumerate(coarse_to_fine)]
    flow = fields[0]
    for i, fine in enumerate(fields[1:], start=1):
        if fine.dim() != flow.dim() or fine.shape[:-2] != flow.shape[:-2]:
            raise ValueError(
                f"coarse_to_fine[{i}]: expected leading dims {tuple(flow.shape[:-2])} like the coarser field, "
                f"got shape {_shape(fine)}"
            )
        (h0, w0), (h1, w1) = flow.shape[-2:], fine.shape[-2:]
        if h1 % h0 or w1 % w0 or h1 // h0 != w1 // w0 or h1 < h0:
            raise ValueError(
                f"coarse_to_fine[{i}]: expected a size that is the same integer multiple of "
                f"({h0}, {w0}) along H and W, got shape {_shape(fine)}"
            )
        flow = _upsample(flow, (h1, w1)) * (h1 // h0) + fine
    return flow


def flow_to_rgb(flow: torch.Tensor, max_magnitude: float | None = None) -> torch.Tensor:
    """Render a flow field as colours: hue is the direction, brightness the magnitude.

    Hue follows the angle of ``(dx, dy)`` (0 degrees, red, points right; angles
    turn towards +y, downwards in image coordinates). Saturation is 1 and the
    value is ``|flow| / max_magnitude`` clipped to ``[0, 1]``, so zero flow is
    black. Output pixels are in ``[-1, 1]`` like every video of the library.

    Args:
        flow: ``(N, 2, H, W)`` or ``(B, 2, T, H, W)``.
        max_magnitude: magnitude rendered at full brightness; the largest
            magnitude of each sample when None.

    Returns:
        Images ``(N, 3, H, W)`` or a video ``(B, 3, T, H, W)`` in ``[-1, 1]``.

    Shape:
        - flow: ``(N, 2, H, W)`` or ``(B, 2, T, H, W)``
        - output: ``(N, 3, H, W)`` or ``(B, 3, T, H, W)``
    """
    _check_map(flow, "flow", 2, "(N, 2, H, W) or (B, 2, T, H, W)")
    dx, dy = flow[:, 0:1], flow[:, 1:2]
    mag = torch.sqrt(dx * dx + dy * dy)
    if max_magnitude is None:
        scale = mag.flatten(1).amax(dim=1).clamp_min(1e-12).view(-1, *([1] * (flow.dim() - 1)))
    else:
        if not max_magnitude > 0:
            raise ValueError(f"max_magnitude: expected a positive number, got {max_magnitude}")
        scale = torch.as_tensor(max_magnitude, dtype=flow.dtype, device=flow.device)
    value = (mag / scale).clamp(0.0, 1.0)
    hue = torch.remainder(torch.atan2(dy, dx) / (2 * math.pi), 1.0) * 6.0  # in [0, 6)
    # HSV -> RGB with S = 1: channel n takes V * (1 - clamp(min(k, 4 - k), 0, 1)), k = (n + H) mod 6.
    n = torch.tensor([5.0, 3.0, 1.0], dtype=flow.dtype, device=flow.device).view(1, 3, *([1] * (flow.dim() - 2)))
    kk = torch.remainder(n + hue, 6.0)
    rgb = value * (1.0 - torch.clamp(torch.minimum(kk, 4.0 - kk), 0.0, 1.0))
    return rgb * 2.0 - 1.0
