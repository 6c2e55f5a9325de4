"""DVD-GAN-FP on Kinetics-600: 11 frames of 64x64 predicted from 5.

DVD-GAN section 4.2 and appendix A.4: DVD-GAN's 64x64 generator (``ch`` 128,
``[8, 8, 8, 4, 2]``, multiplicative ConvGRU, separable self-attention) whose
recurrent state starts from an encoding of the conditioning frames by a network
with D_S's architecture (``ch`` 128, ``[2, 4, 8, 16, 16]``), folded over the
frames and reduced by a 1x1 convolution to the 512-channel state (no activation
after it: A.4 names none), with U-Net skips between encoder and generator blocks of
equal resolution; a dummy constant zero class label stands in for the class
(TrIVD-GAN-FP appendix A), so G has one learned class embedding. D is
the dual discriminator with the conditioning frames prepended to every clip it
scores. Clips are taken without frame skipping (Table 3); training as A.3 (Adam(0,
0.999), lr G 1e-4 / D 2e-4, two D steps per G step, batch 512, EMA from 20k).
DVD-GAN Table 3 reports test-set FVD 103.78 +- 1.17 (TrIVD-GAN-FP Table 3: 69.15 +- 1.16).

Run ``python recipes/dvd_gan_fp_kinetics.py`` for the tiny preset on synthetic
data, ``--preset paper --data /path/to/kinetics`` for the paper's setup. Writes
``samples/prediction.png`` (conditioning | prediction | truth).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import PredictionPreset, prediction_main  # noqa: E402

from vidgan_blocks.discriminators import DiscriminatorConfig, dvd_gan_fp_config  # noqa: E402
from vidgan_blocks.generators import FramePredictionConfig  # noqa: E402


def paper_preset(*, cond_frames: int = 5, frames: int = 11, steps: int = 300_000) -> PredictionPreset:
    """DVD-GAN-FP at 64x64 (A.4): the fields :func:`vidgan_blocks.generators.dvd_gan_fp_generator` uses."""
    g = FramePredictionConfig(
        ch=128, multipliers=(8, 8, 8, 4, 2), recurrent="mconv_gru", num_classes=1, encoder_ch=128,
        encoder_multipliers=(2, 4, 8, 16, 16), state_kernel=1, state_relu=False, recurrent_channels=512,
        cond_frames=cond_frames, frames=frames,
    )
    return PredictionPreset(
        g=g, d=dvd_gan_fp_config(), resolution=64, stride=1, lr_g=1e-4, lr_d=2e-4, ortho_reg=0.0, batch=8,
        effective_batch=512, steps=steps, ema_start=20_000, ema_decay=0.9999, passes=200, stats_batch=16,
        synthetic_clips=2048, num_samples=8, log_every=50, checkpoint_every=2000,
    )


def tiny_preset(*, cond_frames: int = 2, frames: int = 4) -> PredictionPreset:
    """The same model at toy size: 4 frames of 32x32 from 2, three G units from 4x4, width 4."""
    g = FramePredictionConfig(
        ch=4, multipliers=(4, 4, 2, 2), recurrent="mconv_gru", z_dim=16, num_classes=1, class_dim=8, encoder_ch=4,
        encoder_multipliers=(1, 2, 2, 4), state_kernel=1, state_relu=False, recurrent_channels=16,
        cond_frames=cond_frames, frames=frames,
    )
    d = dataclasses.replace(dvd_gan_fp_config(), ch=4, multipliers=(1, 2, 2, 4), k=2)
    assert isinstance(d, DiscriminatorConfig)
    return PredictionPreset(
        g=g, d=d, resolution=32, stride=1, lr_g=1e-4, lr_d=2e-4, ortho_reg=0.0, batch=4, effective_batch=None,
        steps=40, ema_start=20, ema_decay=0.9, passes=4, stats_batch=4, synthetic_clips=24, num_samples=4,
        log_every=5, checkpoint_every=20,
    )


def learn_preset(*, cond_frames: int = 3, frames: int = 5) -> PredictionPreset:
    """A CPU configuration that learns MovingShapes in minutes (benchmarks/quality/learning_curves.py):
    5 frames of 32x32 from 3, width 8, batch 8."""
    g = FramePredictionConfig(
        ch=8, multipliers=(4, 4, 2, 2), recurrent="mconv_gru", z_dim=32, num_classes=1, class_dim=16, encoder_ch=8,
        encoder_multipliers=(1, 2, 2, 4), state_kernel=1, state_relu=False, recurrent_channels=32,
        cond_frames=cond_frames, frames=frames,
    )
    d = dataclasses.replace(dvd_gan_fp_config(), ch=8, multipliers=(1, 2, 2, 4), k=4)
    return PredictionPreset(
        g=g, d=d, resolution=32, stride=1, lr_g=2e-4, lr_d=4e-4, ortho_reg=0.0, batch=8, effective_batch=None,
        steps=1000, ema_start=10_000_000, ema_decay=0.999, passes=8, stats_batch=16, synthetic_clips=1536,
        num_samples=8, log_every=50, checkpoint_every=200,
    )


PRESETS: dict[str, PredictionPreset] = {"paper": paper_preset(), "tiny": tiny_preset(), "learn": learn_preset()}


def main(argv: Sequence[str] | None = None) -> None:
    prediction_main(argv, PRESETS, recipe="dvd_gan_fp_kinetics", description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
