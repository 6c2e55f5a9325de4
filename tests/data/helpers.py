"""Writing small test videos with PyAV, with known content per frame."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frame_value(i: int) -> int:
    """Grey level that encodes frame number ``i`` (far apart, so compression cannot blur them)."""
    return (i * 8) % 256


def frame_index_of(clip) -> np.ndarray:
    """Recover the frame numbers of a decoded clip (3, T, H, W) in [-1, 1] written by ``write_counter``."""
    levels = ((clip.mean(dim=(0, 2, 3)) + 1) * 127.5).numpy()
    return np.rint(levels / 8).astype(int)


def write_counter(
    path: Path,
    n: int,
    h: int = 16,
    w: int = 16,
    fps: int = 25,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    codec: str = "libx264",
    gradient: bool = False,
) -> Path:
    """Write ``n`` flat grey frames whose level encodes the frame number.

    ``pts``/``time_base`` give explicit presentation timestamps (variable frame rate).
    ``gradient`` adds a left-to-right ramp so resize/crop geometry can be checked.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".mkv": "matroska", ".webm": "webm", ".avi": "avi", ".mov": "mov"}.get(path.suffix, "mp4")
    with av.open(str(path), mode="w", format=fmt) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            s.options = {"crf": "0", "bf": "0"}
        tb = time_base or Fraction(1, fps)
        s.time_base = tb
        ramp = np.linspace(0, 60, w)[None, :, None] if gradient else 0
        for i in range(n):
            arr = np.full((h, w, 3), frame_value(i), dtype=np.float64)
            arr = np.clip(arr + ramp, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = tb
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
