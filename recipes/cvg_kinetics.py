"""CVG on Kinetics: a two-level cascade trained level by level, then unrolled.

CVG section 4 (Kinetics-600): level 1 generates 24 frames of 32x32 (the data
subsampled 4x in time); level 2 upsamples windows of 6 frames of 32x32 to 12
frames of 128x128 during training and, at inference, runs over all 24 first-level
frames to give 48 frames of 128x128. Widths follow SSW-GAN appendix B / HVG
appendix B; lr G 1e-4, D 5e-4, two D steps per G step, batch 512.

Run ``python recipes/cvg_kinetics.py`` for the tiny preset on synthetic data
(a few minutes on a CPU), ``--preset paper --data /path/to/kinetics`` for the
paper's configuration (``torchrun --nproc_per_node=N`` for many GPUs).
Resumes from the checkpoints in ``--out`` unless ``--fresh``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # recipes/_common.py
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from _common import (  # noqa: E402
    Stopwatch,
    apply_overrides,
    base_parser,
    parse_steps,
    prepare_synthetic,
    set_threads,
    video_folder,
    write_summary,
)

from vidgan_blocks.cascade import Cascade, Level, LevelOptim  # noqa: E402
from vidgan_blocks.data import ViewFactors, frames_grid, save_video  # noqa: E402
from vidgan_blocks.discriminators.builders import DiscriminatorConfig  # noqa: E402
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig, build_generator  # noqa: E402
from vidgan_blocks.ops import spatial_upsample, temporal_repeat  # noqa: E402
from vidgan_blocks.training import TrainerConfig, init_distributed  # noqa: E402


@dataclass(frozen=True)
class Preset:
    """Everything the recipe varies. ``frames``/``resolution``: the level-2 (top) view of the data."""

    frames: int
    stride: int
    resolution: int
    num_classes: int
    f_t: int
    f_s: int
    window: int
    g1_ch: int
    g1_mult: tuple[int, ...]
    g2_ch: int
    g2_mult: tuple[int, ...]
    d1_ch: int
    d1_mult: tuple[int, ...]
    d2_ch: int
    d2_mult: tuple[int, ...]
    k1: int
    k2: int
    z_dim: int
    class_dim: int
    batch: int
    effective_batch: int | None  # None: batch x world size (no accumulation)
    steps: tuple[int, int]
    ema_start: int
    ema_decay: float
    passes: int
    stats_batch: int
    synthetic_clips: int
    num_samples: int
    log_every: int
    checkpoint_every: int


PRESETS = {
    # CVG section 4 / DESIGN.md: 48/128x128 (stride 2) -> level 1 24/32x32, level 2 6 -> 12 frames.
    "paper": Preset(
        frames=48, stride=2, resolution=128, num_classes=600, f_t=2, f_s=4, window=6,
        g1_ch=128, g1_mult=(8, 8, 8, 4, 2), g2_ch=128, g2_mult=(8, 8, 8, 4, 2, 1),
        d1_ch=128, d1_mult=(2, 4, 8, 16, 16), d2_ch=96, d2_mult=(1, 2, 4, 8, 16, 16), k1=8, k2=8,
        z_dim=128, class_dim=128, batch=8, effective_batch=512, steps=(300_000, 300_000),
        ema_start=20_000, ema_decay=0.9999, passes=200, stats_batch=16, synthetic_clips=2048,
        num_samples=8, log_every=50, checkpoint_every=2000,
    ),
    # Same ratios at toy size: 16/32x32 -> level 1 8/8x8, level 2 2 -> 4 frames of 32x32.
    "tiny": Preset(
        frames=16, stride=1, resolution=32, num_classes=6, f_t=2, f_s=4, window=2,
        g1_ch=4, g1_mult=(4, 4, 2), g2_ch=4, g2_mult=(4, 4, 2, 1),
        d1_ch=4, d1_mult=(1, 2), d2_ch=4, d2_mult=(1, 2, 2), k1=4, k2=2,
        z_dim=16, class_dim=8, batch=4, effective_batch=None, steps=(60, 45),
        ema_start=20, ema_decay=0.9, passes=4, stats_batch=4, synthetic_clips=24,
        num_samples=4, log_every=5, checkpoint_every=10,
    ),
}

# ---------------------------------------------------------------- arguments
parser = base_parser(__doc__.splitlines()[0], PRESETS)
parser.add_argument("--levels", default="1,2", help="levels to train, in order (e.g. 2 to train only level 2)")
args = parser.parse_args()
ctx = init_distributed(args.device)
set_threads(args.threads, ctx.device)
torch.manual_seed(args.seed)
P = apply_overrides(PRESETS[args.preset], batch=args.batch_size)
steps = parse_steps(args.steps, 2) or list(P.steps)
levels_to_train = sorted({int(s) for s in args.levels.split(",") if s.strip()})
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
clock = Stopwatch()

# ---------------------------------------------------------------- data: the level-2 view of every clip
t0 = time.perf_counter()
data_root = args.data or prepare_synthetic(
    out / "synthetic", ctx, n=P.synthetic_clips, frames=P.frames * P.stride, resolution=P.resolution,
    num_classes=P.num_classes, seed=args.seed,
)
dataset = video_folder(data_root, frames=P.frames, stride=P.stride, resolution=P.resolution, seed=args.seed,
                       split_file=args.split_file, cache_dir=out / "index")
num_classes = len(dataset.base.classes) if args.data else P.num_classes
clock.lap("data", t0)

# ---------------------------------------------------------------- the cascade
low_size = P.resolution // P.f_s
g1_cfg = CascadeFirstLevelConfig(
    ch=P.g1_ch, multipliers=P.g1_mult, z_dim=P.z_dim, num_classes=num_classes, class_dim=P.class_dim,
    frames=P.frames // P.f_t, base_size=low_size // 2 ** (len(P.g1_mult) - 2),
)
g2_cfg = UpsamplingGeneratorConfig(
    ch=P.g2_ch, multipliers=P.g2_mult, low_size=low_size, factor_s=P.f_s, factor_t=P.f_t, frames_in=P.window,
    z_dim=P.z_dim, num_classes=num_classes, class_dim=P.class_dim,
)
d1_cfg = DiscriminatorConfig("dvd_gan", ch=P.d1_ch, multipliers=P.d1_mult, num_classes=num_classes, k=P.k1,
                             notes="SSW-GAN stage 1 / CVG level 1: spatial + temporal")
d2_cfg = DiscriminatorConfig("cascade_level", ch=P.d2_ch, multipliers=P.d2_mult, num_classes=num_classes, k=P.k2,
                             factor_t=P.f_t, factor_s=P.f_s, notes="SSW-GAN B.2 / CVG level 2: spatial + temporal + matching")
optim = LevelOptim(lr_g=1e-4, lr_d=5e-4, n_dis=2)
cascade = Cascade([
    Level(build_generator(g1_cfg), d1_cfg.build(), optim=optim, discriminator_config=d1_cfg),
    Level(build_generator(g2_cfg), d2_cfg.build(), factors=ViewFactors(P.f_t, P.f_s), window=P.window,
          optim=optim, discriminator_config=d2_cfg),
])
if (out / "cascade.json").exists():  # levels finished earlier (resume, or --levels 2 after --levels 1)
    done = Cascade.load(out, device=ctx.device)
    for mine, theirs in zip(cascade, done):
        if theirs._sampler is not None:
            mine.freeze(theirs.sampler)

# ---------------------------------------------------------------- train the levels in order
train_cfg = TrainerConfig(
    batch_size=P.batch,
    accumulation=1 if P.effective_batch is None else TrainerConfig.accumulation_for(P.effective_batch, P.batch, ctx.world_size),
    seed=args.seed, out_dir=str(out), resume="never" if args.fresh else "latest", log_every=P.log_every,
    checkpoint_every=P.checkpoint_every, num_workers=args.workers, progress=ctx.is_main, tensorboard=False,
)
results = {}
for l in levels_to_train:
    t0 = time.perf_counter()
    results[f"level{l}"] = cascade.train_level(
        l, dataset, replace(train_cfg, max_steps=steps[l - 1]), passes=P.passes, stats_batch=P.stats_batch,
        ema_decay=P.ema_decay, ema_start=P.ema_start, context=ctx,
    )
    clock.lap(f"train_level{l}", t0)

# ---------------------------------------------------------------- samples (rank 0)
if ctx.is_main and all(lv._sampler is not None for lv in cascade):
    t0 = time.perf_counter()
    samples = out / "samples"
    low, high = cascade.generate(P.num_samples, passes=P.passes, stats_batch=P.stats_batch, seed=args.seed,
                                 return_levels=True)
    save_video(low, samples / "level1.mp4")
    save_video(high, samples / "level2.mp4")
    # Level-1 frames (enlarged, each shown f_t times) in the row above their level-2 upsampling.
    low_big = temporal_repeat(spatial_upsample(low, P.f_s), P.f_t)
    pairs = torch.stack([low_big, high], 1).flatten(0, 1)  # [2N, 3, T, H, W]: level 1, level 2, level 1, ...
    frames_grid(pairs, samples / "level1_vs_level2.png")
    for i in range(min(2, P.num_samples)):
        frames_grid(pairs[2 * i : 2 * i + 2], samples / f"pair{i}.png")
    long_frames = 4 * P.window * P.f_t
    written = cascade.generate_stream(min(4, P.num_samples), frames=long_frames, path=samples / "unrolled_long.mp4",
                                      passes=P.passes, stats_batch=P.stats_batch, seed=args.seed)
    clock.lap("sampling", t0)
    losses = {name: {k: v for k, v in r["counters"]["history"].items() if k.startswith("loss/")}
              for name, r in results.items()}
    write_summary(out, {
        "recipe": "cvg_kinetics",
        "preset": args.preset,
        "data": str(data_root),
        "steps": {name: r["step"] for name, r in results.items()},
        "losses": losses,
        "seconds": {"total": clock.total, **clock.sections},
        "window": {"level2_train_frames": P.window * P.f_t, "unrolled_frames": written},
        "files": {
            "cascade": str(out / "cascade.json"),
            "checkpoints": {lv.name: str(out / lv.name / "checkpoints") for lv in cascade},
            "logs": {lv.name: str(out / lv.name / "logs") for lv in cascade},
            "samples": sorted(str(p) for p in samples.iterdir()),
        },
    })
    print(f"done in {clock.total:.0f} s; summary: {out / 'summary.json'}")
ctx.barrier()
