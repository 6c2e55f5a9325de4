"""Process-group plumbing for data-parallel training under ``torchrun``.

The trainer averages gradients over ranks with ``DistributedDataParallel`` (see
:class:`~vidgan_blocks.training.GANTrainer`): one D call per micro-batch scores
real and fake videos together, the G step runs D outside its wrapper (D's weights
are frozen there), and ``no_sync`` covers the accumulation micro-batches, so the
bucketed all-reduce overlaps with the backward pass. :func:`average_gradients` is
the explicit alternative (``TrainerConfig(grad_sync="flat")``): one blocking
all-reduce of a flat float32 copy of every gradient after the last backward pass,
the same update with no constraint on how the modules are called.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..layers.norm import FrameBatchNorm

__all__ = [
    "DistributedContext",
    "init_distributed",
    "broadcast_module",
    "average_gradients",
    "all_reduce_flag",
    "check_replicas_identical",
    "enable_cross_replica_bn",
]


@dataclass(frozen=True)
class DistributedContext:
    """Who this process is: rank, world size, local rank and the device it uses."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1 and dist.is_available() and dist.is_initialized()

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    @property
    def collective_device(self) -> torch.device:
        """Where tensors passed to collectives must live (CUDA for NCCL, CPU for gloo)."""
        if self.distributed and dist.get_backend() == "nccl":
            return self.device
        return torch.device("cpu")


def init_distributed(device: str | torch.device | None = None, *, timeout_s: float = 600.0) -> DistributedContext:
    """Join the process group described by ``torchrun``'s environment, if any.

    Without ``WORLD_SIZE`` (or with ``WORLD_SIZE=1``) this returns a single-process
    context and initialises nothing. Under ``torchrun`` it initialises NCCL on CUDA
    (one device per local rank) and gloo on CPU; an already initialised group is
    reused.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available).
        timeout_s: collective timeout.
    """
    want = torch.device(device) if device is not None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if want.type == "cuda":
        want = torch.device("cuda", local if want.index is None else want.index)
        torch.cuda.set_device(want)
    if world <= 1:
        return DistributedContext(0, 1, 0, want)
    if not dist.is_initialized():
        backend = "nccl" if want.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout_s))
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local, want)


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy every parameter and buffer of rank ``src`` to all ranks (identical start)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    dev = _collective_device()
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            buf = t.detach().to(dev)
            dist.broadcast(buf, src)
            if buf is not t:
                t.copy_(buf)


def average_gradients(params: list[nn.Parameter]) -> None:
    """Average ``.grad`` over ranks with one flattened all_reduce (missing grads count as zero).

    Allocates a float32 copy of all gradients for the duration of the call (4 bytes
    per parameter) and overlaps with nothing; DDP's bucketed all-reduce avoids both.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    dev = _collective_device()
    flat = torch.cat([p.grad.reshape(-1).to(dev, torch.float32) for p in params])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
        offset += n


def all_reduce_flag(flag: bool, device: torch.device | None = None) -> bool:
    """True on every rank when ``flag`` is true on any rank (logical OR)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0], device=device or _collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def check_replicas_identical(modules: dict[str, nn.Module]) -> None:
    """Raise ``RuntimeError`` when the parameters differ between ranks.

    Each rank reduces every parameter tensor to two float64 fingerprints (sum and
    sum of squares); the element-wise min and max over ranks must agree exactly.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    dev = _collective_device()
    names, prints = [], []
    for mname, module in modules.items():
        for pname, p in module.named_parameters():
            d = p.detach().to(torch.float64)
            names.append(f"{mname}.{pname}")
            prints.append(torch.stack([d.sum(), (d * d).sum()]))
    if not prints:
        return
    local = torch.stack(prints).to(dev)  # [P, 2]
    lo, hi = local.clone(), local.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    bad = (lo != hi).any(dim=1).nonzero().flatten().tolist()
    if bad:
        shown = ", ".join(names[i] for i in bad[:5])
        raise RuntimeError(f"parameters differ between ranks ({len(bad)} tensors, e.g. {shown}); refusing to save")


def enable_cross_replica_bn(module: nn.Module, process_group: dist.ProcessGroup | None = None) -> int:
    """Turn on cross-replica statistics in every per-frame batch norm of ``module``.

    Covers :class:`~vidgan_blocks.layers.FrameBatchNorm` and its conditional
    subclass; torch's own batch-norm layers are left to
    ``torch.nn.SyncBatchNorm.convert_sync_batchnorm``. Returns the number of
    layers switched.
    """
    n = 0
    for m in module.modules():
        if isinstance(m, FrameBatchNorm):
            m.cross_replica = True
            m.process_group = process_group
            n += 1
    return n
