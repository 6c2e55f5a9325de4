"""Training logs: JSONL always, TensorBoard scalars and sample videos when available, on rank 0 only.

Every line of ``log.jsonl`` is one JSON object: ``{"step": ..., "time": ...,
"kind": "scalars", <name>: <value>, ...}`` for scalars, or ``{"kind": "event",
"event": <name>, ...}`` for things that must never pass silently (skipped
non-finite steps, checkpoint restores, signals, saves). Events also go to the
``vidgan_blocks.training`` Python logger at WARNING level when they are problems.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["MetricLogger"]

LOGGER = logging.getLogger("vidgan_blocks.training")


class MetricLogger:
    """Writes scalars and events for one run.

    Args:
        log_dir: where ``log.jsonl`` and TensorBoard event files go; ``None`` keeps
            everything in memory (``self.records``) only.
        enabled: false on ranks other than 0 (they record nothing).
        tensorboard: also write TensorBoard scalars if ``tensorboard`` imports.
    """

    def __init__(self, log_dir: str | os.PathLike | None, *, enabled: bool = True, tensorboard: bool = True) -> None:
        self.enabled = enabled
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.records: list[dict[str, Any]] = []
        self._jsonl = None
        self._tb = None
        if not enabled or self.log_dir is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.log_dir / "log.jsonl", "a", encoding="utf-8")
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                LOGGER.info("tensorboard is not installed; logging to JSONL only")
            else:
                self._tb = SummaryWriter(log_dir=str(self.log_dir / "tb"))

    def _write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self._jsonl is not None:
            clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
            if clean != record:
                clean["nonfinite"] = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
            self._jsonl.write(json.dumps(clean, sort_keys=True) + "\n")
            self._jsonl.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self._write({"kind": "scalars", "step": step, "time": time.time(), **values})
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k, v, step)

    def videos(self, tag: str, videos: Any, step: int, *, fps: int = 8) -> None:
        """Show sample videos in TensorBoard (nothing without a TensorBoard writer).

        With ``moviepy`` installed they are animated (``add_video``); without it each
        video becomes one row of frames in a single image, so the samples still show.

        Shape:
            - videos: ``(N, 3, T, H, W)`` in ``[-1, 1]``
        """
        if self._tb is None:
            return
        from einops import rearrange

        clips = (videos.detach().float().cpu().clamp(-1, 1) + 1) / 2  # [N, 3, T, H, W] in [0, 1]
        try:
            import moviepy  # noqa: F401  (add_video encodes GIFs with it)
        except ImportError:
            grid = rearrange(clips, "n c t h w -> c (n h) (t w)")
            self._tb.add_image(tag, grid, step)
        else:
            self._tb.add_video(tag, rearrange(clips, "n c t h w -> n t c h w"), step, fps=fps)
        self._tb.flush()

    def event(self, step: int, event: str, *, warn: bool = False, **fields: Any) -> None:
        """Record an event; ``warn`` also sends it to the Python logger as a warning."""
        if warn:
            LOGGER.warning("step %d: %s %s", step, event, fields)
        if not self.enabled:
            return
        self._write({"kind": "event", "step": step, "time": time.time(), "event": event, **fields})

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "event" and (name is None or r["event"] == name)]

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
