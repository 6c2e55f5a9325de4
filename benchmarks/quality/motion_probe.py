"""Why the video generators stay still at small scale: two probes of DVD-GAN's ``learn`` preset.

Samples of DVD-GAN (and of the cascades' upper levels) become near-still videos during
training on MovingShapes, and FVD-MS reads still videos as far from the data (a real
first frame repeated scores 33). Two probes separate the discriminator's side from
the generator's:

* ``--probe d``: a fresh discriminator (D_S + D_T, DVD-GAN 3.1) trained with the
  hinge loss on real clips against the *same* clips frozen at their first frame.
  Only motion tells them apart, so D_S (single frames) cannot, and D_T's score gap
  (real minus still) says how fast the temporal discriminator learns to ask for
  motion at all.
* ``--probe g``: the generator fitted by regression (mean squared error, Adam) to 16
  real clips from 16 fixed latents. Its motion (standard deviation over time, per
  pixel, averaged) against the clips' says how fast G can produce motion when it is
  told exactly what to draw; ``--recurrent mconv_gru`` compares DVD-GAN's
  multiplicative ConvGRU with the plain one the preset uses.
* ``--probe cascade``: the trained CVG (or ``--family ssw_gan``) cascade that
  ``learning_curves.py`` saved under ``runs/quality/``: the motion of level 1's
  samples, of level 2's output and of its view brought back to level 1's shape,
  against the same for real clips and for a fresh (untrained) level 2 on the same
  level-1 samples. It says whether the upper level passes its input's motion on.

    python benchmarks/quality/motion_probe.py --probe d
    python benchmarks/quality/motion_probe.py --probe g
    python benchmarks/quality/motion_probe.py --probe g --recurrent mconv_gru
    python benchmarks/quality/motion_probe.py --probe cascade
    python benchmarks/quality/motion_probe.py --probe d --micro   # 2-step smoke run, writes nothing

Writes ``benchmarks/results/quality/motion_probe.json`` (one entry per probe and recurrent unit).
"""

from __future__ import annotations

import argparse
import dataclasses
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

import dvd_gan_kinetics  # noqa: E402
from learning_curves import EVAL_SEED, FAMILIES, ShapesItems, motion  # noqa: E402
from vidgan_blocks.losses import d_hinge_loss  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "quality"


def probe_d(P: Any, steps: int, every: int, seed: int) -> dict[str, Any]:
    """D (the preset's D_S + D_T) trained on real clips against the same clips frozen at frame 0."""
    torch.manual_seed(seed)
    _, D, _ = dvd_gan_kinetics.build_models(P, P.num_classes)
    data = ShapesItems(512, P.g.frames, P.resolution, P.num_classes, seed)
    opt = torch.optim.Adam(D.parameters(), P.lr_d, betas=(0.0, 0.999))
    gen = torch.Generator().manual_seed(seed)
    points, t0 = [], time.process_time()
    for step in range(steps + 1):
        idx = torch.randint(len(data), (P.batch,), generator=gen)
        real = data.clips[idx].float() / 127.5 - 1
        still = real[:, :, :1].expand_as(real).contiguous()
        y = data.labels[idx]
        out_real, out_still = D(real, y), D(still, y)
        loss = d_hinge_loss(out_real, out_still)
        if step % every == 0 or step == steps:
            gaps = {k: round(float(out_real[k].mean() - out_still[k].mean()), 4) for k in out_real}
            points.append({"step": step, "cpu_seconds": round(time.process_time() - t0, 1),
                           "loss": round(float(loss.detach()), 4), "score_gap": gaps})
            print(f"[d] step {step:4d}  loss {float(loss.detach()):6.3f}  real - still: {gaps}", flush=True)
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {"what": "D_S + D_T trained on real clips vs the same clips frozen at frame 0 (hinge loss, lr_d, batch)",
            "steps": steps, "lr": P.lr_d, "batch": P.batch, "curve": points}


def probe_g(P: Any, steps: int, every: int, seed: int, lr: float) -> dict[str, Any]:
    """G regressed onto 16 real clips from 16 fixed latents: how fast does its motion approach theirs?"""
    torch.manual_seed(seed)
    G, _, _ = dvd_gan_kinetics.build_models(P, P.num_classes)
    data = ShapesItems(16, P.g.frames, P.resolution, P.num_classes, seed)
    clips, labels = data.videos(), data.labels
    z = torch.randn(len(clips), G.z_dim, generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.Adam(G.parameters(), lr, betas=(0.0, 0.999))
    target_motion = motion(clips)
    points, t0 = [], time.process_time()
    for step in range(steps + 1):
        out = G(z, labels)
        loss = ((out - clips) ** 2).mean()
        if step % every == 0 or step == steps:
            diff = ((out[:, :, 1:] - out[:, :, :-1]) - (clips[:, :, 1:] - clips[:, :, :-1])).pow(2).mean()
            p = {"step": step, "cpu_seconds": round(time.process_time() - t0, 1), "mse": round(float(loss.detach()), 5),
                 "frame_difference_mse": round(float(diff), 5), "motion": round(motion(out.detach()), 4)}
            points.append(p)
            print(f"[g {P.g.recurrent}] step {step:4d}  mse {p['mse']:.4f}  frame-difference mse "
                  f"{p['frame_difference_mse']:.4f}  motion {p['motion']:.4f} (data {target_motion:.4f})", flush=True)
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {"what": "G fitted by MSE to 16 real clips from fixed latents (Adam, betas (0, 0.999))", "steps": steps,
            "lr": lr, "recurrent": P.g.recurrent, "data_motion": round(target_motion, 4), "curve": points}


def probe_cascade(family: str, runs: Path, samples: int, seed: int, passes: int | None = None) -> dict[str, Any]:
    """Motion through the levels of a trained cascade, and through a fresh level 2 on the same level 1."""
    import importlib

    from _common import build_cascade

    from vidgan_blocks.cascade import Cascade

    P = importlib.import_module(FAMILIES[family][0]).PRESETS["learn"]
    if not (runs / family / "cascade.json").exists():
        raise SystemExit(f"{runs / family} holds no saved cascade: run "
                         f"python benchmarks/quality/learning_curves.py --family {family} first")
    trained = Cascade.load(runs / family)
    torch.manual_seed(seed)
    fresh = Cascade([trained[1], *build_cascade(P, P.num_classes).levels[1:]])
    for lv in fresh:
        lv.freeze()
    real = ShapesItems(samples, P.frames * P.stride, P.resolution, P.num_classes, EVAL_SEED).videos()[:, :, :: P.stride]
    labels = torch.arange(samples) % P.num_classes
    out: dict[str, Any] = {"real": {"top": round(motion(real), 4), "level1_view": round(motion(trained.view(real, 1)), 4)}}
    for name, c in (("trained", trained), ("fresh_level2", fresh)):
        low, *_, high = c.generate(samples, labels, seed=seed + 321, passes=passes or P.passes,
                                   stats_batch=min(P.stats_batch, samples), return_levels=True)
        back = c.view(high, 1)
        out[name] = {"level1": round(motion(low), 4), "top": round(motion(high), 4),
                     "top_view_at_level1": round(motion(back), 4),
                     "grounding_error": round(float((back - low).abs().mean()), 4)}
        print(f"[cascade {family} {name}] motion: level 1 {out[name]['level1']:.4f}  top {out[name]['top']:.4f}  "
              f"top seen at level 1 {out[name]['top_view_at_level1']:.4f}  (real {out['real']})", flush=True)
    return {"what": "motion (std over time) through the levels of the saved learn cascade; a fresh level 2 on the "
                    "same frozen level 1 for comparison", "family": family, "samples": samples, **out}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", required=True, choices=("d", "g", "cascade"))
    ap.add_argument("--family", default="cvg", choices=("cvg", "ssw_gan"), help="probe cascade: which saved cascade")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "quality", help="probe cascade: where it was saved")
    ap.add_argument("--recurrent", default=None, help="G's recurrent unit (default: the preset's, conv_gru)")
    ap.add_argument("--steps", type=int, default=None, help="default: d 300, g 300")
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--lr", type=float, default=1e-3, help="probe g: Adam learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--micro", action="store_true", help="2 steps, nothing written (a smoke test)")
    ap.add_argument("--out", type=Path, default=RESULTS / "motion_probe.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    P = dvd_gan_kinetics.PRESETS["learn"]
    if args.recurrent:
        P = dataclasses.replace(P, g=dataclasses.replace(P.g, recurrent=args.recurrent))
    steps = 2 if args.micro else (args.steps or 300)
    every = 1 if args.micro else args.every
    if args.probe == "cascade":
        entry = probe_cascade(args.family, args.runs, 4 if args.micro else 64, args.seed, 1 if args.micro else None)
        key = f"cascade_{args.family}"
    elif args.probe == "d":
        entry, key = probe_d(P, steps, every, args.seed), "d"
    else:
        entry, key = probe_g(P, steps, every, args.seed, args.lr), f"g_{P.g.recurrent}"
    parts = ["python benchmarks/quality/motion_probe.py", f"--probe {args.probe}"]
    if args.probe == "cascade":
        parts.append(f"--family {args.family}")
    if args.recurrent:
        parts.append(f"--recurrent {args.recurrent}")
    if args.steps:
        parts.append(f"--steps {args.steps}")
    preset = f"recipes/{args.family}_kinetics.py --preset learn" if args.probe == "cascade" else \
        "recipes/dvd_gan_kinetics.py --preset learn"
    entry.update(command=" ".join(parts), preset=preset,
                 threads=torch.get_num_threads())
    if args.micro:
        print("micro", json.dumps({k: v for k, v in entry.items() if k != "curve"}))
        return 0
    merged = json.loads(args.out.read_text()) if args.out.exists() else {}
    merged[key] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=2))
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
