"""SSW-GAN on Kinetics-600: two stages trained one after the other, the second on local windows.

SSW-GAN section 5.1 and appendices A-B: stage 1 generates 25 frames of 32x32 with a
temporal subsampling of 8 (ConvGRU and two G blocks per unit, ``ch`` 128; D ``ch``
128); stage 2 upsamples 2x in time and 4x in space, trained on windows of 6
low-resolution frames (6/32x32 -> 12/128x128) with separable 3D convolutions, G
``ch`` 128 ``[8, 8, 4, 2, 1]``, D = D_S + D_T + matching discriminator at ``ch`` 96
``[1, 2, 4, 8, 16, 16]``, nearest-neighbour f_s for the views and the matching
discriminator alike (section 3.1, B.2); at inference stage 2 runs over all 25
first-stage frames (50 frames of 128x128) after 200 passes re-estimate its
per-time-step BN statistics. Adam(0, 0.999), lr G 1e-4 / D 5e-4, two D steps per G
step, batch 512, 300k iterations per stage, no weight moving average (appendix A).
``--no-matching`` is the Table 2 ablation.

Run ``python recipes/ssw_gan_kinetics.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/kinetics`` for the paper's setup.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import CascadePreset, LevelSpec, cascade_main  # noqa: E402

from vidgan_blocks.discriminators import DiscriminatorConfig, ssw_gan_stage1_config, ssw_gan_stage2_kinetics_config  # noqa: E402
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig  # noqa: E402

PAPER = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=128, multipliers=(8, 8, 8, 4, 2), frames=25, base_size=4),
                  ssw_gan_stage1_config()),
        LevelSpec(UpsamplingGeneratorConfig(ch=128, multipliers=(8, 8, 8, 4, 2, 1), low_size=32, factor_s=4, factor_t=2,
                                            frames_in=6),
                  ssw_gan_stage2_kinetics_config(), factors=(2, 4), window=6, mode="nearest"),
    ),
    frames=50, stride=4, resolution=128, num_classes=600, lr_g=1e-4, lr_d=5e-4, batch=8, effective_batch=512,
    steps=(300_000, 300_000), ema_start=None, ema_decay=0.9999, passes=200, stats_batch=16, synthetic_clips=2048,
    num_samples=8, log_every=50, checkpoint_every=2000, long_frames=50,
)

TINY = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=4, multipliers=(4, 4, 2), frames=5, base_size=4, z_dim=16, class_dim=8),
                  DiscriminatorConfig("dvd_gan", ch=4, multipliers=(1, 2), k=2)),
        LevelSpec(UpsamplingGeneratorConfig(ch=4, multipliers=(4, 4, 2, 1), low_size=8, factor_s=4, factor_t=2,
                                            frames_in=2, z_dim=16, class_dim=8),
                  DiscriminatorConfig("cascade_level", ch=4, multipliers=(1, 2, 2), k=2, factor_t=2, factor_s=4,
                                      mode="nearest"),
                  factors=(2, 4), window=2, mode="nearest"),
    ),
    frames=10, stride=1, resolution=32, num_classes=6, lr_g=1e-4, lr_d=5e-4, batch=4, effective_batch=None,
    steps=(40, 30), ema_start=None, ema_decay=0.9999, passes=4, stats_batch=4, synthetic_clips=24,
    num_samples=4, log_every=5, checkpoint_every=10, long_frames=40,
)

# A CPU configuration that learns MovingShapes in minutes (benchmarks/quality/learning_curves.py).
LEARN = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=8, multipliers=(4, 4, 2), frames=8, base_size=4, z_dim=32, class_dim=16),
                  DiscriminatorConfig("dvd_gan", ch=8, multipliers=(1, 2), k=4)),
        LevelSpec(UpsamplingGeneratorConfig(ch=8, multipliers=(4, 4, 2, 1), low_size=8, factor_s=4, factor_t=2,
                                            frames_in=2, z_dim=32, class_dim=16),
                  DiscriminatorConfig("cascade_level", ch=8, multipliers=(1, 2, 2), k=2, factor_t=2, factor_s=4,
                                      mode="nearest"),
                  factors=(2, 4), window=2, mode="nearest"),
    ),
    frames=16, stride=1, resolution=32, num_classes=6, lr_g=2e-4, lr_d=4e-4, batch=8, effective_batch=None,
    steps=(1000, 600), ema_start=None, ema_decay=0.999, passes=8, stats_batch=16, synthetic_clips=1536,
    num_samples=8, log_every=50, checkpoint_every=200, long_frames=64,
)

PRESETS: dict[str, CascadePreset] = {"paper": PAPER, "tiny": TINY, "learn": LEARN}


def main(argv: Sequence[str] | None = None) -> None:
    cascade_main(argv, PRESETS, recipe="ssw_gan_kinetics", description=__doc__.splitlines()[0], matching_flag=True)


if __name__ == "__main__":
    main()
