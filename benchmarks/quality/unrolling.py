"""Long-video unrolling at small scale (SSW-GAN Figures 2-3, CVG section 3.2).

Both generators see full-resolution clips of the same short length only: level 2 of
the CVG ``learn`` cascade is trained on windows of ``w`` frames of 32x32 (its
level 1, trained on whole 8-frame 8x8 clips, sets the long-range motion), and a
DVD-GAN ``learn`` generator is trained here on ``w``-frame 32x32 clips for the
same number of iterations by default; the DVD-GAN stays a still-frame generator for its
first 1,000-1,500 iterations, so the committed run gives it 2,500 (``--steps 2500``), after which
it is good over its training length. Both are then run at 4x that length, and FVD-MS is
computed per ``w``-frame time segment against real segments at the same
positions. The papers expect the cascade to keep its quality over time (its upsampling
level is convolutional in time and grounded in level 1) and the recurrent DVD-GAN run
beyond its training length to degrade; docs/quality.md says what this scale shows.

    python benchmarks/quality/unrolling.py --steps 2500   # reuses runs/quality/cvg (learning_curves.py --family cvg)
    python benchmarks/quality/unrolling.py --micro   # smoke run

Writes ``benchmarks/results/quality/unrolling.json`` (``cascade_last_over_first``,
``dvd_gan_last_over_first``) and ``unrolling.png`` (FVD-MS per segment).
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


def segment_fvd(net, real: torch.Tensor, fake: torch.Tensor, seg: int) -> list[float]:
    """FVD-MS of each consecutive ``seg``-frame segment of ``fake`` against the same segment of ``real``."""
    out = []
    for s in range(0, fake.shape[2] - seg + 1, seg):
        out.append(round(fvd_ms(shapes_features(real[:, :, s : s + seg], net),
                                shapes_features(fake[:, :, s : s + seg], net)), 4))
    return out


def train_dvd_gan(frames: int, steps: int, seed: int, micro: bool):
    """The DVD-GAN ``learn`` generator trained on ``frames``-frame clips (the cascade's level-2 window)."""
    import dvd_gan_kinetics as m
    from _common import VideoTrainer

    from vidgan_blocks.training import TrainerConfig

    P = m.PRESETS["learn"]
    P = dataclasses.replace(P, g=dataclasses.replace(P.g, frames=frames))
    if micro:
        P = dataclasses.replace(P, synthetic_clips=8, batch=2, passes=1, stats_batch=2)
    data = ShapesItems(P.synthetic_clips, frames, P.resolution, P.num_classes, seed)
    torch.manual_seed(seed)
    G, D, _ = m.build_models(P, P.num_classes)
    cfg = TrainerConfig(batch_size=P.batch, max_steps=steps, seed=seed, lr_g=P.lr_g, lr_d=P.lr_d, log_every=0,
                        progress=False, tensorboard=False, out_dir=None)
    tr = VideoTrainer(G, D, data, cfg, device="cpu", ema_decay=P.ema_decay, ema_start=P.ema_start,
                      standing_passes=P.passes)
    tr.fit()
    return tr, P


def main(argv: list[str] | None = None) -> int:
    import cvg_kinetics

    from vidgan_blocks.cascade import Cascade

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cascade", type=Path, default=ROOT / "runs" / "quality" / "cvg",
                    help="the trained CVG learn cascade (learning_curves.py --family cvg saves it there)")
    ap.add_argument("--steps", type=int, default=None, help="DVD-GAN iterations (default: the cascade's level-2 budget)")
    ap.add_argument("--factor", type=int, default=4, help="how many training lengths to unroll (default 4)")
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--micro", action="store_true", help="untrained models, 2 DVD-GAN iterations (a smoke test)")
    ap.add_argument("--out", type=Path, default=RESULTS / "unrolling.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    P = cvg_kinetics.PRESETS["learn"]
    top = P.levels[-1]
    seg = top.window * top.factors[0]  # level 2's training window at full resolution
    length = args.factor * seg
    net = load_shapes_net()
    n = 4 if args.micro else args.samples
    real = ShapesItems(n, length, P.resolution, P.num_classes, EVAL_SEED).videos()
    labels = torch.arange(n) % P.num_classes

    if args.micro:
        from learning_curves import FAMILIES  # noqa: F401  (same module layout as the real run)
        from md_grounding import build_cascade, train_level1

        Pm = dataclasses.replace(P, synthetic_clips=8, batch=2, passes=1, stats_batch=2)
        data = ShapesItems(8, P.frames, P.resolution, P.num_classes, args.seed)
        cascade = build_cascade(Pm, train_level1(Pm, data, 1, args.seed), matching=True, seed=1)
        cascade.train_level(2, data, dataclasses.replace(_cfg(Pm), max_steps=1), passes=1, stats_batch=2)
        passes, stats_batch = 1, 2
    else:
        if not (args.cascade / "cascade.json").exists():
            raise SystemExit(f"{args.cascade}: no trained cascade; run "
                             "`python benchmarks/quality/learning_curves.py --family cvg` first")
        cascade = Cascade.load(args.cascade)
        passes, stats_batch = P.passes, P.stats_batch
    # level 1 runs at length / f_t frames: its own training length when factor * window * f_t == its frames * f_t
    cas = cascade.generate(n, labels, frames=length, seed=args.seed + 99, passes=passes, stats_batch=stats_batch)
    cas_curve = segment_fvd(net, real, cas, seg)
    print(f"[cascade] FVD-MS per {seg}-frame segment: {cas_curve}", flush=True)

    steps = args.steps or (2 if args.micro else P.steps[1])
    tr, Pd = train_dvd_gan(seg, steps, args.seed, args.micro)
    from vidgan_blocks.training import standing_stats

    g = tr.eval_model().eval()

    def stats_pass(i: int) -> None:  # per-frame statistics at the unrolled length, as a cascade re-estimates them
        pg = torch.Generator().manual_seed(10_000 + i)
        b = Pd.stats_batch
        g(torch.randn(b, int(g.z_dim), generator=pg), torch.randint(Pd.num_classes, (b,), generator=pg), frames=length)

    standing_stats(g, stats_pass, Pd.passes)
    gen = torch.Generator().manual_seed(args.seed + 99)
    with torch.no_grad():
        dvd = torch.cat([g(torch.randn(len(c), int(g.z_dim), generator=gen), c, frames=length)
                         for c in labels.split(64)])
    dvd_curve = segment_fvd(net, real, dvd, seg)
    print(f"[dvd_gan] FVD-MS per {seg}-frame segment: {dvd_curve}", flush=True)
    result = {
        "cascade_last_over_first": round(cas_curve[-1] / cas_curve[0], 3),
        "dvd_gan_last_over_first": round(dvd_curve[-1] / dvd_curve[0], 3),
        "target": "cascade_last_over_first <= 1.25; DVD-GAN degrades",
        "segment_frames": seg, "unrolled_frames": length, "training_frames_at_full_resolution": seg,
        "cascade_fvd_ms_per_segment": cas_curve, "dvd_gan_fvd_ms_per_segment": dvd_curve,
        "dvd_gan_steps": steps, "samples": n, "cascade": str(args.cascade.relative_to(ROOT))
        if args.cascade.is_relative_to(ROOT) else str(args.cascade),
        "command": "python benchmarks/quality/unrolling.py" + (f" --steps {args.steps}" if args.steps else ""), "minutes": round((time.perf_counter() - t_start) / 60, 2),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps({k: v for k, v in result.items() if "per_segment" not in k}, indent=2))
    if args.micro:
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    xs = [seg * (i + 1) for i in range(len(cas_curve))]
    line_plot({"CVG cascade (level 2 unrolled)": (xs, cas_curve), "DVD-GAN (recurrent, run longer)": (xs, dvd_curve)},
              args.out.with_suffix(".png"), title=f"FVD-MS per {seg}-frame segment, trained on {seg}-frame clips",
              xlabel="last frame of segment", ylabel="FVD-MS")
    from vidgan_blocks.data.grid import frames_grid

    frames_grid(torch.cat([cas[:2], dvd[:2]]), IMAGES / "unrolling_frames.png", every=2)
    return 0


def _cfg(P):
    from vidgan_blocks.training import TrainerConfig

    return TrainerConfig(batch_size=P.batch, max_steps=1, log_every=0, progress=False, tensorboard=False, out_dir=None)


if __name__ == "__main__":
    raise SystemExit(main())
