"""Training engine: the GAN trainer, its mixins, checkpoints, distributed helpers and logging."""

from .augment import AUGMENT_POLICIES, VideoAugment
from .checkpoint import (
    CheckpointError,
    CheckpointInfo,
    CheckpointManager,
    is_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from .distributed import (
    DistributedContext,
    all_reduce_flag,
    average_gradients,
    broadcast_module,
    check_replicas_identical,
    enable_cross_replica_bn,
    init_distributed,
)
from .log import MetricLogger
from .mixins import EMAMixin, FrameConditionalMixin, StandingStatsMixin, WindowedTrainingMixin, standing_stats
from .rng import capture_rng_state, restore_rng_state
from .sampler import InfiniteRankSampler
from .stats import StatsCollector, report
from .trainer import GANTrainer, TrainerConfig, context_of, truncated_normal

__all__ = [
    "AUGMENT_POLICIES",
    "CheckpointError",
    "CheckpointInfo",
    "CheckpointManager",
    "DistributedContext",
    "EMAMixin",
    "FrameConditionalMixin",
    "GANTrainer",
    "InfiniteRankSampler",
    "MetricLogger",
    "StandingStatsMixin",
    "StatsCollector",
    "TrainerConfig",
    "VideoAugment",
    "WindowedTrainingMixin",
    "all_reduce_flag",
    "average_gradients",
    "broadcast_module",
    "capture_rng_state",
    "check_replicas_identical",
    "context_of",
    "enable_cross_replica_bn",
    "init_distributed",
    "is_checkpoint",
    "load_checkpoint",
    "report",
    "restore_rng_state",
    "save_checkpoint",
    "standing_stats",
    "truncated_normal",
]
