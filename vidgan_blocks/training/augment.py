"""Differentiable, video-consistent augmentation of what the discriminator sees.

On small datasets a GAN's discriminator memorises the real clips and its
gradient stops guiding the generator. Augmenting real *and* fake inputs of D with
the same random family of transforms, differentiably so that G's gradient passes
through it, keeps D from fitting the augmented distribution alone (differentiable
augmentation, Zhao et al. 2020; adaptive augmentation, Karras et al. 2020). For
video two rules follow:

* every frame of a clip gets the same transform (a per-frame shift would add
  motion that the temporal discriminators would learn to read as a signature);
* every video tensor of one view gets the same transform, at its own size: the
  clip D scores and its context (the low-resolution window ``low_res`` that the
  matching discriminator pairs with it, CVG section 3; the conditioning frames
  ``cond_frames`` of frame prediction, DVD-GAN-FP A.4). Shifts and cutout boxes
  are drawn on the grid of the coarsest tensor and scaled up, so a real pair
  ``(x^l, f_s(x^l))`` stays an exact pair after augmentation when ``f_s`` is an
  average pooling.

Transforms (``policy``, applied in this order):

* ``"color"``: brightness ``+ U(-0.5, 0.5)``, saturation ``x U(0, 2)`` around the
  per-pixel channel mean, contrast ``x U(0.5, 1.5)`` around each frame's mean;
* ``"translation"``: a shift by up to ``translation`` of the size in each
  direction, zero filled;
* ``"cutout"``: a zeroed box of ``cutout`` times the size at a random place.

Values are not clamped: the transforms are affine in the input, so the gradient
passes unchanged. The random draws come from the generator the caller passes
(the trainer's checkpointed noise stream), so a resumed run draws the same
augmentations. ``kornia``'s augmentation containers give per-clip parameters
too, but not a shared draw across tensors of different sizes, which the view
consistency above needs; the transforms here are a few tensor operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from .._checks import check_video

__all__ = ["AUGMENT_POLICIES", "VideoAugment", "parse_policy"]

#: Transforms :class:`VideoAugment` knows, in the order they are applied.
AUGMENT_POLICIES: tuple[str, ...] = ("color", "translation", "cutout")


def parse_policy(policy: str | Sequence[str]) -> tuple[str, ...]:
    """``"color,translation"`` or ``["color", "translation"]`` -> the known names in application order.

    An empty string or sequence gives ``()`` (no augmentation).
    """
    if isinstance(policy, str):
        names = [p.strip() for p in policy.split(",") if p.strip()]
    elif isinstance(policy, Sequence) and all(isinstance(p, str) for p in policy):
        names = [p.strip() for p in policy]
    else:
        raise TypeError(f"policy: expected a comma-separated str or a sequence of str, got {policy!r}")
    unknown = [p for p in names if p not in AUGMENT_POLICIES]
    if unknown:
        raise ValueError(f"policy: unknown transforms {unknown}; expected names from {AUGMENT_POLICIES}")
    return tuple(p for p in AUGMENT_POLICIES if p in names)


class VideoAugment(nn.Module):
    """Random colour / translation / cutout, the same for every frame and every video tensor of a view.

    Args:
        policy: transforms to apply (see :data:`AUGMENT_POLICIES`), e.g.
            ``"color,translation,cutout"``.
        translation: largest shift as a fraction of H and W (1/8 by default).
        cutout: side of the cutout box as a fraction of H and W (1/2 by default).

    ``forward(view, generator=None)`` takes a view dict (``"video"`` plus context)
    and returns a new dict in which ``"video"`` and every other 5D tensor with the
    same batch size are augmented; labels and other entries pass through. Each
    sample of the batch draws its own transform.

    Shape:
        - view["video"]: ``(B, C, T, H, W)``; 5D context tensors ``(B, C', T', H', W')``
          whose H and W divide (or are divided by) the video's for exact consistency
        - output: the same shapes
    """

    def __init__(self, policy: str | Sequence[str] = "color,translation,cutout", *, translation: float = 0.125,
                 cutout: float = 0.5) -> None:
        super().__init__()
        self.policy = parse_policy(policy)
        if not 0.0 <= float(translation) < 0.5:
            raise ValueError(f"translation: expected a fraction in [0, 0.5), got {translation!r}")
        if not 0.0 < float(cutout) <= 1.0:
            raise ValueError(f"cutout: expected a fraction in (0, 1], got {cutout!r}")
        self.translation = float(translation)
        self.cutout = float(cutout)

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)!r}, translation={self.translation}, cutout={self.cutout}"

    # ------------------------------------------------------------------ parameters

    def draw(self, batch: int, grid: tuple[int, int], *, device: torch.device | str = "cpu",
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Per-sample parameters on a ``grid = (h, w)`` of the coarsest tensor (integers in grid pixels)."""
        h, w = grid
        p: dict[str, torch.Tensor] = {}

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=generator, device=device)

        if "color" in self.policy:
            p["brightness"] = rand(batch) - 0.5
            p["saturation"] = rand(batch) * 2
            p["contrast"] = rand(batch) + 0.5
        if "translation" in self.policy:
            sy, sx = round(h * self.translation), round(w * self.translation)
            u = rand(batch, 2)
            p["shift"] = torch.stack([(u[:, 0] * (2 * sy + 1)).floor() - sy, (u[:, 1] * (2 * sx + 1)).floor() - sx], 1)
        if "cutout" in self.policy:
            ch, cw = max(1, round(h * self.cutout)), max(1, round(w * self.cutout))
            u = rand(batch, 2)
            p["box"] = torch.stack([(u[:, 0] * (h - ch + 1)).floor(), (u[:, 1] * (w - cw + 1)).floor(),
                                    torch.full_like(u[:, 0], ch), torch.full_like(u[:, 0], cw)], 1)
        return p

    # ------------------------------------------------------------------ transforms

    def apply(self, x: torch.Tensor, params: Mapping[str, torch.Tensor], grid: tuple[int, int]) -> torch.Tensor:
        """Apply drawn ``params`` (on the coarse ``grid``) to one ``(B, C, T, H, W)`` tensor."""
        check_video(x, "x")
        b, _, _, h, w = x.shape
        fy, fx = h / grid[0], w / grid[1]  # tensor pixels per grid pixel
        if "brightness" in params:
            v = lambda t: t.to(x.dtype).view(b, 1, 1, 1, 1)  # noqa: E731
            x = x + v(params["brightness"])
            mean = x.mean(dim=1, keepdim=True)
            x = torch.lerp(mean, x, v(params["saturation"]))
            mean = x.mean(dim=(1, 3, 4), keepdim=True)  # per frame: a subsampled, pooled view keeps its centres
            x = torch.lerp(mean, x, v(params["contrast"]))
        if "shift" in params:
            x = self._translate(x, params["shift"], fy, fx)
        if "box" in params:
            box = params["box"]
            ys = torch.arange(h, device=x.device).view(1, h) / fy  # grid coordinates of every row
            xs = torch.arange(w, device=x.device).view(1, w) / fx
            iny = (ys >= box[:, :1]) & (ys < box[:, :1] + box[:, 2:3])  # [B, H]
            inx = (xs >= box[:, 1:2]) & (xs < box[:, 1:2] + box[:, 3:4])  # [B, W]
            keep = ~(iny[:, :, None] & inx[:, None, :])
            x = x * keep.to(x.dtype).view(b, 1, 1, h, w)
        return x

    @staticmethod
    def _translate(x: torch.Tensor, shift: torch.Tensor, fy: float, fx: float) -> torch.Tensor:
        """``out[..., i, j] = x[..., i - dy, j - dx]`` (zero outside), per sample; by index gathering."""
        b, c, t, h, w = x.shape
        dy = (shift[:, 0] * fy).round().long().view(b, 1)
        dx = (shift[:, 1] * fx).round().long().view(b, 1)
        rows = torch.arange(h, device=x.device).view(1, h) - dy  # [B, H] source rows
        cols = torch.arange(w, device=x.device).view(1, w) - dx  # [B, W]
        valid = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]  # [B, H, W]
        rows = rows.clamp(0, h - 1)
        cols = cols.clamp(0, w - 1)
        index = (rows[:, :, None] * w + cols[:, None, :]).view(b, 1, 1, h * w).expand(b, c, t, h * w)
        out = x.reshape(b, c, t, h * w).gather(3, index).view(b, c, t, h, w)
        return out * valid.to(x.dtype).view(b, 1, 1, h, w)

    # ------------------------------------------------------------------ views

    def forward(self, view: Mapping[str, Any], generator: torch.Generator | None = None) -> dict[str, Any]:
        if not isinstance(view, Mapping) or "video" not in view:
            raise TypeError(f"view: expected a dict with a 'video' entry, got {type(view).__name__}")
        video = check_video(view["video"], "view['video']")
        out = dict(view)
        if not self.policy:
            return out
        b = video.shape[0]
        keys = [k for k, v in view.items()
                if isinstance(v, torch.Tensor) and v.dim() == 5 and v.shape[0] == b and v.is_floating_point()]
        grid = (min(view[k].shape[3] for k in keys), min(view[k].shape[4] for k in keys))
        params = self.draw(b, grid, device=video.device, generator=generator)
        for k in keys:
            out[k] = self.apply(view[k], params, grid)
        return out
