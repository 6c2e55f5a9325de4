"""Plumbing shared by the recipe scripts: arguments, presets, data, outputs and the run summary.

Recipes live outside the package; the library never imports this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vidgan_blocks.data import DataWarning, EmptyDatasetError, MovingShapes, VideoFolder
from vidgan_blocks.training import DistributedContext

__all__ = [
    "DictItems",
    "PredictionPreset",
    "PredictionTrainer",
    "RunPreset",
    "Stopwatch",
    "VideoTrainer",
    "add_metric_args",
    "accumulation",
    "apply_overrides",
    "base_parser",
    "CascadePreset",
    "LevelSpec",
    "cascade_main",
    "without_matching",
    "evaluate",
    "export_samples",
    "loss_history",
    "prediction_main",
    "prediction_outputs",
    "prepare_synthetic",
    "real_clips",
    "seed_everything",
    "set_threads",
    "single_run",
    "trainer_config",
    "video_folder",
    "write_summary",
    "shapes_quality",
    "quality_summary",
    "RunDir",
    "open_run_dir",
    "data_counts",
    "finished",
]


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: X)`` to an option's help, except where the default is ``None`` or a switch's
    ``False``: those options say in their own words what happens without them."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _per_preset(presets: Mapping[str, Any], field: str) -> str:
    """``"tiny 60,45; paper 300000,300000"``: a preset field for the help text."""
    def show(v: Any) -> str:
        return ",".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)

    return "; ".join(f"{name} {show(getattr(P, field))}" for name, P in presets.items() if hasattr(P, field))


def base_parser(description: str, presets: Mapping[str, Any], default: str = "tiny") -> argparse.ArgumentParser:
    """Arguments every recipe understands; recipes add their own on the returned parser."""
    p = argparse.ArgumentParser(description=description, formatter_class=_HelpFormatter)
    p.add_argument("--preset", choices=sorted(presets), default=default, help="configuration preset")
    p.add_argument("--data", default=None, help="dataset folder (class folders or a split CSV); "
                   "default: render the built-in synthetic dataset to mp4 files under --out")
    p.add_argument("--split-file", default=None,
                   help="CSV/list selecting the files of --data and naming their classes (default: every file)")
    p.add_argument("--out", default=None, help="output directory (checkpoints, logs, samples, summary.json; "
                   "default: runs/<recipe>); a run of another recipe or configuration there is refused")
    p.add_argument("--unlabeled", action="store_true",
                   help="the videos of --data are not sorted into class folders: use every file under it, "
                        "without labels (unconditional recipes always read data this way)")
    p.add_argument("--no-tensorboard", action="store_true",
                   help="no TensorBoard event files (default: scalars and samples under the logs folders)")
    p.add_argument("--steps", default=None,
                   help="training iterations per level: one number for all or a comma list "
                        f"(default: the preset's: {_per_preset(presets, 'steps')})")
    p.add_argument("--batch-size", type=int, default=None,
                   help="per-rank micro-batch; accumulation keeps the preset's effective batch "
                        f"(default: the preset's: {_per_preset(presets, 'batch')})")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when available, else cpu)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, data order, synthetic data and samples")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default on CPU: this machine's cores, divided among torchrun's local "
                        "processes; $OMP_NUM_THREADS when set)")
    p.add_argument("--fresh", action="store_true", help="do not resume from checkpoints in --out")
    p.add_argument("--workers", type=int, default=0, help="data-loader worker processes")
    p.add_argument("--amp", choices=("none", "bf16", "fp16"), default="none",
                   help="autocast for the G and D forwards (bf16 on CUDA or CPU, fp16 with loss scaling on CUDA)")
    p.add_argument("--compile", action="store_true", help="wrap the G and D forwards in torch.compile")
    p.add_argument("--channels-last", action="store_true",
                   help="channels-last weights and activations (faster convolutions on tensor-core GPUs)")
    p.add_argument("--augment", default="", metavar="POLICY",
                   help="differentiable augmentation of D's real and fake inputs, the same for every frame of a "
                        "clip: a comma-separated subset of color,translation,cutout (default: off; for small "
                        "datasets, docs/quality.md)")
    return p


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunPreset:
    """The optimisation and bookkeeping fields every recipe preset has (keyword-only)."""

    lr_g: float
    lr_d: float
    batch: int
    effective_batch: int | None  # None: batch x world size (tiny presets)
    ema_start: int
    ema_decay: float
    passes: int
    stats_batch: int
    synthetic_clips: int
    num_samples: int
    log_every: int
    checkpoint_every: int
    # clips scored by FVD-MS on the built-in data at the start and the end of a run (summary.json "quality")
    quality_samples: int = 64


def trainer_config(P: RunPreset, args: argparse.Namespace, ctx: DistributedContext, out: Path,
                   **fields: Any) -> TrainerConfig:
    """The TrainerConfig of a run: the preset's batch and intervals, the command line's seed, resume,
    workers and speed options (``--amp``, ``--compile``, ``--channels-last``), plus ``fields``."""
    return TrainerConfig(
        batch_size=P.batch, accumulation=accumulation(P.effective_batch, P.batch, ctx.world_size), seed=args.seed,
        out_dir=str(out), resume="never" if args.fresh else "latest", log_every=P.log_every,
        checkpoint_every=P.checkpoint_every, num_workers=args.workers, progress=ctx.is_main,
        tensorboard=not getattr(args, "no_tensorboard", False),
        amp=args.amp, compile=args.compile, channels_last=args.channels_last,
        augment=getattr(args, "augment", ""), **fields,
    )


def seed_everything(seed: int) -> None:
    """Seed torch's, Python's and NumPy's global generators from the run seed (all three are checkpointed)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def cpu_threads() -> int:
    """CPU cores this process may use, shared among the processes torchrun started on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, cores // max(1, local))


def set_threads(threads: int | None, device: torch.device) -> None:
    """Fix torch's intra-op thread count: ``threads``, or on CPU by default :func:`cpu_threads`
    (the main job runs 1.3x faster on 2 threads than on 1 on an idle 2-core machine); unchanged on
    GPU and when ``OMP_NUM_THREADS`` is set."""
    if threads is not None:
        torch.set_num_threads(max(1, threads))
    elif device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(cpu_threads())


def parse_steps(text: str | None, levels: int) -> list[int] | None:
    """``"20"`` -> ``[20] * levels``; ``"20,10"`` -> ``[20, 10]``; ``None`` -> ``None``."""
    if text is None:
        return None
    parts = [int(s) for s in str(text).split(",") if s.strip()]
    if len(parts) == 1:
        parts = parts * levels
    if len(parts) != levels or any(s < 1 for s in parts):
        raise SystemExit(f"--steps: expected one positive number or {levels} comma-separated ones, got {text!r}")
    return parts


def accumulation(effective_batch: int | None, batch: int, world_size: int) -> int:
    """Micro-batches per step for a preset's effective batch; ``None`` (tiny presets): 1, so the
    effective batch is ``batch x world size`` and any ``torchrun`` world size works."""
    return 1 if effective_batch is None else TrainerConfig.accumulation_for(effective_batch, batch, world_size)


def apply_overrides(preset: Any, **overrides: Any) -> Any:
    """A copy of a frozen preset dataclass with the non-``None`` overrides applied."""
    return dataclasses.replace(preset, **{k: v for k, v in overrides.items() if v is not None})


class DictItems(Dataset):
    """Adapts ``(video, label)`` items to the trainers' ``{"video", "label"}`` dicts.

    ``constant_label`` replaces every clip's label, e.g. with the single dummy class 0
    of a prediction generator (TrIVD-GAN-FP appendix A), whose classes are not the
    dataset's.
    """

    def __init__(self, base: Dataset, constant_label: int | None = None, *, keep: bool = False) -> None:
        self.base = base
        self.constant_label = constant_label
        # keep=True: items are decoded once and kept as uint8 (only for data whose items never change:
        # the built-in clips are exactly one clip long at their native size, so no random start or crop)
        self.keep = keep
        self._kept: dict[int, tuple[torch.Tensor, Any]] = {}

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.keep and i in self._kept:
            pixels, label = self._kept[i]
            video = pixels.float().div_(127.5).sub_(1.0)
        else:
            video, label = self.base[i]
            if self.keep:
                pixels = video.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
                self._kept[i] = (pixels, label)
                video = pixels.float().div_(127.5).sub_(1.0)  # the same values whether kept or not
        if self.constant_label is not None:
            label = self.constant_label
        return {"video": video, "label": torch.as_tensor(label, dtype=torch.long)}


def prepare_synthetic(root: Path, ctx: DistributedContext, *, n: int, frames: int, resolution: int,
                      num_classes: int, seed: int = 0) -> Path:
    """Render :class:`MovingShapes` clips to mp4 class folders once (rank 0), then return the folder.

    ``root/.complete`` records the settings; a folder rendered with other settings (another
    recipe, preset or seed) is rendered again rather than reused.
    """
    done = root / ".complete"
    settings = {"n": n, "frames": frames, "resolution": resolution, "num_classes": num_classes, "seed": seed}
    if ctx.is_main:
        try:
            recorded = json.loads(done.read_text()) if done.exists() else None
        except (OSError, ValueError):
            recorded = {}
        if recorded != settings:
            if root.exists():
                if recorded is not None:
                    print(f"re-rendering the synthetic data in {root}: it was made with {recorded}, "
                          f"this run needs {settings}")
                shutil.rmtree(root)
            MovingShapes(n, frames, resolution, num_classes=num_classes, seed=seed).write_dataset(root, n)
            done.write_text(json.dumps(settings))
    ctx.barrier()
    return root


def video_folder(root: str | Path, *, frames: int, stride: int, resolution: int, seed: int,
                 split_file: str | None = None, cache_dir: Path | None = None,
                 constant_label: int | None = None, labeled: bool = True,
                 run_dir: RunDir | None = None, keep: bool = False) -> DictItems:
    """A training :class:`VideoFolder` as trainer batches (see :class:`DictItems`).

    ``labeled``: classes from class folders (or the split file); ``False`` reads a flat
    folder. Data that cannot be used ends the program with the library's one-line
    reason, worded for the command line (``--unlabeled``, ``--data``), after
    ``run_dir`` takes back the output folder it made.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            base = VideoFolder(root, frames=frames, stride=stride, resolution=resolution, train=True,
                               labeled=labeled, split_file=split_file, seed=seed, cache_dir=cache_dir)
        except (OSError, ValueError, EmptyDatasetError) as err:
            if run_dir is not None:
                run_dir.abandon()
            where = "--split-file" if split_file is not None and "split file" in str(err) else "--data"
            raise SystemExit(f"{where}: {_command_line_words(str(err))}") from None
    for w in caught:  # re-issued in command-line words, still pointing at the line that read the data
        warnings.warn_explicit(_command_line_words(str(w.message)), w.category, w.filename, w.lineno)
    return DictItems(base, constant_label, keep=keep)


def _command_line_words(message: str) -> str:
    """The library's advice to pass ``labeled=False`` becomes the recipes' ``--unlabeled``."""
    return (message.replace("pass labeled=False for unlabelled data",
                            "pass --unlabeled for videos without class folders")
            .replace("pass labeled=False", "pass --unlabeled"))


def data_counts(dataset: Dataset) -> dict[str, int]:
    """``{"used": files read, "skipped": files left out}`` of a recipe dataset (a :class:`DictItems`)."""
    base = getattr(dataset, "base", dataset)
    return {"used": len(getattr(base, "paths", ())), "skipped": int(getattr(base, "skipped", 0))}


def finished(clock: Stopwatch, out: Path, counts: Mapping[str, int], quality: Mapping[str, Any] | None = None) -> str:
    """The last line(s) a recipe prints; with ``quality``, FVD-MS before and after training first."""
    line = (f"done in {clock.total:.0f} s; {counts['used']} videos used, {counts['skipped']} skipped; "
            f"summary: {out / 'summary.json'}")
    if quality:
        start, end = quality.get("start") or {}, quality["end"]
        acc = f", class accuracy {end['class_accuracy']:.0%}" if "class_accuracy" in end else ""
        before = f"{start['fvd_ms']:.2f} untrained -> " if "fvd_ms" in start else ""
        per_level = ""
        if "levels" in end:  # cascades: every level against its own view of the real clips
            parts = []
            for name, e in end["levels"].items():
                s0 = (start.get("levels") or {}).get(name, {})
                parts.append(f"{name} " + (f"{s0['fvd_ms']:.2f} -> " if "fvd_ms" in s0 else "") + f"{e['fvd_ms']:.2f}")
            per_level = " (" + ", ".join(parts) + ")"
        line = (f"FVD-MS on the built-in data (lower is better): {before}{end['fvd_ms']:.2f} trained{acc}"
                f"{per_level}\n{line}")
    return line


RUN_FILE = "run.json"
# Options that may change between the sessions of one run (how long, where, how fast, what to report).
_SESSION_OPTIONS = frozenset({"out", "steps", "levels", "fresh", "device", "threads", "workers", "amp", "compile",
                              "channels_last", "batch_size", "i3d_weights", "eval_samples", "no_tensorboard"})


@dataclasses.dataclass
class RunDir:
    """The ``--out`` folder of a run; ``run.json`` in it names the recipe and configuration that own it."""

    path: Path
    created: bool  # this process made the folder
    claimed: bool  # this process wrote run.json

    def abandon(self) -> None:
        """Undo :func:`open_run_dir` after a failure before anything was trained."""
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)
        elif self.claimed:
            (self.path / RUN_FILE).unlink(missing_ok=True)


def open_run_dir(args: argparse.Namespace, recipe: str, ctx: DistributedContext) -> RunDir:
    """Resolve ``--out`` (default ``runs/<recipe>``), refuse a folder holding another run, claim it.

    A folder belongs to another run when its ``run.json`` (or, for folders from before
    ``run.json``, its ``summary.json``) names another recipe, or another configuration
    (preset, data, seed, model options; not the per-session options such as ``--steps``)
    without ``--fresh``. ``--fresh`` starts the configuration over: checkpoints are not
    resumed and the timings of earlier sessions are dropped. A ``--data`` or
    ``--split-file`` that does not exist ends the program before any folder is made.
    """
    for flag, value in (("--data", args.data), ("--split-file", args.split_file)):
        if value is not None and not Path(value).exists():
            raise SystemExit(f"{flag}: {str(value)!r} does not exist")
    out = Path(args.out) if args.out is not None else Path("runs") / recipe
    config = {k: v for k, v in sorted(vars(args).items()) if k not in _SESSION_OPTIONS}
    record = {"recipe": recipe, "config": config}
    run_file = out / RUN_FILE
    previous = None
    try:
        if run_file.exists():
            previous = json.loads(run_file.read_text())
        elif (out / "summary.json").exists():
            previous = {"recipe": json.loads((out / "summary.json").read_text()).get("recipe")}
    except (OSError, ValueError):
        previous = None
    if previous is not None:
        if previous.get("recipe") != recipe:
            raise SystemExit(f"--out {str(out)!r} holds a run of {previous.get('recipe')!r}, not {recipe!r}; "
                             f"choose another --out (the default for this recipe is runs/{recipe})")
        if "config" in previous and previous["config"] != config and not args.fresh:
            changed = ", ".join(sorted("--" + k.replace("_", "-") for k in set(config) | set(previous["config"])
                                       if config.get(k) != previous["config"].get(k)))
            raise SystemExit(f"--out {str(out)!r} holds a {recipe} run with other settings ({changed}); "
                             "choose another --out, or pass --fresh to start this configuration over there")
    created = not out.exists()
    ctx.barrier()  # every rank has looked before rank 0 makes the folder
    out.mkdir(parents=True, exist_ok=True)
    claimed = False
    if ctx.is_main:
        if args.fresh:
            (out / "summary.json").unlink(missing_ok=True)
        if previous != record:
            claimed = previous is None
            run_file.write_text(json.dumps(record, indent=2))
    return RunDir(out, created, claimed)


class Stopwatch:
    """Wall-clock sections of a run, for the summary."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.sections: dict[str, float] = {}

    def lap(self, name: str, since: float) -> float:
        dt = time.perf_counter() - since
        self.sections[name] = round(self.sections.get(name, 0.0) + dt, 3)
        return dt

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)


def _plain(x: Any) -> Any:
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(x).items()}
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, torch.Tensor):
        return x.tolist()
    return x


def write_summary(out: Path, summary: Mapping[str, Any]) -> Path:
    """Write ``out/summary.json`` atomically.

    When a summary of the same recipe is already there (a resumed run), its timings
    are kept: ``seconds.total`` and the training sections add up over the sessions
    (``sessions`` counts them); the other sections are this session's.
    """
    path = out / "summary.json"
    tmp = out / "summary.json.tmp"
    summary = dict(summary)
    try:
        previous = json.loads(path.read_text()) if path.exists() else None
    except (OSError, ValueError):
        previous = None
    if previous and previous.get("recipe") == summary.get("recipe") and "seconds" in summary:
        seconds = dict(summary["seconds"])
        for k, v in previous.get("seconds", {}).items():
            if k == "total" or k.startswith("train"):
                seconds[k] = round(float(v) + float(seconds.get(k, 0.0)), 3)
        summary["seconds"] = seconds
        summary["sessions"] = int(previous.get("sessions", 1)) + 1
    tmp.write_text(json.dumps(_plain(summary), indent=2, sort_keys=False))
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------- trainers

from vidgan_blocks.data import frames_grid, save_video  # noqa: E402
from vidgan_blocks.ops import spatial_upsample, temporal_repeat  # noqa: E402
from vidgan_blocks.recurrent.motion import combine_flows, expected_flow, flow_to_rgb  # noqa: E402
from vidgan_blocks.training import (  # noqa: E402
    EMAMixin,
    FrameConditionalMixin,
    GANTrainer,
    StandingStatsMixin,
    TrainerConfig,
)
from vidgan_blocks.training import MetricLogger  # noqa: E402


class VideoTrainer(EMAMixin, StandingStatsMixin, GANTrainer):
    """Video synthesis (DVD-GAN A.3): EMA of G's weights and standing per-frame BN statistics."""


class PredictionTrainer(EMAMixin, StandingStatsMixin, FrameConditionalMixin, GANTrainer):
    """Video prediction (DVD-GAN-FP A.4, TrIVD-GAN-FP E.2): G continues the first ``cond_frames`` frames.

    ``d_labels=False`` keeps labels away from an unconditional D while G still takes
    one (TrIVD-GAN-FP's G has a single dummy class whose embedding is a constant).
    """

    def __init__(self, *args: Any, d_labels: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.d_labels = bool(d_labels)

    def discriminate(self, view: dict[str, torch.Tensor]) -> Any:
        if not self.d_labels:
            view = {k: v for k, v in view.items() if k != "label"}
        return super().discriminate(view)


# ---------------------------------------------------------------------------- metrics

_NO_WEIGHTS = ("metrics skipped: no I3D weight file was given (--i3d-weights or $VIDGAN_I3D_WEIGHTS); "
               "score the saved samples later with vidgan-eval: one mp4 per sample is in OUT/samples, e.g. "
               "`vidgan-eval --real DATA --fake OUT/samples --i3d-weights i3d_pretrained_400.pt` "
               "(tiled grids are in OUT/grids; docs/metrics.md says where the weight file comes from)")


def add_metric_args(p: argparse.ArgumentParser) -> None:
    """``--i3d-weights`` and ``--eval-samples``: the metrics run at the end only with a weight file."""
    p.add_argument("--i3d-weights", default=os.environ.get("VIDGAN_I3D_WEIGHTS"),
                   help="local I3D weight file (default: $VIDGAN_I3D_WEIGHTS); FVD / I3D FID / I3D IS are "
                        "computed only when given, otherwise score OUT/samples later with vidgan-eval")
    p.add_argument("--eval-samples", type=int, default=None, help="videos per set for the metrics (default: the preset's)")


def real_clips(dataset: Dataset, n: int) -> torch.Tensor:
    """The first ``n`` clips of a recipe dataset (wrapping around), ``(n, 3, T, H, W)``."""
    return torch.stack([dataset[i % len(dataset)]["video"] for i in range(n)])  # type: ignore[arg-type]


def evaluate(weights: str | None, real: torch.Tensor, fake: torch.Tensor, device: torch.device,
             metrics: tuple[str, ...] = ("fvd", "fid", "is")) -> dict[str, Any]:
    """FVD, I3D FID and I3D IS of ``fake`` against ``real``, or a note when no weights were given."""
    if not weights:
        return {"note": _NO_WEIGHTS}
    from vidgan_blocks.metrics import evaluate_videos, load_i3d

    i3d = load_i3d(weights, device=device)
    scores = evaluate_videos(real.to(device), fake.to(device), i3d=i3d, metrics=metrics, batch_size=8)
    return {"weights": str(weights), "num_videos": int(fake.shape[0]), **{k: v.to_dict() for k, v in scores.items()}}


def shapes_quality(real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None = None, *,
                   net: Any = None, patterns_only: bool = False) -> dict[str, Any]:
    """FVD-MS of ``fake`` against ``real`` (and class accuracy on ``labels``) with the shipped ShapesNet.

    Only meaningful on the built-in MovingShapes data, which is what the recipes score
    it on (runs without ``--data``); see docs/quality.md. ``patterns_only`` scores the
    motion pattern (``"pattern_accuracy"``) instead of the class.
    """
    from vidgan_blocks.metrics import class_accuracy, fvd_ms, load_shapes_net, shapes_features

    net = net if net is not None else load_shapes_net()
    r, f = shapes_features(real.float().cpu(), net), shapes_features(fake.float().cpu(), net)
    out: dict[str, Any] = {"fvd_ms": round(fvd_ms(r, f), 4), "real_clips": len(real), "fake_clips": len(fake)}
    if labels is not None:
        key = "pattern_accuracy" if patterns_only else "class_accuracy"
        out[key] = round(class_accuracy(f, labels.cpu(), net, patterns_only=patterns_only), 4)
    return out


def cascade_quality(cascade: Any, real: torch.Tensor, outs: list[torch.Tensor],
                    labels: torch.Tensor | None) -> dict[str, Any]:
    """FVD-MS of the top level (the cascade's output), plus every level against its own view of the real clips.

    Lower levels see every ``f_t``-th frame, so their class accuracy scores the motion pattern only.
    """
    from vidgan_blocks.metrics import load_shapes_net

    net = load_shapes_net()
    levels = {}
    for l, out in enumerate(outs, start=1):
        levels[f"level{l}"] = shapes_quality(cascade.view(real.to(out.device), l).cpu(), out, labels, net=net,
                                             patterns_only=l < len(outs))
    return {**levels[f"level{len(outs)}"], "levels": levels}


def quality_summary(start: Mapping[str, Any] | None, end: Mapping[str, Any], previous: Path | None) -> dict[str, Any]:
    """The summary's ``quality`` entry; a resumed run keeps the start figures of the run it continues."""
    if start is None and previous is not None and previous.exists():
        try:
            start = json.loads(previous.read_text()).get("quality", {}).get("start")
        except (OSError, ValueError):
            start = None
    from vidgan_blocks.metrics import file_sha256
    from vidgan_blocks.metrics.shapes_net import SHAPES_NET_WEIGHTS

    return {"network": "shapes_net", "weights_sha256": file_sha256(SHAPES_NET_WEIGHTS), "start": start, "end": dict(end),
            "note": "FVD-MS: Frechet distance on ShapesNet features (built-in MovingShapes data only; lower is "
                    "better). start: the untrained models; end: after training"}


def export_samples(videos: torch.Tensor, folder: Path, *, fps: float = 8) -> list[Path]:
    """Write one mp4 per video, ``sample_0000.mp4``, ``sample_0001.mp4``, ... into ``folder``.

    This is the folder ``vidgan-eval --fake`` scores; tiled grids go elsewhere so
    that it does not read them as clips. Files of an earlier export that this one
    does not overwrite (a run with more samples) are removed.

    Shape:
        - videos: ``(N, 3, T, H, W)`` in [-1, 1]
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"sample_{i:04d}.mp4" for i in range(videos.shape[0])]
    for old in set(folder.glob("sample_*.mp4")) - set(written):
        old.unlink()
    for video, path in zip(videos, written):
        save_video(video, path, fps=fps)
    return written


def loss_history(result: Mapping[str, Any]) -> dict[str, float]:
    """The last logged losses of a trainer summary."""
    return {k: v for k, v in result["counters"]["history"].items() if k.startswith("loss/")}


# ---------------------------------------------------------------------------- prediction outputs


def _separator(like: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(like[:, :, :1])  # one white frame


@torch.no_grad()
def _prediction(generator: torch.nn.Module, clips: torch.Tensor, cond_frames: int, seed: int, *, motion: bool):
    dev = next(generator.parameters()).device
    clips = clips.to(dev)
    cond = clips[:, :, :cond_frames]
    n = clips.shape[0]
    gen = torch.Generator(device=dev).manual_seed(seed)
    z = torch.randn(n, int(generator.z_dim), generator=gen, device=dev)
    y = None if generator.num_classes is None else torch.zeros(n, dtype=torch.long, device=dev)
    was_training = generator.training
    generator.eval()
    try:
        out = generator(z, y, cond_frames=cond, frames=clips.shape[2] - cond_frames, return_motion=motion)
    finally:
        generator.train(was_training)
    pred, kernels = out if motion else (out, [])
    return pred.float().clamp(-1, 1), kernels


def predict(generator: torch.nn.Module, clips: torch.Tensor, cond_frames: int, *, seed: int = 0) -> torch.Tensor:
    """The first ``cond_frames`` of each clip followed by the generator's continuation, ``(N, 3, T, H, W)``."""
    pred, _ = _prediction(generator, clips, cond_frames, seed, motion=False)
    return torch.cat([clips[:, :, :cond_frames].to(pred.device), pred], dim=2)


@torch.no_grad()
def prediction_outputs(generator: torch.nn.Module, clips: torch.Tensor, cond_frames: int, folder: Path, *,
                       seed: int = 0) -> tuple[torch.Tensor, list[Path]]:
    """Predict the continuation of real clips and draw it next to the truth.

    Writes ``prediction.png`` (one row per clip: conditioning frames | prediction |
    ground truth, split by white frames) and, when G's recurrent units predict
    warping kernels (TSRU, PTSRU, K-TrajGRU), ``motion_fields.png``: per clip a row
    of predicted frames above the flow of every step as colours (TrIVD-GAN-FP
    section 4 and Figure 3: expected kernel displacements, combined coarse to fine).

    Returns:
        ``(conditioning ++ prediction, written files)``.

    Shape:
        - clips: ``(N, 3, C + T, H, W)``; output video ``(N, 3, C + T, H, W)``
    """
    dev = next(generator.parameters()).device
    clips = clips.to(dev)
    cond, truth = clips[:, :, :cond_frames], clips[:, :, cond_frames:]
    pred, kernels = _prediction(generator, clips, cond_frames, seed, motion=True)
    folder.mkdir(parents=True, exist_ok=True)
    sep = _separator(cond)
    written = [folder / "prediction.png"]
    frames_grid(torch.cat([cond, sep, pred, sep, truth], dim=2).cpu(), written[0])
    if kernels:
        flow = combine_flows([expected_flow(k.float()) for k in kernels])  # [N, 2, T, h, w], finest unit
        rgb = flow_to_rgb(flow)
        factor = pred.shape[-1] // rgb.shape[-1]
        if factor > 1:
            rgb = spatial_upsample(rgb, factor)
        rows = torch.stack([pred, rgb], 1).flatten(0, 1)  # [2N, 3, T, H, W]: prediction, flow, ...
        written.append(folder / "motion_fields.png")
        frames_grid(rows.cpu(), written[-1])
    return torch.cat([cond, pred], dim=2), written


# ---------------------------------------------------------------------------- one generator, one D


def single_run(
    *,
    recipe: str,
    args: argparse.Namespace,
    ctx: Any,
    out: Path,
    clock: Stopwatch,
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    dataset: Dataset,
    config: TrainerConfig,
    ema_decay: float,
    ema_start: int,
    passes: int,
    stats_batch: int,
    num_samples: int,
    quality_samples: int = 64,
    cond_frames: int | None = None,
    model_config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    trainer_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Train one G against one (multi-)D, then write samples, metrics and ``summary.json``.

    ``cond_frames`` switches to video prediction (:class:`PredictionTrainer`,
    prediction and motion-field PNGs). Every rank calls this; rank 0 writes.
    Returns the summary on rank 0.
    """
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = dict(ema_decay=ema_decay, ema_start=ema_start, standing_passes=passes, **(trainer_kwargs or {}))
    cls: type[GANTrainer] = VideoTrainer
    if cond_frames is not None:
        cls, kwargs["cond_frames"] = PredictionTrainer, cond_frames
    trainer = cls(generator, discriminator, dataset, config, context=ctx, model_config=dict(model_config or {}),
                  **kwargs)
    summary = None
    builtin = args.data is None
    n_quality = quality_samples

    def quality_now(*, standing: bool = True) -> dict[str, Any]:
        """FVD-MS of the evaluation generator against real clips of the built-in data (``standing``:
        re-estimate its statistics first; the end of the run has just done so)."""
        if standing:
            trainer.standing_stats(batch_size=stats_batch)
        g = trainer.eval_model()
        real = real_clips(dataset, n_quality)
        if cond_frames is not None:
            return shapes_quality(real, predict(g, real, cond_frames, seed=args.seed + 1))
        classes = None if not trainer.conditional else torch.arange(n_quality) % int(trainer.G.num_classes)
        gen = torch.Generator(device=trainer.device).manual_seed(args.seed + 1)
        chunks = []
        for idx in torch.arange(n_quality).split(64):
            labels = None if classes is None else classes[idx].to(trainer.device)
            chunks.append(trainer.sample(len(idx), model=g, generator=gen, labels=labels).cpu())
        fake = torch.cat(chunks)
        score_labels = classes if classes is not None and int(trainer.G.num_classes) > 1 else None
        return shapes_quality(real, fake, score_labels)

    try:
        quality_start = None
        fresh = args.fresh or not any((out / "checkpoints").glob("step_*"))
        if builtin and fresh:
            t0q = time.perf_counter()
            quality_start = quality_now() if ctx.is_main else None  # rank 0 only: no collective in there
            clock.lap("quality_start", t0q)
            t0 = time.perf_counter()
        result = trainer.fit()
        clock.lap("train", t0)
        t0 = time.perf_counter()
        trainer.standing_stats(batch_size=stats_batch)  # every rank: the passes may reduce across ranks
        if ctx.is_main:
            samples, grids = out / "samples", out / "grids"
            g = trainer.eval_model()
            n_eval = args.eval_samples or num_samples
            real = real_clips(dataset, max(num_samples, n_eval))
            files: list[Path] = []
            if cond_frames is not None:
                fake, files = prediction_outputs(g, real, cond_frames, grids, seed=args.seed)
            else:
                total = max(num_samples, n_eval)
                fake = torch.cat([trainer.sample(min(num_samples, total - i), model=g,
                                                 generator=torch.Generator(device=trainer.device).manual_seed(args.seed + i))
                                  for i in range(0, total, num_samples)])
            fake = fake.cpu()
            export_samples(fake, samples)  # one mp4 per sample, for vidgan-eval --fake
            save_video(fake[:num_samples], grids / "samples.mp4")  # the first ones tiled
            frames_grid(fake[:num_samples], grids / "samples.png")
            clock.lap("sampling", t0)
            t0 = time.perf_counter()
            metrics = evaluate(getattr(args, "i3d_weights", None), real[:n_eval], fake[:n_eval], trainer.device)
            quality = quality_summary(quality_start, quality_now(standing=False), out / "summary.json") if builtin else None
            clock.lap("metrics", t0)
            trainer.logger.videos("samples", fake[:num_samples], result["step"])  # TensorBoard, unless turned off
            summary = {
                "recipe": recipe,
                "preset": args.preset,
                "data": str(args.data or out / "synthetic"),
                "steps": result["step"],
                "losses": loss_history(result),
                "seconds": {"total": clock.total, **clock.sections},
                "metrics": metrics,
                "quality": quality,
                "data_files": data_counts(dataset),
                **dict(extra or {}),
                "files": {
                    "checkpoints": str(out / "checkpoints"),
                    "logs": str(out / "logs"),
                    "samples": sorted(str(p) for p in samples.iterdir()),
                    "grids": sorted(str(p) for p in grids.iterdir()),
                },
            }
            write_summary(out, summary)
            print(finished(clock, out, data_counts(dataset), quality))
    finally:
        trainer.close()
    ctx.barrier()
    return summary


# ---------------------------------------------------------------------------- video prediction recipes


@dataclasses.dataclass(frozen=True, kw_only=True)
class PredictionPreset(RunPreset):
    """A video-prediction setup: ``g.cond_frames`` given frames, ``g.frames`` predicted ones."""

    g: Any  # FramePredictionConfig
    d: Any  # DiscriminatorConfig (frame conditioning on)
    resolution: int
    stride: int
    ortho_reg: float
    steps: int


def prediction_main(argv: Any, presets: Mapping[str, PredictionPreset], *, recipe: str, description: str,
                    studies: bool = False) -> dict[str, Any] | None:
    """Parse arguments, build the data and models of a prediction preset, train, write outputs.

    With ``studies``, ``--decomposition`` picks any named discriminator decomposition
    (TrIVD-GAN-FP Table 1) and ``--unit`` any recurrent unit (Table 2).
    """
    from vidgan_blocks.discriminators import DECOMPOSITIONS
    from vidgan_blocks.generators import RECURRENT_UNIT_NAMES, build_generator
    from vidgan_blocks.training import init_distributed

    parser = base_parser(description, presets)
    if studies:
        parser.add_argument("--decomposition", choices=sorted(DECOMPOSITIONS), default=None,
                            help="discriminator decomposition (TrIVD-GAN-FP Table 1); default: the preset's")
        parser.add_argument("--unit", choices=RECURRENT_UNIT_NAMES, default=None,
                            help="recurrent unit of G (TrIVD-GAN-FP Table 2); default: the preset's")
    add_metric_args(parser)
    args = parser.parse_args(argv)
    ctx = init_distributed(args.device)
    set_threads(args.threads, ctx.device)
    seed_everything(args.seed)
    P = apply_overrides(presets[args.preset], batch=args.batch_size)
    if studies:
        P = dataclasses.replace(P, g=apply_overrides(P.g, recurrent=args.unit),
                                d=apply_overrides(P.d, decomposition=args.decomposition))
    steps = (parse_steps(args.steps, 1) or [P.steps])[0]
    run_dir = open_run_dir(args, recipe, ctx)
    out = run_dir.path
    clock = Stopwatch()

    t0 = time.perf_counter()
    frames = P.g.cond_frames + P.g.frames
    data_root = args.data or prepare_synthetic(
        out / "synthetic", ctx, n=P.synthetic_clips, frames=frames * P.stride, resolution=P.resolution,
        num_classes=6, seed=args.seed,
    )
    # A single-class prediction G (TrIVD-GAN-FP, DVD-GAN-FP) knows one dummy class, not the dataset's classes,
    # so it reads any folder of videos; so does every prediction G with --unlabeled.
    constant = 0 if P.g.num_classes == 1 or args.unlabeled else None
    dataset = video_folder(data_root, frames=frames, stride=P.stride, resolution=P.resolution, seed=args.seed,
                           split_file=args.split_file, cache_dir=out / "index", constant_label=constant,
                           labeled=constant is None, run_dir=run_dir,
                           keep=args.data is None)  # built-in clips: decoded once
    clock.lap("data", t0)

    G = build_generator(P.g)
    D = P.d.build()
    config = trainer_config(P, args, ctx, out, lr_g=P.lr_g, lr_d=P.lr_d, ortho_reg=P.ortho_reg, max_steps=steps)
    return single_run(
        recipe=recipe, args=args, ctx=ctx, out=out, clock=clock, generator=G, discriminator=D, dataset=dataset,
        config=config, ema_decay=P.ema_decay, ema_start=P.ema_start, passes=P.passes, stats_batch=P.stats_batch,
        num_samples=P.num_samples, quality_samples=P.quality_samples, cond_frames=P.g.cond_frames, trainer_kwargs={"d_labels": P.d.num_classes is not None},
        model_config={"generator": P.g.to_dict(), "discriminator": P.d.to_dict()},
        extra={"video": {"cond_frames": P.g.cond_frames, "predicted_frames": P.g.frames, "resolution": P.resolution,
                         "stride": P.stride},
               "models": {"recurrent": P.g.recurrent, "decomposition": P.d.decomposition, "g_ch": P.g.ch,
                          "d_ch": P.d.ch}},
    )


# ---------------------------------------------------------------------------- cascades (CVG, SSW-GAN)


@dataclasses.dataclass(frozen=True)
class LevelSpec:
    """One cascade level: G and D configs, ``(f_t, f_s)`` to the level below, f_s filter, training window.

    ``mode`` is the f_s filter of the views: ``"bilinear"`` (CVG section 3) or
    ``"nearest"`` (SSW-GAN section 3.1); a matching discriminator must use the same.
    ``window_context``: low-resolution frames of context G gets on each side of a fake
    training window (:class:`~vidgan_blocks.cascade.Level`; 0, the papers' setup,
    leaves it out of the repr, so the fingerprints of presets without it stay as they were).
    """

    g: Any  # CascadeFirstLevelConfig (level 1) or UpsamplingGeneratorConfig
    d: Any  # DiscriminatorConfig
    factors: tuple[int, int] = (1, 1)
    window: int | None = None
    mode: str = "bilinear"
    window_context: int = dataclasses.field(default=0, repr=False)

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        extra = f", window_context={self.window_context!r}" if self.window_context else ""
        return f"{type(self).__name__}({fields}{extra})"

    def view_factors(self) -> Any:
        """The level's :class:`~vidgan_blocks.data.ViewFactors` (how the view below is made from this one)."""
        from vidgan_blocks.data import ViewFactors

        return ViewFactors(*self.factors, self.mode)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CascadePreset(RunPreset):
    """A cascade setup. ``frames``/``stride``/``resolution``: the top level's view of the data."""

    levels: tuple[LevelSpec, ...]
    frames: int
    stride: int
    resolution: int
    num_classes: int | None
    steps: tuple[int, ...]
    long_frames: int  # length of grids/unrolled_long.mp4; longer than the top level's samples
    # HVG / SSW-GAN appendix A: no moving average of the weights; an int keeps one from that step
    ema_start: int | None = None


def without_matching(P: CascadePreset) -> CascadePreset:
    """The ablation of SSW-GAN Table 2 / CVG Table 3: upsampling levels keep D_S + D_T only."""
    levels = tuple(dataclasses.replace(lv, d=dataclasses.replace(lv.d, decomposition="dvd_gan"))
                   if lv.d.decomposition == "cascade_level" else lv for lv in P.levels)
    return dataclasses.replace(P, levels=levels)


def build_cascade(P: CascadePreset, num_classes: int | None) -> Any:
    """The untrained :class:`~vidgan_blocks.cascade.Cascade` of a preset for ``num_classes`` classes
    (``None``: unconditional), every level with the preset's learning rates and two D steps."""
    from vidgan_blocks.cascade import Cascade, Level, LevelOptim
    from vidgan_blocks.generators import build_generator

    optim = LevelOptim(lr_g=P.lr_g, lr_d=P.lr_d, n_dis=2)
    levels = []
    for i, spec in enumerate(P.levels):
        g_cfg = dataclasses.replace(spec.g, num_classes=num_classes)
        d_cfg = dataclasses.replace(spec.d, num_classes=num_classes)
        # factors of level l make level l-1's view from level l's: stored on the upper level
        levels.append(Level(build_generator(g_cfg), d_cfg.build(), factors=spec.view_factors() if i else None,
                            window=spec.window, window_context=spec.window_context, optim=optim, discriminator_config=d_cfg))
    return Cascade(levels)


def cascade_main(argv: Any, presets: Mapping[str, CascadePreset], *, recipe: str, description: str,
                 matching_flag: bool = False) -> dict[str, Any] | None:
    """Train a cascade level by level, then sample it unrolled and streamed, score it and write the summary.

    With ``matching_flag``, ``--no-matching`` drops the matching discriminator of the
    upsampling levels (SSW-GAN Table 2).
    """
    from vidgan_blocks.cascade import Cascade
    from vidgan_blocks.training import init_distributed

    parser = base_parser(description, presets)
    parser.add_argument("--levels", default=None, help="levels to train, in order (e.g. 2,3 once level 1 is done)")
    if matching_flag:
        parser.add_argument("--no-matching", action="store_true", help="ablation: no matching discriminator")
    parser.add_argument("--ema-start", type=int, default=None,
                        help="keep an EMA of G's weights from this step (off in the papers' cascades)")
    add_metric_args(parser)
    args = parser.parse_args(argv)
    ctx = init_distributed(args.device)
    set_threads(args.threads, ctx.device)
    seed_everything(args.seed)
    P = apply_overrides(presets[args.preset], batch=args.batch_size, ema_start=args.ema_start)
    if getattr(args, "no_matching", False):
        P = without_matching(P)
    L = len(P.levels)
    steps = parse_steps(args.steps, L) or list(P.steps)
    levels_to_train = sorted({int(s) for s in (args.levels or ",".join(map(str, range(1, L + 1)))).split(",") if s.strip()})
    run_dir = open_run_dir(args, recipe, ctx)
    out = run_dir.path
    clock = Stopwatch()

    t0 = time.perf_counter()
    data_root = args.data or prepare_synthetic(
        out / "synthetic", ctx, n=P.synthetic_clips, frames=P.frames * P.stride, resolution=P.resolution,
        num_classes=P.num_classes or 6, seed=args.seed,
    )
    labeled = P.num_classes is not None and not args.unlabeled  # unconditional cascades read any folder of videos
    dataset = video_folder(data_root, frames=P.frames, stride=P.stride, resolution=P.resolution, seed=args.seed,
                           split_file=args.split_file, cache_dir=out / "index", labeled=labeled, run_dir=run_dir,
                           keep=args.data is None)  # built-in clips: decoded once
    num_classes = None if not labeled else (len(dataset.base.classes) if args.data else P.num_classes)
    clock.lap("data", t0)

    cascade = build_cascade(P, num_classes)
    if (out / "cascade.json").exists():  # levels finished earlier (resume, or --levels 2 after --levels 1)
        done = Cascade.load(out, device=ctx.device)
        for mine, theirs in zip(cascade, done):
            if theirs.frozen:
                mine.freeze(theirs.sampler)

    # FVD-MS on the built-in data: the untrained cascade first (a fresh run), the trained one at the end
    builtin = args.data is None
    n_quality = P.quality_samples
    quality_classes = None if num_classes is None else torch.arange(n_quality) % num_classes
    quality_start = None
    if builtin and ctx.is_main and not any(lv.frozen for lv in cascade):
        t0 = time.perf_counter()
        for lv in cascade:
            lv.freeze()
        try:
            fresh = cascade.generate(n_quality, quality_classes, passes=P.passes, stats_batch=P.stats_batch,
                                     seed=args.seed + 1, return_levels=True)
            quality_start = cascade_quality(cascade, real_clips(dataset, n_quality), fresh, quality_classes)
        finally:
            for lv in cascade:
                lv.unfreeze()
        clock.lap("quality_start", t0)
    ctx.barrier()

    train_cfg = trainer_config(P, args, ctx, out)  # learning rates: LevelOptim below
    results = {}
    for l in levels_to_train:
        t0 = time.perf_counter()
        results[f"level{l}"] = cascade.train_level(
            l, dataset, dataclasses.replace(train_cfg, max_steps=steps[l - 1]), passes=P.passes,
            stats_batch=P.stats_batch, ema_decay=P.ema_decay, ema_start=P.ema_start, context=ctx,
        )
        clock.lap(f"train_level{l}", t0)

    summary = None
    if ctx.is_main and all(lv.frozen for lv in cascade):
        t0 = time.perf_counter()
        samples, grids = out / "samples", out / "grids"
        n_eval = args.eval_samples or P.num_samples
        outs = cascade.generate(max(P.num_samples, n_eval), passes=P.passes, stats_batch=P.stats_batch,
                                seed=args.seed, return_levels=True)
        outs = [o.cpu() for o in outs]
        top = outs[-1]
        export_samples(top, samples)  # one mp4 per top-level sample, for vidgan-eval --fake
        for l, video in enumerate(outs, start=1):
            save_video(video[: P.num_samples], grids / f"level{l}.mp4")  # the first samples tiled
        for l in range(1, L):
            low, high = outs[l - 1][: P.num_samples], outs[l][: P.num_samples]
            # the lower level enlarged and each frame shown f_t times, in the row above its upsampling
            low_big = temporal_repeat(spatial_upsample(low, high.shape[-1] // low.shape[-1]), high.shape[2] // low.shape[2])
            pairs = torch.stack([low_big, high], 1).flatten(0, 1)  # [2N, 3, T, H, W]
            frames_grid(pairs, grids / f"level{l}_vs_level{l + 1}.png")
            if l == L - 1:
                for i in range(min(2, P.num_samples)):
                    frames_grid(pairs[2 * i: 2 * i + 2], grids / f"pair{i}.png")
        # P.long_frames: longer than the top level's samples (level 1 runs beyond its training length)
        written = cascade.generate_stream(min(4, P.num_samples), frames=P.long_frames,
                                          path=grids / "unrolled_long.mp4", passes=P.passes,
                                          stats_batch=P.stats_batch, seed=args.seed)
        clock.lap("sampling", t0)
        t0 = time.perf_counter()
        real = real_clips(dataset, n_eval)
        metrics = evaluate(getattr(args, "i3d_weights", None), real, top[:n_eval], torch.device(ctx.device))
        quality = None
        if builtin:
            fake = cascade.generate(n_quality, quality_classes, passes=P.passes, stats_batch=P.stats_batch,
                                    seed=args.seed + 1, return_levels=True)
            quality = quality_summary(quality_start, cascade_quality(cascade, real_clips(dataset, n_quality), fake,
                                                                     quality_classes), out / "summary.json")
        clock.lap("metrics", t0)
        if not args.no_tensorboard:  # each level's samples beside its training curves
            for l, (lv, video) in enumerate(zip(cascade, outs), start=1):
                log = MetricLogger(out / str(lv.name) / "logs")
                log.videos("samples", video[: P.num_samples], steps[l - 1])
                log.close()
        top_spec = P.levels[-1]
        summary = {
            "recipe": recipe,
            "preset": args.preset,
            "data": str(data_root),
            "matching": not getattr(args, "no_matching", False),
            "steps": {name: r["step"] for name, r in results.items()},
            "losses": {name: loss_history(r) for name, r in results.items()},
            "seconds": {"total": clock.total, **clock.sections},
            "metrics": metrics,
            "quality": quality,
            "data_files": data_counts(dataset),
            "levels": [{"frames": int(o.shape[2]), "resolution": int(o.shape[-1])} for o in outs],
            "window": {f"level{L}_train_frames": (top_spec.window * top_spec.factors[0]) if top_spec.window else None,
                       "unrolled_frames": written},
            "files": {
                "cascade": str(out / "cascade.json"),
                "checkpoints": {lv.name: str(out / lv.name / "checkpoints") for lv in cascade},
                "logs": {lv.name: str(out / lv.name / "logs") for lv in cascade},
                "samples": sorted(str(p) for p in samples.iterdir()),
                "grids": sorted(str(p) for p in grids.iterdir()),
            },
        }
        write_summary(out, summary)
        print(finished(clock, out, data_counts(dataset), quality))
    ctx.barrier()
    return summary
