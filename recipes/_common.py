"""Plumbing shared by the recipe scripts: arguments, presets, data, outputs and the run summary.

Recipes live outside the package; the library never imports this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from vidgan_blocks.data import MovingShapes, VideoFolder
from vidgan_blocks.training import DistributedContext

__all__ = [
    "DictItems",
    "Stopwatch",
    "apply_overrides",
    "base_parser",
    "prepare_synthetic",
    "set_threads",
    "video_folder",
    "write_summary",
]


def base_parser(description: str, presets: Mapping[str, Any], default: str = "tiny") -> argparse.ArgumentParser:
    """Arguments every recipe understands; recipes add their own on the returned parser."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", choices=sorted(presets), default=default, help="configuration preset")
    p.add_argument("--data", default=None, help="dataset folder (class folders or a split CSV); "
                   "default: render the built-in synthetic dataset to mp4 files under --out")
    p.add_argument("--split-file", default=None, help="CSV/list selecting the files of --data and naming their classes")
    p.add_argument("--out", default="runs/out", help="output directory (checkpoints, logs, samples, summary.json)")
    p.add_argument("--steps", default=None, help="training iterations per level: one number for all or a comma list")
    p.add_argument("--batch-size", type=int, default=None, help="per-rank micro-batch (accumulation keeps the preset's effective batch)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default 1 on CPU: small models gain nothing from more on a busy machine)")
    p.add_argument("--fresh", action="store_true", help="do not resume from checkpoints in --out")
    p.add_argument("--workers", type=int, default=0, help="data-loader worker processes")
    return p


def set_threads(threads: int | None, device: torch.device) -> None:
    """Fix torch's intra-op thread count (default 1 on CPU, unchanged on GPU)."""
    if threads is not None:
        torch.set_num_threads(max(1, threads))
    elif device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


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


def apply_overrides(preset: Any, **overrides: Any) -> Any:
    """A copy of a frozen preset dataclass with the non-``None`` overrides applied."""
    return dataclasses.replace(preset, **{k: v for k, v in overrides.items() if v is not None})


class DictItems(Dataset):
    """Adapts ``(video, label)`` items to the trainers' ``{"video", "label"}`` dicts."""

    def __init__(self, base: Dataset) -> None:
        self.base = base

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        video, label = self.base[i]
        return {"video": video, "label": torch.as_tensor(label, dtype=torch.long)}


def prepare_synthetic(root: Path, ctx: DistributedContext, *, n: int, frames: int, resolution: int,
                      num_classes: int, seed: int = 0) -> Path:
    """Render :class:`MovingShapes` clips to mp4 class folders once (rank 0), then return the folder."""
    done = root / ".complete"
    if ctx.is_main and not done.exists():
        MovingShapes(n, frames, resolution, num_classes=num_classes, seed=seed).write_dataset(root, n)
        done.write_text(json.dumps({"n": n, "frames": frames, "resolution": resolution}))
    ctx.barrier()
    return root


def video_folder(root: str | Path, *, frames: int, stride: int, resolution: int, seed: int,
                 split_file: str | None = None, cache_dir: Path | None = None) -> DictItems:
    """A training :class:`VideoFolder` of labelled clips, as trainer batches."""
    base = VideoFolder(root, frames=frames, stride=stride, resolution=resolution, train=True, labeled=True,
                       split_file=split_file, seed=seed, cache_dir=cache_dir)
    return DictItems(base)


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
    """Write ``out/summary.json`` atomically."""
    path = out / "summary.json"
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(_plain(summary), indent=2, sort_keys=False))
    os.replace(tmp, path)
    return path
