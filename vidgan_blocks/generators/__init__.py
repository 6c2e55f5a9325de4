"""Video generators: DVD-GAN, frame-conditional prediction, cascade first and upsampling levels.

Every generator has ``z_dim`` and ``num_classes`` attributes and is called as
``generator(z, y=None, **context)``, returning ``(B, 3, T, H, W)`` in ``[-1, 1]``;
context keywords are ``cond_frames=`` (frame prediction) and ``low_res=``
(upsampling levels), and keywords a generator does not use are ignored.
"""

from .base import Conditioning, NoiseStem, OutputHead, per_frame, reset_frame_stats
from .builders import (
    RECURRENT_UNIT_NAMES,
    build_generator,
    cascade_upsampling_generator,
    count_parameters,
    dvd_gan_config,
    dvd_gan_fp_generator,
    dvd_gan_generator,
    paper_generator_configs,
    recurrent_factory,
    ssw_stage1_generator,
    trivd_gan_fp_generator,
)
from .config import (
    CascadeFirstLevelConfig,
    DVDGeneratorConfig,
    FramePredictionConfig,
    GeneratorConfig,
    UpsamplingGeneratorConfig,
    config_from_dict,
    config_from_json,
)
from .dvd import CascadeFirstLevelGenerator, DVDGenerator, GeneratorUnit, RecurrentFactory
from .prediction import ConditioningSkip, FrameEncoder, FramePredictionGenerator, encoder_trunk
from .sampling import TruncationMode, make_generator, sample_labels, sample_noise, sample_videos
from .upsampling import UpsamplingGenerator, UpsamplingUnit

__all__ = [
    "RECURRENT_UNIT_NAMES",
    "CascadeFirstLevelConfig",
    "CascadeFirstLevelGenerator",
    "Conditioning",
    "ConditioningSkip",
    "DVDGenerator",
    "DVDGeneratorConfig",
    "FrameEncoder",
    "FramePredictionConfig",
    "FramePredictionGenerator",
    "GeneratorConfig",
    "GeneratorUnit",
    "NoiseStem",
    "OutputHead",
    "RecurrentFactory",
    "TruncationMode",
    "UpsamplingGenerator",
    "UpsamplingGeneratorConfig",
    "UpsamplingUnit",
    "build_generator",
    "cascade_upsampling_generator",
    "config_from_dict",
    "config_from_json",
    "count_parameters",
    "dvd_gan_config",
    "dvd_gan_fp_generator",
    "dvd_gan_generator",
    "encoder_trunk",
    "make_generator",
    "paper_generator_configs",
    "per_frame",
    "recurrent_factory",
    "reset_frame_stats",
    "sample_labels",
    "sample_noise",
    "sample_videos",
    "ssw_stage1_generator",
    "trivd_gan_fp_generator",
]
