"""Why the video generators stay still at small scale: probes of the ``learn`` presets.

Samples of DVD-GAN (and of the cascades' upper levels) become near-still videos during
training on MovingShapes, and FVD-MS reads still videos as far from the data (a real
first frame repeated scores 33). The probes separate the discriminator's side from
the generator's:

* ``--probe d``: a fresh discriminator (D_S + D_T, DVD-GAN 3.1) trained with the
  hinge loss on real clips against the *same* clips frozen at their first frame.
  Only motion tells them apart, so D_S (single frames) cannot, and D_T's score gap
  (real minus still) says how fast the temporal discriminator learns to ask for
  motion at all.
* ``--probe class``: the same discriminator trained on real clips with their label
  against the same clips under another class's label. The classes differ only in how
  the sprites move, so the score gap says how soon D can give a class-conditional G
  any signal about its class (class accuracy stays at chance in every run); ``--tint``
  is the control in which the class also shows as a brightness offset in every frame.
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
* ``--probe level2``: why it does not. A fresh level 2: first how much its output
  changes when the batch's low-resolution inputs are shifted by one sample against
  when its noises are; then the same generator regressed (MSE) onto real windows
  from their real level-1 views, once with the noise it is trained with and once
  with z = 0, scored on held-out windows against two baselines (the input upsampled,
  each clip's mean colour).
* ``--probe level2_gan [--drop spatial|temporal|matching]``: level 2 trained as in
  the recipe but on real level-1 views instead of samples (so imperfect inputs
  play no part), with discriminator members removed, to see which one takes the
  motion out; ``--recurrent conv_gru`` trains the ConvGRU upsampler of SSW-GAN /
  HVG appendix C instead of the separable 3D blocks.
* ``--probe md``: the matching discriminator alone, on real pairs against pairs whose
  high-resolution window is another clip's or frozen at its first frame: how soon
  it can ask for the right content, and for the right motion.

    python benchmarks/quality/motion_probe.py --probe d
    python benchmarks/quality/motion_probe.py --probe class [--tint]
    python benchmarks/quality/motion_probe.py --probe g
    python benchmarks/quality/motion_probe.py --probe g --recurrent mconv_gru
    python benchmarks/quality/motion_probe.py --probe cascade
    python benchmarks/quality/motion_probe.py --probe level2
    python benchmarks/quality/motion_probe.py --probe level2_gan --drop matching
    python benchmarks/quality/motion_probe.py --probe level2_gan --recurrent conv_gru
    python benchmarks/quality/motion_probe.py --probe md
    python benchmarks/quality/motion_probe.py --probe d --micro   # 2-step smoke run, writes nothing

Writes ``benchmarks/results/quality/motion_probe.json`` (one entry per probe, recurrent unit, family
and set of dropped members).
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
from vidgan_blocks.ops import gather_windows  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "quality"


def probe_d(P: Any, steps: int, every: int, seed: int, negative: str = "still", tint: bool = False) -> dict[str, Any]:
    """D (the preset's D_S + D_T) trained on real clips against a negative made from the same clips.

    ``negative="still"``: the clips frozen at frame 0 (only motion differs);
    ``negative="class"``: the clips themselves under another class's label (only the
    label differs, and a clip's class shows only in how its sprites move).
    ``tint``: a control for ``"class"``; every clip is brightened by an offset of its
    class (-0.5 to 0.5), so that the class also shows in every frame.
    """
    torch.manual_seed(seed)
    _, D, _ = dvd_gan_kinetics.build_models(P, P.num_classes)
    data = ShapesItems(512, P.g.frames, P.resolution, P.num_classes, seed)
    opt = torch.optim.Adam(D.parameters(), P.lr_d, betas=(0.0, 0.999))
    gen = torch.Generator().manual_seed(seed)
    points, t0 = [], time.process_time()
    tag = "d" if negative == "still" else "class"
    offsets = torch.linspace(-0.5, 0.5, P.num_classes)
    held = ShapesItems(96, P.g.frames, P.resolution, P.num_classes, seed + 1000) if negative == "class" else None
    if held is not None and tint:
        tinted = (held.videos() + offsets[held.labels].view(-1, 1, 1, 1, 1)).clamp(-1, 1)
        held.clips = ((tinted + 1) * 127.5).round().to(torch.uint8)
    held_clips = held.videos() if held is not None else None  # decoded once, scored at every point
    for step in range(steps + 1):
        idx = torch.randint(len(data), (P.batch,), generator=gen)
        real = data.clips[idx].float() / 127.5 - 1
        y = data.labels[idx]
        if tint:
            real = (real + offsets[y].view(-1, 1, 1, 1, 1)).clamp(-1, 1)
        if negative == "still":
            out_real, out_neg = D(real, y), D(real[:, :, :1].expand_as(real).contiguous(), y)
        else:  # every wrong label equally likely
            wrong = (y + torch.randint(1, P.num_classes, y.shape, generator=gen)) % P.num_classes
            out_real, out_neg = D(real, y), D(real, wrong)
        loss = d_hinge_loss(out_real, out_neg)
        if step % every == 0 or step == steps:
            gaps = {k: round(float((out_real[k] - out_neg[k]).detach().mean()), 4) for k in out_real}
            point = {"step": step, "cpu_seconds": round(time.process_time() - t0, 1),
                     "loss": round(float(loss.detach()), 4), "score_gap": gaps}
            extra = ""
            if held is not None:
                point["held_out_accuracy"] = label_accuracy(D, held_clips, held.labels, P.num_classes)
                extra = f"  held-out accuracy of D as a classifier: {point['held_out_accuracy']}"
            points.append(point)
            print(f"[{tag}] step {step:4d}  loss {float(loss.detach()):6.3f}  real - {negative}: {gaps}{extra}",
                  flush=True)
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    what = {"still": "D_S + D_T trained on real clips vs the same clips frozen at frame 0 (hinge loss, lr_d, batch)",
            "class": "D_S + D_T trained on real clips with their label vs the same clips with another class's label "
                     "(hinge loss, lr_d, batch)"}[negative]
    if tint:
        what += "; control: every clip brightened by an offset of its class (-0.5 to 0.5)"
    return {"what": what, "steps": steps, "lr": P.lr_d, "batch": P.batch, "tint": tint, "curve": points}


def label_accuracy(D: torch.nn.Module, clips: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict[str, float]:
    """Per member of a class-conditional D: how often its score is highest under a clip's own label.

    Every label is scored with the same random draws (D_S's frame choice) and in eval
    mode (no spectral-norm power iteration), so only the label differs between the calls.
    """
    scores: dict[str, list[torch.Tensor]] = {}
    mode = D.training
    D.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng():
            for c in range(num_classes):
                torch.manual_seed(0)
                for k, v in D(clips, torch.full_like(labels, c)).items():
                    scores.setdefault(k, []).append(v)
    finally:
        D.train(mode)
    return {k: round(float((torch.stack(v, 1).argmax(1) == labels).float().mean()), 4) for k, v in scores.items()}


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
    from vidgan_blocks.metrics.shapes_net import load_shapes_net

    P = importlib.import_module(FAMILIES[family][0]).PRESETS["learn"]
    if not (runs / family / "cascade.json").exists():
        raise SystemExit(f"{runs / family} holds no saved cascade: run "
                         f"python benchmarks/quality/learning_curves.py --family {family} first")
    trained = Cascade.load(runs / family)
    torch.manual_seed(seed)
    fresh = Cascade([trained[1], *build_cascade(P, P.num_classes).levels[1:]])
    for lv in fresh:
        lv.freeze()
    real = _strided_clips(P, samples, EVAL_SEED).videos()
    net = load_shapes_net()
    labels = torch.arange(samples) % P.num_classes
    out: dict[str, Any] = {"real": {"top": round(motion(real), 4), "level1_view": round(motion(trained.view(real, 1)), 4)}}
    for name, c in (("trained", trained), ("fresh_level2", fresh)):
        low, *_, high = c.generate(samples, labels, seed=seed + 321, passes=passes or P.passes,
                                   stats_batch=min(P.stats_batch, samples), return_levels=True)
        back = c.view(high, 1)
        out[name] = {"level1": round(motion(low), 4), "top": round(motion(high), 4),
                     "top_view_at_level1": round(motion(back), 4),
                     "grounding_error": round(float((back - low).abs().mean()), 4),
                     **_segments(c, P, net, real, low, high, labels, seed, passes or P.passes)}
        print(f"[cascade {family} {name}] motion: level 1 {out[name]['level1']:.4f}  top {out[name]['top']:.4f}  "
              f"top seen at level 1 {out[name]['top_view_at_level1']:.4f}  (real {out['real']})", flush=True)
        for k in ("unrolled", "tiled"):
            print(f"    {k:8s} per window-long segment: motion {out[name][k]['motion']}  FVD-MS {out[name][k]['fvd_ms']}",
                  flush=True)
    return {"what": "motion (std over time) through the levels of the saved learn cascade; a fresh level 2 on the "
                    "same frozen level 1 for comparison; per level-2-window segment of the output, unrolled as "
                    "generation runs it and tiled (each window upsampled on its own, as in training)",
            "family": family, "samples": samples, **out}


def _segments(c, P: Any, net, real: torch.Tensor, low: torch.Tensor, high: torch.Tensor, labels: torch.Tensor,
              seed: int, passes: int) -> dict[str, Any]:
    """Motion and FVD-MS per segment of the top level's training window, for the unrolled output ``high``
    and for the same level-1 samples upsampled window by window (the setup the level is trained in)."""
    from unrolling import segment_fvd

    from vidgan_blocks.ops import temporal_windows

    top = c[len(c)]
    w, f = top.window, top.factors.temporal
    seg = w * f
    g = top.sampler
    # per-time-step statistics at the window length, on random windows of fresh level-1 samples
    c.generate_windows(2, seed=seed + 5, passes=passes, stats_batch=min(P.stats_batch, len(labels)))
    z = torch.randn(len(labels), int(g.z_dim), generator=torch.Generator().manual_seed(seed + 6))
    with torch.no_grad():
        tiled = torch.cat([g(z, labels, low_res=low[:, :, s : s + w]) for s in temporal_windows(low.shape[2], w)], 2)
    out: dict[str, Any] = {"segment_frames": seg}
    for name, v in (("unrolled", high), ("tiled", tiled)):
        out[name] = {"motion": [round(motion(v[:, :, s : s + seg]), 4) for s in range(0, v.shape[2] - seg + 1, seg)],
                     "fvd_ms": segment_fvd(net, real, v, seg)}
    return out


def _strided_clips(P: Any, n: int, seed: int) -> ShapesItems:
    """``n`` MovingShapes clips as the cascade preset ``P`` sees them (every ``P.stride``-th frame)."""
    items = ShapesItems(n, P.frames * P.stride, P.resolution, P.num_classes, seed)
    items.clips = items.clips[:, :, :: P.stride]
    return items


def _level2_setup(family: str, seed: int, clips: int | None = None, recurrent: str | None = None):
    """A fresh cascade of the family's learn preset and real top-level training clips (default: the preset's count).

    ``recurrent`` names a recurrent unit that replaces level 2's separable 3D blocks
    (the ConvGRU upsampler of SSW-GAN / HVG appendix C).
    """
    import importlib

    from _common import build_cascade
    from learning_curves import apply_settings

    P = importlib.import_module(FAMILIES[family][0]).PRESETS["learn"]
    if recurrent:
        P = apply_settings(P, [f"level2.g.recurrent={recurrent}"])
    torch.manual_seed(seed)
    cascade = build_cascade(P, P.num_classes)
    return P, cascade, _strided_clips(P, clips or P.synthetic_clips, seed)


def _windows(cascade, videos: torch.Tensor, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(high, low) windows of level 2 from top-level clips: ``window`` low frames from each start."""
    lv = cascade[2]
    w, f = lv.window, lv.factors.temporal
    return gather_windows(videos, starts * f, w * f), gather_windows(cascade.view(videos, 1), starts, w)


def _sensitivity(G, z: torch.Tensor, y, low: torch.Tensor) -> dict[str, float]:
    """Mean change of G's output when the batch's low-res inputs, or its noises, are shifted by one sample."""
    with torch.no_grad():
        base = G(z, y, low_res=low)
        by_low = G(z, y, low_res=low.roll(1, 0))
        by_z = G(z.roll(1, 0), y, low_res=low)
    return {"output_change_from_low_res": round(float((base - by_low).abs().mean()), 4),
            "output_change_from_z": round(float((base - by_z).abs().mean()), 4)}


def probe_level2(family: str, steps: int, every: int, seed: int, lr: float) -> dict[str, Any]:
    """A fresh level 2 regressed (MSE) onto real windows from their real level-1 views, with and without noise."""
    import copy

    P, cascade, data = _level2_setup(family, seed, 512)
    G0 = cascade[2].generator
    lv = cascade[2]
    held = _strided_clips(P, 64, EVAL_SEED)
    ev_gen = torch.Generator().manual_seed(EVAL_SEED)
    n_low = held.clips.shape[2] // lv.factors.temporal
    ev_hi, ev_lo = _windows(cascade, held.videos(), torch.randint(n_low - lv.window + 1, (64,), generator=ev_gen))
    ev_y = held.labels if G0.num_classes else None
    ev_z = torch.randn(64, G0.z_dim, generator=ev_gen)
    up = torch.nn.functional.interpolate(ev_lo.transpose(1, 2).flatten(0, 1), scale_factor=lv.factors.spatial,
                                         mode="bilinear").unflatten(0, (64, lv.window)).transpose(1, 2)
    up = up.repeat_interleave(lv.factors.temporal, dim=2)
    baselines = {"upsampled_input_mse": round(float((up - ev_hi).pow(2).mean()), 5),
                 "per_clip_mean_colour_mse": round(float((ev_hi - ev_hi.mean((2, 3, 4), keepdim=True)).pow(2).mean()), 5),
                 "real_motion": round(motion(ev_hi), 4)}
    G0.train()
    sens = _sensitivity(copy.deepcopy(G0), ev_z, ev_y, ev_lo)
    print(f"[level2 {family}] at initialisation: {sens}; baselines {baselines}", flush=True)
    fits = {}
    for name, z_scale in (("z_normal", 1.0), ("z_zero", 0.0)):
        G = copy.deepcopy(G0).train()
        opt = torch.optim.Adam(G.parameters(), lr, betas=(0.0, 0.999))
        gen = torch.Generator().manual_seed(seed)
        points, t0 = [], time.process_time()
        for step in range(steps + 1):
            if step % every == 0 or step == steps:
                with torch.no_grad():  # batch statistics of the 64 held-out windows, on a copy
                    out = copy.deepcopy(G)(ev_z * z_scale, ev_y, low_res=ev_lo)
                p = {"step": step, "cpu_seconds": round(time.process_time() - t0, 1),
                     "mse": round(float((out - ev_hi).pow(2).mean()), 5),
                     "grounding_error": round(float((cascade.view(out, 1) - ev_lo).abs().mean()), 4),
                     "motion": round(motion(out), 4)}
                points.append(p)
                print(f"[level2 {family} {name}] step {step:4d}  mse {p['mse']:.4f}  grounding {p['grounding_error']:.4f}"
                      f"  motion {p['motion']:.4f}", flush=True)
            if step == steps:
                break
            idx = torch.randint(len(data), (P.batch,), generator=gen)
            hi, lo = _windows(cascade, data.clips[idx].float() / 127.5 - 1,
                              torch.randint(n_low - lv.window + 1, (P.batch,), generator=gen))
            z = torch.randn(P.batch, G.z_dim, generator=gen) * z_scale
            loss = (G(z, data.labels[idx] if G.num_classes else None, low_res=lo) - hi).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        fits[name] = {"z_scale": z_scale, "curve": points}
    return {"what": "a fresh level 2 of the learn preset regressed (MSE, Adam betas (0, 0.999)) onto real windows "
                    "from their real level-1 views; held-out windows scored with batch statistics",
            "family": family, "steps": steps, "lr": lr, "batch": P.batch, "at_initialisation": sens,
            "baselines_on_held_out_windows": baselines, "fits": fits}


def probe_level2_gan(family: str, steps: int, every: int, seed: int, drop: list[str],
                     recurrent: str | None = None) -> dict[str, Any]:
    """Level 2 trained as a GAN on real level-1 views (not samples), with some D members removed."""
    import copy

    from learning_curves import _config

    from vidgan_blocks.generators.base import reset_frame_stats

    P, cascade, data = _level2_setup(family, seed, recurrent=recurrent)
    lv1, lv2 = cascade[1], cascade[2]
    names = lv2.discriminator.names()
    for name in drop:
        if name not in names:
            raise SystemExit(f"--drop {name}: level 2's discriminator has members {names}")
        del lv2.discriminator.discriminators[name]
    lv1.freeze()
    by_label = [torch.nonzero(data.labels == k).flatten() for k in range(P.num_classes)]

    def real_lower(l, n, labels, gen):  # teacher forcing: level 1's real views, of the requested classes
        idx = torch.stack([by_label[int(y)][torch.randint(len(by_label[int(y)]), (), generator=gen, device="cpu")]
                           for y in labels])
        return cascade.view(data.clips[idx].float() / 127.5 - 1, 1)

    cascade.sample_lower = real_lower
    held = _strided_clips(P, 64, EVAL_SEED)
    ev_lo, ev_y = cascade.view(held.videos(), 1), held.labels
    ev_z = torch.randn(64, lv2.generator.z_dim, generator=torch.Generator().manual_seed(EVAL_SEED))
    tr = cascade.make_trainer(2, data, _config(P, argparse.Namespace(seed=seed, augment=""), steps),
                              standing_passes=P.passes)
    points, t0 = [], time.process_time()

    def evaluate():
        with torch.no_grad():  # the whole held-out clips (convolutional in time), batch statistics, on a copy
            frames = ev_lo.shape[2] * lv2.factors.temporal
            out = reset_frame_stats(copy.deepcopy(tr.G).train(), frames)(ev_z, ev_y, low_res=ev_lo)
        back = cascade.view(out, 1)
        p = {"step": tr.step, "cpu_seconds": round(time.process_time() - t0, 1), "motion": round(motion(out), 4),
             "motion_seen_at_level1": round(motion(back), 4),
             "grounding_error": round(float((back - ev_lo).abs().mean()), 4)}
        points.append(p)
        print(f"[level2 gan {family} without {'+'.join(drop) or 'nothing'}] step {p['step']:4d}  motion {p['motion']:.4f}  "
              f"seen at level 1 {p['motion_seen_at_level1']:.4f}  grounding {p['grounding_error']:.4f}", flush=True)

    evaluate()
    try:
        while tr.step < steps:
            tr.train_step()
            if tr.step % every == 0 or tr.step == steps:
                evaluate()
    finally:
        tr.close()
    return {"what": "level 2 of the learn preset trained (GAN, the preset's settings) on real level-1 views instead "
                    "of level-1 samples; held-out real clips' views upsampled, batch statistics",
            "family": family, "steps": steps, "dropped": drop, "level2_recurrent": recurrent, "members": [n for n in names if n not in drop],
            "input_motion": round(motion(ev_lo), 4), "real_motion": round(motion(held.videos()), 4), "curve": points}


def probe_md(family: str, steps: int, every: int, seed: int) -> dict[str, Any]:
    """Level 2's matching discriminator alone: real pairs against pairs of the wrong clip or without motion."""
    import copy

    P, cascade, data = _level2_setup(family, seed, 512)
    lv = cascade[2]
    n_low = data.clips.shape[2] // lv.factors.temporal
    md0 = lv.discriminator["matching"]
    out: dict[str, Any] = {}
    for kind in ("other_clip", "still"):
        md = copy.deepcopy(md0)
        opt = torch.optim.Adam(md.parameters(), lv.optim.lr_d, betas=lv.optim.betas)
        gen = torch.Generator().manual_seed(seed)
        points, t0 = [], time.process_time()
        for step in range(steps + 1):
            idx = torch.randint(len(data), (P.batch,), generator=gen)
            hi, lo = _windows(cascade, data.clips[idx].float() / 127.5 - 1,
                              torch.randint(n_low - lv.window + 1, (P.batch,), generator=gen))
            # the wrong high-resolution window: another clip's, or this one frozen at its first frame
            wrong = hi.roll(1, 0) if kind == "other_clip" else hi[:, :, :1].expand_as(hi).contiguous()
            y = data.labels[idx] if P.num_classes else None
            s_real, s_wrong = md(hi, y, low_res=lo), md(wrong, y, low_res=lo)
            loss = d_hinge_loss(s_real, s_wrong)
            if step % every == 0 or step == steps:
                gap = round(float((s_real - s_wrong).detach().mean()), 4)
                points.append({"step": step, "cpu_seconds": round(time.process_time() - t0, 1),
                               "loss": round(float(loss.detach()), 4), "score_gap": gap})
                print(f"[md {family} vs {kind}] step {step:4d}  loss {float(loss.detach()):6.3f}  real - wrong {gap:7.3f}",
                      flush=True)
            if step == steps:
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        out[kind] = points
    return {"what": "level 2's matching discriminator alone (hinge loss, the level's lr_d and betas) on real "
                    "(window, its level-1 view) pairs against pairs whose high-resolution window is another clip's "
                    "(other_clip) or frozen at its first frame (still)",
            "family": family, "steps": steps, "window": lv.window, "lr": lv.optim.lr_d, "batch": P.batch,
            "curves": out}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", required=True, choices=("d", "class", "g", "cascade", "level2", "level2_gan", "md"))
    ap.add_argument("--family", default="cvg", choices=("cvg", "ssw_gan"),
                    help="probes cascade, level2, level2_gan, md: which cascade preset")
    ap.add_argument("--drop", action="append", default=[], choices=("spatial", "temporal", "matching"),
                    help="probe level2_gan: a discriminator member to remove (repeatable)")
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "quality", help="probe cascade: where it was saved")
    ap.add_argument("--recurrent", default=None,
                    help="probe g: G's recurrent unit (default: the preset's, conv_gru); probe level2_gan: a unit "
                         "replacing level 2's 3D blocks (SSW-GAN / HVG appendix C), default none")
    ap.add_argument("--steps", type=int, default=None, help="default: d, g, level2, md 300; level2_gan 200")
    ap.add_argument("--every", type=int, default=None, help="default: d, g, md 25; level2 50; level2_gan 100")
    ap.add_argument("--d-ch", type=int, default=None,
                    help="probes d, class: D's base width (default: the preset's, 8)")
    ap.add_argument("--tint", action="store_true",
                    help="probe class: a control in which each class also brightens its clips by its own offset")
    ap.add_argument("--lr", type=float, default=1e-3, help="probes g, level2: Adam learning rate")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--micro", action="store_true", help="2 steps, nothing written (a smoke test)")
    ap.add_argument("--out", type=Path, default=RESULTS / "motion_probe.json")
    return ap


def result_key(args: argparse.Namespace) -> str:
    """The key of a run's entry in motion_probe.json."""
    if args.probe in ("d", "class", "cascade", "level2", "md"):
        width = f"_dch{args.d_ch}" if args.d_ch else ""
        if args.probe == "class":
            return ("class_tinted" if args.tint else "class") + width
        return args.probe + width if args.probe == "d" else f"{args.probe}_{args.family}"
    if args.probe == "level2_gan":
        unit = f"_{args.recurrent}" if args.recurrent else ""
        return f"level2_gan{unit}_{args.family}_without_{'+'.join(args.drop) or 'nothing'}"
    return f"g_{args.recurrent or dvd_gan_kinetics.PRESETS['learn'].g.recurrent}"


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    P = dvd_gan_kinetics.PRESETS["learn"]
    if args.recurrent:
        P = dataclasses.replace(P, g=dataclasses.replace(P.g, recurrent=args.recurrent))
    if args.drop and args.probe != "level2_gan":
        ap.error("--drop applies to --probe level2_gan only")
    if args.tint and args.probe != "class":
        ap.error("--tint applies to --probe class only")
    if args.d_ch is not None and args.probe not in ("d", "class"):
        ap.error("--d-ch applies to --probes d and class only")
    if args.d_ch is not None:
        P = dataclasses.replace(P, d_ch=args.d_ch)
    if args.recurrent and args.probe not in ("g", "level2_gan"):
        ap.error("--recurrent applies to --probes g and level2_gan only")
    steps = 2 if args.micro else (args.steps or (200 if args.probe == "level2_gan" else 300))
    every = 1 if args.micro else (args.every or {"level2": 50, "level2_gan": 100}.get(args.probe, 25))
    if args.probe == "md":
        entry = probe_md(args.family, steps, every, args.seed)
    elif args.probe == "level2":
        entry = probe_level2(args.family, steps, every, args.seed, args.lr)
    elif args.probe == "level2_gan":
        entry = probe_level2_gan(args.family, steps, every, args.seed, args.drop, args.recurrent)
    elif args.probe == "cascade":
        entry = probe_cascade(args.family, args.runs, 4 if args.micro else 128, args.seed, 1 if args.micro else None)
    elif args.probe in ("d", "class"):
        entry = probe_d(P, steps, every, args.seed, "still" if args.probe == "d" else "class", args.tint)
    else:
        entry = probe_g(P, steps, every, args.seed, args.lr)
    key = result_key(args)
    parts = ["python benchmarks/quality/motion_probe.py", f"--probe {args.probe}"]
    if args.probe in ("cascade", "level2", "level2_gan", "md"):
        parts.append(f"--family {args.family}")
    parts += [f"--drop {name}" for name in args.drop]
    if args.tint:
        parts.append("--tint")
    if args.d_ch:
        parts.append(f"--d-ch {args.d_ch}")
    if args.recurrent:
        parts.append(f"--recurrent {args.recurrent}")
    if args.steps:
        parts.append(f"--steps {args.steps}")
    if args.every:
        parts.append(f"--every {args.every}")
    if args.lr != 1e-3:
        parts.append(f"--lr {args.lr}")
    preset = f"recipes/{args.family}_kinetics.py --preset learn" if args.probe not in ("d", "class", "g") else \
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
