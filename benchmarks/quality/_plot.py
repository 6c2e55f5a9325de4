"""Line plots as PNG with Pillow (the package does not depend on a plotting library)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
            (23, 190, 207), (127, 127, 127)]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def line_plot(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: str | Path, *, title: str,
              xlabel: str, ylabel: str, log_y: bool = False, hline: tuple[str, float] | None = None,
              size: tuple[int, int] = (720, 440)) -> Path:
    """One line (with markers) per named series; ``hline`` draws a labelled dashed reference level."""
    from PIL import Image, ImageDraw

    w, h = size
    left, right, top, bottom = 70, 180, 36, 50
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    xs = [x for xs_, _ in series.values() for x in xs_]
    ys = [y for _, ys_ in series.values() for y in ys_] + ([hline[1]] if hline else [])
    fy = (lambda v: math.log10(max(v, 1e-12))) if log_y else (lambda v: v)
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(fy(y) for y in ys), max(fy(y) for y in ys)
    if x1 == x0:
        x1 = x0 + 1
    pad = 0.05 * ((y1 - y0) or 1.0)
    y0, y1 = y0 - pad, y1 + pad

    def px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (w - left - right), top + (1 - (fy(y) - y0) / (y1 - y0)) * (h - top - bottom))

    d.rectangle([left, top, w - right, h - bottom], outline=(0, 0, 0))
    for t in _ticks(x0, x1):
        x, _ = px(t, 10 ** y0 if log_y else y0)
        d.line([x, h - bottom, x, h - bottom + 4], fill=(0, 0, 0))
        d.text((x - 10, h - bottom + 6), f"{t:g}", fill=(0, 0, 0))
    yt = [10**e for e in range(math.floor(y0), math.ceil(y1) + 1)] if log_y else _ticks(y0, y1)
    for t in yt:
        _, y = px(x0, t)
        if top <= y <= h - bottom:
            d.line([left - 4, y, left, y], fill=(0, 0, 0))
            d.line([left, y, w - right, y], fill=(230, 230, 230))
            d.text((4, y - 6), f"{t:.3g}", fill=(0, 0, 0))
    if hline is not None:
        _, y = px(x0, hline[1])
        for xa in range(left, w - right, 12):
            d.line([xa, y, min(xa + 6, w - right), y], fill=(90, 90, 90))
        d.text((w - right + 6, y - 6), hline[0], fill=(90, 90, 90))
    for i, (name, (xs_, ys_)) in enumerate(series.items()):
        c = _COLOURS[i % len(_COLOURS)]
        pts = [px(x, y) for x, y in zip(xs_, ys_)]
        if len(pts) > 1:
            d.line(pts, fill=c, width=2)
        for x, y in pts:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=c)
        d.text((w - right + 8, top + 14 * i + 20), name, fill=c)
    d.text((left, 10), title, fill=(0, 0, 0))
    d.text(((left + w - right) / 2 - 30, h - 20), xlabel, fill=(0, 0, 0))
    d.text((4, 18), ylabel, fill=(0, 0, 0))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
