"""DVD-GAN on Kinetics-600: class-conditional video synthesis with a dual discriminator.

DVD-GAN section 3 and appendix A.2-A.3: a recurrent generator (multiplicative
ConvGRU below 48 frames, ConvGRU at 48) with separable self-attention before the
last G block, D_S on k = 8 random full-resolution frames and D_T on the 2x2
average-pooled clip, projection class conditioning, frames taken with stride 2
(section 2.3), Adam(0, 0.999) with lr G 1e-4 / D 2e-4, two D steps per G step,
batch 512, EMA of G (decay 0.9999) from step 20k, up to 300k steps.
``--resolution`` (64, 128, 256) and ``--frames`` (12, 48) pick a row of DVD-GAN
Table 1; widths follow A.2 (``ch`` 128 at 12/64x64, else 64; D ``ch`` 128 with
``[2, 4, 8, 16, 16]`` at 64x64 and ``[1, 2, 4, 8, 16, 16]`` at 128x128; the paper
lists no 256x256 D, so BigGAN's 256x256 list ``[1, 2, 4, 8, 8, 16, 16]`` is used).

Run ``python recipes/dvd_gan_kinetics.py`` for the tiny preset on synthetic data
(a few minutes on a CPU), ``--preset paper --data /path/to/kinetics`` for the
paper's configuration (``torchrun --nproc_per_node=N`` for many GPUs).
Resumes from the checkpoints in ``--out`` unless ``--fresh``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import (  # noqa: E402
    RunPreset,
    Stopwatch,
    add_metric_args,
    apply_overrides,
    base_parser,
    open_run_dir,
    parse_steps,
    prepare_synthetic,
    set_threads,
    single_run,
    trainer_config,
    video_folder,
)

from vidgan_blocks.discriminators import DiscriminatorConfig  # noqa: E402
from vidgan_blocks.generators import DVDGeneratorConfig, build_generator, dvd_gan_config  # noqa: E402
from vidgan_blocks.training import init_distributed  # noqa: E402

#: D widths per resolution (DVD-GAN A.2; 256x256 from BigGAN, see the module notes).
D_MULTIPLIERS = {64: (2, 4, 8, 16, 16), 128: (1, 2, 4, 8, 16, 16), 256: (1, 2, 4, 8, 8, 16, 16)}


@dataclass(frozen=True, kw_only=True)
class Preset(RunPreset):
    """Everything the recipe varies; ``g`` is the generator config (its ``frames`` is the clip length)."""

    g: DVDGeneratorConfig
    resolution: int
    stride: int
    num_classes: int
    d_ch: int
    d_mult: tuple[int, ...]
    k: int
    steps: int


def paper_preset(resolution: int = 64, frames: int = 12, *, num_classes: int = 600, stride: int = 2) -> Preset:
    """DVD-GAN A.2-A.3 at ``frames`` / ``resolution`` (a row of Table 1)."""
    return Preset(
        g=dvd_gan_config(resolution, frames, num_classes=num_classes), resolution=resolution, stride=stride,
        num_classes=num_classes, d_ch=128, d_mult=D_MULTIPLIERS[resolution], k=8, lr_g=1e-4, lr_d=2e-4,
        batch=8, effective_batch=512, steps=300_000, ema_start=20_000, ema_decay=0.9999, passes=200,
        stats_batch=16, synthetic_clips=2048, num_samples=8, log_every=50, checkpoint_every=2000,
    )


def tiny_preset(*, frames: int = 8, num_classes: int = 6) -> Preset:
    """The same model at toy width: 8 frames of 32x32, 3 G units from 4x4, D k = 4."""
    g = DVDGeneratorConfig(ch=4, multipliers=(4, 4, 2, 2), recurrent="mconv_gru", z_dim=16,
                           num_classes=num_classes, class_dim=8, frames=frames)
    return Preset(
        g=g, resolution=32, stride=1, num_classes=num_classes, d_ch=4, d_mult=(1, 2, 2, 4), k=4, lr_g=1e-4,
        lr_d=2e-4, batch=4, effective_batch=None, steps=60, ema_start=30, ema_decay=0.9, passes=4, stats_batch=4,
        synthetic_clips=24, num_samples=4, log_every=5, checkpoint_every=20,
    )


def learn_preset(*, frames: int = 8, num_classes: int = 6) -> Preset:
    """A CPU configuration that learns MovingShapes (benchmarks/quality/learning_curves.py):
    8 frames of 32x32, G and D width 8, batch 8.

    G uses DVD-GAN's plain ConvGRU (A.2: the unit of its 48-frame models) rather than
    the multiplicative one of its 12-frame models. At this width both generators start
    nearly still; the plain unit's samples start to move after about 1,500 iterations,
    the multiplicative unit's after about 3,500, and both end near FVD-MS 9-12 after
    5,000 (docs/quality.md, "Why the video generators stay still")."""
    g = DVDGeneratorConfig(ch=8, multipliers=(4, 4, 2, 2), recurrent="conv_gru", z_dim=32,
                           num_classes=num_classes, class_dim=16, frames=frames)
    return Preset(
        g=g, resolution=32, stride=1, num_classes=num_classes, d_ch=8, d_mult=(1, 2, 2, 4), k=4, lr_g=2e-4,
        lr_d=4e-4, batch=8, effective_batch=None, steps=5000, ema_start=10_000_000, ema_decay=0.999, passes=8,
        stats_batch=16, synthetic_clips=1536, num_samples=8, log_every=50, checkpoint_every=200,
    )


PRESETS: dict[str, Preset] = {"paper": paper_preset(), "tiny": tiny_preset(), "learn": learn_preset()}


def build_models(P: Preset, num_classes: int) -> tuple[torch.nn.Module, torch.nn.Module, DiscriminatorConfig]:
    """G and D (D_S + D_T) of a preset for ``num_classes`` classes."""
    g = build_generator(dataclasses.replace(P.g, num_classes=num_classes))
    d_cfg = DiscriminatorConfig("dvd_gan", ch=P.d_ch, multipliers=P.d_mult, num_classes=num_classes, k=P.k,
                                notes="DVD-GAN 3.1 / A.2: D_S on k frames + D_T on 2x2-pooled clips")
    return g, d_cfg.build(), d_cfg


def main(argv: Sequence[str] | None = None, presets: Mapping[str, Preset] = PRESETS, recipe: str = "dvd_gan_kinetics",
         description: str | None = None) -> None:
    parser = base_parser(description or __doc__.splitlines()[0], presets)
    parser.add_argument("--resolution", type=int, choices=(64, 128, 256), default=None,
                        help="paper preset only: frame size (DVD-GAN Table 1 row)")
    parser.add_argument("--frames", type=int, choices=(12, 48), default=None,
                        help="paper preset only: clip length (DVD-GAN Table 1 row)")
    add_metric_args(parser)
    args = parser.parse_args(argv)
    ctx = init_distributed(args.device)
    set_threads(args.threads, ctx.device)
    torch.manual_seed(args.seed)
    P = presets[args.preset]
    if args.resolution is not None or args.frames is not None:
        if args.preset != "paper":
            raise SystemExit("--resolution/--frames select a paper configuration; use them with --preset paper")
        P = paper_preset(args.resolution or P.resolution, args.frames or P.g.frames, num_classes=P.num_classes,
                         stride=P.stride)
    P = apply_overrides(P, batch=args.batch_size)
    steps = (parse_steps(args.steps, 1) or [P.steps])[0]
    run_dir = open_run_dir(args, recipe, ctx)
    out = run_dir.path
    clock = Stopwatch()

    t0 = time.perf_counter()
    frames = P.g.frames
    data_root = args.data or prepare_synthetic(
        out / "synthetic", ctx, n=P.synthetic_clips, frames=frames * P.stride, resolution=P.resolution,
        num_classes=P.num_classes, seed=args.seed,
    )
    # --unlabeled: videos without class folders train a single-class model
    dataset = video_folder(data_root, frames=frames, stride=P.stride, resolution=P.resolution, seed=args.seed,
                           split_file=args.split_file, cache_dir=out / "index", labeled=not args.unlabeled,
                           constant_label=0 if args.unlabeled else None, run_dir=run_dir,
                           keep=args.data is None)  # built-in clips: decoded once
    num_classes = 1 if args.unlabeled else len(dataset.base.classes) if args.data else P.num_classes
    clock.lap("data", t0)

    G, D, d_cfg = build_models(P, num_classes)
    config = trainer_config(P, args, ctx, out, lr_g=P.lr_g, lr_d=P.lr_d, max_steps=steps)
    single_run(
        recipe=recipe, args=args, ctx=ctx, out=out, clock=clock, generator=G, discriminator=D, dataset=dataset,
        config=config, ema_decay=P.ema_decay, ema_start=P.ema_start, passes=P.passes, stats_batch=P.stats_batch,
        num_samples=P.num_samples, quality_samples=P.quality_samples, model_config={"generator": G.config.to_dict(), "discriminator": d_cfg.to_dict()},
        extra={"video": {"frames": frames, "resolution": P.resolution, "stride": P.stride, "classes": num_classes}},
    )


if __name__ == "__main__":
    main()
