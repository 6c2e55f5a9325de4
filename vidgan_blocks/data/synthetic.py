"""MovingShapes: a built-in, class-conditional synthetic video dataset.

Every recipe must run with no download, so the library renders its own data:
several coloured sprites of distinct shapes that move and bounce over a slowly
drifting textured background. The class decides how the sprites move (one motion
pattern per class) and the shape of the first sprite, so a class-conditional GAN
has something visible to learn both per frame and over time. Items are rendered
on the fly, deterministically from ``(seed, index)``, at any T, H, W.

Motion is closed-form (constant velocity, orbits, sinusoids, bounces), so the
future of a clip follows from its first frames, which is what the frame-prediction
mode (``context=C``: the first C frames are given) needs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .._checks import check_int, check_pair, check_positive_int
from .io import save_video

__all__ = ["MovingShapes", "MOTION_PATTERNS", "SHAPES", "ContextSplit", "split_context"]

#: Per-class motion patterns, in label order (class c uses pattern c % 6 at speed tier c // 6).
MOTION_PATTERNS = ("horizontal", "vertical", "diagonal", "orbit", "zigzag", "gravity")
#: Sprite shapes; the first sprite of class c has shape c % 6, the others are distinct random ones.
SHAPES = ("circle", "square", "triangle", "diamond", "ring", "cross")


def split_context(clip: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a clip into its first ``context`` frames and the rest (frame prediction input/target).

    Shape:
        - clip: ``(3, T, H, W)`` with ``T > context``
        - output: ``(3, context, H, W)`` and ``(3, T - context, H, W)``
    """
    if not isinstance(clip, torch.Tensor) or clip.dim() != 4:
        got = tuple(clip.shape) if isinstance(clip, torch.Tensor) else type(clip).__name__
        raise ValueError(f"split_context: expected a clip (C, T, H, W), got {got}")
    check_positive_int(context, "context")
    if clip.shape[1] <= context:
        raise ValueError(f"split_context: need T > context={context}, got shape {tuple(clip.shape)}")
    return clip[:, :context], clip[:, context:]


class ContextSplit(Dataset):
    """Wrap a ``(clip, label)`` dataset for frame prediction: items become ``(context, future, label)``.

    DVD-GAN-FP and TrIVD-GAN-FP condition on the first frames of a real clip
    (5 of 16 on Kinetics) and generate the rest.
    """

    def __init__(self, dataset: Dataset, context: int) -> None:
        self.dataset = dataset
        self.context = check_positive_int(context, "context")

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Shape: ``((3, C, H, W), (3, T - C, H, W), label)``."""
        clip, label = self.dataset[index]
        ctx, future = split_context(clip, self.context)
        return ctx, future, label


def _reflect(u: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """Fold positions into ``[lo, hi]`` as if bouncing off both walls (triangle wave)."""
    span = hi - lo
    m = np.remainder(u - lo, 2 * span)
    return lo + span - np.abs(m - span)


def _signed_distance(shape: int, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    """Approximate signed distance (pixels, negative inside) of a sprite shape of radius ``r``."""
    ax, ay = np.abs(dx), np.abs(dy)
    name = SHAPES[shape]
    if name == "circle":
        return np.sqrt(dx * dx + dy * dy) - r
    if name == "square":
        return np.maximum(ax, ay) - 0.8 * r
    if name == "triangle":  # pointing up; image rows grow downwards
        up = -dy + 0.25 * r
        return np.maximum(ax * 0.866 + up * 0.5, -up) - 0.5 * r
    if name == "diamond":
        return (ax + ay - 1.15 * r) * 0.7071
    if name == "ring":
        return np.abs(np.sqrt(dx * dx + dy * dy) - 0.72 * r) - 0.28 * r
    # cross
    arm = 0.33 * r
    return np.minimum(np.maximum(ax - r, ay - arm), np.maximum(ax - arm, ay - r))


def _hsv_to_rgb(h: float, s: float, v: float) -> list[float]:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]


class MovingShapes(Dataset):
    """Class-conditional synthetic videos of bouncing sprites over a textured background.

    Item ``i`` has label ``i % num_classes`` and is fully determined by ``(seed, i)``.
    Class ``c`` moves all its sprites with pattern ``MOTION_PATTERNS[c % 6]`` at speed
    tier ``c // 6`` and draws its first sprite as ``SHAPES[c % 6]``:

    * horizontal / vertical / diagonal: constant velocity, bouncing off the walls;
    * orbit: circles around a centre; zigzag: horizontal bounce plus a vertical sine;
    * gravity: a bouncing-ball arc drifting sideways.

    Args:
        num_samples: dataset length.
        frames: T (any >= 1).
        resolution: (H, W) or one int for a square.
        num_classes: number of labels (>= 1).
        sprites: sprites per video (1 to 6).
        seed: base seed.
        context: 0 for ``(clip, label)`` items; C > 0 for frame prediction,
            giving ``(first C frames, remaining frames, label)``.

    Shape:
        - item: ``((3, T, H, W), label)``, or ``((3, C, H, W), (3, T - C, H, W), label)``
    """

    def __init__(
        self,
        num_samples: int = 10_000,
        frames: int = 16,
        resolution: int | tuple[int, int] = 64,
        *,
        num_classes: int = 6,
        sprites: int = 3,
        seed: int = 0,
        context: int = 0,
    ) -> None:
        self.num_samples = check_positive_int(num_samples, "num_samples")
        self.frames = check_positive_int(frames, "frames")
        self.size = check_pair(resolution, "resolution")
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.sprites = check_positive_int(sprites, "sprites")
        if self.sprites > len(SHAPES):
            raise ValueError(f"sprites: expected at most {len(SHAPES)} (one per shape), got {sprites}")
        self.seed = check_int(seed, "seed", minimum=0)
        self.context = check_int(context, "context", minimum=0)
        if self.context >= self.frames:
            raise ValueError(f"context: expected fewer than frames={frames} given frames, got {context}")

    @property
    def classes(self) -> list[str]:
        """Class names in label order; they sort in label order too (used as folder names)."""
        out = []
        for c in range(self.num_classes):
            tier = c // len(MOTION_PATTERNS)
            name = f"{c:03d}_{MOTION_PATTERNS[c % len(MOTION_PATTERNS)]}"
            out.append(name if tier == 0 else f"{name}_x{tier + 1}")
        return out

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, index: int):
        """Render item ``index`` (negative indices count from the end).

        Shape:
            - output: ``((3, T, H, W), label)``, or with ``context=C``
              ``((3, C, H, W), (3, T - C, H, W), label)``
        """
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        if not -self.num_samples <= index < self.num_samples:
            raise IndexError(f"index {index} out of range for MovingShapes of length {self.num_samples}")
        index = int(index) % self.num_samples
        label = index % self.num_classes
        clip = self.render(index)
        if self.context:
            ctx, future = split_context(clip, self.context)
            return ctx, future, label
        return clip, label

    # ------------------------------------------------------------------ rendering

    def _trajectories(self, label: int, rng: np.random.Generator, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sprite centres ``(K, T)`` in normalised [0, 1] coordinates for the class's pattern."""
        k, t = self.sprites, np.arange(self.frames, dtype=np.float32)[None, :]  # [1, T]
        pattern = MOTION_PATTERNS[label % len(MOTION_PATTERNS)]
        tier = 1.0 + 0.6 * (label // len(MOTION_PATTERNS))
        speed = rng.uniform(0.03, 0.06, (k, 1)) * tier  # [K, 1] fraction of the frame per step
        sign = rng.choice([-1.0, 1.0], (k, 2))
        r = radii[:, None]
        lo, hi = r, 1 - r
        x0, y0 = rng.uniform(0.2, 0.8, (k, 1)), rng.uniform(0.2, 0.8, (k, 1))
        if pattern == "horizontal":
            x, y = x0 + sign[:, :1] * speed * t, np.broadcast_to(y0, (k, self.frames))
        elif pattern == "vertical":
            x, y = np.broadcast_to(x0, (k, self.frames)), y0 + sign[:, 1:] * speed * t
        elif pattern == "diagonal":
            x, y = x0 + sign[:, :1] * speed * t * 0.7071, y0 + sign[:, 1:] * speed * t * 0.7071
        elif pattern == "orbit":
            rho = rng.uniform(0.12, 0.25, (k, 1))
            ang = rng.uniform(0, 2 * math.pi, (k, 1)) + sign[:, :1] * speed / rho * t
            x = 0.5 + (x0 - 0.5) * 0.3 + rho * np.cos(ang)
            y = 0.5 + (y0 - 0.5) * 0.3 + rho * np.sin(ang)
        elif pattern == "zigzag":
            phase = rng.uniform(0, 2 * math.pi, (k, 1))
            x = x0 + sign[:, :1] * speed * t
            y = y0 + 0.12 * np.sin(phase + 0.6 * t * tier)
        else:  # gravity: |sin| arcs of a bouncing ball, drifting sideways
            period = np.maximum(0.5 / speed, 4.0)
            phase = rng.uniform(0, 1, (k, 1))
            x = x0 + sign[:, :1] * speed * 0.4 * t
            y = hi - 0.55 * np.abs(np.sin(math.pi * (t / period + phase)))
        return _reflect(x, lo, hi).astype(np.float32), _reflect(y, lo, hi).astype(np.float32)

    def render(self, index: int) -> torch.Tensor:
        """Render item ``index`` as a float clip ``(3, T, H, W)`` in [-1, 1].

        Rendering uses NumPy (single-threaded), which stays fast inside DataLoader
        workers and on busy machines where small multi-threaded torch ops stall.
        """
        label = index % self.num_classes
        rng = np.random.default_rng([self.seed, index])
        h, w = self.size
        scale = float(min(h, w))
        ys = ((np.arange(h, dtype=np.float32) + 0.5) / scale)[None, :, None]  # [1, H, 1], sprites stay round
        xs = ((np.arange(w, dtype=np.float32) + 0.5) / scale)[None, None, :]  # [1, 1, W]
        t = np.arange(self.frames, dtype=np.float32)[:, None, None]  # [T, 1, 1]

        # Background: a dark base colour plus three drifting sinusoidal gratings.
        base = rng.uniform(-0.75, -0.25, 3).astype(np.float32)
        angles = rng.uniform(0, math.pi, 3)
        freqs = rng.uniform(4.0, 12.0, 3)
        drift = rng.uniform(-0.15, 0.15, 3)
        tint = rng.uniform(0.3, 1.0, (3, 3)).astype(np.float32)  # [grating, channel]
        video = np.empty((3, self.frames, h, w), dtype=np.float32)
        video[:] = base[:, None, None, None]
        for g in range(3):
            u = math.cos(angles[g]) * xs + math.sin(angles[g]) * ys  # [1, H, W]
            grating = np.sin(np.float32(2 * math.pi * freqs[g]) * u + np.float32(drift[g]) * t)  # [T, H, W]
            video += (0.12 * tint[g])[:, None, None, None] * grating[None]

        # Sprites: distinct shapes; the first one's shape tells the class.
        others = [s for s in rng.permutation(len(SHAPES)).tolist() if s != label % len(SHAPES)]
        shapes = [label % len(SHAPES), *others[: self.sprites - 1]]
        radii = rng.uniform(0.09, 0.14, self.sprites) * (1.0 if self.sprites <= 3 else 0.8)
        cx, cy = self._trajectories(label, rng, radii)  # [K, T]
        hues = (rng.uniform(0, 1) + np.arange(self.sprites) / self.sprites + rng.uniform(-0.05, 0.05, self.sprites)) % 1.0
        for k in range(self.sprites):
            dx = (xs - cx[k][:, None, None]) * scale  # [T, 1, W] pixels
            dy = (ys - cy[k][:, None, None]) * scale  # [T, H, 1]
            rad = float(radii[k] * scale)
            sd = _signed_distance(shapes[k], dx, dy, rad)  # [T, H, W]
            alpha = np.clip(0.5 - sd, 0.0, 1.0)[None]  # anti-aliased edge, [1, T, H, W]
            rgb = np.asarray(_hsv_to_rgb(float(hues[k]), 0.85, 1.0), dtype=np.float32) * 1.8 - 0.9
            # A soft highlight towards the top-left gives the sprites some volume.
            shade = 1.0 - 0.25 * np.clip((dx + dy) / (2.0 * rad), -1.0, 1.0)  # [T, H, W]
            colour = np.clip(rgb[:, None, None, None] * shade[None], -1.0, 1.0)
            video += alpha * (colour - video)
        return torch.from_numpy(np.clip(video, -1.0, 1.0, out=video))

    # ------------------------------------------------------------------ export

    def write_dataset(self, path: str | os.PathLike[str], n: int, *, fps: float = 8) -> Path:
        """Render items ``0..n-1`` to H.264 mp4 files in class folders under ``path``.

        The layout is ``path/<class name>/<index>.mp4`` with class names from
        :attr:`classes`, so ``VideoFolder(path, ...)`` reads the same data (and the same
        labels) as user data on disk. Existing files of the same names are replaced.

        Returns:
            ``Path(path)``.
        """
        check_positive_int(n, "n")
        root = Path(path)
        names = self.classes
        for i in range(n):
            clip = self.render(i)
            save_video(clip, root / names[i % self.num_classes] / f"{i:06d}.mp4", fps=fps)
        return root

    def __repr__(self) -> str:
        return (
            f"MovingShapes(num_samples={self.num_samples}, frames={self.frames}, resolution={self.size}, "
            f"num_classes={self.num_classes}, sprites={self.sprites}, seed={self.seed}, context={self.context})"
        )
