"""TrIVD-GAN-FP on Kinetics-600: 11 frames of 64x64 predicted from 5.

TrIVD-GAN-FP sections 3-4 and appendices A, E.1-E.2, F.3: a generator of three
stages from 8x8 (each a TSRU-p, a 3x3 convolution and two G blocks) whose recurrent
states start from an encoding of the conditioning frames by a copy of the spatial
D trunk (same width as D), each state formed by a 3x3 convolution and a ReLU; the "stronger"
discriminator decomposition dF + crV + dV with the mixed projection head (eq. 15);
geometric hinge loss (eq. 13-14); orthogonal regularisation of G with weight
1e-4; Adam(0, 0.999) with lr G 1e-4 / D 5e-4, two D steps per G step, batch 512;
EMA of G (0.9999) from step 20k; standing statistics from 100 batches of 256
samples; frames without skipping (Table 3). Channel multiplier 48 (``--preset
paper``) or 120 (``--preset paper_large``, 700k steps, Table 3).

``--decomposition`` selects any named decomposition (Table 1: ``trivd_faster``,
``dvd_gan_fp``, ``mocogan_like``, ``clip``, ``downsampled``, ``cropped``,
``cropped_downsampled``) and ``--unit`` any recurrent unit (Table 2: ``conv_gru``,
``conv_lstm``, ``ktraj_gru``, ``tsru_c``, ``tsru_p``, ``tsru_s``, ``ptsru``), so
those studies can be rerun at the same width.

Run ``python recipes/trivd_gan_fp_kinetics.py`` for the tiny preset on synthetic
data, ``--preset paper --data /path/to/kinetics`` for the paper's setup. Writes
``samples/prediction.png`` (conditioning | prediction | truth) and, for units with
warping kernels, ``samples/motion_fields.png`` (Figure 3 style).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import PredictionPreset, prediction_main  # noqa: E402

from vidgan_blocks.discriminators import DiscriminatorConfig, trivd_gan_fp_config  # noqa: E402
from vidgan_blocks.generators import FramePredictionConfig  # noqa: E402


def generator_config(width: int, *, cond_frames: int, frames: int, encoder_ch: int | None = None,
                     **overrides: object) -> FramePredictionConfig:
    """G of TrIVD-GAN-FP appendix A, the same fields as :func:`vidgan_blocks.generators.trivd_gan_fp_generator`.

    Three stages from 8x8 with per-stage multipliers ``[8, 8, 4, 2]``, TSRU-p in every
    stage, 128-d z and (constant) class features, no spectral norm on the stem's
    linear map. The encoder is "identical to the spatial discriminator network"
    (appendix A): the D trunk ``[2, 4, 8, 16, 16]`` at D's width ``encoder_ch``
    (default ``width``: G and D share the multiplier on Kinetics). Every initial
    state is a 3x3 convolution followed by a ReLU (appendix F.3).
    """
    cfg = FramePredictionConfig(
        ch=width, multipliers=(8, 8, 4, 2), recurrent="tsru_p", z_dim=128, num_classes=1, class_dim=128, base_size=8,
        frames=frames, cond_frames=cond_frames, encoder_ch=encoder_ch or width, encoder_multipliers=(2, 4, 8, 16, 16),
        state_kernel=3, state_relu=True, recurrent_every_unit=True, recurrent_channels=None, attention=False,
        separable_attention=False, frame_conv=True, sn_stem=False,
    )
    return dataclasses.replace(cfg, **overrides)  # type: ignore[arg-type]


def paper_preset(width: int = 48, *, d_ch: int | None = None, cond_frames: int = 5, frames: int = 11,
                 lr_g: float = 1e-4, lr_d: float = 5e-4, steps: int = 1_000_000) -> PredictionPreset:
    """TrIVD-GAN-FP at channel multiplier ``width`` (G) and ``d_ch`` (D and encoder, default ``width``); E.2 training."""
    d = dataclasses.replace(trivd_gan_fp_config("trivd_stronger"), ch=d_ch or width)
    return PredictionPreset(
        g=generator_config(width, cond_frames=cond_frames, frames=frames, encoder_ch=d.ch), d=d, resolution=64, stride=1,
        lr_g=lr_g, lr_d=lr_d, ortho_reg=1e-4, batch=8, effective_batch=512, steps=steps, ema_start=20_000,
        ema_decay=0.9999, passes=100, stats_batch=256, synthetic_clips=2048, num_samples=8, log_every=50,
        checkpoint_every=2000,
    )


def tiny_preset(*, cond_frames: int = 2, frames: int = 4) -> PredictionPreset:
    """The same model at toy size: 4 frames of 32x32 from 2, two stages from 8x8, width 4."""
    g = generator_config(4, cond_frames=cond_frames, frames=frames, multipliers=(4, 4, 2), z_dim=16,
                         class_dim=8, encoder_ch=4, encoder_multipliers=(1, 2, 2, 2))
    d = DiscriminatorConfig("trivd_stronger", ch=4, multipliers=(1, 2, 2, 4), mixed_projection=True,
                            frame_conditioning=True, k=2)
    return PredictionPreset(
        g=g, d=d, resolution=32, stride=1, lr_g=1e-4, lr_d=5e-4, ortho_reg=1e-4, batch=4, effective_batch=None,
        steps=40, ema_start=20, ema_decay=0.9, passes=4, stats_batch=4, synthetic_clips=24, num_samples=4,
        log_every=5, checkpoint_every=20,
    )


def learn_preset(*, cond_frames: int = 3, frames: int = 5) -> PredictionPreset:
    """A CPU configuration that learns MovingShapes in minutes (benchmarks/quality/learning_curves.py):
    5 frames of 32x32 from 3, two stages from 8x8, width 8, batch 8."""
    g = generator_config(8, cond_frames=cond_frames, frames=frames, multipliers=(4, 4, 2), z_dim=32,
                         class_dim=16, encoder_ch=8, encoder_multipliers=(1, 2, 2, 2))
    d = DiscriminatorConfig("trivd_stronger", ch=8, multipliers=(1, 2, 2, 4), mixed_projection=True,
                            frame_conditioning=True, k=4)
    return PredictionPreset(
        g=g, d=d, resolution=32, stride=1, lr_g=2e-4, lr_d=4e-4, ortho_reg=1e-4, batch=8, effective_batch=None,
        steps=1000, ema_start=10_000_000, ema_decay=0.999, passes=8, stats_batch=16, synthetic_clips=1536,
        num_samples=8, log_every=50, checkpoint_every=200,
    )


PRESETS: dict[str, PredictionPreset] = {
    "paper": paper_preset(48),
    "paper_large": paper_preset(120, steps=700_000),
    "tiny": tiny_preset(),
    "learn": learn_preset(),
}


def main(argv: Sequence[str] | None = None) -> None:
    prediction_main(argv, PRESETS, recipe="trivd_gan_fp_kinetics", description=__doc__.splitlines()[0], studies=True)


if __name__ == "__main__":
    main()
