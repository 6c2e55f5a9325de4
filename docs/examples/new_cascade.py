"""A new three-level cascade variant built from library parts.

Level 1 generates 4 frames of 8x8 with a TSRU (TrIVD-GAN-FP section 3.2) as its
recurrent unit; level 2 upsamples 2x in time and space with the standard
upsampling-level discriminators (CVG section 3: spatial + temporal + matching);
level 3 is a custom level whose discriminator pairs a cropped video
discriminator (crV, TrIVD-GAN-FP section 3.1) with a matching discriminator
(SSW-GAN eq. 6). Each level trains for a few steps on MovingShapes, then the
cascade is unrolled to twice the training length.

Run: ``python docs/examples/new_cascade.py --steps 3 --out runs/new_cascade``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

# --8<-- [start:build]
from vidgan_blocks.cascade import Cascade, Level, LevelOptim  # noqa: E402
from vidgan_blocks.data import MovingShapes, ViewFactors, frames_grid  # noqa: E402
from vidgan_blocks.discriminators import (  # noqa: E402
    CroppedDiscriminator,
    DiscriminatorConfig,
    MatchingDiscriminator,
    MultiDiscriminator,
)
from vidgan_blocks.generators import CascadeFirstLevelConfig, UpsamplingGeneratorConfig, build_generator  # noqa: E402
from vidgan_blocks.training import TrainerConfig  # noqa: E402


class ShapeClips(torch.utils.data.Dataset):
    """MovingShapes clips as the trainers' ``{"video", "label"}`` dicts, rendered once."""

    def __init__(self, n: int, frames: int, resolution: int, num_classes: int) -> None:
        items = [MovingShapes(n, frames, resolution, num_classes=num_classes, seed=0)[i] for i in range(n)]
        self.videos = torch.stack([v for v, _ in items])  # [N, 3, T, H, W]
        self.labels = torch.tensor([y for _, y in items])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"video": self.videos[i], "label": self.labels[i]}


CLASSES, CH = 6, 4
# Top-level clips: 16 frames of 32x32. Views: level 2 = 8 frames of 16x16, level 1 = 4 frames of 8x8.
g1 = build_generator(CascadeFirstLevelConfig(
    ch=CH, multipliers=(4, 4, 2), recurrent="tsru_c", frames=4, base_size=4, z_dim=16, num_classes=CLASSES,
    class_dim=8,
))
d1_cfg = DiscriminatorConfig("dvd_gan", ch=CH, multipliers=(1, 2), num_classes=CLASSES, k=2)

g2 = build_generator(UpsamplingGeneratorConfig(
    ch=CH, multipliers=(4, 2, 1), low_size=8, factor_s=2, factor_t=2, frames_in=2, z_dim=16,
    num_classes=CLASSES, class_dim=8,
))
d2_cfg = DiscriminatorConfig("cascade_level", ch=CH, multipliers=(1, 2), num_classes=CLASSES, k=2,
                             factor_t=2, factor_s=2)

g3 = build_generator(UpsamplingGeneratorConfig(
    ch=CH, multipliers=(4, 2, 1), low_size=16, factor_s=2, factor_t=2, frames_in=2, z_dim=16,
    num_classes=CLASSES, class_dim=8,
))
# The custom level-3 decomposition: crV (a random half-size crop at full resolution, all
# frames) + matching (does the output agree with the window it was generated from?).
d3 = MultiDiscriminator({
    "cropped": CroppedDiscriminator(factor=2, ch=CH, multipliers=(1, 2), num_classes=CLASSES),
    "matching": MatchingDiscriminator(2, 2, ch=CH, multipliers=(1, 2), num_classes=CLASSES),
})

optim = LevelOptim(lr_g=1e-4, lr_d=5e-4, n_dis=2)
cascade = Cascade([
    Level(g1, d1_cfg.build(), optim=optim, discriminator_config=d1_cfg),
    Level(g2, d2_cfg.build(), factors=ViewFactors(2, 2), window=2, optim=optim, discriminator_config=d2_cfg),
    Level(g3, d3, factors=ViewFactors(2, 2), window=2, optim=optim),
])
# --8<-- [end:build]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="training iterations per level")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--clips", type=int, default=24, help="MovingShapes clips")
    parser.add_argument("--frames", type=int, default=32, help="top-level frames of the unrolled sample")
    parser.add_argument("--out", default="runs/new_cascade")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    out = Path(args.out)

    # --8<-- [start:train]
    dataset = ShapeClips(args.clips, frames=16, resolution=32, num_classes=CLASSES)
    config = TrainerConfig(batch_size=args.batch_size, max_steps=args.steps, out_dir=str(out), resume="never",
                           log_every=0, progress=False, tensorboard=False)
    for level in (1, 2, 3):  # in order: each level samples the frozen levels below it
        cascade.train_level(level, dataset, config, passes=2, stats_batch=4)
    # --8<-- [end:train]

    # --8<-- [start:sample]
    # Convolutional unrolling: level 1 runs for frames / 4 steps, the upsampling
    # levels slide over the whole lower-level output (CVG section 3).
    levels = cascade.generate(4, frames=args.frames, passes=2, stats_batch=4, seed=0, return_levels=True)
    for l, video in enumerate(levels, start=1):
        print(f"level {l}: {tuple(video.shape)}")  # (4, 3, T_l, H_l, W_l)
    frames_grid(levels[-1], out / "unrolled.png", every=4)
    reloaded = Cascade.load(out)  # weights + JSON configs, no training code
    # --8<-- [end:sample]
    return {"shapes": [tuple(v.shape) for v in levels], "reloaded_levels": len(reloaded.levels)}


if __name__ == "__main__":
    main()
