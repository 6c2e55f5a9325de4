"""Batch normalisation with per-time-step statistics, optionally conditional.

DVD-GAN A.2 folds time into the batch for the per-frame residual network "but we
do not reduce over the time dimension when calculating Batch Normalization
statistics", so that batch norm cannot carry information across time steps. SSW-GAN
appendix A: "Features are normalized with a per-frame mean and standard deviation"
and re-estimates "the per-timestep batch normalization statistics" with 200 dummy
passes before unrolling. Both normalise each ``(c, t)`` slice over ``(B, H, W)``.

Conditioning (DVD-GAN A.3, TrIVD-GAN-FP E.2, SSW-GAN B.1): the normalisation has no
learned scale/offset of its own; instead gain and bias are affine maps of a
condition vector (noise, optionally concatenated with a class embedding). The
final norm of the generator is not conditional (TrIVD-GAN-FP E.2).

Running statistics are kept **per time step**, shape ``(C, T)``, because that is
what the papers re-estimate and use at test time. The number of steps is set by the
first training batch (or by :meth:`FrameBatchNorm.reset_running_stats`). Evaluating
on a different number of frames needs statistics for that length: recompute them
with ``reset_running_stats(frames=T)`` followed by forward passes in training mode
(the standing-statistics procedure); asking for eval at another length raises an
error that says so, rather than silently reusing mismatched statistics.

Cross-replica statistics: the papers synchronise batch norm across replicas
(DVD-GAN A.3 trains with a global batch split over many accelerators).
``torch.nn.SyncBatchNorm`` only converts torch's own batch-norm layers, so these
layers carry their own reduction: when ``cross_replica`` is set, the module is in
training mode and a process group of more than one rank is active, the per-(c, t)
sums and squared sums and the element counts are summed over ranks with one
autograd-aware ``all_reduce`` before normalising. Every rank then normalises with
the global batch statistics and keeps identical running statistics.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from .._checks import check_features, check_positive_int, check_video
from .spectral import SNLinear

__all__ = ["FrameBatchNorm", "ConditionalBatchNorm"]



class _AllReduceSum(torch.autograd.Function):
    """Sum over replicas with its gradient: every replica's output is the same sum, so the
    gradient reaching a replica's input is the sum of all replicas' output gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group: dist.ProcessGroup | None) -> torch.Tensor:  # type: ignore[override]
        ctx.group = group
        out = x.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM, group=group)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        return grad, None

class FrameBatchNorm(nn.Module):
    """Batch norm over ``(B, H, W)`` separately for every channel and time step.

    Args:
        num_features: channels C.
        eps: added to the variance.
        momentum: running-average factor; ``None`` gives a cumulative average
            (used when estimating standing statistics).
        affine: learn a per-channel scale and offset (the generator's last norm).
        track_running_stats: keep per-step running statistics for eval mode.

    Shape:
        - x: ``(B, C, T, H, W)``
        - output: same as ``x``
    """

    running_mean: torch.Tensor
    running_var: torch.Tensor
    num_batches_tracked: torch.Tensor

    def __init__(
        self,
        num_features: int,
        *,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        # Per-step statistics, shape (C, T); T = 0 until the first training batch.
        self.register_buffer("running_mean", torch.zeros(num_features, 0))
        self.register_buffer("running_var", torch.ones(num_features, 0))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        # Cross-replica statistics (off by default); see the module docstring.
        self.cross_replica = False
        self.process_group: dist.ProcessGroup | None = None

    @property
    def frames(self) -> int:
        """Number of time steps the running statistics cover (0 before any training batch)."""
        return int(self.running_mean.shape[1])

    def reset_running_stats(self, frames: int | None = None) -> None:
        """Zero the running statistics, optionally resizing them to ``frames`` steps."""
        t = self.frames if frames is None else check_positive_int(frames, "frames")
        dev, dtype = self.running_mean.device, self.running_mean.dtype
        self.running_mean = torch.zeros(self.num_features, t, device=dev, dtype=dtype)
        self.running_var = torch.ones(self.num_features, t, device=dev, dtype=dtype)
        self.num_batches_tracked.zero_()

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[override]
        # Running statistics are sized by the number of frames they were estimated on.
        for name in ("running_mean", "running_var"):
            key = prefix + name
            if key in state_dict and state_dict[key].shape != getattr(self, name).shape:
                setattr(self, name, torch.empty_like(state_dict[key], device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        flat = x.reshape(b, c * t, h, w)  # one "channel" per (c, t) pair
        use_batch_stats = self.training or not self.track_running_stats
        if self.track_running_stats and self.training and self.frames != t:
            # Statistics never sized (frames == 0) are sized here without reading the counter, so
            # a fresh model traces without a host read (a graph break under torch.compile).
            if self.frames != 0 and int(self.num_batches_tracked) != 0:
                raise ValueError(
                    f"{type(self).__name__}: running statistics cover T={self.frames} steps but the input has T={t}; "
                    f"call reset_running_stats(frames={t}) before estimating statistics at a new length"
                )
            self.reset_running_stats(frames=t)
        if not use_batch_stats and self.frames != t:
            raise ValueError(
                f"{type(self).__name__}: eval-mode statistics cover T={self.frames} steps but the input has T={t}; "
                f"re-estimate standing statistics at T={t} (reset_running_stats(frames={t}) + training-mode passes)"
            )
        factor: float | torch.Tensor = 0.0
        rm, rv = self._flat_stats() if self.track_running_stats else (None, None)
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            # momentum=None is a cumulative average (standing statistics): weight 1/n, kept as a
            # tensor so that the counter is never read back from the device.
            factor = self.momentum if self.momentum is not None else self.num_batches_tracked.reciprocal().to(rm.dtype)
        if use_batch_stats and self._replicas() > 1:
            out = self._cross_replica_normalize(flat, rm, rv, factor)
        elif isinstance(factor, torch.Tensor):
            out = F.batch_norm(flat, None, None, None, None, True, 0.0, self.eps)
            with torch.no_grad():
                var, mean = torch.var_mean(flat.detach().to(rm.dtype), dim=(0, 2, 3), correction=1)
                rm.lerp_(mean, factor)
                rv.lerp_(var, factor)
        else:
            out = F.batch_norm(flat, rm, rv, None, None, use_batch_stats, factor, self.eps)
        return out.view(b, c, t, h, w)

    def _flat_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``running_mean`` and ``running_var`` viewed as ``(C * T,)``; the views are kept while the
        buffers are (in-place updates reach them), so a step makes no view operators for them."""
        views = self.__dict__.get("_flat_views")  # checked by identity: copies and moved modules rebuild them
        if views is None or views[0]._base is not self.running_mean or views[1]._base is not self.running_var:
            views = (self.running_mean.view(-1), self.running_var.view(-1))
            self.__dict__["_flat_views"] = views
        return views

    def _replicas(self) -> int:
        if not self.cross_replica or not dist.is_available() or not dist.is_initialized():
            return 1
        return dist.get_world_size(self.process_group)

    def _cross_replica_normalize(
        self, flat: torch.Tensor, rm: torch.Tensor | None, rv: torch.Tensor | None, factor: float | torch.Tensor
    ) -> torch.Tensor:
        """Normalise ``flat`` [B, C*T, H, W] with statistics summed over every replica."""
        ct = flat.shape[1]
        x32 = flat.to(torch.promote_types(flat.dtype, torch.float32))  # sums in at least float32
        count = torch.full((1,), float(flat.shape[0] * flat.shape[2] * flat.shape[3]), device=flat.device, dtype=x32.dtype)
        packed = torch.cat([x32.sum(dim=(0, 2, 3)), (x32 * x32).sum(dim=(0, 2, 3)), count])  # [2*CT + 1]
        packed = _AllReduceSum.apply(packed, self.process_group)
        n = packed[-1]
        mean = packed[:ct] / n
        var = (packed[ct : 2 * ct] / n - mean * mean).clamp_min(0.0)  # biased, as used for normalising
        if rm is not None and rv is not None and self.training:
            with torch.no_grad():
                unbiased = var * (n / (n - 1.0).clamp_min(1.0))
                rm.lerp_(mean.detach().to(rm.dtype), factor)
                rv.lerp_(unbiased.detach().to(rv.dtype), factor)
        out = (x32 - mean.view(1, ct, 1, 1)) * torch.rsqrt(var.view(1, ct, 1, 1) + self.eps)
        return out.to(flat.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_video(x, channels=self.num_features)
        y = self._normalize(x)
        if self.affine:
            y = y * self.weight.view(1, -1, 1, 1, 1) + self.bias.view(1, -1, 1, 1, 1)
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"frames={self.frames}"
        )


class ConditionalBatchNorm(FrameBatchNorm):
    """Per-time-step batch norm whose gain and bias are affine maps of a condition vector.

    ``y = (1 + gain(cond)) * normalise(x) + bias(cond)``, with ``gain`` and ``bias``
    spectral-normalised linear layers (BigGAN's conditional BN; DVD-GAN A.3). The
    ``1 +`` keeps the block an identity-scale normaliser at initialisation.

    Args:
        num_features: channels C.
        cond_dim: size of the condition vector (e.g. z and class embedding concatenated).
        sn: spectral norm on the two linear maps.
        eps, momentum, track_running_stats: as in :class:`FrameBatchNorm`.

    Shape:
        - x: ``(B, C, T, H, W)``
        - cond: ``(B, cond_dim)`` (one vector per sample, used for every frame)
        - output: same as ``x``
    """

    def __init__(
        self,
        num_features: int,
        cond_dim: int,
        *,
        sn: bool = True,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False, track_running_stats=track_running_stats)
        self.cond_dim = check_positive_int(cond_dim, "cond_dim")
        self.gain = SNLinear(cond_dim, num_features, bias=False, sn=sn)
        self.offset = SNLinear(cond_dim, num_features, bias=False, sn=sn)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        check_video(x, channels=self.num_features)
        check_features(cond, "cond", self.cond_dim, batch=x.shape[0], like="x")
        y = self._normalize(x)
        shape = (x.shape[0], self.num_features, 1, 1, 1)
        gain = (1.0 + self.gain(cond)).view(shape)  # [B, C, 1, 1, 1]
        bias = self.offset(cond).view(shape)
        return torch.addcmul(bias, y, gain)  # y * (1 + gain) + bias

    def extra_repr(self) -> str:
        return super().extra_repr() + f", cond_dim={self.cond_dim}"
