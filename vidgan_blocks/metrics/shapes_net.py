"""A feature network for the built-in MovingShapes data, and the metrics on its features.

The papers score samples with an I3D trained on Kinetics; its weights cannot be
shipped, so without them nothing measures whether a recipe learns. The built-in
data (:class:`~vidgan_blocks.data.MovingShapes`) comes with its own small video
classifier, :class:`ShapesNet`, trained on it by :func:`train_shapes_net` and
shipped with the package (``weights/shapes_net.safetensors``, about 0.5 MB). It
recognises the 12 classes the data exposes (6 motion patterns x 2 speed tiers;
label ``c`` = pattern ``c % 6``, tier ``c // 6``, the dataset's own labels) and its
pooled features play the part of I3D's:

* **FVD-MS** (:func:`fvd_ms`): Frechet distance between Gaussians fitted to the
  64-d features of real and generated clips (the FVD recipe on another network);
* **KID-MS** (:func:`kid_ms`): torch-fidelity's kernel distance on the same features;
* **class accuracy** (:func:`class_accuracy`): how often the network recognises the
  class a conditional generator was asked for.

Clips of any size are accepted: every frame is resized to 32x32 (antialiased when
shrinking) and the features are averaged over time, so low levels of a cascade
(8x8) and long unrolled videos are scored by the same network. The network was
trained with random temporal crops (6 to 16 frames) and random blurring through a
lower resolution (8 or 16 pixels) so that both stay in its domain. Figures only
compare runs scored by the same weights (their SHA-256 is in every protocol).

Reproduce the shipped weights (about 6 minutes on 2 CPU cores)::

    python -m vidgan_blocks.metrics.shapes_net --out vidgan_blocks/metrics/weights/shapes_net.safetensors
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .frechet import CovarianceEstimator, GaussianStats
from .i3d import file_sha256
from .video import _batches

__all__ = [
    "ShapesNet",
    "ShapesNetOutput",
    "SHAPES_NET_WEIGHTS",
    "SHAPES_NET_CLASSES",
    "load_shapes_net",
    "shapes_features",
    "fvd_ms",
    "kid_ms",
    "class_accuracy",
    "train_shapes_net",
]

#: The shipped weights (trained by :func:`train_shapes_net` with its defaults).
SHAPES_NET_WEIGHTS = Path(__file__).resolve().parent / "weights" / "shapes_net.safetensors"
#: Classes the network recognises: MovingShapes labels 0..11 (6 patterns x 2 speed tiers).
SHAPES_NET_CLASSES = 12
_SIZE = 32
_MIN_FRAMES = 2


@dataclass(frozen=True)
class ShapesNetOutput:
    """Pooled features ``(B, 64)`` and class logits ``(B, 12)``."""

    features: torch.Tensor
    logits: torch.Tensor


class ShapesNet(nn.Module):
    """A small 3D CNN classifier of MovingShapes clips (the feature network of FVD-MS).

    Four 3x3x3 convolutions (16, 32, 64, 64 channels; spatial stride 2 in the first
    three, temporal stride 2 in the third), each followed by GroupNorm(8) and ReLU,
    then a mean over (T, H, W) gives the 64-d features and a linear layer the logits.

    Shape:
        - videos: ``(B, 3, T, H, W)`` in [-1, 1], any ``T >= 2``, any H, W
        - output: :class:`ShapesNetOutput` with ``(B, 64)`` and ``(B, 12)``
    """

    feature_dim = 64

    def __init__(self, num_classes: int = SHAPES_NET_CLASSES) -> None:
        super().__init__()
        widths = (3, 16, 32, 64, 64)
        strides = ((1, 2, 2), (1, 2, 2), (2, 2, 2), (1, 1, 1))
        layers: list[nn.Module] = []
        for cin, cout, s in zip(widths[:-1], widths[1:], strides):
            layers += [nn.Conv3d(cin, cout, 3, stride=s, padding=1), nn.GroupNorm(8, cout), nn.ReLU(inplace=True)]
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1], num_classes)
        self.num_classes = num_classes
        self.weights_path: str | None = None
        self.weights_sha256: str | None = None

    @staticmethod
    def resize(videos: torch.Tensor) -> torch.Tensor:
        """Every frame to 32x32 (bilinear; antialiased when shrinking)."""
        b, c, t, h, w = videos.shape
        if (h, w) == (_SIZE, _SIZE):
            return videos
        frames = videos.transpose(1, 2).reshape(b * t, c, h, w)
        frames = F.interpolate(frames, size=(_SIZE, _SIZE), mode="bilinear", align_corners=False,
                               antialias=h > _SIZE or w > _SIZE)
        return frames.reshape(b, t, c, _SIZE, _SIZE).transpose(1, 2)

    def forward(self, videos: torch.Tensor) -> ShapesNetOutput:
        if not isinstance(videos, torch.Tensor):
            raise TypeError(f"videos: expected a torch.Tensor, got {type(videos).__name__}")
        if videos.dim() != 5 or videos.shape[1] != 3 or videos.shape[2] < _MIN_FRAMES:
            raise ValueError(f"videos: expected (B, 3, T >= {_MIN_FRAMES}, H, W), got shape {tuple(videos.shape)}")
        x = self.trunk(self.resize(videos.float()))
        features = x.mean(dim=(2, 3, 4))
        return ShapesNetOutput(features, self.head(features))


def load_shapes_net(path: str | Path | None = None, *, device: str | torch.device = "cpu") -> ShapesNet:
    """The trained :class:`ShapesNet` in eval mode (default: the shipped weights).

    Weights are read with safetensors (no code runs on loading).
    """
    from safetensors.torch import load_file

    p = Path(path) if path is not None else SHAPES_NET_WEIGHTS
    if not p.is_file():
        raise FileNotFoundError(f"ShapesNet weights: no file at {p} (train them with "
                                "`python -m vidgan_blocks.metrics.shapes_net --out PATH`)")
    net = ShapesNet()
    state = load_file(str(p))
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"ShapesNet weights {p}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    net.weights_path, net.weights_sha256 = str(p), file_sha256(p)
    return net.to(device).eval().requires_grad_(False)


@torch.no_grad()
def shapes_features(
    videos: torch.Tensor | Iterable[torch.Tensor], net: ShapesNet | None = None, *, batch_size: int = 64
) -> ShapesNetOutput:
    """Features and logits of every clip, concatenated on the CPU (float32).

    Shape:
        - videos: ``(N, 3, T, H, W)`` in [-1, 1] (or an iterable of such batches)
        - output: ``(N, 64)`` and ``(N, 12)``
    """
    net = net if net is not None else load_shapes_net()
    dev = next(net.parameters()).device
    feats, logits = [], []
    for batch in _batches(videos, batch_size):
        out = net(batch.to(dev))
        feats.append(out.features.float().cpu())
        logits.append(out.logits.float().cpu())
    if not feats:
        raise ValueError("videos: no clips to score")
    return ShapesNetOutput(torch.cat(feats), torch.cat(logits))


def _features_of(x: torch.Tensor | ShapesNetOutput | Iterable[torch.Tensor], net: ShapesNet | None,
                 batch_size: int) -> torch.Tensor:
    if isinstance(x, ShapesNetOutput):
        return x.features
    return shapes_features(x, net, batch_size=batch_size).features


def fvd_ms(
    real: torch.Tensor | ShapesNetOutput,
    fake: torch.Tensor | ShapesNetOutput,
    net: ShapesNet | None = None,
    *,
    estimator: CovarianceEstimator = "unbiased",
    batch_size: int = 64,
) -> float:
    """FVD-MS: Frechet distance between the ShapesNet features of two clip sets.

    0 for identical sets; the real-vs-real floor of two disjoint halves of the data is
    recorded in ``benchmarks/results/quality/learning_curves.json``. Both sets need at
    least 2 clips; with fewer clips than the 64 feature dimensions the covariances are
    singular and the value is biased upwards (compare equal sample counts only).
    """
    r, f = _features_of(real, net, batch_size), _features_of(fake, net, batch_size)
    if r.shape[0] < 2 or f.shape[0] < 2:
        raise ValueError(f"fvd_ms: needs at least 2 clips per set, got {r.shape[0]} real and {f.shape[0]} fake")
    sr = GaussianStats(r.shape[1]).update(r)
    sf = GaussianStats(f.shape[1]).update(f)
    return sr.frechet_distance(sf, estimator)


def kid_ms(
    real: torch.Tensor | ShapesNetOutput,
    fake: torch.Tensor | ShapesNetOutput,
    net: ShapesNet | None = None,
    *,
    subsets: int = 50,
    subset_size: int = 100,
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[float, float]:
    """KID-MS: torch-fidelity's unbiased polynomial-kernel MMD^2 on ShapesNet features, ``(mean, std)``.

    ``subset_size`` is lowered to the smaller set size.
    """
    from torch_fidelity.metric_kid import kid_features_to_metric

    r, f = _features_of(real, net, batch_size), _features_of(fake, net, batch_size)
    size = min(subset_size, r.shape[0], f.shape[0])
    if size < 2:
        raise ValueError(f"kid_ms: needs at least 2 clips per set, got {r.shape[0]} real and {f.shape[0]} fake")
    out = kid_features_to_metric(
        r, f, kid_subsets=subsets, kid_subset_size=size, kid_kernel="poly", kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=seed, verbose=False,
    )  # fmt: skip
    return float(out["kernel_inception_distance_mean"]), float(out["kernel_inception_distance_std"])


def class_accuracy(
    videos: torch.Tensor | ShapesNetOutput,
    labels: torch.Tensor | Sequence[int],
    net: ShapesNet | None = None,
    *,
    patterns_only: bool = False,
    batch_size: int = 64,
) -> float:
    """Fraction of clips that ShapesNet assigns to the class in ``labels`` (MovingShapes labels 0..11).

    ``patterns_only``: add the probabilities of the two speed tiers of each motion
    pattern and score the pattern (labels 0..5). Use it for clips whose frame rate
    differs from the data's, e.g. a cascade's first level, which sees every
    ``f_t``-th frame, so that its sprites move ``f_t`` times faster per frame.
    """
    logits = videos.logits if isinstance(videos, ShapesNetOutput) else shapes_features(videos, net,
                                                                                       batch_size=batch_size).logits
    if patterns_only:
        tiers = logits.shape[1] // 6
        logits = logits.softmax(1).reshape(-1, tiers, 6).sum(1).log()
    y = torch.as_tensor(labels).reshape(-1).cpu()
    if y.numel() != logits.shape[0]:
        raise ValueError(f"labels: expected one per clip ({logits.shape[0]}), got {y.numel()}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= logits.shape[1]):
        raise ValueError(f"labels: expected values in [0, {logits.shape[1] - 1}], got range [{int(y.min())}, {int(y.max())}]")
    return float((logits.argmax(1) == y).float().mean())


# ---------------------------------------------------------------------------- training


def _render_set(n: int, seed: int, frames: int, resolutions: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` MovingShapes clips of 12 classes at mixed resolutions, resized to 32x32, as uint8."""
    from ..data.synthetic import MovingShapes

    per = math.ceil(n / len(resolutions))
    clips, labels = [], []
    for k, res in enumerate(resolutions):
        ds = MovingShapes(per, frames, res, num_classes=SHAPES_NET_CLASSES, seed=seed + k)
        for i in range(per):
            clip = ShapesNet.resize(ds.render(i)[None])[0]
            clips.append(((clip + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))
            labels.append(i % SHAPES_NET_CLASSES)
    return torch.stack(clips[:n]), torch.tensor(labels[:n])


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A random temporal crop (6..T frames) and, for a third of the batch, blur through 8 or 16 pixels."""
    t = x.shape[2]
    length = int(torch.randint(6, t + 1, (), generator=gen))
    start = int(torch.randint(0, t - length + 1, (), generator=gen))
    x = x[:, :, start : start + length]
    if float(torch.rand((), generator=gen)) < 1 / 3:
        low = int((8, 16)[int(torch.randint(0, 2, (), generator=gen))])
        b, c, tt, h, w = x.shape
        f = x.transpose(1, 2).reshape(b * tt, c, h, w)
        f = F.interpolate(f, size=(low, low), mode="bilinear", antialias=True, align_corners=False)
        f = F.interpolate(f, size=(h, w), mode="bilinear", align_corners=False)
        x = f.reshape(b, tt, c, h, w).transpose(1, 2)
    return x


def train_shapes_net(
    out: str | Path,
    *,
    steps: int = 1500,
    batch_size: int = 32,
    train_clips: int = 3072,
    test_clips: int = 768,
    frames: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
    log_every: int = 100,
) -> dict[str, object]:
    """Train :class:`ShapesNet` on rendered MovingShapes clips and save it as safetensors.

    Training clips come from seeds ``1000 + seed`` (32, 48 and 64 pixel renders), the
    test clips from seeds ``2000 + seed``; neither overlaps the recipes' data (seed 0).
    AdamW with a cosine schedule; deterministic for a given seed and thread count.

    Returns:
        a report: test accuracy (plain and on blurred/cropped clips), steps, seconds,
        the weight file and its SHA-256 (also written beside it as ``.json``).
    """
    from safetensors.torch import save_file

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    x_train, y_train = _render_set(train_clips, 1000 + seed, frames, (32, 48, 64))
    x_test, y_test = _render_set(test_clips, 2000 + seed, frames, (32, 64))
    net = ShapesNet()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    net.train()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(x_train), (batch_size,), generator=gen)
        x = _augment(x_train[idx].float() / 127.5 - 1, gen)
        loss = F.cross_entropy(net(x).logits, y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log_every and step % log_every == 0:
            print(f"step {step}/{steps}  loss {loss.item():.4f}  {time.perf_counter() - t0:.0f}s", flush=True)
    net.eval()
    test = x_test.float() / 127.5 - 1
    acc = class_accuracy(test, y_test, net)
    acc_aug = class_accuracy(_augment(test, torch.Generator().manual_seed(seed + 1)), y_test, net)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    report = {
        "weights": str(path), "sha256": file_sha256(path), "test_accuracy": acc, "test_accuracy_augmented": acc_aug,
        "steps": steps, "batch_size": batch_size, "train_clips": train_clips, "test_clips": test_clips,
        "frames": frames, "lr": lr, "seed": seed, "seconds": round(time.perf_counter() - t0, 1),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
    }
    path.with_suffix(".json").write_text(json.dumps(report, indent=2))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the MovingShapes feature network (the network of FVD-MS).")
    ap.add_argument("--out", type=Path, default=SHAPES_NET_WEIGHTS, help="safetensors file to write")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--train-clips", type=int, default=3072)
    ap.add_argument("--test-clips", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    report = train_shapes_net(args.out, steps=args.steps, batch_size=args.batch_size, train_clips=args.train_clips,
                              test_clips=args.test_clips, seed=args.seed)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
