"""Kernel-based warping (TrIVD-GAN-FP appendix B, eq. 11-12).

A warp here is a dynamic, depth-wise, locally connected layer: every pixel
``(i, j)`` owns a ``k x k`` kernel ``W[i, j]`` (flattened to ``k*k`` entries),
shared by all channels, and the output is the kernel-weighted sum of the input
values around that pixel (eq. 11)::

    out[c, i, j] = sum_{m, n in 0..k-1} W[i, j][m*k + n] * h[c, i + m - (k-1)//2, j + n - (k-1)//2]

with zero padding outside the map. Tap ``q = m*k + n`` therefore *reads* from
the row offset ``dy = m - (k-1)//2`` and the column offset
``dx = n - (k-1)//2``: a one-hot kernel on ``(dy, dx) = (0, 1)`` gives
``out[:, i, j] = h[:, i, j + 1]``, i.e. the map moves one pixel to the left.

Factorized warping (eq. 12) builds the per-pixel kernels from ``N`` kernels
``w`` shared by the whole map and a per-pixel selection map ``S`` over them:
``W[i, j][q] = sum_l S[i, j][l] * w[q, l]``.

Kernels live in the channel axis: per-pixel kernels of a batch of frames are
``(N, k*k, H, W)``, those of a video ``(B, k*k, T, H, W)``.

:func:`kernel_warp` accumulates the ``k*k`` shifted slices of the map in place
(forward and backward are written out in a custom autograd function; the zero
padding is implicit), so it never materialises the ``(N, C*k*k, H*W)`` im2col
buffer that an ``F.unfold`` formulation needs, nor a padded copy;
``benchmarks/bench_recurrent.py`` compares the two. Shifts are applied on maps
flattened to ``H*W`` with the kernel weights of out-of-map columns zeroed, so a
non-finite value in ``h`` can leak into its row neighbours through ``0 * inf``;
hidden states are finite in practice.
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn
from torch.autograd.function import once_differentiable

from .._checks import check_frames, check_video

__all__ = [
    "kernel_warp",
    "KernelWarp",
    "factorized_kernels",
    "FactorizedKernels",
    "kernel_offsets",
]


def _shape(x: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


def _kernel_size(taps: int, name: str) -> int:
    k = math.isqrt(taps)
    if k * k != taps or k < 1:
        raise ValueError(f"{name}: expected k*k kernel taps in dim 1 for some k >= 1, got {taps}")
    return k


def kernel_offsets(kernel_size: int, *, device=None, dtype=None) -> torch.Tensor:
    """Offsets ``(dy, dx)`` each kernel tap reads from (eq. 11), as a ``(k*k, 2)`` tensor.

    Row ``q = m*k + n`` holds ``(m - (k-1)//2, n - (k-1)//2)``.
    """
    k = int(kernel_size)
    if k < 1:
        raise ValueError(f"kernel_size: expected an int >= 1, got {kernel_size}")
    r = torch.arange(k, device=device, dtype=dtype if dtype is not None else torch.float32) - (k - 1) // 2
    dy, dx = torch.meshgrid(r, r, indexing="ij")
    return torch.stack([dy.reshape(-1), dx.reshape(-1)], dim=1)


def _flat_taps(k: int, height: int, width: int):
    """Tap schedule on maps flattened to ``H*W``.

    Reading ``h[i + dy, j + dx]`` for output ``(i, j)`` is reading flat index
    ``p + off`` with ``off = dy*W + dx`` for output flat index ``p``. Yields
    ``(q, off, a, b)``: tap ``q`` contributes to outputs ``a <= p < b`` (the
    rows whose shifted row lies inside the map, clipped to the flat range). Positions
    in that range whose column shift leaves the map read a neighbouring row; their
    weights are zeroed beforehand by :func:`_column_mask`. The centre tap (offset
    (0, 0), the whole map) comes first so callers initialise their accumulator with it.
    """
    lo = (k - 1) // 2
    hw = height * width
    centre = lo * k + lo
    for q in [centre, *(q for q in range(k * k) if q != centre)]:
        dy, dx = q // k - lo, q % k - lo
        i0, i1 = max(0, -dy), min(height, height - dy)
        if i0 >= i1 or max(0, -dx) >= min(width, width - dx):
            continue  # this tap only reads padding
        off = dy * width + dx
        a, b = max(i0 * width, -off), min(i1 * width, hw - off)
        if a < b:
            yield q, off, a, b


def _column_mask(k: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """``(k*k, 1, W)`` mask: 1 where tap ``q`` reads a column inside the map from column ``j``."""
    lo = (k - 1) // 2
    dx = torch.arange(k * k, device=like.device) % k - lo  # [k*k]
    col = torch.arange(width, device=like.device)[None, :] + dx[:, None]  # [k*k, W]
    return ((col >= 0) & (col < width)).to(like.dtype)[:, None, :]


class _KernelWarp(torch.autograd.Function):
    """Eq. 11 on frames ``(N, C, H, W)`` with kernels ``(N, k*k, H, W)``.

    Maps are flattened to ``(N, C, H*W)`` so that each tap is one multiply-add of
    two long contiguous ranges (a shift by ``dy*W + dx``), accumulated in place into
    the output. Zero padding is implicit: rows outside the map are never read, and
    weights of positions whose column shift would leave the map are zeroed first.
    """

    @staticmethod
    def forward(ctx, h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        k = math.isqrt(weights.shape[1])
        n, c, height, width = h.shape
        mask = _column_mask(k, width, weights)
        wm = (weights * mask).reshape(n, k * k, height * width)  # [N, k*k, HW], masked
        hf = h.reshape(n, c, height * width)
        taps = _flat_taps(k, height, width)
        q, _, _, _ = next(taps)  # centre tap: whole map, no shift
        out = hf * wm[:, q : q + 1]
        for q, off, a, b in taps:
            out[:, :, a:b].addcmul_(hf[:, :, a + off : b + off], wm[:, q : q + 1, a:b])
        ctx.save_for_backward(h, wm, mask)
        ctx.k = k
        return out.view(n, c, height, width)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        h, wm, mask = ctx.saved_tensors
        k = ctx.k
        n, c, height, width = h.shape
        g = grad_out.reshape(n, c, height * width)
        hf = h.reshape(n, c, height * width)
        grad_h = grad_w = None
        if ctx.needs_input_grad[0]:
            taps = _flat_taps(k, height, width)
            q, _, _, _ = next(taps)
            grad_h = g * wm[:, q : q + 1]
            for q, off, a, b in taps:
                grad_h[:, :, a + off : b + off].addcmul_(g[:, :, a:b], wm[:, q : q + 1, a:b])
            grad_h = grad_h.view(n, c, height, width)
        if ctx.needs_input_grad[1]:
            grad_wm = wm.new_zeros(n, k * k, height * width)
            for q, off, a, b in _flat_taps(k, height, width):
                grad_wm[:, q, a:b] = (g[:, :, a:b] * hf[:, :, a + off : b + off]).sum(dim=1)
            grad_w = grad_wm.view(n, k * k, height, width) * mask
        return grad_h, grad_w


def kernel_warp(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Warp ``h`` with a per-pixel depth-wise ``k x k`` kernel (TrIVD-GAN-FP eq. 11).

    The map is zero-padded so the output keeps the input's size. See the module
    docstring for which neighbour each tap reads. ``k`` is read from the number
    of taps (``weights.shape[1] == k*k``); odd ``k`` gives a centred window.

    Args:
        h: frames ``(N, C, H, W)`` or a video ``(B, C, T, H, W)``.
        weights: per-pixel kernels, ``(N, k*k, H, W)`` for frames or
            ``(B, k*k, T, H, W)`` for a video; usually each kernel sums to one.

    Returns:
        The warped map, same shape as ``h``.

    Shape:
        - h: ``(N, C, H, W)`` / ``(B, C, T, H, W)``
        - weights: ``(N, k*k, H, W)`` / ``(B, k*k, T, H, W)``
        - output: same as ``h``
    """
    if isinstance(h, torch.Tensor) and h.dim() == 5:
        check_video(h, "h")
        check_video(weights, "weights")
        b, _, t, hh, ww = h.shape
        if weights.shape[0] != b or weights.shape[2:] != h.shape[2:]:
            raise ValueError(
                f"weights: expected (B, k*k, T, H, W) = ({b}, k*k, {t}, {hh}, {ww}) to match h, "
                f"got {_shape(weights)}"
            )
        out = kernel_warp(
            rearrange(h, "b c t h w -> (b t) c h w"), rearrange(weights, "b q t h w -> (b t) q h w")
        )
        return rearrange(out, "(b t) c h w -> b c t h w", b=b)
    check_frames(h, "h")
    check_frames(weights, "weights")
    n, _, hh, ww = h.shape
    if weights.shape[0] != n or weights.shape[2:] != h.shape[2:]:
        raise ValueError(
            f"weights: expected (N, k*k, H, W) = ({n}, k*k, {hh}, {ww}) to match h, got {_shape(weights)}"
        )
    _kernel_size(weights.shape[1], "weights")
    if weights.dtype != h.dtype or weights.device != h.device:
        raise TypeError(
            f"weights: expected dtype {h.dtype} on {h.device} like h, got {weights.dtype} on {weights.device}"
        )
    return _KernelWarp.apply(h, weights)


class KernelWarp(nn.Module):
    """Module twin of :func:`kernel_warp` (no parameters).

    Shape:
        - h: ``(N, C, H, W)`` or ``(B, C, T, H, W)``
        - weights: ``(N, k*k, H, W)`` or ``(B, k*k, T, H, W)``
        - output: same as ``h``
    """

    def forward(self, h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return kernel_warp(h, weights)


def factorized_kernels(w: torch.Tensor, selection: torch.Tensor) -> torch.Tensor:
    """Per-pixel kernels from ``N`` shared kernels and a selection map (TrIVD-GAN-FP eq. 12).

    ``W[b, q, ...] = sum_l selection[b, l, ...] * w[b, q, l]``: each pixel's kernel
    is the selection-weighted combination of the sample's ``N`` kernels. With a
    probability vector in ``selection`` and kernels that each sum to one, every
    per-pixel kernel sums to one as well.

    Args:
        w: the sample's kernels, ``(B, k*k, N)`` (column ``l`` is kernel ``l``).
        selection: ``(B, N, H, W)``, or ``(B, N, T, H, W)`` to share ``w``
            across the ``T`` frames.

    Returns:
        ``(B, k*k, H, W)`` (or ``(B, k*k, T, H, W)``) kernels for :func:`kernel_warp`.

    Shape:
        - w: ``(B, k*k, N)``
        - selection: ``(B, N, H, W)`` or ``(B, N, T, H, W)``
        - output: ``(B, k*k, H, W)`` or ``(B, k*k, T, H, W)``
    """
    if not isinstance(w, torch.Tensor) or not isinstance(selection, torch.Tensor):
        raise TypeError(
            f"expected tensors w (B, k*k, N) and selection (B, N, H, W), got {type(w).__name__} "
            f"and {type(selection).__name__}"
        )
    if w.dim() != 3:
        raise ValueError(f"w: expected (B, k*k, N), got shape {_shape(w)}")
    _kernel_size(w.shape[1], "w")
    if selection.dim() not in (4, 5):
        raise ValueError(f"selection: expected (B, N, H, W) or (B, N, T, H, W), got shape {_shape(selection)}")
    if selection.shape[0] != w.shape[0] or selection.shape[1] != w.shape[2]:
        raise ValueError(
            f"selection: expected (B, N, ...) = ({w.shape[0]}, {w.shape[2]}, ...) to match w {_shape(w)}, "
            f"got {_shape(selection)}"
        )
    if not w.is_floating_point() or not selection.is_floating_point():
        raise TypeError(f"w, selection: expected floating-point tensors, got dtypes {w.dtype} and {selection.dtype}")
    if w.shape[0] < 1 or w.shape[2] < 1 or min(selection.shape[2:]) < 1:
        raise ValueError(
            f"w, selection: expected a non-empty batch, N >= 1 and non-empty maps, got w {_shape(w)} and "
            f"selection {_shape(selection)}"
        )
    b, n = selection.shape[:2]
    flat = selection.reshape(b, n, -1)  # [B, N, P]
    out = torch.bmm(w, flat)  # [B, k*k, P]
    return out.view(b, w.shape[1], *selection.shape[2:])


class FactorizedKernels(nn.Module):
    """Module twin of :func:`factorized_kernels` (no parameters).

    Shape:
        - w: ``(B, k*k, N)``
        - selection: ``(B, N, H, W)`` or ``(B, N, T, H, W)``
        - output: ``(B, k*k, H, W)`` or ``(B, k*k, T, H, W)``
    """

    def forward(self, w: torch.Tensor, selection: torch.Tensor) -> torch.Tensor:
        return factorized_kernels(w, selection)
