"""FVD and I3D FID / IS / KID with explicit, recorded protocols.

* FVD (Unterthiner et al.; DVD-GAN section 4.2, TrIVD-GAN-FP section 5): Fréchet
  distance between Gaussians fitted to the Kinetics-400 I3D logits of real and
  generated clips.
* I3D FID (DVD-GAN section 2.5 and footnote 2, SSW-GAN and CVG section 5): the same
  distance on the average-pooled 1024-d I3D features (the papers use a Kinetics-600
  network; pass its weights to get their number).
* I3D IS (same sections): ``exp E_x KL(p(y|x) || p(y))`` on the I3D softmax, in
  splits; computed by torch-fidelity's ``isc_features_to_metric``.
* I3D KID: torch-fidelity's ``kid_features_to_metric`` (cubic polynomial kernel,
  unbiased MMD^2 averaged over random subsets) on I3D features.

Features are extracted once per set by :func:`extract_i3d_features`: batches are
preprocessed by a named preset (:mod:`.preprocess`), run through the I3D, and folded
into float64 :class:`~.frechet.GaussianStats`; the raw per-clip vectors are kept only
when IS or KID need them. Every :class:`Score` carries the protocol that produced it:
network and weight-file SHA-256, preprocessing preset, frames per clip, clip counts,
covariance estimator, square-root method and the metric's own settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from .frechet import FRECHET_METHOD, CovarianceEstimator, GaussianStats
from .i3d import I3D
from .preprocess import Preprocess, get_preset, preprocess_video

__all__ = [
    "Score",
    "I3DFeatures",
    "VideoSource",
    "extract_i3d_features",
    "fvd",
    "i3d_fid",
    "i3d_inception_score",
    "i3d_kid",
    "evaluate_videos",
    "VIDEO_METRICS",
]

FeatureName = Literal["logits", "pool"]
VideoSource = torch.Tensor | Iterable[torch.Tensor]
#: Metric names understood by :func:`evaluate_videos`.
VIDEO_METRICS = ("fvd", "fid", "is", "kid")


@dataclass(frozen=True)
class Score:
    """One metric value and the protocol that produced it.

    Attributes:
        name: metric name (``"fvd"``, ``"fid"``, ``"is"``, ``"kid"``, ``"frame_fid"`` ...).
        value: the score (mean over splits/subsets where those apply).
        std: standard deviation over splits/subsets, or ``None``.
        protocol: JSON-serialisable description of how ``value`` was computed.
    """

    name: str
    value: float
    std: float | None = None
    protocol: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class I3DFeatures:
    """Statistics (and optionally raw vectors) of the I3D outputs of one clip set.

    Attributes:
        logits_stats, pool_stats: float64 running statistics of the logits and pooled features.
        logits, pool: per-clip vectors ``(N, D)`` (float32, CPU) if kept, else ``None``.
        count: number of clips.
        frames: frames per clip.
        network: description of the I3D (classes, width, bn_eps, weight path and SHA-256).
        preprocess: the preset that prepared the clips.
    """

    logits_stats: GaussianStats
    pool_stats: GaussianStats
    logits: torch.Tensor | None
    pool: torch.Tensor | None
    count: int
    frames: int
    network: dict[str, object]
    preprocess: Preprocess

    def stats(self, feature: FeatureName) -> GaussianStats:
        return self.logits_stats if feature == "logits" else self.pool_stats

    def vectors(self, feature: FeatureName) -> torch.Tensor:
        v = self.logits if feature == "logits" else self.pool
        if v is None:
            raise ValueError(f"the {feature} vectors of each clip were not kept (extract with keep=True)")
        return v


def _network_info(i3d: I3D) -> dict[str, object]:
    return {
        "name": f"i3d-kinetics-{i3d.num_classes}" if i3d.weights_sha256 else "i3d-random",
        "num_classes": i3d.num_classes,
        "width": i3d.width,
        "bn_eps": i3d.bn_eps,
        "weights_path": i3d.weights_path,
        "weights_sha256": i3d.weights_sha256 or "random",
    }


def _batches(videos: VideoSource, batch_size: int) -> Iterator[torch.Tensor]:
    if isinstance(videos, torch.Tensor):
        if videos.dim() != 5:
            raise ValueError(f"videos: expected (N, 3, T, H, W), got shape {tuple(videos.shape)}")
        yield from torch.split(videos, batch_size)
    elif isinstance(videos, Iterable):
        for i, batch in enumerate(videos):
            if not isinstance(batch, torch.Tensor) or batch.dim() != 5:
                got = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
                raise ValueError(f"videos: batch {i}: expected a (B, 3, T, H, W) tensor, got {got}")
            yield batch
    else:
        raise TypeError(f"videos: expected a (N, 3, T, H, W) tensor or an iterable of them, got {type(videos).__name__}")


@torch.no_grad()
def extract_i3d_features(
    videos: VideoSource,
    i3d: I3D,
    *,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
    keep: bool = True,
) -> I3DFeatures:
    """Run clips through the I3D and accumulate logits / pooled-feature statistics.

    Args:
        videos: a tensor of clips or an iterable of clip batches (float in [-1, 1]
            or uint8), streamed batch by batch.
        i3d: the network (its device is used).
        preprocess: preset name or :class:`Preprocess`.
        frames: use the first ``frames`` frames of each clip (``None``: all; every
            batch must then have the same T).
        batch_size: split size when ``videos`` is one tensor.
        keep: also keep the per-clip vectors (needed by IS and KID).

    Shape:
        - videos: ``(N, 3, T, H, W)`` or batches ``(B, 3, T, H, W)``
    """
    if not isinstance(i3d, I3D):
        raise TypeError(f"i3d: expected an I3D module, got {type(i3d).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int) or frames < 1):
        raise ValueError(f"frames: expected a positive int or None, got {frames!r}")
    preset = get_preset(preprocess)
    device = next(i3d.parameters()).device
    was_training = i3d.training
    i3d.eval()
    logits_stats = GaussianStats(i3d.num_classes, device=device)
    pool_stats = GaussianStats(i3d.feature_dim, device=device)
    kept_logits: list[torch.Tensor] = []
    kept_pool: list[torch.Tensor] = []
    clip_t: int | None = frames
    for batch in _batches(videos, batch_size):
        if frames is not None:
            if batch.shape[2] < frames:
                raise ValueError(f"videos: expected clips of at least {frames} frames, got shape {tuple(batch.shape)}")
            batch = batch[:, :, :frames]
        elif clip_t is None:
            clip_t = batch.shape[2]
        elif batch.shape[2] != clip_t:
            raise ValueError(f"videos: every clip needs T={clip_t} frames (or pass frames=), got {tuple(batch.shape)}")
        x = preprocess_video(batch.to(device, non_blocking=True), preset)
        out = i3d(x)
        logits_stats.update(out.logits)
        pool_stats.update(out.features)
        if keep:
            kept_logits.append(out.logits.float().cpu())
            kept_pool.append(out.features.float().cpu())
    i3d.train(was_training)
    if logits_stats.count == 0:
        raise ValueError("videos: no clip was given")
    return I3DFeatures(
        logits_stats=logits_stats,
        pool_stats=pool_stats,
        logits=torch.cat(kept_logits) if keep else None,
        pool=torch.cat(kept_pool) if keep else None,
        count=logits_stats.count,
        frames=int(clip_t),  # type: ignore[arg-type]
        network=_network_info(i3d),
        preprocess=preset,
    )


def _features(
    videos: VideoSource | I3DFeatures, i3d: I3D | None, keep: bool, **kwargs: object
) -> I3DFeatures:
    if isinstance(videos, I3DFeatures):
        return videos
    if i3d is None:
        raise ValueError("i3d: an I3D network is needed to extract features from videos (see load_i3d)")
    return extract_i3d_features(videos, i3d, keep=keep, **kwargs)  # type: ignore[arg-type]


def _protocol(metric: str, feature: str, sets: Sequence[I3DFeatures], **details: object) -> dict[str, object]:
    first = sets[0]
    for other in sets[1:]:
        if other.network != first.network or other.preprocess != first.preprocess or other.frames != first.frames:
            raise ValueError(
                f"{metric}: the two clip sets were not extracted with the same protocol: "
                f"{first.network, first.preprocess, first.frames} vs {other.network, other.preprocess, other.frames}"
            )
    proto: dict[str, object] = {
        "metric": metric,
        "feature": feature,
        "network": dict(first.network),
        "preprocess": first.preprocess.to_dict(),
        "frames": first.frames,
    }
    if len(sets) == 2:
        proto["clips_real"], proto["clips_fake"] = sets[0].count, sets[1].count
    else:
        proto["clips"] = first.count
    proto.update(details)
    return proto


def _frechet_score(
    name: str, feature: FeatureName, real: I3DFeatures, fake: I3DFeatures, estimator: CovarianceEstimator
) -> Score:
    value = real.stats(feature).frechet_distance(fake.stats(feature), estimator)
    proto = _protocol(name, feature, [real, fake], covariance=estimator, sqrtm=FRECHET_METHOD)
    return Score(name, value, None, proto)


def fvd(
    real: VideoSource | I3DFeatures,
    fake: VideoSource | I3DFeatures,
    *,
    i3d: I3D | None = None,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
    estimator: CovarianceEstimator = "unbiased",
) -> Score:
    """Fréchet Video Distance: Fréchet distance of I3D logits (Unterthiner et al.).

    ``real`` / ``fake`` are clips (tensor or iterable of batches, see
    :func:`extract_i3d_features`) or features already extracted, which are reused.

    Shape:
        - real, fake: ``(N, 3, T, H, W)`` (N may differ between them)
    """
    kw = dict(preprocess=preprocess, frames=frames, batch_size=batch_size)
    r, f = _features(real, i3d, False, **kw), _features(fake, i3d, False, **kw)
    return _frechet_score("fvd", "logits", r, f, estimator)


def i3d_fid(
    real: VideoSource | I3DFeatures,
    fake: VideoSource | I3DFeatures,
    *,
    i3d: I3D | None = None,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
    estimator: CovarianceEstimator = "unbiased",
) -> Score:
    """FID on average-pooled I3D features (DVD-GAN footnote 2: ``avgpool`` features).

    Shape:
        - real, fake: ``(N, 3, T, H, W)``
    """
    kw = dict(preprocess=preprocess, frames=frames, batch_size=batch_size)
    r, f = _features(real, i3d, False, **kw), _features(fake, i3d, False, **kw)
    return _frechet_score("fid", "pool", r, f, estimator)


def i3d_inception_score(
    videos: VideoSource | I3DFeatures,
    *,
    i3d: I3D | None = None,
    splits: int = 10,
    shuffle: bool = True,
    seed: int = 2020,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
) -> Score:
    """Inception Score of the I3D class posterior (torch-fidelity's split computation).

    Shape:
        - videos: ``(N, 3, T, H, W)``, N >= ``splits``
    """
    from torch_fidelity.metric_isc import isc_features_to_metric

    feats = _features(videos, i3d, True, preprocess=preprocess, frames=frames, batch_size=batch_size)
    if isinstance(splits, bool) or not isinstance(splits, int) or not 1 <= splits <= feats.count:
        raise ValueError(f"splits: expected an int in [1, {feats.count}] (the number of clips), got {splits!r}")
    out = isc_features_to_metric(feats.vectors("logits"), splits=splits, shuffle=shuffle, rng_seed=seed)
    proto = _protocol("is", "logits", [feats], splits=splits, shuffle=shuffle, seed=seed,
                      implementation="torch_fidelity.metric_isc.isc_features_to_metric")  # fmt: skip
    return Score("is", out["inception_score_mean"], out["inception_score_std"], proto)


def i3d_kid(
    real: VideoSource | I3DFeatures,
    fake: VideoSource | I3DFeatures,
    *,
    i3d: I3D | None = None,
    feature: FeatureName = "logits",
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    seed: int = 2020,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
) -> Score:
    """Kernel distance (KID) on I3D features, via torch-fidelity's ``kid_features_to_metric``.

    ``subset_size`` is lowered to the smaller clip count when needed (recorded).

    Shape:
        - real, fake: ``(N, 3, T, H, W)``
    """
    from torch_fidelity.metric_kid import kid_features_to_metric

    if feature not in ("logits", "pool"):
        raise ValueError(f"feature: expected 'logits' or 'pool', got {feature!r}")
    kw = dict(preprocess=preprocess, frames=frames, batch_size=batch_size)
    r, f = _features(real, i3d, True, **kw), _features(fake, i3d, True, **kw)
    size = min(subset_size, r.count, f.count)
    if size < 2:
        raise ValueError(f"i3d_kid: needs at least 2 clips per set, got {r.count} real and {f.count} fake")
    out = kid_features_to_metric(
        r.vectors(feature), f.vectors(feature),
        kid_subsets=subsets, kid_subset_size=size, kid_kernel="poly", kid_kernel_poly_degree=degree,
        kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=seed, verbose=False,
    )  # fmt: skip
    proto = _protocol("kid", feature, [r, f], subsets=subsets, subset_size=size, kernel=f"poly(degree={degree}, "
                      "gamma=1/D, coef0=1)", seed=seed, estimator="unbiased MMD^2",
                      implementation="torch_fidelity.metric_kid.kid_features_to_metric")  # fmt: skip
    return Score("kid", out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"], proto)


def evaluate_videos(
    real: VideoSource | I3DFeatures,
    fake: VideoSource | I3DFeatures,
    *,
    i3d: I3D | None = None,
    metrics: Sequence[str] = VIDEO_METRICS,
    preprocess: str | Preprocess = "reference",
    frames: int | None = None,
    batch_size: int = 8,
    estimator: CovarianceEstimator = "unbiased",
    is_splits: int = 10,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 2020,
) -> dict[str, Score]:
    """Several I3D metrics from a single feature pass over each set.

    Args:
        metrics: any of :data:`VIDEO_METRICS`; IS is computed on ``fake`` with
            ``min(is_splits, N)`` splits.

    Returns:
        ``{metric name: Score}``.
    """
    unknown = set(metrics) - set(VIDEO_METRICS)
    if unknown:
        raise ValueError(f"metrics: expected names from {VIDEO_METRICS}, got {sorted(unknown)}")
    keep = "is" in metrics or "kid" in metrics
    kw = dict(preprocess=preprocess, frames=frames, batch_size=batch_size)
    r, f = _features(real, i3d, keep, **kw), _features(fake, i3d, keep, **kw)
    out: dict[str, Score] = {}
    if "fvd" in metrics:
        out["fvd"] = _frechet_score("fvd", "logits", r, f, estimator)
    if "fid" in metrics:
        out["fid"] = _frechet_score("fid", "pool", r, f, estimator)
    if "is" in metrics:
        out["is"] = i3d_inception_score(f, splits=min(is_splits, f.count), seed=seed)
    if "kid" in metrics:
        out["kid"] = i3d_kid(r, f, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    return out
