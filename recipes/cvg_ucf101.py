"""CVG on UCF101: a two-level cascade to 16 frames of 128x128, class-conditional.

CVG section 4 (UCF101): level 1 generates 8 frames of 64x64 (a temporal
subsampling of 2); level 2 upsamples them to 16 frames of 128x128 over the whole
clip, without temporal windows. Level 1 is SSW-GAN's first stage with one more
unit for 64x64 (G ``ch`` 128, ``[8, 8, 8, 4, 2, 1]``; D DVD-GAN's 64x64 ``ch`` 128
``[2, 4, 8, 16, 16]``); level 2 takes the Kinetics level-2 widths (G ``ch`` 128
``[8, 8, 4, 2, 1]``, D ``ch`` 96 ``[1, 2, 4, 8, 16, 16]`` with the matching
discriminator, bilinear f_s), as the papers give no UCF101 widths. Batch 512,
100k iterations per level, lr G 1e-4 / D 5e-4, no weight moving average and no
orthogonal penalty (HVG appendix A).

Run ``python recipes/cvg_ucf101.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/UCF-101`` for the paper's setup.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import CascadePreset, LevelSpec, cascade_main  # noqa: E402

from vidgan_blocks.discriminators import DiscriminatorConfig, dvd_gan_64_config, hvg_kinetics_level2_config  # noqa: E402
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig  # noqa: E402

PAPER = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=128, multipliers=(8, 8, 8, 4, 2, 1), frames=8, base_size=4),
                  dvd_gan_64_config()),
        LevelSpec(UpsamplingGeneratorConfig(ch=128, multipliers=(8, 8, 8, 4, 2, 1), low_size=64, factor_s=2,
                                            factor_t=2, frames_in=8),
                  DiscriminatorConfig(**{**hvg_kinetics_level2_config().to_dict(), "factor_s": 2,
                                         "notes": "CVG UCF101 level 2 (Kinetics widths, f_s = 2)"}),
                  factors=(2, 2), window=None),
    ),
    frames=16, stride=1, resolution=128, num_classes=101, lr_g=1e-4, lr_d=5e-4, batch=8, effective_batch=512,
    steps=(100_000, 100_000), ema_start=None, ema_decay=0.9999, passes=200, stats_batch=16,
    synthetic_clips=2048, num_samples=8, log_every=50, checkpoint_every=2000, long_frames=32,
)

TINY = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=4, multipliers=(4, 4, 2), frames=4, base_size=4, z_dim=16, class_dim=8),
                  DiscriminatorConfig("dvd_gan", ch=4, multipliers=(1, 2), k=2)),
        LevelSpec(UpsamplingGeneratorConfig(ch=4, multipliers=(4, 4, 2), low_size=8, factor_s=2, factor_t=2,
                                            frames_in=4, z_dim=16, class_dim=8),
                  DiscriminatorConfig("cascade_level", ch=4, multipliers=(1, 2), k=2, factor_t=2, factor_s=2),
                  factors=(2, 2), window=None),
    ),
    frames=8, stride=1, resolution=16, num_classes=6, lr_g=1e-4, lr_d=5e-4, batch=4, effective_batch=None,
    steps=(40, 30), ema_start=None, ema_decay=0.9, passes=4, stats_batch=4, synthetic_clips=24,
    num_samples=4, log_every=5, checkpoint_every=10, long_frames=16,
)

PRESETS: dict[str, CascadePreset] = {"paper": PAPER, "tiny": TINY}


def main(argv: Sequence[str] | None = None) -> None:
    cascade_main(argv, PRESETS, recipe="cvg_ucf101", description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
