"""The GAN training loop: explicit discriminator and generator steps.

One training iteration (``train_step``) is ``n_dis`` discriminator steps followed
by one generator step (DVD-GAN A.3 and TrIVD-GAN-FP E.2: "the discriminator is
updated twice for every generator update"). Each step accumulates gradients over
``accumulation`` micro-batches per rank, averages them over ranks (under
``DistributedDataParallel`` when there are several processes), checks them,
and then applies Adam with beta1 = 0, beta2 = 0.999 (TrIVD-GAN-FP E.2) and
separate learning rates for G and D. The geometric hinge loss (TrIVD-GAN-FP eq.
13-14) takes whatever the discriminator returns (a tensor or a dict of them).

What D sees and how fakes are made go through small methods that mixins override:

* :meth:`GANTrainer.prepare_real` turns a data batch into the real *view* D scores;
* :meth:`GANTrainer.d_fake_context` / :meth:`GANTrainer.g_context` give the
  generator's context keywords in the D and G steps;
* :meth:`GANTrainer.make_fake` runs G and returns the fake view;
* :meth:`GANTrainer.discriminate` calls D on a view;
  :meth:`GANTrainer.discriminate_pair` scores the real and the fake view of a D
  step with one call over both when they concatenate along the batch.

A *view* is a dict with ``"video"`` (B, 3, T, H, W), optionally ``"label"`` (B,),
and any context keyword of the shared calling convention (``cond_frames``,
``low_res``); every key other than video and label is passed to D as a keyword.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from .._checks import check_int, check_label_range, check_positive_int, check_video
from ..discriminators.multi import MultiDiscriminator
from ..discriminators.single import VideoDiscriminator
from ..layers.heads import MixedProjectionHead
from ..layers.norm import FrameBatchNorm
from ..layers.spectral import spectral_norm_cache
from ..losses.hinge import d_hinge_loss, g_hinge_loss
from ..losses.regularization import orthogonal_regularization
from ..ops.memory_format import channels_last
from .augment import VideoAugment, parse_policy
from .checkpoint import CheckpointError, CheckpointManager
from .distributed import (
    DistributedContext,
    average_gradients,
    broadcast_module,
    check_replicas_identical,
    enable_cross_replica_bn,
    init_distributed,
)
from .log import MetricLogger
from .rng import capture_rng_state, restore_rng_state
from .sampler import InfiniteRankSampler
from .stats import StatsCollector

__all__ = ["TrainerConfig", "GANTrainer", "View", "context_of", "truncated_normal"]

View = dict[str, torch.Tensor]
_NON_CONTEXT = ("video", "label")


def context_of(view: Mapping[str, Any]) -> dict[str, Any]:
    """The context keywords of a view (everything but ``video`` and ``label``)."""
    return {k: v for k, v in view.items() if k not in _NON_CONTEXT}


def truncated_normal(
    shape: tuple[int, ...], threshold: float | None, *, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """Standard normal samples; with ``threshold``, entries with ``|z| > threshold`` are redrawn.

    The truncation trick (BigGAN; DVD-GAN section 4 reports truncated samples).
    """
    dev = device if device is not None else (generator.device if generator is not None else "cpu")
    z = torch.randn(shape, generator=generator, device=dev)
    if threshold is None:
        return z
    if threshold <= 0:
        raise ValueError(f"threshold: expected a positive truncation threshold, got {threshold}")
    bad = z.abs() > threshold
    while bool(bad.any()):
        z[bad] = torch.randn(int(bad.sum()), generator=generator, device=dev)
        bad = z.abs() > threshold
    return z


@dataclass(frozen=True)
class TrainerConfig:
    """Everything that controls a run; saved as JSON with every checkpoint.

    Attributes:
        batch_size: samples per rank per micro-batch.
        accumulation: micro-batches per optimiser step (see :meth:`accumulation_for`).
        n_dis: discriminator steps per generator step (2 in all five papers).
        lr_g, lr_d: Adam learning rates (DVD-GAN: 1e-4 / 2e-4; TrIVD-GAN-FP and CVG: 1e-4 / 5e-4).
        betas, adam_eps: Adam parameters (beta1 = 0, beta2 = 0.999, TrIVD-GAN-FP E.2).
        ortho_reg: weight of G's orthogonal regularisation (1e-4 in TrIVD-GAN-FP; 0 = off).
        max_steps: training iterations (each = n_dis D steps + 1 G step).
        seed: base seed (data order; per-rank noise streams derive from it).
        amp: ``"none"``, ``"bf16"`` or ``"fp16"`` autocast for the G and D forwards. bf16 runs on
            CUDA and CPU; fp16 (with loss scaling) only on CUDA and falls back to float32 elsewhere.
            Parameters, optimiser state and BN running statistics stay float32.
        compile: wrap G and D forwards in ``torch.compile``.
        channels_last: lay out G's and D's 4D/5D weights and the real videos channels-last
            (:func:`vidgan_blocks.ops.channels_last`); faster convolutions on tensor-core GPUs.
        sync_bn: cross-replica per-frame BN statistics when world size > 1.
        sn_cache: one spectral-norm power iteration per micro-batch (not per call).
        joint_d: in the D step, score real and fake videos with one D call over both
            (concatenated along the batch, outputs split back) when the two views
            concatenate and D treats samples independently (no batch norm; mixed-projection
            outputs are split into their real-real and fake-fake blocks); ``False``: one call
            per view. Same function, half the calls (and kernel launches).
        grad_sync: how gradients are averaged over ranks when world size > 1. ``"ddp"``:
            G and D train under ``torch.nn.parallel.DistributedDataParallel`` (bucketed
            all-reduce overlapped with the backward pass, ``no_sync`` on all but the last
            accumulation micro-batch). ``"flat"``: after the backward passes, one blocking
            ``all_reduce`` of a flat float32 copy of all gradients (:func:`average_gradients`);
            the same update, kept for models whose backward DDP cannot follow.
        augment: differentiable augmentation of everything D scores, real and fake, in
            the D and the G steps (:class:`~vidgan_blocks.training.augment.VideoAugment`):
            a comma-separated subset of ``"color,translation,cutout"``, the same
            transform for every frame of a clip and for its context tensors
            (``low_res``, ``cond_frames``); ``""`` (default) is off. Draws come from
            the noise stream, so resume stays exact. For small datasets.
        out_dir: checkpoints (``out_dir/checkpoints``) and logs; ``None``: nothing written.
        checkpoint_every: save every this many iterations (0: only at the end and on signals).
        keep_last: checkpoints kept (>= 2), plus the best by ``eval_fn``'s ``best_metric``.
        best_metric, best_mode: which evaluation value ranks checkpoints and how.
        resume: ``"latest"`` (continue from the newest complete checkpoint that verifies,
            if any; newer corrupted ones are refused with a warning), ``"never"``, or a
            checkpoint directory.
        log_every, sample_every, eval_every: intervals in iterations (0: off).
        num_samples: videos per sample export.
        nonfinite_patience: consecutive skipped steps that trigger a restore of the
            last good checkpoint.
        max_restores: restores allowed in one run before giving up with an error.
        progress, tensorboard: tqdm bar and TensorBoard scalars on rank 0.
        progress_label: what the progress bar and the resume message call this run
            (cascades use ``"level 1/2"``, ...).
        num_workers: data-loader workers.
        shuffle: shuffle the data each epoch.
        exit_on_signal: after saving on SIGTERM/SIGINT, raise ``SystemExit(128 + signum)``
            (143 for SIGTERM); otherwise :meth:`GANTrainer.fit` returns.
    """

    batch_size: int = 8
    accumulation: int = 1
    n_dis: int = 2
    lr_g: float = 1e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.999)
    adam_eps: float = 1e-8
    ortho_reg: float = 0.0
    max_steps: int = 1000
    seed: int = 0
    amp: Literal["none", "bf16", "fp16"] = "none"
    compile: bool = False
    channels_last: bool = False
    sync_bn: bool = True
    sn_cache: bool = True
    joint_d: bool = True
    grad_sync: Literal["ddp", "flat"] = "ddp"
    augment: str = ""
    out_dir: str | None = None
    checkpoint_every: int = 0
    keep_last: int = 2
    best_metric: str | None = None
    best_mode: Literal["max", "min"] = "max"
    resume: str = "latest"
    log_every: int = 10
    sample_every: int = 0
    eval_every: int = 0
    num_samples: int = 8
    nonfinite_patience: int = 3
    max_restores: int = 3
    progress: bool = True
    tensorboard: bool = True
    progress_label: str = "train"
    num_workers: int = 0
    shuffle: bool = True
    exit_on_signal: bool = True

    def __post_init__(self) -> None:
        for name in ("batch_size", "accumulation", "n_dis", "max_steps", "keep_last", "nonfinite_patience", "num_samples"):
            check_positive_int(getattr(self, name), name)
        for name in ("max_restores", "checkpoint_every", "log_every", "sample_every", "eval_every", "num_workers"):
            check_int(getattr(self, name), name, minimum=0)
        for name in ("compile", "channels_last", "sync_bn", "sn_cache", "joint_d", "progress", "tensorboard",
                     "shuffle", "exit_on_signal"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name}: expected a bool, got {type(getattr(self, name)).__name__}")
        if not isinstance(self.progress_label, str):
            raise TypeError(f"progress_label: expected a str, got {type(self.progress_label).__name__}")
        if self.amp not in ("none", "bf16", "fp16"):
            raise ValueError(f"amp: expected 'none', 'bf16' or 'fp16', got {self.amp!r}")
        if not isinstance(self.augment, str):
            raise TypeError(f"augment: expected a comma-separated str of transforms, got {type(self.augment).__name__}")
        parse_policy(self.augment)  # unknown names fail here, not at the first D call
        if self.grad_sync not in ("ddp", "flat"):
            raise ValueError(f"grad_sync: expected 'ddp' or 'flat', got {self.grad_sync!r}")
        if self.best_mode not in ("max", "min"):
            raise ValueError(f"best_mode: expected 'max' or 'min', got {self.best_mode!r}")
        if self.keep_last < 2:
            raise ValueError(f"keep_last: expected >= 2, got {self.keep_last}")
        if self.ortho_reg < 0 or self.lr_g <= 0 or self.lr_d <= 0:
            raise ValueError("ortho_reg must be >= 0 and learning rates > 0")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    @staticmethod
    def accumulation_for(effective_batch: int, batch_size: int, world_size: int = 1) -> int:
        """Micro-batches per step so that ``batch_size * accumulation * world_size == effective_batch``."""
        per_step = batch_size * world_size
        if effective_batch % per_step:
            raise ValueError(
                f"effective batch {effective_batch} is not a multiple of batch_size x world_size = {per_step}"
            )
        return effective_batch // per_step

    def effective_batch(self, world_size: int = 1) -> int:
        return self.batch_size * self.accumulation * world_size

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown TrainerConfig fields: {sorted(unknown)}")
        return cls(**{k: (tuple(v) if k == "betas" else v) for k, v in d.items()})


@dataclass
class _Counters:
    step: int = 0
    d_steps: int = 0
    g_steps: int = 0
    samples_seen: int = 0
    skipped_d: int = 0
    skipped_g: int = 0
    consecutive_skips: int = 0
    restores: int = 0
    best: float | None = None
    history: dict[str, float] = field(default_factory=dict)


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def _grads_finite(params: list[nn.Parameter], device: torch.device) -> torch.Tensor:
    """0-dim bool tensor on ``device``: every gradient is free of NaNs and infinities (no host read)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.ones((), dtype=torch.bool, device=device)
    norms = torch._foreach_norm(grads)
    return torch.stack([n.float() for n in norms]).isfinite().all().to(device)


# How the outputs of one D call over [real; fake] split back: ``True`` (a tensor output is
# pairwise, (B, B, ...)), a set of the keys of a dict output that are pairwise, or ``None``
# when D must be called once per view.
_Pairwise = bool | frozenset[str] | None


def _has(module: nn.Module, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(m, kinds) for m in module.modules())


def _joint_plan(discriminator: nn.Module) -> _Pairwise:
    """Whether one call of ``discriminator`` over real and fake equals one call per view, and how to split it.

    Batch statistics (any batch norm) tie the samples of a call together: such a D is
    called once per view. The only other batch-coupling layer of the library is the
    mixed projection head (TrIVD-GAN-FP eq. 15): ``out[b, b', t] = r_x[b, t] +
    sum_t' r_xy[b', t']`` pairs every sample with every sample's label term, so over
    ``[real; fake]`` its real-real and fake-fake blocks are exactly the per-view
    outputs. Those are located by the discriminator's structure (a
    :class:`MultiDiscriminator` member or a :class:`VideoDiscriminator` with a mixed
    head); a mixed head anywhere else means one call per view.
    """
    if _has(discriminator, (nn.modules.batchnorm._BatchNorm, FrameBatchNorm)):
        return None
    if not _has(discriminator, (MixedProjectionHead,)):
        return frozenset()
    if isinstance(discriminator, MultiDiscriminator):
        return frozenset(name for name, m in discriminator.discriminators.items() if _has(m, (MixedProjectionHead,)))
    if isinstance(discriminator, VideoDiscriminator):
        return True
    return None


def _concat_views(real: Mapping[str, Any], fake: Mapping[str, Any]) -> View | None:
    """``[real; fake]`` along the batch, or ``None`` when the views do not concatenate.

    They concatenate when they have the same keys (labels in both or in neither) and
    every tensor pair agrees in dtype, device and all dimensions but the batch.
    """
    if set(real) != set(fake) or "video" not in real:
        return None
    n_real, n_fake = real["video"].shape[0], fake["video"].shape[0]
    joint: View = {}
    for key, a in real.items():
        b = fake[key]
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return None
        if (a.dim() == 0 or a.shape[0] != n_real or b.shape[0] != n_fake or a.shape[1:] != b.shape[1:]
                or a.dtype != b.dtype or a.device != b.device):
            return None
        joint[key] = torch.cat([a, b])
    return joint


def _split_outputs(out: Any, n_real: int, n_total: int, pairwise: bool | frozenset[str]) -> tuple[Any, Any]:
    """Split D's outputs on ``[real; fake]`` into the real and the fake part (a tensor, sequence or dict of them)."""

    def one(o: Any, pw: bool, where: str) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(o, torch.Tensor):
            raise TypeError(f"{where}: expected a tensor, got {type(o).__name__}")
        if o.dim() == 0 or o.shape[0] != n_total or (pw and (o.dim() < 2 or o.shape[1] != n_total)):
            raise ValueError(
                f"{where}: one D call over {n_total} videos (real and fake) returned shape {tuple(o.shape)}, "
                "which does not split back per video; use TrainerConfig(joint_d=False)"
            )
        if pw:
            return o[:n_real, :n_real], o[n_real:, n_real:]  # the real-real and fake-fake blocks
        return o[:n_real], o[n_real:]

    if isinstance(out, torch.Tensor):
        return one(out, pairwise is True, "D output")
    if pairwise is True:
        raise TypeError(f"D output: expected a tensor from a single discriminator, got {type(out).__name__}")
    if isinstance(out, Mapping):
        parts = {k: one(v, k in pairwise, f"D output {k!r}") for k, v in out.items()}
        return {k: p[0] for k, p in parts.items()}, {k: p[1] for k, p in parts.items()}
    if isinstance(out, (list, tuple)):
        seq = [one(v, False, f"D output [{i}]") for i, v in enumerate(out)]
        return [p[0] for p in seq], [p[1] for p in seq]
    raise TypeError(f"D output: expected a tensor, a sequence or a mapping of tensors, got {type(out).__name__}")


class GANTrainer:
    """Trains one generator against one (multi-)discriminator.

    The models only need the shared calling convention: ``G.z_dim``,
    ``G.num_classes`` and ``G(z, y=None, **context) -> (B, 3, T, H, W)``;
    ``D(video, y=None, **context)`` returning a tensor or a dict of tensors.

    Args:
        generator, discriminator: the two networks (moved to ``device``).
        dataset: map-style dataset of dicts ``{"video": (3, T, H, W), "label": ()}``.
        config: :class:`TrainerConfig`.
        device: ``"cpu"``/``"cuda"``; default CUDA when available.
        context: a :class:`DistributedContext` (default: from torchrun's environment).
        sample_fn: ``sample_fn(videos, step, out_dir)`` called on rank 0 every
            ``sample_every`` iterations with ``(N, 3, T, H, W)`` videos in [-1, 1]
            (plug in the mp4 / PNG-grid writers here).
        eval_fn: ``eval_fn(trainer) -> dict[str, float]`` called on every rank every
            ``eval_every`` iterations; values are logged and ``best_metric`` ranks
            checkpoints.
        model_config: JSON-serialisable description of the models, saved with
            every checkpoint.

    Distributed runs (``torchrun``): construct the trainer on every rank; the
    models are broadcast from rank 0, per-frame BN statistics are reduced across
    ranks (``config.sync_bn``), each rank reads its own shard of the data and its
    own noise stream, and gradients are averaged once per optimiser step: G and D
    train under ``DistributedDataParallel`` (:attr:`G_ddp`, :attr:`D_ddp`; the
    all-reduce of each gradient bucket starts while the backward pass goes on,
    and ``no_sync`` skips it on all but the last accumulation micro-batch), or
    with ``config.grad_sync="flat"`` through :func:`average_gradients`. The G step
    runs its D forward on the unwrapped D (its weights are frozen there), and
    :attr:`G` / :attr:`D` stay the plain modules: checkpoints, EMA and sampling
    never see the wrappers. Every rank must be able to read ``out_dir`` (only
    rank 0 writes) and must call the collective methods (:meth:`save`,
    :meth:`fit`, standing statistics) together.

    Exact resumption: a checkpoint holds the models, the EMA, both optimisers,
    the loss scalers, counters, every rank's RNG states and the number of samples
    each rank has consumed; training resumed from it follows the same trajectory
    bit for bit as an uninterrupted run on the same hardware and world size.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        dataset: Dataset,
        config: TrainerConfig,
        *,
        device: str | torch.device | None = None,
        context: DistributedContext | None = None,
        sample_fn: Callable[[torch.Tensor, int, Path | None], None] | None = None,
        eval_fn: Callable[[GANTrainer], dict[str, float]] | None = None,
        model_config: dict[str, Any] | None = None,
    ) -> None:
        for name, m in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{name}: expected an nn.Module, got {type(m).__name__}")
        if not hasattr(generator, "z_dim") or not hasattr(generator, "num_classes"):
            raise TypeError("generator: expected attributes z_dim and num_classes (the shared calling convention)")
        if not isinstance(config, TrainerConfig):
            raise TypeError(f"config: expected a TrainerConfig, got {type(config).__name__}")
        self.config = config
        self.ctx = context if context is not None else init_distributed(device)
        self.device = self.ctx.device
        self.G = generator.to(self.device)
        self.D = discriminator.to(self.device)
        self.dataset = dataset
        self.sample_fn = sample_fn
        self.eval_fn = eval_fn
        self.model_config = dict(model_config or {})
        self.counters = _Counters()
        self.stats = StatsCollector()
        self.out_dir = Path(config.out_dir) if config.out_dir is not None else None

        broadcast_module(self.G)  # identical initial weights on every rank
        broadcast_module(self.D)
        if self.ctx.world_size > 1 and config.sync_bn:
            enable_cross_replica_bn(self.G)
            enable_cross_replica_bn(self.D)
            if self.device.type == "cuda":
                self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G)
                self.D = nn.SyncBatchNorm.convert_sync_batchnorm(self.D)

        if config.channels_last:
            channels_last(self.G)
            channels_last(self.D)

        self.logger = MetricLogger(
            self.out_dir / "logs" if self.out_dir is not None else None,
            enabled=self.ctx.is_main,
            tensorboard=config.tensorboard,
        )
        amp = config.amp
        if amp == "fp16" and self.device.type != "cuda":
            self.logger.event(0, "amp_disabled", reason=f"amp=fp16 needs CUDA; running float32 on {self.device}")
            amp = "none"
        self.amp_dtype = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]
        use_scaler = amp == "fp16"
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=use_scaler)
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=use_scaler)

        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=config.betas, eps=config.adam_eps,
                                      fused=self.device.type in ("cpu", "cuda"))  # one kernel for all parameters
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=config.betas, eps=config.adam_eps,
                                      fused=self.device.type in ("cpu", "cuda"))
        # Gradient averaging over ranks: DDP wrappers (the plain modules stay in self.G / self.D).
        self._flat_sync = self.ctx.distributed and config.grad_sync == "flat"
        self.G_ddp: DistributedDataParallel | None = None
        self.D_ddp: DistributedDataParallel | None = None
        if self.ctx.distributed and config.grad_sync == "ddp":
            self.G_ddp = self._wrap_ddp(self.G)
            self.D_ddp = self._wrap_ddp(self.D)
        g_train = self.G if self.G_ddp is None else self.G_ddp
        d_train = self.D if self.D_ddp is None else self.D_ddp
        self.G_fwd: Callable[..., torch.Tensor] = torch.compile(g_train) if config.compile else g_train
        self.D_fwd: Callable[..., Any] = torch.compile(d_train) if config.compile else d_train
        # The G step's D forward: D's weights are frozen there, so it bypasses D's DDP wrapper
        # (None: the same callable as the D step's, D_fwd).
        self.D_fwd_frozen: Callable[..., Any] | None = None
        if self.D_ddp is not None:
            self.D_fwd_frozen = torch.compile(self.D) if config.compile else self.D
        self._d_frozen = False
        self._joint_plan = _joint_plan(self.D) if config.joint_d else None

        self.augment = VideoAugment(config.augment) if config.augment else None
        self.noise = torch.Generator(device=self.device)
        self.noise.manual_seed(self._rank_seed(config.seed, self.ctx.rank))
        self.sampler = InfiniteRankSampler(
            len(dataset), rank=self.ctx.rank, world_size=self.ctx.world_size, seed=config.seed, shuffle=config.shuffle
        )
        self._data_iter: Iterator[dict[str, Any]] | None = None
        self.checkpoints = (
            CheckpointManager(self.out_dir / "checkpoints", keep_last=config.keep_last, best_mode=config.best_mode)
            if self.out_dir is not None
            else None
        )
        self._signal: int | None = None
        self._saved_step: int | None = None
        self._restore_pending = False
        self._last_log_time = time.perf_counter()
        self._last_log_step = 0
        self._pbar = None

    # ------------------------------------------------------------------ basics

    def _wrap_ddp(self, module: nn.Module) -> DistributedDataParallel:
        """``module`` under DDP: bucketed all-reduce overlapped with backward, gradients as bucket views.

        Gradients live in DDP's buckets (``gradient_as_bucket_view``: no second copy).
        Buffers are broadcast from rank 0 before the forward passes that synchronise
        (DDP's default): spectral-norm vectors already follow from identical weights,
        but grouped power iterations on CUDA sum with atomic adds, and the broadcast
        (a few vectors per layer) keeps them bitwise identical across ranks.
        ``find_unused_parameters`` lets a D leave heads unused (e.g. a matching head
        without ``low_res=``); a static graph is not declared because torch's static
        graph mode does not combine with ``no_sync`` accumulation.
        """
        _set_requires_grad(module, True)  # every parameter a step trains is in DDP's buckets
        return DistributedDataParallel(
            module,
            device_ids=[self.device.index if self.device.index is not None else torch.cuda.current_device()]
            if self.device.type == "cuda" else None,
            find_unused_parameters=True,
            gradient_as_bucket_view=True,
        )

    @staticmethod
    def _rank_seed(seed: int, rank: int) -> int:
        return (seed * 1_000_003 + 7919 * (rank + 1)) % (2**63 - 1)

    @property
    def step(self) -> int:
        """Completed training iterations."""
        return self.counters.step

    @property
    def conditional(self) -> bool:
        return self.G.num_classes is not None

    def report(self, name: str, value: float | torch.Tensor) -> None:
        """Add a value to this iteration's statistics (averaged over ranks when logged)."""
        self.stats.report(name, value)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _sn_cache(self) -> contextlib.AbstractContextManager:
        return spectral_norm_cache() if self.config.sn_cache else contextlib.nullcontext()

    # ------------------------------------------------------------------ data

    def _make_iter(self) -> Iterator[dict[str, Any]]:
        self.sampler.start = self.counters.samples_seen
        # A private generator: creating a loader iterator must not consume the global RNG.
        loader = DataLoader(
            self.dataset,
            batch_size=self.config.batch_size,
            sampler=self.sampler,
            num_workers=self.config.num_workers,
            drop_last=True,
            generator=torch.Generator().manual_seed(self.config.seed),
            pin_memory=self.device.type == "cuda",
        )
        return iter(loader)

    def next_batch(self) -> dict[str, torch.Tensor]:
        """The next data batch of this rank, on the device, checked against the data convention."""
        if self._data_iter is None:
            self._data_iter = self._make_iter()
        batch = next(self._data_iter)
        self.counters.samples_seen += self.config.batch_size
        if not isinstance(batch, Mapping) or "video" not in batch:
            raise TypeError(f"data batches must be dicts with a 'video' entry, got {type(batch).__name__}")
        label = batch.get("label")
        if self.conditional and isinstance(label, torch.Tensor) and not label.is_floating_point():
            # Checked here, on the CPU, so that no block reads labels back from the device.
            check_label_range(label, int(self.G.num_classes), "batch['label']", force=True)
        out = {k: (v.to(self.device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
        check_video(out["video"], "batch['video']", channels=3)
        if self.config.channels_last:
            out["video"] = channels_last(out["video"])
        return out

    # ------------------------------------------------------------------ overridable hooks

    def prepare_real(self, batch: dict[str, torch.Tensor]) -> View:
        """The real view D scores, from a data batch. Default: the whole clip and its label."""
        view: View = {"video": batch["video"]}
        if self.conditional:
            if "label" not in batch:
                raise ValueError("the generator is class-conditional but the data batch has no 'label'")
            view["label"] = batch["label"]
        return view

    def d_fake_context(self, real: View) -> dict[str, Any]:
        """Generator context keywords for the fakes of a D step (default: the real view's context)."""
        return context_of(real)

    def g_context(self, n: int) -> dict[str, Any]:
        """Generator context keywords for a G step (default: none)."""
        return {}

    def sample_noise(self, n: int, *, generator: torch.Generator | None = None, truncation: float | None = None):
        """``(z, y)``: latent vectors and (for class-conditional G) uniformly drawn labels."""
        gen = generator if generator is not None else self.noise
        z = truncated_normal((n, int(self.G.z_dim)), truncation, generator=gen, device=self.device)
        y = None
        if self.conditional:
            y = torch.randint(int(self.G.num_classes), (n,), generator=gen, device=self.device)
        return z, y

    def make_fake(
        self,
        n: int,
        context: dict[str, Any],
        *,
        model: Callable[..., torch.Tensor] | None = None,
        generator: torch.Generator | None = None,
        truncation: float | None = None,
        labels: torch.Tensor | None = None,
    ) -> View:
        """Run G on fresh noise and return the fake view (video, label, context)."""
        z, y = self.sample_noise(n, generator=generator, truncation=truncation)
        if labels is not None:
            y = labels
        g = model if model is not None else self.G_fwd
        video = g(z, y, **context)
        view: View = {"video": video, **context}
        if y is not None:
            view["label"] = y
        return view

    def discriminate(self, view: View) -> Any:
        """D's outputs for a view: ``D(video, label, **context)``."""
        d = self.D_fwd_frozen if self._d_frozen and self.D_fwd_frozen is not None else self.D_fwd
        if self.augment is not None:
            view = self.augment(view, generator=self.noise)
        return d(view["video"], view.get("label"), **context_of(view))

    def discriminate_pair(self, real: View, fake: View) -> tuple[Any, Any]:
        """D's outputs for the real and the fake view of a D step.

        With ``config.joint_d`` and views that concatenate (same keys, labels in
        both or neither, same shapes but for the batch), one :meth:`discriminate`
        call scores ``[real; fake]`` and the outputs are split back (per-sample
        outputs along the batch; mixed-projection outputs into their real-real and
        fake-fake blocks). Otherwise, and for a D with batch statistics, one call per view.
        """
        joint = _concat_views(real, fake) if self._joint_plan is not None else None
        if joint is None:
            return self.discriminate(real), self.discriminate(fake)
        out = self.discriminate(joint)
        return _split_outputs(out, real["video"].shape[0], joint["video"].shape[0], self._joint_plan)

    def eval_model(self) -> nn.Module:
        """The generator used for samples and evaluation (the EMA one when a mixin provides it)."""
        return self.G

    def after_g_step(self) -> None:
        """Called after every iteration's generator update (EMA updates go here)."""

    def extra_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Mixin state to checkpoint: (tensors, JSON)."""
        return {}, {}

    def load_extra_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Inverse of :meth:`extra_state`."""

    # ------------------------------------------------------------------ steps

    def _guard(self, loss_sum: torch.Tensor, params: list[nn.Parameter], scaler: torch.amp.GradScaler,
               opt: torch.optim.Optimizer, which: str) -> bool:
        """Decide, identically on every rank, whether to apply this step's update.

        Gradients are already averaged over ranks (so their finiteness agrees); the
        loss finiteness is OR-reduced. With fp16 loss scaling, non-finite gradients
        under a finite loss are ordinary overflow: the scaler skips the update and
        lowers its scale, which is logged but not counted as a failure.
        """
        if scaler.is_enabled():
            scaler.unscale_(opt)
        # Both flags travel to the host together: the guard's one synchronisation per update.
        ok = torch.stack([loss_sum.isfinite().all(), _grads_finite(params, loss_sum.device)])
        if self.ctx.world_size > 1 and dist.is_available() and dist.is_initialized():
            ok = ok.to(self.ctx.collective_device, torch.float32)
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)  # a flag is set only where every rank set it
        bad_loss, bad_grad = (not bool(v) for v in ok.tolist())
        if scaler.is_enabled() and bad_grad and not bad_loss:
            self.logger.event(self.step, "amp_overflow", which=which, scale=float(scaler.get_scale()))
            return True
        if bad_loss or bad_grad:
            opt.zero_grad(set_to_none=True)
            self.counters.consecutive_skips += 1
            setattr(self.counters, f"skipped_{which}", getattr(self.counters, f"skipped_{which}") + 1)
            self.logger.event(
                self.step, "nonfinite_skip", warn=True, which=which, loss_finite=not bad_loss, grads_finite=not bad_grad,
                consecutive=self.counters.consecutive_skips,
            )
            if self.counters.consecutive_skips >= self.config.nonfinite_patience:
                self._restore_pending = True
            if scaler.is_enabled():
                scaler.update()
            return False
        self.counters.consecutive_skips = 0
        return True

    def _sync_unless_last(self, ddp: DistributedDataParallel | None, micro: int) -> contextlib.AbstractContextManager:
        """DDP's ``no_sync`` on every accumulation micro-batch but the last (whose backward all-reduces)."""
        if ddp is None or micro == self.config.accumulation - 1:
            return contextlib.nullcontext()
        return ddp.no_sync()

    def d_step(self) -> torch.Tensor:
        """One discriminator update over ``accumulation`` micro-batches; returns the mean loss."""
        cfg = self.config
        self.G.train()
        self.D.train()
        _set_requires_grad(self.D, True)
        _set_requires_grad(self.G, False)
        self.opt_d.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=self.device)
        for i in range(cfg.accumulation):
            real = self.prepare_real(self.next_batch())
            n = real["video"].shape[0]
            with torch.no_grad(), self.autocast():
                fake = self.make_fake(n, self.d_fake_context(real))
            fake = {k: (v.detach() if isinstance(v, torch.Tensor) else v) for k, v in fake.items()}
            with self._sync_unless_last(self.D_ddp, i):  # forward and backward
                with self._sn_cache(), self.autocast():
                    out_real, out_fake = self.discriminate_pair(real, fake)
                    loss = d_hinge_loss(out_real, out_fake)
                self.scaler_d.scale(loss.float() / cfg.accumulation).backward()
            loss_sum = loss_sum + loss.detach().float()
        params = list(self.D.parameters())
        if self._flat_sync:
            average_gradients(params)
        if self._guard(loss_sum, params, self.scaler_d, self.opt_d, "d"):
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()
        self.counters.d_steps += 1
        mean = loss_sum / cfg.accumulation
        self.report("loss/d", mean)
        return mean

    def g_step(self) -> torch.Tensor:
        """One generator update over ``accumulation`` micro-batches; returns the mean hinge loss."""
        cfg = self.config
        self.G.train()
        self.D.train()
        _set_requires_grad(self.D, False)
        _set_requires_grad(self.G, True)
        self.opt_g.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=self.device)
        self._d_frozen = True
        try:
            for i in range(cfg.accumulation):
                n = cfg.batch_size
                with self._sync_unless_last(self.G_ddp, i):  # forward and backward
                    with self._sn_cache(), self.autocast():
                        fake = self.make_fake(n, self.g_context(n))
                        loss = g_hinge_loss(self.discriminate(fake))
                    self.scaler_g.scale(loss.float() / cfg.accumulation).backward()
                loss_sum = loss_sum + loss.detach().float()
        finally:
            self._d_frozen = False
        if cfg.ortho_reg > 0:
            self._add_ortho_reg_grad()
        _set_requires_grad(self.D, True)
        params = list(self.G.parameters())
        if self._flat_sync:
            average_gradients(params)
        if self._guard(loss_sum, params, self.scaler_g, self.opt_g, "g"):
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
        self.counters.g_steps += 1
        mean = loss_sum / cfg.accumulation
        self.report("loss/g", mean)
        return mean

    def _add_ortho_reg_grad(self) -> None:
        """Add the gradient of G's orthogonal penalty to ``.grad``, once per update.

        The penalty depends on G's weights only: it is the same on every rank and in
        every micro-batch, so its gradient needs no all-reduce. ``autograd.grad`` leaves
        DDP's gradient hooks out of it (they would count the weights as used outside a
        forward pass).
        """
        params = [p for p in self.G.parameters() if p.requires_grad]
        with self.autocast():
            reg = orthogonal_regularization(self.G, self.config.ortho_reg)
        self.report("loss/g_ortho", reg.detach())
        if not reg.requires_grad:  # no weight matrix to penalise
            return
        grads = torch.autograd.grad(self.scaler_g.scale(reg.float()), params, allow_unused=True)
        for p, g in zip(params, grads, strict=True):
            if g is None:
                continue
            if p.grad is None:
                p.grad = torch.empty_like(p).copy_(g)  # in the parameter's layout, as backward() would
            else:
                p.grad.add_(g)

    def train_step(self) -> None:
        """One iteration: ``n_dis`` D steps, one G step, then the post-step hooks."""
        for _ in range(self.config.n_dis):
            self.d_step()
        self.g_step()
        self.counters.step += 1
        self.after_g_step()
        if self._restore_pending:
            self._restore_last_good()

    # ------------------------------------------------------------------ sampling

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        context: dict[str, Any] | None = None,
        labels: torch.Tensor | None = None,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
        model: nn.Module | None = None,
    ) -> torch.Tensor:
        """``n`` videos ``(n, 3, T, H, W)`` from the evaluation generator in eval mode.

        ``generator`` (default: a fresh one seeded with ``config.seed``) keeps the
        training noise stream untouched; ``truncation`` redraws latents beyond it.
        """
        check_positive_int(n, "n")
        g = model if model is not None else self.eval_model()
        gen = generator if generator is not None else torch.Generator(device=self.device).manual_seed(self.config.seed)
        was_training = g.training
        g.eval()
        try:
            with self.autocast():
                view = self.make_fake(n, context or {}, model=g, generator=gen, truncation=truncation, labels=labels)
        finally:
            g.train(was_training)
        return view["video"].float()

    def sample_context(self, n: int) -> dict[str, Any]:
        """Context for exported samples (default none; frame-conditional runs use dataset clips)."""
        return {}

    # ------------------------------------------------------------------ state

    def state_tensors(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The full training state as (tensors, JSON) for a checkpoint (a collective on many ranks)."""
        tensors: dict[str, torch.Tensor] = {}
        state: dict[str, Any] = {}
        for k, v in self.G.state_dict().items():
            tensors[f"G/{k}"] = v
        for k, v in self.D.state_dict().items():
            tensors[f"D/{k}"] = v
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            sd = opt.state_dict()
            plain: dict[str, dict[str, Any]] = {}
            for idx, st in sd["state"].items():
                for key, val in st.items():
                    if isinstance(val, torch.Tensor):
                        tensors[f"{name}/{idx}/{key}"] = val
                    else:
                        plain.setdefault(str(idx), {})[key] = val
            state[name] = {"param_groups": sd["param_groups"], "plain": plain}
        for r, rng in enumerate(self._gather_rng()):
            for k, v in rng.items():
                tensors[f"rng/rank{r}/{k}"] = v
        state["scaler_d"] = self.scaler_d.state_dict()
        state["scaler_g"] = self.scaler_g.state_dict()
        state["counters"] = dataclasses.asdict(self.counters)
        state["config"] = self.config.to_dict()
        state["model_config"] = self.model_config
        state["world_size"] = self.ctx.world_size
        extra_t, extra_s = self.extra_state()
        tensors.update(extra_t)
        state["extra"] = extra_s
        return tensors, state

    def _gather_rng(self) -> list[dict[str, torch.Tensor]]:
        local = capture_rng_state(self.noise)
        if not self.ctx.distributed:
            return [local]
        dev = self.ctx.collective_device
        out: list[dict[str, torch.Tensor]] = [{} for _ in range(self.ctx.world_size)]
        for k in sorted(local):
            t = local[k].to(dev)
            parts = [torch.empty_like(t) for _ in range(self.ctx.world_size)]
            dist.all_gather(parts, t)
            for r, p in enumerate(parts):
                out[r][k] = p.cpu()
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Restore everything :meth:`state_tensors` wrote (each rank takes its own RNG streams)."""

        def section(prefix: str) -> dict[str, torch.Tensor]:
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.G.load_state_dict(section("G/"))
        self.D.load_state_dict(section("D/"))
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            st: dict[int, dict[str, Any]] = {}
            for k, v in section(f"{name}/").items():
                idx, key = k.split("/", 1)
                st.setdefault(int(idx), {})[key] = v
            for idx, vals in state[name]["plain"].items():
                st.setdefault(int(idx), {}).update(vals)
            opt.load_state_dict({"state": st, "param_groups": state[name]["param_groups"]})
        self.scaler_d.load_state_dict(state["scaler_d"])
        self.scaler_g.load_state_dict(state["scaler_g"])
        self.counters = _Counters(**state["counters"])
        rng = section(f"rng/rank{self.ctx.rank}/")
        if rng and state.get("world_size") == self.ctx.world_size:
            restore_rng_state(rng, self.noise)
        else:
            self.noise.manual_seed(self._rank_seed(self.config.seed + self.counters.step, self.ctx.rank))
            self.logger.event(self.step, "rng_reseeded", warn=True, reason="world size changed since the checkpoint")
        self.load_extra_state(tensors, state.get("extra", {}))
        self._saved_step = self.counters.step
        self._data_iter = None  # restart the data stream at the restored position

    def save(self, *, metric: float | None = None) -> Path | None:
        """Checkpoint now (all ranks must call it; only rank 0 writes). Returns the path on rank 0."""
        if self.checkpoints is None:
            return None
        check_replicas_identical({"G": self.G, "D": self.D})
        tensors, state = self.state_tensors()
        path = None
        if self.ctx.is_main:
            path = self.checkpoints.save(self.step, tensors, state, metric=metric)
            self.logger.event(self.step, "checkpoint_saved", path=str(path), metric=metric)
        self._saved_step = self.step
        self.ctx.barrier()
        return path

    def load(self, path: str | Path | None = None) -> Path:
        """Restore from ``path``, or by default from the newest checkpoint that verifies.

        Without ``path``, a newer checkpoint that fails verification is refused (a
        warning and a ``checkpoint_refused`` event name it and the reason), set aside
        as ``step_XXXXXXXXX.refused``, and the next older one is used.
        """
        if path is not None:
            from .checkpoint import load_checkpoint

            target = Path(path)
            tensors, state = load_checkpoint(target, device=self.device)
        elif self.checkpoints is None:
            raise CheckpointError("no out_dir configured and no checkpoint path given")
        else:
            def refused(bad: Path, reason: str) -> None:
                self.logger.event(self.step, "checkpoint_refused", warn=True, path=str(bad), reason=reason)

            target, tensors, state = self.checkpoints.load_latest(
                device=self.device, on_refused=refused, set_aside=self.ctx.is_main
            )
        self.load_state_tensors(tensors, state)
        return target

    def _restore_last_good(self) -> None:
        self._restore_pending = False
        failed_at = self.step
        target = self.checkpoints.latest() if self.checkpoints is not None else None
        if target is None:
            self.logger.event(self.step, "nonfinite_abort", warn=True, reason="no checkpoint to restore")
            raise RuntimeError(
                f"{self.config.nonfinite_patience} consecutive non-finite steps at step {failed_at} and no checkpoint to restore"
            )
        restores = self.counters.restores
        if restores >= self.config.max_restores:
            self.logger.event(self.step, "nonfinite_abort", warn=True, reason="too many restores", restores=restores)
            raise RuntimeError(
                f"non-finite steps persist after {restores} restores of {target}; stopping at step {failed_at}"
            )
        skipped_d, skipped_g = self.counters.skipped_d, self.counters.skipped_g
        target = self.load()
        # The checkpoint's counters predate the skips that led here; keep the run's totals.
        self.counters.skipped_d, self.counters.skipped_g = skipped_d, skipped_g
        self.counters.consecutive_skips = 0
        self.counters.restores = restores + 1
        self.logger.event(self.step, "nonfinite_restore", warn=True, path=str(target), failed_at=failed_at,
                          restores=self.counters.restores)

    # ------------------------------------------------------------------ loop

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signal = signum

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    def _maybe_resume(self) -> None:
        how = self.config.resume
        if how == "never":
            return
        if how == "latest":
            if self.checkpoints is None or self.checkpoints.latest() is None:
                return
            path = self.load()
        else:
            path = self.load(how)
        self.logger.event(self.step, "resumed", path=str(path))
        if self.ctx.is_main and self.config.progress:
            label = self.config.progress_label
            what = "training" if label == "train" else label
            done = " (already complete)" if self.step >= self.config.max_steps else ""
            print(f"resumed {what} at step {self.step} of {self.config.max_steps}{done}", file=sys.stderr, flush=True)

    def _log(self, extra: dict[str, float] | None = None) -> None:
        values = self.stats.collect()
        now = time.perf_counter()
        steps = self.step - self._last_log_step
        if steps > 0:
            dt = now - self._last_log_time
            values["perf/sec_per_step"] = dt / steps
            values["perf/samples_per_sec"] = steps * self.config.effective_batch(self.ctx.world_size) * (
                self.config.n_dis + 1
            ) / max(dt, 1e-12)
        self._last_log_time, self._last_log_step = now, self.step
        values.update(extra or {})
        self.counters.history = {k: v for k, v in values.items() if isinstance(v, float) and math.isfinite(v)}
        self.logger.scalars(self.step, values)
        if self._pbar is not None:
            post = {k.split("/")[-1]: f"{v:.3g}" for k, v in values.items() if k.startswith("loss/")}
            if "perf/samples_per_sec" in values:
                post["samples/s"] = f"{values['perf/samples_per_sec']:.3g}"
            self._pbar.set_postfix(post)

    def _export_samples(self) -> None:
        if self.sample_fn is None:
            return
        n = self.config.num_samples
        videos = self.sample(n, context=self.sample_context(n))
        if self.ctx.is_main:
            out = self.out_dir / "samples" if self.out_dir is not None else None
            self.sample_fn(videos.cpu(), self.step, out)
            self.logger.event(self.step, "samples_exported", count=n)

    def _evaluate(self) -> float | None:
        if self.eval_fn is None:
            return None
        metrics = {f"eval/{k}": float(v) for k, v in self.eval_fn(self).items()}
        self.logger.scalars(self.step, metrics)
        if self.config.best_metric is None:
            return None
        key = f"eval/{self.config.best_metric}"
        if key not in metrics:
            raise KeyError(f"eval_fn returned {sorted(metrics)} but best_metric={self.config.best_metric!r}")
        return metrics[key]

    def fit(self) -> dict[str, Any]:
        """Train until ``config.max_steps`` iterations (resuming first, see ``config.resume``).

        Returns a summary dict (final step, counters, whether a signal stopped the run).
        On SIGTERM/SIGINT: finish the current iteration, agree across ranks, save,
        then raise ``SystemExit(128 + signum)`` (unless ``exit_on_signal`` is false).
        """
        cfg = self.config
        self._maybe_resume()
        stopped: int | None = None
        if self.ctx.is_main and cfg.progress and self.step < cfg.max_steps:
            from tqdm.auto import tqdm

            self._pbar = tqdm(total=cfg.max_steps, initial=self.step, desc=cfg.progress_label, dynamic_ncols=True)
        self._last_log_time, self._last_log_step = time.perf_counter(), self.step
        try:
            with self._signals(), self.stats.active():
                while self.step < cfg.max_steps:
                    self.train_step()
                    if self._pbar is not None:
                        self._pbar.update(1)
                    sig = self._agree_signal()
                    if sig is not None:
                        stopped = sig
                        self.logger.event(self.step, "signal", warn=True, signum=sig)
                        self._log()
                        self.save()
                        break
                    if cfg.log_every and self.step % cfg.log_every == 0:
                        self._log()
                    metric = None
                    if cfg.eval_every and self.step % cfg.eval_every == 0:
                        metric = self._evaluate()
                    if cfg.sample_every and self.step % cfg.sample_every == 0:
                        self._export_samples()
                    if (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0) or metric is not None:
                        self.save(metric=metric)
                else:
                    if self.checkpoints is not None and self._saved_step != self.step:
                        self.save()
        finally:
            if self._pbar is not None:
                self._pbar.close()
                self._pbar = None
        summary = {"step": self.step, "counters": dataclasses.asdict(self.counters), "signal": stopped}
        if stopped is not None and cfg.exit_on_signal:
            self.logger.close()
            raise SystemExit(128 + stopped)
        return summary

    def _agree_signal(self) -> int | None:
        """The received signal, agreed by all ranks (SIGTERM wins if ranks saw different ones)."""
        local = self._signal or 0
        if not self.ctx.distributed:
            return local or None
        t = torch.tensor([float(local)], device=self.ctx.collective_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        v = int(t.item())
        return v or None

    def close(self) -> None:
        self.logger.close()


