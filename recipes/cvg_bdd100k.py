"""CVG on BDD100K: a three-level cascade to 48 frames of 256x256, unconditional.

CVG section 4 ("Scaling up CVG for BDD100K") with the widths of HVG appendix B.2:
level 1 generates 12 frames of 64x64 (temporal subsampling 8; SSW-GAN's first
stage with one more unit, G ``ch`` 128 ``[8, 8, 8, 4, 2, 1]``, D ``ch`` 128
``[2, 4, 8, 16, 16]``); level 2 upsamples windows of 6 frames of 64x64 to 12 of
128x128 (subsampling 4; G ``ch`` 96 ``[8, 8, 4, 2, 1]``, D ``ch`` 96
``[1, 2, 4, 8, 16, 16]``); level 3 upsamples windows of 6 frames of 128x128 to 12 of
256x256 (subsampling 2; G ``ch`` 96 ``[8, 4, 4, 4, 2, 1]``, D ``ch`` 96
``[1, 2, 4, 8, 8, 16, 16]``). Upsampling levels use the matching discriminator and
are unrolled over the whole lower output at inference. Batch 512, 100k iterations
per level, lr G 1e-4 / D 5e-4, no weight moving average (HVG appendix A).

Run ``python recipes/cvg_bdd100k.py`` for the tiny preset on synthetic data,
``--preset paper --data /path/to/bdd100k_videos`` for the paper's setup.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import CascadePreset, LevelSpec, cascade_main  # noqa: E402

from vidgan_blocks.discriminators import (  # noqa: E402
    DiscriminatorConfig,
    dvd_gan_64_config,
    hvg_bdd128_config,
    hvg_bdd256_config,
)
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig  # noqa: E402

PAPER = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=128, multipliers=(8, 8, 8, 4, 2, 1), frames=12, base_size=4),
                  dvd_gan_64_config()),
        LevelSpec(UpsamplingGeneratorConfig(ch=96, multipliers=(8, 8, 8, 4, 2, 1), low_size=64, factor_s=2, factor_t=2,
                                            frames_in=6),
                  hvg_bdd128_config(), factors=(2, 2), window=6),
        LevelSpec(UpsamplingGeneratorConfig(ch=96, multipliers=(8, 8, 4, 4, 4, 2, 1), low_size=128, factor_s=2,
                                            factor_t=2, frames_in=6),
                  hvg_bdd256_config(), factors=(2, 2), window=6),
    ),
    frames=48, stride=2, resolution=256, num_classes=None, lr_g=1e-4, lr_d=5e-4, batch=8, effective_batch=512,
    steps=(100_000, 100_000, 100_000), ema_start=None, ema_decay=0.9999, passes=200, stats_batch=16,
    synthetic_clips=2048, num_samples=8, log_every=50, checkpoint_every=2000, long_frames=96,
)

TINY = CascadePreset(
    levels=(
        LevelSpec(CascadeFirstLevelConfig(ch=4, multipliers=(4, 4, 2), frames=3, base_size=4, z_dim=16),
                  DiscriminatorConfig("dvd_gan", ch=4, multipliers=(1, 2), k=2)),
        LevelSpec(UpsamplingGeneratorConfig(ch=4, multipliers=(4, 4, 2), low_size=8, factor_s=2, factor_t=2,
                                            frames_in=2, z_dim=16),
                  DiscriminatorConfig("cascade_level", ch=4, multipliers=(1, 2), k=2, factor_t=2, factor_s=2),
                  factors=(2, 2), window=2),
        LevelSpec(UpsamplingGeneratorConfig(ch=4, multipliers=(4, 4, 2, 2), low_size=16, factor_s=2, factor_t=2,
                                            frames_in=2, z_dim=16),
                  DiscriminatorConfig("cascade_level", ch=4, multipliers=(1, 2, 2), k=2, factor_t=2, factor_s=2),
                  factors=(2, 2), window=2),
    ),
    frames=12, stride=1, resolution=32, num_classes=None, lr_g=1e-4, lr_d=5e-4, batch=4, effective_batch=None,
    steps=(30, 20, 20), ema_start=None, ema_decay=0.9, passes=4, stats_batch=4, synthetic_clips=24,
    num_samples=4, log_every=5, checkpoint_every=10, long_frames=24,
)

PRESETS: dict[str, CascadePreset] = {"paper": PAPER, "tiny": TINY}


def main(argv: Sequence[str] | None = None) -> None:
    cascade_main(argv, PRESETS, recipe="cvg_bdd100k", description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
