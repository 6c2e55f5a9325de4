"""Spectral-normalised, orthogonally initialised layers.

All five papers apply spectral normalisation to every weight layer of G and D,
estimating the first singular value with one power iteration per update, and
initialise weights orthogonally (DVD-GAN A.3, TrIVD-GAN-FP E.2, SSW-GAN A).

The layers below are the plain ``torch.nn`` layers with ``nn.init.orthogonal_``
applied to the weight, a zero bias, and (unless ``sn=False``)
``torch.nn.utils.parametrizations.spectral_norm`` registered on the weight.

One power iteration runs at every access of ``.weight`` in training mode. A
discriminator is called several times per step (real, fake, several
decompositions); wrap the step in :func:`spectral_norm_cache` to run the power
iteration once per step and reuse the normalised weight: the weight is divided
by the same power-iteration estimate of sigma as without the cache, but ``u``
advances once per step (as in BigGAN) instead of once per call.
``benchmarks/bench_spectral_norm.py`` measures the cost of both.

Each spectral-normalised weight costs a dozen small operators per evaluation
(three matrix-vector products, two normalisations, the division) and as many
again in the backward pass; a DVD-GAN generator has 85 such weights. With
:func:`group_spectral_norm` a model runs the power iteration of all its weights
at once, on one flat copy of them, when it is called: about 40 operators for
the whole model plus one view per weight, forward and backward, instead of ~40
per weight. The estimate is the same (sigma = u^T W v after one power
iteration, u and v updated in place), summed in a different order; every
weight takes one power iteration per call of the model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch._subclasses.fake_tensor import is_fake
from torch.nn.utils import parametrizations as _parametrizations

__all__ = [
    "SNConv2d",
    "SNConv3d",
    "SNConv1d",
    "SNLinear",
    "SNEmbedding",
    "orthogonal_init_",
    "apply_spectral_norm",
    "spectral_norm_cache",
    "freeze_spectral_norm",
    "has_spectral_norm",
    "group_spectral_norm",
]

SN_EPS = 1e-6


def orthogonal_init_(module: nn.Module) -> nn.Module:
    """Orthogonal weight, zero bias, in place; returns ``module``.

    The weight is viewed as a ``(out, in * k...)`` matrix (``nn.init.orthogonal_``).
    """
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
        nn.init.orthogonal_(weight)
    bias = getattr(module, "bias", None)
    if isinstance(bias, torch.Tensor):
        nn.init.zeros_(bias)
    return module


class _SpectralNorm(_parametrizations._SpectralNorm):
    """torch's spectral-norm parametrization (same buffers, same state dict) that can hand
    out a weight its :func:`group_spectral_norm` group has already normalised."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._grouped: torch.Tensor | None = None
        self._in_group = False

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        grouped = self._grouped
        if grouped is not None:
            return grouped
        return super().forward(weight)


def apply_spectral_norm(module: nn.Module, *, n_power_iterations: int = 1, eps: float = SN_EPS) -> nn.Module:
    """Register a spectral-norm parametrization on ``module.weight`` (one power iteration).

    The same parametrization as ``torch.nn.utils.parametrizations.spectral_norm``
    (``dim`` 1 for transposed convolutions, else 0).
    """
    dim = 1 if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)) else 0
    sn = _SpectralNorm(module.weight, n_power_iterations, dim, eps)
    parametrize.register_parametrization(module, "weight", sn)
    return module


def has_spectral_norm(module: nn.Module) -> bool:
    """Whether ``module.weight`` is spectral-normalised by a parametrization."""
    return parametrize.is_parametrized(module, "weight")


@contextlib.contextmanager
def spectral_norm_cache() -> Iterator[None]:
    """Compute each spectral-normalised weight once inside the block, then reuse it.

    Use around a whole training step (all discriminator calls, the loss and the
    backward pass). The power iteration then advances once per step, as in the
    original BigGAN implementation, instead of once per call.
    """
    with parametrize.cached():
        yield


def freeze_spectral_norm(module: nn.Module) -> nn.Module:
    """Stop the power iteration (keep ``u``, ``v`` fixed) without changing other modes.

    The spectral-norm parametrizations are put in eval mode while the rest of the
    model keeps its mode, so batch norm can still use batch statistics. Useful
    for ``gradcheck`` and for exact comparisons between two forward passes.
    """
    for m in module.modules():
        if isinstance(m, _parametrizations._SpectralNorm):
            m.eval()
    return module


class SNConv2d(nn.Conv2d):
    """``nn.Conv2d`` with orthogonal init and (by default) spectral norm.

    Takes every ``nn.Conv2d`` argument plus ``sn: bool = True``.
    """

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNConv3d(nn.Conv3d):
    """``nn.Conv3d`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNConv1d(nn.Conv1d):
    """``nn.Conv1d`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNLinear(nn.Linear):
    """``nn.Linear`` with orthogonal init and (by default) spectral norm."""

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        orthogonal_init_(self)
        if sn:
            apply_spectral_norm(self)


class SNEmbedding(nn.Embedding):
    """``nn.Embedding`` with orthogonal init and (by default) spectral norm.

    Used for class embeddings in the projection discriminator (BigGAN style).
    """

    def __init__(self, *args, sn: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        nn.init.orthogonal_(self.weight)
        if sn:
            apply_spectral_norm(self)


# --------------------------------------------------------------------------- grouped power iteration


class _Layout:
    """Index vectors of a group's flat layout on one device.

    The weights are laid out one after another, each as its ``(m_i, n_i)`` matrix
    in row-major order; ``u`` vectors (rows) and ``v`` vectors (columns) likewise.
    """

    def __init__(self, shapes: list[tuple[int, int]], device: torch.device) -> None:
        # int32 halves the index memory on GPUs; CPU kernels gather fastest with int64.
        small = device.type != "cpu" and sum(m * n for m, n in shapes) < 2**31
        idx = dict(dtype=torch.int32 if small else torch.int64, device=device)
        rows, cols, row_seg, col_seg = [], [], [], []
        r0 = c0 = 0
        for i, (m, n) in enumerate(shapes):
            rows.append(torch.arange(r0, r0 + m, **idx).repeat_interleave(n))
            cols.append(torch.arange(c0, c0 + n, **idx).repeat(m))
            row_seg.append(torch.full((m,), i, **idx))
            col_seg.append(torch.full((n,), i, **idx))
            r0, c0 = r0 + m, c0 + n
        self.elem_row = torch.cat(rows)  # [P] row of every weight entry
        self.elem_col = torch.cat(cols)  # [P] column of every weight entry
        self.row_seg = torch.cat(row_seg)  # [M] weight of every row
        self.col_seg = torch.cat(col_seg)  # [N] weight of every column
        self.elem_seg = self.row_seg.index_select(0, self.elem_row)  # [P] weight of every entry
        self.rows, self.cols, self.count = r0, c0, len(shapes)


def _segment_sum(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    return values.new_zeros(size).index_add_(0, index, values)


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return values.index_select(0, index)


def _normalize_segments(x: torch.Tensor, seg: torch.Tensor, count: int, eps: float) -> torch.Tensor:
    """Every segment of ``x`` divided by its Euclidean norm (at least ``eps``), as ``F.normalize``."""
    norms = _segment_sum(x * x, seg, count).sqrt_().clamp_min_(eps)
    return x / _gather(norms, seg)


class _GroupedSpectralNorm(torch.autograd.Function):
    """All weights of a group divided by their sigma, with one flat power iteration."""

    @staticmethod
    def forward(ctx, group: _SpectralNormGroup, *weights: torch.Tensor):  # type: ignore[override]
        lay, bufs = group.layout(weights[0])
        flat, u_old, v_old = bufs["flat"], bufs["u"], bufs["v"]
        torch._foreach_copy_(bufs["flat_views"], list(weights))
        torch._foreach_copy_(bufs["u_views"], [p._u for p in group.params])
        torch._foreach_copy_(bufs["v_views"], [p._v for p in group.params])
        eps = group.eps
        if group.params[0].training:  # one power iteration, in the order of torch's spectral norm
            wv = _segment_sum(flat * _gather(v_old, lay.elem_col), lay.elem_row, lay.rows)
            u = _normalize_segments(wv, lay.row_seg, lay.count, eps)
            wtu = _segment_sum(flat * _gather(u, lay.elem_row), lay.elem_col, lay.cols)
            v = _normalize_segments(wtu, lay.col_seg, lay.count, eps)
            u_old.copy_(u)
            v_old.copy_(v)
            torch._foreach_copy_([p._u for p in group.params], bufs["u_views"])
            torch._foreach_copy_([p._v for p in group.params], bufs["v_views"])
        else:
            u, v = u_old.clone(), v_old.clone()
        wv = _segment_sum(flat * _gather(v, lay.elem_col), lay.elem_row, lay.rows)
        sigma = _segment_sum(u * wv, lay.row_seg, lay.count)  # [G] u^T W v
        out = flat / _gather(sigma, lay.elem_seg)
        ctx.group = group
        ctx.save_for_backward(out, u, v, sigma)
        return tuple(t.view(w.shape) for t, w in zip(out.split(group.sizes), weights))

    @staticmethod
    def backward(ctx, *grads: torch.Tensor | None):  # type: ignore[override]
        # d/dW of W / (u^T W v) with u, v fixed: (g - <g, W / sigma> u v^T) / sigma.
        group = ctx.group
        out, u, v, sigma = ctx.saved_tensors
        lay, bufs = group.layout(out)
        g = bufs["grad"]
        present = [i for i, gr in enumerate(grads) if gr is not None]
        if len(present) < len(grads):
            g.zero_()
        torch._foreach_copy_([bufs["grad_views"][i] for i in present], [grads[i] for i in present])
        c = _segment_sum(g * out, lay.elem_seg, lay.count)
        uv = _gather(u, lay.elem_row) * _gather(v, lay.elem_col)  # [P] entries of u v^T
        grad = (g - _gather(c, lay.elem_seg) * uv) / _gather(sigma, lay.elem_seg)
        parts = [t.view(shape) if ctx.needs_input_grad[i + 1] else None
                 for i, (t, shape) in enumerate(zip(grad.split(group.sizes), group.shapes_nd))]
        return (None, *parts)


class _SpectralNormGroup:
    """The spectral-norm parametrizations of one model, evaluated together on each call of it."""

    def __init__(self, owners: list[nn.Module]) -> None:
        self.owners = owners
        self.params = [m.parametrizations.weight[0] for m in owners]
        self.eps = self.params[0].eps
        weights = [m.parametrizations.weight.original for m in owners]
        self.shapes_nd = [torch.Size(w.shape) for w in weights]
        self.sizes = [w.numel() for w in weights]
        self.shapes = [(w.shape[0], w.numel() // w.shape[0]) for w in weights]
        self._layouts: dict[Any, tuple[_Layout, dict[str, Any]]] = {}
        self._entered: list[contextlib.AbstractContextManager] = []
        self._evaluated_in: dict | None = None

    def layout(self, like: torch.Tensor) -> tuple[_Layout, dict[str, Any]]:
        """Index vectors and reusable flat buffers on ``like``'s device and dtype."""
        key = (like.device, like.dtype, is_fake(like))
        found = self._layouts.get(key)
        if found is not None and not key[2]:
            return found
        lay = _Layout(self.shapes, like.device)
        flat = like.new_empty(sum(self.sizes))
        u, v = like.new_empty(lay.rows), like.new_empty(lay.cols)
        grad = like.new_empty(sum(self.sizes))
        bufs = {
            "flat": flat, "u": u, "v": v, "grad": grad,
            "flat_views": [t.view(s) for t, s in zip(flat.split(self.sizes), self.shapes_nd)],
            "grad_views": [t.view(s) for t, s in zip(grad.split(self.sizes), self.shapes_nd)],
            "u_views": list(u.split([m for m, _ in self.shapes])),
            "v_views": list(v.split([n for _, n in self.shapes])),
        }
        self._layouts = {key: (lay, bufs)}  # one device at a time: a moved model drops the old buffers
        return lay, bufs

    def _usable(self) -> bool:
        training = self.params[0].training
        if any(p.training != training for p in self.params):
            return False  # e.g. some layers frozen with freeze_spectral_norm: each keeps its own mode
        weights = [m.parametrizations.weight.original for m in self.owners]
        return all(w.device == weights[0].device and w.dtype == weights[0].dtype for w in weights)

    def __getstate__(self) -> dict[str, Any]:
        # Copies (e.g. an EMA generator) rebuild their buffers and start outside any call.
        return {**self.__dict__, "_layouts": {}, "_entered": [], "_evaluated_in": None}

    def before(self, module: nn.Module, args: Any) -> None:
        if torch.compiler.is_compiling():
            return  # compiled: the per-weight parametrizations, as torch traces them
        outer = parametrize._cache_enabled > 0
        cache = parametrize.cached()
        cache.__enter__()
        self._entered.append(cache)
        if outer and self._evaluated_in is parametrize._cache:
            return  # already evaluated in this spectral_norm_cache block: the cache serves those weights
        if not self._usable():
            return  # evaluated one by one
        weights = [m.parametrizations.weight.original for m in self.owners]
        normalized = _GroupedSpectralNorm.apply(self, *weights)  # no autocast op inside: in the weights' dtype
        for p, w in zip(self.params, normalized):
            p._grouped = w
        self._evaluated_in = parametrize._cache if outer else None

    def after(self, module: nn.Module, args: Any, output: Any) -> None:
        if torch.compiler.is_compiling() or not self._entered:
            return
        for p in self.params:
            p._grouped = None
        self._entered.pop().__exit__(None, None, None)


def group_spectral_norm(module: nn.Module) -> nn.Module:
    """Evaluate every spectral-normalised weight of ``module`` in one batched power iteration per call.

    At each call of ``module`` (a forward pre-hook), the weights registered with
    :func:`apply_spectral_norm` anywhere inside it are normalised together on one
    flat copy (index-add segment sums instead of per-weight ``mv``), and the
    results stay cached for the rest of the call (``parametrize.cached``): each
    weight gets one power iteration per call of ``module``, however often the
    call reads it (a recurrent unit reads its weights at every step). Inside
    :func:`spectral_norm_cache` the evaluation happens once per block, as before.

    The estimate is torch's (``u = normalize(W v)``, ``v = normalize(W^T u)``,
    ``sigma = u^T W v``, buffers updated in place, state dict unchanged); only
    the summation order differs. Falls back to the per-weight parametrizations
    while compiling, and when the layers are in different modes
    (:func:`freeze_spectral_norm` on a part), devices or dtypes. On CUDA the
    segment sums use atomic adds (not bitwise reproducible). Returns ``module``.
    """
    owners = []
    for m in module.modules():
        if not parametrize.is_parametrized(m, "weight") or len(m.parametrizations.weight) != 1:
            continue
        p = m.parametrizations.weight[0]
        if (isinstance(p, _SpectralNorm) and p.dim == 0 and getattr(p, "n_power_iterations", 0) == 1
                and m.parametrizations.weight.original.dim() > 1 and not p._in_group):
            owners.append(m)  # (a layer already grouped inside a grouped part stays in that group)
    if len(owners) < 2:
        return module
    group = _SpectralNormGroup(owners)
    for m in owners:
        m.parametrizations.weight[0]._in_group = True
    module.register_forward_pre_hook(group.before)
    module.register_forward_hook(group.after, always_call=True)
    return module
