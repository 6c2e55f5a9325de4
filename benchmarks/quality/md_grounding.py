"""Matching-discriminator grounding at small scale (CVG Table 3, SSW-GAN Figure 4).

The same level 2 of the CVG ``learn`` cascade is trained twice on the same budget
(iterations, batch, seed, initial weights), once against D_S + D_T + the matching
discriminator and once against D_S + D_T only, both conditioned on the same frozen
level 1. Grounding error: the mean absolute difference between a generated
lower-level input x^ and the view of the level-2 output brought back to x^'s
resolution and frame rate, ``|f_s(f_t(G(x^))) - x^|``, over 128 samples of level 1
(standing statistics as in generation). Without the matching term nothing ties the
output to its input, and the error grows (the papers: the upsampled video drifts
away from the lower-resolution one). The error is measured twice: on the whole
level-1 samples, unrolled as generation runs level 2 (``error``, ``ratio``), and on
one random level-1 window per sample upsampled on its own, the setup level 2 is
trained in (:meth:`~vidgan_blocks.cascade.Cascade.generate_windows`; ``error_windows``,
``ratio_windows``).

    python benchmarks/quality/md_grounding.py                   # reuses runs/quality/cvg's level 1 if there
    python benchmarks/quality/md_grounding.py --steps 2 --micro  # smoke run

Writes ``benchmarks/results/quality/md_grounding.json`` (``"ratio"`` = error without /
error with) and ``md_grounding.png`` (error per frame) there, and
``docs/images/md_grounding_frames.png`` (input, output view with and without).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (HERE, ROOT / "recipes", ROOT):
    sys.path.insert(0, str(p))

import torch  # noqa: E402
from _plot import line_plot  # noqa: E402
from learning_curves import EVAL_SEED, IMAGES, RESULTS, ShapesItems  # noqa: E402

from vidgan_blocks.metrics.shapes_net import fvd_ms, load_shapes_net, shapes_features  # noqa: E402


def build_cascade(P, level1, *, matching: bool, seed: int):
    """Level 1 as given (trained, frozen); a fresh level 2 seeded with ``seed``, with or without the matching D."""
    from _common import without_matching

    from vidgan_blocks.cascade import Cascade, Level, LevelOptim
    from vidgan_blocks.generators import build_generator

    Q = P if matching else without_matching(P)
    spec = Q.levels[1]
    torch.manual_seed(seed)  # identical G initial weights in both arms; D differs only by the matching member
    g = build_generator(dataclasses.replace(spec.g, num_classes=P.num_classes))
    d_cfg = dataclasses.replace(spec.d, num_classes=P.num_classes)
    level2 = Level(g, d_cfg.build(), factors=spec.view_factors(), window=spec.window,
                   optim=LevelOptim(lr_g=P.lr_g, lr_d=P.lr_d, n_dis=2), discriminator_config=d_cfg)
    return Cascade([level1, level2])


def train_level1(P, data, steps: int, seed: int):
    from vidgan_blocks.cascade import Level, LevelOptim
    from vidgan_blocks.generators import build_generator

    spec = P.levels[0]
    torch.manual_seed(seed)
    d_cfg = dataclasses.replace(spec.d, num_classes=P.num_classes)
    level1 = Level(build_generator(dataclasses.replace(spec.g, num_classes=P.num_classes)), d_cfg.build(),
                   optim=LevelOptim(lr_g=P.lr_g, lr_d=P.lr_d, n_dis=2), discriminator_config=d_cfg)
    # a throwaway level 2 only so that the cascade knows its views; level 1 trains alone
    c = build_cascade(P, level1, matching=True, seed=seed)
    c.train_level(1, data, _config(P, steps, seed), passes=P.passes, stats_batch=P.stats_batch)
    return c[1]


def _config(P, steps: int, seed: int):
    from vidgan_blocks.training import TrainerConfig

    return TrainerConfig(batch_size=P.batch, max_steps=steps, seed=seed, log_every=0, progress=False,
                         tensorboard=False, out_dir=None)


def grounding(cascade, P, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample, per-frame |f_s(f_t(G(x^))) - x^| ``(n, t)``, the inputs and the outputs."""
    labels = torch.arange(n) % P.num_classes
    low, high = cascade.generate(n, labels, seed=seed, passes=P.passes, stats_batch=P.stats_batch,
                                 return_levels=True)
    back = cascade.view(high, 1)
    return (back - low).abs().mean(dim=(1, 3, 4)), low, high


def grounding_windows(cascade, P, n: int, seed: int) -> float:
    """Mean |f_s(f_t(G(w))) - w| over one random level-1 window ``w`` per sample, each upsampled on its own."""
    labels = torch.arange(n) % P.num_classes
    high, low, _ = cascade.generate_windows(n, labels, seed=seed, passes=P.passes, stats_batch=P.stats_batch,
                                            return_windows=True)
    return float((cascade.view(high, 1) - low).abs().mean())


def main(argv: list[str] | None = None) -> int:
    import cvg_kinetics

    from vidgan_blocks.cascade import Cascade

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="learn")
    ap.add_argument("--steps", type=int, default=None, help="level-2 iterations per arm (default: the preset's)")
    ap.add_argument("--level1-steps", type=int, default=None, help="when level 1 has to be trained here")
    ap.add_argument("--cascade", type=Path, default=ROOT / "runs" / "quality" / "cvg",
                    help="a saved cascade whose level 1 is reused (learning_curves.py --family cvg writes it)")
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--micro", action="store_true", help="tiny data and 2 iterations (a smoke test)")
    ap.add_argument("--out", type=Path, default=RESULTS / "md_grounding.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    P = cvg_kinetics.PRESETS[args.preset]
    if args.micro:
        P = dataclasses.replace(P, synthetic_clips=8, batch=2, passes=1, stats_batch=2)
        args.samples, args.steps, args.level1_steps = 4, 2, 2
    steps = args.steps or P.steps[1]
    data = ShapesItems(P.synthetic_clips, P.frames, P.resolution, P.num_classes, args.seed)
    reused = (args.cascade / "cascade.json").exists() and not args.micro
    if reused:
        level1 = Cascade.load(args.cascade)[1]
    else:
        level1 = train_level1(P, data, args.level1_steps or P.steps[0], args.seed)
    net = load_shapes_net()
    real = ShapesItems(args.samples, P.frames, P.resolution, P.num_classes, EVAL_SEED).videos()
    real_feats = shapes_features(real, net)
    arms = {}
    for name, matching in (("with_matching", True), ("without_matching", False)):
        t0 = time.perf_counter()
        c = build_cascade(P, level1, matching=matching, seed=args.seed + 1)
        c.train_level(2, data, _config(P, steps, args.seed), passes=P.passes, stats_batch=P.stats_batch)
        err, low, high = grounding(c, P, args.samples, args.seed + 321)
        arms[name] = {
            "error": float(err.mean()), "error_windows": grounding_windows(c, P, args.samples, args.seed + 321),
            "error_std_over_samples": float(err.mean(1).std()),
            "error_per_frame": [round(float(e), 5) for e in err.mean(0)],
            "fvd_ms": round(fvd_ms(real_feats, shapes_features(high, net)), 4),
            "decomposition": c[2].discriminator_config.decomposition, "minutes": round((time.perf_counter() - t0) / 60, 2),
        }
        arms[name]["_videos"] = (low, c.view(high, 1))
        print(f"[{name}] grounding error {arms[name]['error']:.4f} (on windows {arms[name]['error_windows']:.4f})  "
              f"FVD-MS {arms[name]['fvd_ms']:.3f}", flush=True)
    ratio = arms["without_matching"]["error"] / arms["with_matching"]["error"]
    ratio_windows = arms["without_matching"]["error_windows"] / arms["with_matching"]["error_windows"]
    low, with_back = arms["with_matching"].pop("_videos")
    _, without_back = arms["without_matching"].pop("_videos")
    result = {
        "ratio": round(ratio, 3), "ratio_windows": round(ratio_windows, 3), "target": ">= 2", **arms,
        "level2_steps": steps, "samples": args.samples,
        "level1": f"reused from {args.cascade.relative_to(ROOT) if args.cascade.is_relative_to(ROOT) else args.cascade}"
        if reused else "trained here", "preset": f"recipes/cvg_kinetics.py --preset {args.preset}",
        "command": "python benchmarks/quality/md_grounding.py" + (f" --steps {args.steps}" if args.steps else ""),
        "minutes": round((time.perf_counter() - t_start) / 60, 2), "threads": torch.get_num_threads(),
    }
    print(f"ratio (without / with) = {ratio:.3f}; on windows {ratio_windows:.3f}")
    if args.micro:
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    t = len(result["with_matching"]["error_per_frame"])
    line_plot({k: (list(range(1, t + 1)), result[k]["error_per_frame"]) for k in ("with_matching", "without_matching")},
              args.out.with_suffix(".png"), title="grounding error |f_s(f_t(G(x^))) - x^| per level-1 frame",
              xlabel="frame of x^", ylabel="mean abs error")
    from vidgan_blocks.data.grid import frames_grid

    rows = torch.stack([low[:3], with_back[:3], without_back[:3]], 1).flatten(0, 1)  # x^, with, without per sample
    rows = rows.repeat_interleave(4, dim=3).repeat_interleave(4, dim=4)  # 8x8 frames shown at 32x32
    frames_grid(rows, IMAGES / "md_grounding_frames.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
