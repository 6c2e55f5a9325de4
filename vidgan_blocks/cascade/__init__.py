"""Cascaded video generation (CVG; SSW-GAN stage-wise training).

:class:`Level` bundles a generator, its discriminators, the view factors to the
level below and a training window; :class:`Cascade` orders levels, builds the
real views of each level, trains levels one by one against frozen lower levels,
samples with convolutional unrolling (:meth:`Cascade.generate`) or chunk by chunk
with bounded memory (:meth:`Cascade.generate_stream`), and saves / reloads itself
from a directory.
"""

from .cascade import Cascade, LevelTrainer, UpsamplingLevelTrainer, chunk_plan
from .level import Level, LevelOptim, temporal_radius
from .stream import VideoStreamWriter

__all__ = [
    "Cascade",
    "Level",
    "LevelOptim",
    "LevelTrainer",
    "UpsamplingLevelTrainer",
    "VideoStreamWriter",
    "chunk_plan",
    "temporal_radius",
]
