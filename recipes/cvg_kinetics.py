"""CVG on Kinetics: a two-level cascade trained level by level, then unrolled.

CVG section 4 (Kinetics-600): level 1 generates 24 frames of 32x32 (the data
subsampled 4x in time); level 2 upsamples windows of 6 frames of 32x32 to 12
frames of 128x128 during training and, at inference, runs over all 24 first-level
frames to give 48 frames of 128x128. Widths follow SSW-GAN appendix B / HVG
appendix B; lr G 1e-4, D 5e-4, two D steps per G step, batch 512, bilinear f_s for
the views and the matching discriminator (CVG section 3), no weight moving average
and no orthogonal penalty (HVG appendix A; ``--ema-start N`` keeps one).

HVG (section 5.2, the earlier version of the paper) trains the same two levels
on Kinetics-600 at half the frame rate: level 1 generates 24 frames of 32x32
with a temporal subsampling of 8, level 2 doubles the frame rate (subsampling 4)
and upsamples 6-frame windows to 12 frames of 128x128, 48/128x128 when unrolled;
``--preset hvg`` (and ``hvg_tiny`` at toy size) takes clips of 48 frames with
stride 4 instead of stride 2, with the same widths (HVG appendix B).

Run ``python recipes/cvg_kinetics.py`` for the tiny preset on synthetic data
(about a minute on an idle 2-core CPU; ``grids/unrolled_long.mp4`` is 64 frames, 4x the
level-2 samples), ``--preset paper --data /path/to/kinetics`` for the
paper's configuration (``torchrun --nproc_per_node=N`` for many GPUs).
Resumes from the checkpoints in ``--out`` unless ``--fresh``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import CascadePreset, LevelSpec, cascade_main  # noqa: E402

from vidgan_blocks.discriminators.builders import DiscriminatorConfig  # noqa: E402
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig  # noqa: E402

PRESETS: dict[str, CascadePreset] = {
    # CVG section 4 (docs/recipes.md): 48/128x128 (stride 2) -> level 1 24/32x32, level 2 6 -> 12 frames.
    "paper": CascadePreset(
        levels=(
            LevelSpec(CascadeFirstLevelConfig(ch=128, multipliers=(8, 8, 8, 4, 2), frames=24, base_size=4),
                      DiscriminatorConfig("dvd_gan", ch=128, multipliers=(2, 4, 8, 16, 16), k=8,
                                          notes="SSW-GAN stage 1 / CVG level 1: spatial + temporal")),
            LevelSpec(UpsamplingGeneratorConfig(ch=128, multipliers=(8, 8, 8, 4, 2, 1), low_size=32, factor_s=4,
                                                factor_t=2, frames_in=6),
                      DiscriminatorConfig("cascade_level", ch=96, multipliers=(1, 2, 4, 8, 16, 16), k=8, factor_t=2,
                                          factor_s=4, notes="SSW-GAN B.2 / CVG level 2: spatial + temporal + matching"),
                      factors=(2, 4), window=6),
        ),
        frames=48, stride=2, resolution=128, num_classes=600, lr_g=1e-4, lr_d=5e-4, batch=8, effective_batch=512,
        steps=(300_000, 300_000), ema_start=None, ema_decay=0.9999, passes=200, stats_batch=16,
        synthetic_clips=2048, num_samples=8, log_every=50, checkpoint_every=2000, long_frames=48,
    ),
    # The main job: the same ratios at toy size, 16/32x32 -> level 1 8/8x8, level 2 2 -> 4 frames of 32x32,
    # at width 8 and batch 8, long enough to learn the built-in data (docs/quality.md).
    "tiny": CascadePreset(
        levels=(
            LevelSpec(CascadeFirstLevelConfig(ch=8, multipliers=(4, 4, 2), frames=8, base_size=4, z_dim=32,
                                              class_dim=16),
                      DiscriminatorConfig("dvd_gan", ch=8, multipliers=(1, 2), k=4)),
            LevelSpec(UpsamplingGeneratorConfig(ch=8, multipliers=(4, 4, 2, 1), low_size=8, factor_s=4, factor_t=2,
                                                frames_in=2, z_dim=32, class_dim=16),
                      DiscriminatorConfig("cascade_level", ch=8, multipliers=(1, 2, 2), k=2, factor_t=2, factor_s=4),
                      factors=(2, 4), window=2),
        ),
        frames=16, stride=1, resolution=32, num_classes=6, lr_g=2e-4, lr_d=4e-4, batch=8, effective_batch=None,
        steps=(250, 40), ema_start=None, ema_decay=0.9, passes=8, stats_batch=8, synthetic_clips=192,
        num_samples=4, log_every=25, checkpoint_every=50, long_frames=64, quality_samples=48,
    ),
}

# A CPU configuration that learns MovingShapes (benchmarks/quality/learning_curves.py): the main job's models
# with more clips and iterations.
PRESETS["learn"] = dataclasses.replace(
    PRESETS["tiny"], steps=(1000, 600), ema_decay=0.999, stats_batch=16, synthetic_clips=1536, num_samples=8,
    log_every=50, checkpoint_every=200, quality_samples=64,
)

# HVG section 5.2: level 1 24/32x32 at temporal subsampling 8, level 2 (f_t 2, f_s 4) 6 -> 12 frames of
# 128x128 at subsampling 4; 48/128x128 unrolled. Only the clips' stride differs from the CVG setup.
PRESETS["hvg"] = dataclasses.replace(PRESETS["paper"], frames=48, stride=4)
# The same change at toy size: level 1 sees every 8th frame of the source clips.
PRESETS["hvg_tiny"] = dataclasses.replace(PRESETS["tiny"], frames=16, stride=4)


def main(argv: Sequence[str] | None = None) -> None:
    cascade_main(argv, PRESETS, recipe="cvg_kinetics", description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
