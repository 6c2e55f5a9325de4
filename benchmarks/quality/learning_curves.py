"""Learning curves of every recipe family on the built-in MovingShapes data, scored by FVD-MS.

Each family trains its recipe's ``learn`` preset (a small CPU configuration of the
paper's model) on MovingShapes clips rendered in memory, and scores the evaluation
generator every ``eval_every`` iterations with FVD-MS (Frechet distance on the
features of the shipped :class:`~vidgan_blocks.metrics.ShapesNet`) against held-out
real clips, plus ShapesNet's class accuracy on the requested labels for
class-conditional generators. Cascades (CVG, SSW-GAN) are trained level by level;
each level gets its own curve, and the family's figure is the top level's output
(the full cascade, level 1 included) at the start and the end of its training.

    python benchmarks/quality/learning_curves.py --family dvd_gan      # one family
    python benchmarks/quality/learning_curves.py --family all          # all five, one after the other
    python benchmarks/quality/learning_curves.py --family cvg --micro  # 2-step smoke run
    python benchmarks/quality/learning_curves.py --family dvd_gan --set g.recurrent=conv_gru \
        --out benchmarks/results/quality/variants/conv_gru.json       # a variant of the preset

``--set FIELD=VALUE`` changes one field of the preset (``g.FIELD`` one of its
generator config; for cascades ``levelN.g.FIELD``, ``levelN.d.FIELD`` or
``levelN.FIELD`` one of level N's, e.g. ``--set level2.g.recurrent=conv_gru``); a run with ``--set`` writes to its own ``--out`` (required) and
puts its sample PNGs beside it, never over the table of the presets as shipped.

Writes ``benchmarks/results/quality/learning_curves.json`` (merged per family),
``curve_<family>.json`` and a PNG of samples per family in ``docs/images/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "recipes"))
sys.path.insert(1, str(ROOT))
sys.path.insert(2, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from vidgan_blocks.data import MovingShapes  # noqa: E402
from vidgan_blocks.metrics.shapes_net import class_accuracy, fvd_ms, load_shapes_net, shapes_features  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "quality"
IMAGES = ROOT / "docs" / "images"

#: family -> (recipe module, kind)
FAMILIES: dict[str, tuple[str, str]] = {
    "dvd_gan": ("dvd_gan_kinetics", "video"),
    "dvd_gan_fp": ("dvd_gan_fp_kinetics", "prediction"),
    "trivd_gan_fp": ("trivd_gan_fp_kinetics", "prediction"),
    "cvg": ("cvg_kinetics", "cascade"),
    "ssw_gan": ("ssw_gan_kinetics", "cascade"),
}

EVAL_SEED = 7_000  # held-out real clips: a MovingShapes seed the training data (seed 0) never uses


def command_line(family: str, args: argparse.Namespace) -> str:
    parts = ["python benchmarks/quality/learning_curves.py", f"--family {family}"]
    if args.steps:
        parts.append(f"--steps {args.steps}")
    if args.seed:
        parts.append(f"--seed {args.seed}")
    if args.eval_every:
        parts.append(f"--eval-every {args.eval_every}")
    if args.augment:
        parts.append(f"--augment {args.augment}")
    parts += [f"--set {item}" for item in args.set]
    if args.set or args.out not in (RESULTS / "learning_curves.json", RESULTS / "augment" / "learning_curves.json"):
        parts.append(f"--out {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return " ".join(parts)


def apply_settings(P: Any, items: list[str]) -> Any:
    """``P`` with ``FIELD=VALUE`` items applied.

    ``FIELD`` names a preset field, ``g.FIELD`` one of its generator config, and for
    cascade presets ``levelN.FIELD``, ``levelN.g.FIELD`` or ``levelN.d.FIELD`` a field
    of level N's spec, generator config or discriminator config (N from 1).
    Values are read as JSON when they parse (numbers, booleans, null, lists become
    tuples) and as plain strings otherwise. Unknown fields raise ``ValueError``.
    """
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set: expected FIELD=VALUE, got {item!r}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if isinstance(value, list):
            value = tuple(value)
        path = key.split(".")
        level = None
        if path[0].startswith("level") and path[0][5:].isdigit() and hasattr(P, "levels"):
            level = int(path[0][5:])
            if not 1 <= level <= len(P.levels):
                raise ValueError(f"--set {key}: the preset has levels 1..{len(P.levels)}")
            path = path[1:]
        owner_path, field = path[:-1], path[-1] if path else ""
        root = P.levels[level - 1] if level else P
        allowed = (("g", "d") if level else ("g",))
        if len(owner_path) > 1 or (owner_path and owner_path[0] not in allowed) or not field:
            where = "levelN.FIELD, levelN.g.FIELD or levelN.d.FIELD" if level else "a preset field or g.<field>"
            raise ValueError(f"--set {key}: expected {where}")
        owner = getattr(root, owner_path[0], None) if owner_path else root
        if not dataclasses.is_dataclass(owner):
            raise ValueError(f"--set {key}: expected a preset field or g.<field>")
        names = {f.name for f in dataclasses.fields(owner)}
        if field not in names:
            raise ValueError(f"--set {key}: {type(owner).__name__} has no field {field!r}; it has {sorted(names)}")
        new = dataclasses.replace(owner, **{field: value})
        if owner_path:
            new = dataclasses.replace(root, **{owner_path[0]: new})
        if level:
            levels = list(P.levels)
            levels[level - 1] = new
            new = dataclasses.replace(P, levels=tuple(levels))
        P = new
    return P


# ---------------------------------------------------------------------------- data


class ShapesItems(torch.utils.data.Dataset):
    """MovingShapes clips as trainer dicts, rendered once and kept (uint8) in memory."""

    def __init__(self, n: int, frames: int, resolution: int, num_classes: int, seed: int,
                 constant_label: int | None = None) -> None:
        ds = MovingShapes(n, frames, resolution, num_classes=num_classes, seed=seed)
        self.clips = torch.stack([((ds.render(i) + 1) * 127.5).round().to(torch.uint8) for i in range(n)])
        self.labels = torch.arange(n) % num_classes
        self.constant_label = constant_label

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        label = self.labels[i] if self.constant_label is None else torch.tensor(self.constant_label)
        return {"video": self.clips[i].float() / 127.5 - 1, "label": label}

    def videos(self, n: int | None = None) -> torch.Tensor:
        clips = self.clips if n is None else self.clips[:n]
        return clips.float() / 127.5 - 1


# ---------------------------------------------------------------------------- scoring


@dataclasses.dataclass
class Curve:
    name: str
    points: list[dict[str, float]] = dataclasses.field(default_factory=list)

    def add(self, step: int, seconds: float, fvd: float, acc: float | None, fake: torch.Tensor | None = None,
            fvd_windows: float | None = None) -> None:
        p = {"step": step, "seconds": round(seconds, 1), "cpu_seconds": round(time.process_time() - CPU0, 1),
             "fvd_ms": round(fvd, 4)}
        if fake is not None:
            p["motion"] = round(motion(fake), 4)
        if acc is not None:
            p["class_accuracy"] = round(acc, 4)
        if fvd_windows is not None:
            p["fvd_ms_windows"] = round(fvd_windows, 4)
        self.points.append(p)
        extra = f"  class accuracy {acc:.3f}" if acc is not None else ""
        extra += f"  FVD-MS on windows {fvd_windows:8.3f}" if fvd_windows is not None else ""
        print(f"[{self.name}] step {step:5d}  {seconds / 60:5.1f} min  FVD-MS {fvd:8.3f}{extra}", flush=True)


def motion(videos: torch.Tensor) -> float:
    """Mean over pixels and channels of the standard deviation over time: 0 for a still video.

    MovingShapes clips score about 0.1; a generator that has not learnt motion yet
    gives near-still videos (FVD-MS reads them as far from the data: a real first
    frame repeated scores 33).
    """
    return float(videos.float().std(dim=2).mean())


def score(net, real_feats, fake: torch.Tensor, labels: torch.Tensor | None,
          patterns_only: bool = False) -> tuple[float, float | None]:
    out = shapes_features(fake.float().cpu(), net)
    acc = class_accuracy(out, labels, net, patterns_only=patterns_only) if labels is not None else None
    return fvd_ms(real_feats, out), acc


MICRO = False  # smoke runs write no files
IMAGE_PREFIX = ""  # "augment_" for runs with --augment
CPU0 = time.process_time()  # process CPU time at start: wall time on a busy machine overstates the cost


def save_png(videos: torch.Tensor, path: Path, rows: int = 4, frames: int = 8) -> None:
    """A grid: one sample per row, ``frames`` evenly spaced frames per row."""
    from vidgan_blocks.data.grid import frames_grid

    if MICRO:
        return
    v = videos[:rows].float().cpu()
    t = v.shape[2]
    idx = torch.linspace(0, t - 1, min(frames, t)).round().long()
    frames_grid(v[:, :, idx], path)


# ---------------------------------------------------------------------------- families


def run_video(family: str, P: Any, args: argparse.Namespace, net) -> dict[str, Any]:
    from _common import VideoTrainer

    mod = importlib.import_module(FAMILIES[family][0])
    frames, nc = P.g.frames, P.num_classes
    data = ShapesItems(P.synthetic_clips, frames, P.resolution, nc, args.seed)
    real = ShapesItems(args.eval_samples * 2, frames, P.resolution, nc, EVAL_SEED)
    G, D, _ = mod.build_models(P, nc)
    steps = args.steps or P.steps
    cfg = _config(P, args, steps)
    tr = VideoTrainer(G, D, data, cfg, device="cpu", ema_decay=P.ema_decay, ema_start=P.ema_start,
                      standing_passes=P.passes)
    labels = torch.arange(args.eval_samples) % nc
    real_feats = shapes_features(real.videos(args.eval_samples), net)
    curve, t0 = Curve(family), time.perf_counter()

    def evaluate() -> tuple[float, float | None, torch.Tensor]:
        tr.standing_stats(batch_size=P.stats_batch)  # per-frame BN statistics at the sampled length
        gen = torch.Generator().manual_seed(args.seed + 123)
        fake = torch.cat([tr.sample(len(c), labels=c, generator=gen) for c in labels.split(64)])
        fvd, acc = score(net, real_feats, fake, labels)
        curve.add(tr.step, time.perf_counter() - t0, fvd, acc, fake)
        return fvd, acc, fake

    evaluate()
    _train(tr, steps, args.eval_every, evaluate)
    acc, fake = curve.points[-1].get("class_accuracy"), evaluate()[2]
    curve.points.pop()  # evaluate() above only re-drew the samples of the last point
    floor = fvd_ms(real_feats, shapes_features(real.videos()[args.eval_samples:], net))
    save_png(fake, IMAGES / f"{IMAGE_PREFIX}learning_{family}.png")
    return _entry(curve, floor, time.perf_counter() - t0, steps, acc, motion(real.videos(args.eval_samples)))


def run_prediction(family: str, P: Any, args: argparse.Namespace, net) -> dict[str, Any]:
    from _common import PredictionTrainer

    from vidgan_blocks.generators import build_generator

    cond, pred = P.g.cond_frames, P.g.frames
    frames = cond + pred
    single = P.g.num_classes == 1
    data = ShapesItems(P.synthetic_clips, frames, P.resolution, 6, args.seed, constant_label=0 if single else None)
    real = ShapesItems(args.eval_samples * 2, frames, P.resolution, 6, EVAL_SEED)
    G, D = build_generator(P.g), P.d.build()
    steps = args.steps or P.steps
    cfg = _config(P, args, steps, ortho_reg=P.ortho_reg)
    tr = PredictionTrainer(G, D, data, cfg, device="cpu", ema_decay=P.ema_decay, ema_start=P.ema_start,
                           standing_passes=P.passes, cond_frames=cond, d_labels=P.d.num_classes is not None)
    clips = real.videos(args.eval_samples)
    real_feats = shapes_features(clips, net)
    curve, t0 = Curve(family), time.perf_counter()

    @torch.no_grad()
    def evaluate() -> tuple[float, None, torch.Tensor]:
        g = tr.eval_model()
        tr.standing_stats(batch_size=P.stats_batch)
        was = g.training
        g.eval()
        gen = torch.Generator().manual_seed(args.seed + 123)
        outs = []
        for c in clips.split(64):
            z = torch.randn(len(c), int(g.z_dim), generator=gen)
            y = torch.zeros(len(c), dtype=torch.long) if g.num_classes is not None else None
            outs.append(torch.cat([c[:, :, :cond], g(z, y, cond_frames=c[:, :, :cond]).float()], 2))
        g.train(was)
        fake = torch.cat(outs)
        fvd, _ = score(net, real_feats, fake, None)
        curve.add(tr.step, time.perf_counter() - t0, fvd, None, fake[:, :, cond:])
        return fvd, None, fake

    evaluate()
    _train(tr, steps, args.eval_every, evaluate)
    fake = evaluate()[2]
    curve.points.pop()
    floor = fvd_ms(real_feats, shapes_features(real.videos()[args.eval_samples:], net))
    pair = torch.stack([clips[:4], fake[:4]], 1).flatten(0, 1)  # real row above each prediction
    save_png(pair, IMAGES / f"{IMAGE_PREFIX}learning_{family}.png", rows=8)
    return _entry(curve, floor, time.perf_counter() - t0, steps, None, motion(clips[:, :, cond:]))


def run_cascade(family: str, P: Any, args: argparse.Namespace, net) -> dict[str, Any]:
    from _common import build_cascade

    nc = P.num_classes
    data = ShapesItems(P.synthetic_clips, P.frames * P.stride, P.resolution, nc, args.seed)
    data.clips = data.clips[:, :, :: P.stride]
    real = ShapesItems(args.eval_samples * 2, P.frames * P.stride, P.resolution, nc, EVAL_SEED)
    real.clips = real.clips[:, :, :: P.stride]
    cascade = build_cascade(P, nc)
    levels = cascade.levels
    if isinstance(args.steps, str):
        steps = [int(s) for s in args.steps.split(",")]
    elif isinstance(args.steps, int):
        steps = [args.steps] * len(levels)
    else:
        steps = list(P.steps)
    if args.micro:
        steps = [2] * len(steps)
    labels = torch.arange(args.eval_samples) % nc
    clips = real.videos()
    t_start = time.perf_counter()
    windows = window_reference(cascade, clips, args.eval_samples, net, args.seed)
    # the recipe's step 0: the whole cascade untrained, scored at the top level
    untrained, untrained_windows = untrained_cascade_fvd(cascade, P, args, net, clips, labels, windows)
    if args.only_start:
        return {"fvd_start": untrained, "fvd_windows_start": untrained_windows}
    per_level: dict[str, Any] = {}
    top_start = top_end = None
    for l in range(1, len(levels) + 1):
        ref = cascade.view(clips[: args.eval_samples], l)
        ref_feats = shapes_features(ref, net)
        floor = fvd_ms(ref_feats, shapes_features(cascade.view(clips[args.eval_samples:], l), net))
        curve, t0 = Curve(f"{family} level {l}"), time.perf_counter()
        cfg = _config(P, args, steps[l - 1])
        for k in range(l - 1):  # as Cascade.train_level: the frozen levels below get standing statistics first
            cascade._standing_one_shot(k, P.passes, P.stats_batch, 0, None)
        tr = cascade.make_trainer(l, data, cfg, standing_passes=P.passes, ema_start=P.ema_start, ema_decay=P.ema_decay)

        def evaluate(tr=tr, l=l, ref_feats=ref_feats, curve=curve, t0=t0):
            # the chain up to level l as generation runs it: frozen levels below, a frozen copy of the
            # trainer's G at level l, standing statistics re-estimated at every level's length
            cascade.levels[l - 1].freeze(tr.eval_model())
            fake = cascade.generate(len(labels), labels, seed=args.seed + 123, passes=P.passes,
                                    stats_batch=P.stats_batch, levels=l)
            # level 1 sees every f_t-th frame: its sprites move faster per frame, so only the pattern is scored
            fvd, acc = score(net, ref_feats, fake, labels, patterns_only=l < len(levels))
            fvd_w = windows_fvd(cascade, P, args, net, labels, windows) if l == len(levels) else None
            curve.add(tr.step, time.perf_counter() - t0, fvd, acc, fake, fvd_windows=fvd_w)
            return fvd, acc, fake

        evaluate()
        try:
            _train(tr, steps[l - 1], args.eval_every, evaluate)
            cascade.levels[l - 1].freeze(tr.eval_model())
            fake = evaluate()[2]
            curve.points.pop()
        finally:
            tr.close()
        per_level[f"level{l}"] = _entry(curve, floor, time.perf_counter() - t0, steps[l - 1], curve.points[-1].get(
            "class_accuracy"), motion(ref))
        save_png(fake, IMAGES / f"{IMAGE_PREFIX}learning_{family}_level{l}.png")
        if l == len(levels):
            top_start, top_end = curve.points[0], curve.points[-1]
    if not args.micro and not args.augment and not args.set:  # reused by md_grounding.py (level 1) and unrolling.py (the whole cascade)
        cascade.save(args.runs / family)
    top = per_level[f"level{len(levels)}"]
    out = dict(top)
    out.update(minutes=round((time.perf_counter() - t_start) / 60, 2), steps=sum(steps), levels=per_level,
               cpu_minutes=round(sum(v["cpu_minutes"] for v in per_level.values()), 2))
    out["fvd_start"], out["fvd_end"] = untrained, top_end["fvd_ms"]
    out["ratio"] = round(top_end["fvd_ms"] / untrained, 4)
    out["fvd_top_level_before_its_training"] = top_start["fvd_ms"]
    if windows is not None:
        top.update(fvd_windows_start=top_start["fvd_ms_windows"], fvd_windows_end=top_end["fvd_ms_windows"],
                   ratio_windows=round(top_end["fvd_ms_windows"] / top_start["fvd_ms_windows"], 4),
                   real_vs_real_windows=windows["floor"])
        out.update(fvd_windows_start=untrained_windows, fvd_windows_end=top_end["fvd_ms_windows"],
                   ratio_windows=round(top_end["fvd_ms_windows"] / untrained_windows, 4),
                   real_vs_real_windows=windows["floor"])
    return out


def window_reference(cascade, clips: torch.Tensor, n: int, net, seed: int) -> dict[str, Any] | None:
    """Real top-level windows for scoring a windowed top level as it is trained (``None`` without a window).

    CVG section 4 also scores its two-level Kinetics model on short clips made by
    upsampling random level-1 windows (:meth:`~vidgan_blocks.cascade.Cascade.generate_windows`),
    the setup the level is trained in; the real side is one random window of the same
    length from each held-out clip. ``floor``: the same between two disjoint real sets.
    """
    from vidgan_blocks.ops import gather_windows, random_window_starts

    top = cascade[len(cascade)]
    if len(cascade) < 2 or top.window is None:
        return None
    w, f = top.window, top.factors.temporal
    low_t = cascade.view(clips[:1], len(cascade) - 1).shape[2]  # the lower view's length; one clip tells it
    gen = torch.Generator().manual_seed(seed + 4_321)
    starts = random_window_starts(len(clips), low_t, w, generator=gen)
    real = gather_windows(clips, starts * f, w * f)
    feats = shapes_features(real[:n], net)
    return {"features": feats, "floor": round(fvd_ms(feats, shapes_features(real[n:], net)), 4)}


def windows_fvd(cascade, P: Any, args: argparse.Namespace, net, labels: torch.Tensor,
                windows: dict[str, Any] | None) -> float | None:
    """FVD-MS of the top level run on random lower-level windows (the training setup) against real windows."""
    if windows is None:
        return None
    fake = cascade.generate_windows(len(labels), labels, seed=args.seed + 123, passes=P.passes,
                                    stats_batch=P.stats_batch)
    return fvd_ms(windows["features"], shapes_features(fake, net))


def untrained_cascade_fvd(cascade, P: Any, args: argparse.Namespace, net, clips: torch.Tensor,
                          labels: torch.Tensor, windows: dict[str, Any] | None = None) -> tuple[float, float | None]:
    """FVD-MS of the whole cascade before any training (every level frozen as initialised), top level:
    unrolled over the whole length, and on random windows (``None`` when the top level has no window)."""
    for lv in cascade:
        lv.freeze()
    try:
        fake = cascade.generate(len(labels), labels, seed=args.seed + 123, passes=P.passes, stats_batch=P.stats_batch)
        on_windows = windows_fvd(cascade, P, args, net, labels, windows)
    finally:
        for lv in cascade:
            lv.unfreeze()
    ref = shapes_features(cascade.view(clips[: len(labels)], len(cascade)), net)
    value = fvd_ms(ref, shapes_features(fake, net))
    extra = f"  on windows {on_windows:8.3f}" if on_windows is not None else ""
    print(f"[untrained cascade] FVD-MS {value:8.3f}{extra}", flush=True)
    return round(value, 4), None if on_windows is None else round(on_windows, 4)


# ---------------------------------------------------------------------------- plumbing


def _config(P: Any, args: argparse.Namespace, steps: int, **fields: Any):
    from vidgan_blocks.training import TrainerConfig

    return TrainerConfig(batch_size=P.batch, max_steps=steps, seed=args.seed, lr_g=P.lr_g, lr_d=P.lr_d,
                         log_every=0, progress=False, tensorboard=False, out_dir=None, augment=args.augment, **fields)


def _train(tr, steps: int, every: int | None, evaluate) -> None:
    """``steps`` iterations, scoring every ``every`` of them (default: 8 scores) and at the end."""
    every = every or max(1, steps // 8)
    while tr.step < steps:
        tr.train_step()
        if tr.step % every == 0 or tr.step == steps:
            evaluate()


def _entry(curve: Curve, floor: float, seconds: float, steps: int, acc: float | None,
           real_motion: float) -> dict[str, Any]:
    start, end = curve.points[0]["fvd_ms"], curve.points[-1]["fvd_ms"]
    return {
        "fvd_start": start, "fvd_end": end, "ratio": round(end / start, 4) if start else None,
        "class_accuracy": acc, "steps": steps, "minutes": round(seconds / 60, 2),
        "cpu_minutes": round((curve.points[-1]["cpu_seconds"] - curve.points[0]["cpu_seconds"]) / 60, 2),
        "real_vs_real": round(floor, 4), "real_motion": round(real_motion, 4), "curve": curve.points,
    }


def preset_fingerprint(P: Any) -> str:
    """A short hash of a preset's fields: the committed results name the preset they were made with."""
    return hashlib.sha256(repr(P).encode()).hexdigest()[:16]


def run(family: str, args: argparse.Namespace, net) -> dict[str, Any]:
    module, kind = FAMILIES[family]
    mod = importlib.import_module(module)
    P = apply_settings(mod.PRESETS[args.preset], args.set)
    fingerprint = preset_fingerprint(P)
    if args.micro:
        P = dataclasses.replace(P, synthetic_clips=8, batch=2, passes=1, stats_batch=2)
        if kind != "cascade":
            P = dataclasses.replace(P, steps=2)
    runner = {"video": run_video, "prediction": run_prediction, "cascade": run_cascade}[kind]
    entry = runner(family, P, args, net)
    entry["command"] = command_line(family, args)
    entry["preset"] = f"recipes/{module}.py --preset {args.preset}"
    entry["preset_sha256"] = fingerprint
    entry["threads"] = torch.get_num_threads()
    return entry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", required=True, choices=[*FAMILIES, "all"])
    ap.add_argument("--preset", default="learn", help="recipe preset (default: learn)")
    ap.add_argument("--steps", default=None, help="override the preset's iterations (cascades: '300,400')")
    ap.add_argument("--eval-every", type=int, default=None, help="iterations between scores (default: steps / 8)")
    ap.add_argument("--eval-samples", type=int, default=128, help="clips per set for FVD-MS (default 128)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--micro", action="store_true", help="2 iterations on 8 clips (a smoke test of the script)")
    ap.add_argument("--only-start", action="store_true",
                    help="cascades: only score the untrained cascade and store it as the family's fvd_start (the "
                         "same models and noise as a full run, which computes it first)")
    ap.add_argument("--out", type=Path, default=RESULTS / "learning_curves.json")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "quality",
                    help="where trained cascades are saved for the other experiments (default runs/quality)")
    ap.add_argument("--shapes-net", type=Path, default=None, help="ShapesNet weights (default: the shipped ones)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="change a preset field (g.FIELD: its generator config; levelN.FIELD, levelN.g.FIELD, "
                         "levelN.d.FIELD: a cascade level's), e.g. g.recurrent=conv_gru; needs its own --out")
    ap.add_argument("--augment", default="", metavar="POLICY",
                    help="train with differentiable augmentation (TrainerConfig.augment, e.g. color,translation,cutout);"
                         " results then go to benchmarks/results/quality/augment/ and docs/images/augment_*.png")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    default_out = args.out == RESULTS / "learning_curves.json"
    if args.set and default_out:
        ap.error("--set changes the preset: give the results their own --out")
    if args.augment and default_out:
        args.out = RESULTS / "augment" / "learning_curves.json"
    global IMAGE_PREFIX, IMAGES
    IMAGE_PREFIX = "augment_" if args.augment else ""
    if not default_out and not args.augment:
        IMAGES = args.out.parent  # a variant's samples stay beside its results
    torch.set_num_threads(args.threads)
    global MICRO
    MICRO = args.micro
    if args.micro:
        args.eval_samples, args.steps = min(args.eval_samples, 8), None
    if args.steps is not None and "," not in str(args.steps):
        args.steps = int(args.steps)
    net = load_shapes_net(args.shapes_net)
    families = list(FAMILIES) if args.family == "all" else [args.family]
    if args.only_start:
        families = [f for f in families if FAMILIES[f][1] == "cascade"]
    for family in families:
        ns = argparse.Namespace(**{**vars(args), "eval_every": 10**9 if args.micro else args.eval_every})
        torch.manual_seed(args.seed)
        entry = run(family, ns, net)
        if args.only_start:
            for path, key in ((args.out, family), (args.out.parent / f"curve_{family}.json", None)):
                data = json.loads(path.read_text())
                fam = data["recipes"][key] if key else data
                fam.setdefault("fvd_top_level_before_its_training", fam["fvd_start"])
                fam["fvd_start"] = entry["fvd_start"]
                fam["ratio"] = round(fam["fvd_end"] / entry["fvd_start"], 4)
                if entry["fvd_windows_start"] is not None and "fvd_windows_end" in fam:
                    fam["fvd_windows_start"] = entry["fvd_windows_start"]
                    fam["ratio_windows"] = round(fam["fvd_windows_end"] / entry["fvd_windows_start"], 4)
                path.write_text(json.dumps(data, indent=2))
            continue
        if args.micro:
            print("micro", family, json.dumps({k: v for k, v in entry.items() if k not in ("curve", "levels")}))
            continue
        args.out.parent.mkdir(parents=True, exist_ok=True)
        (args.out.parent / f"curve_{family}.json").write_text(json.dumps(entry, indent=2))
        merged = json.loads(args.out.read_text()) if args.out.exists() else {"recipes": {}}
        merged.setdefault("recipes", {})[family] = {k: v for k, v in entry.items() if k != "curve"}
        merged["feature_network"] = {"weights": "vidgan_blocks/metrics/weights/shapes_net.safetensors",
                                     "sha256": net.weights_sha256}
        merged["eval_samples"] = args.eval_samples
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(merged, indent=2))
        os.replace(tmp, args.out)
        plot_all(args.out.parent)
    return 0


def plot_all(folder: Path) -> None:
    """``learning_curves.png``: FVD-MS over training, relative to its start, one line per family/level."""
    from _plot import line_plot

    series = {}
    for family in FAMILIES:
        f = folder / f"curve_{family}.json"
        if not f.exists():
            continue
        entry = json.loads(f.read_text())
        curves = {f"{family} L{k[-1]}": v["curve"] for k, v in entry["levels"].items()} if "levels" in entry else {
            family: entry["curve"]}
        for name, pts in curves.items():
            start = pts[0]["fvd_ms"]
            c0 = pts[0].get("cpu_seconds", pts[0]["seconds"])
            series[name] = ([(p.get("cpu_seconds", p["seconds"]) - c0) / 60 for p in pts],
                            [p["fvd_ms"] / start for p in pts])
    if series:
        line_plot(series, folder / "learning_curves.png", title="FVD-MS / FVD-MS at the start of training (MovingShapes)",
                  xlabel="process CPU minutes", ylabel="ratio", log_y=True, hline=("1/3 target", 1 / 3))


if __name__ == "__main__":
    raise SystemExit(main())
