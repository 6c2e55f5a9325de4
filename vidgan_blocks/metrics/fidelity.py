"""torch-fidelity integration: frame-level FID / IS / KID, and the I3D as a feature extractor.

Frame metrics treat every selected frame of every clip as an image and hand them
to ``torch_fidelity.calculate_metrics`` (its FID, Inception Score and KID code,
computed on InceptionV3 features at 299x299 with its TF1-exact bilinear resize).

The I3D is registered as a torch-fidelity feature extractor as well
(:data:`I3D_EXTRACTOR`), so its FID/KID/IS/PRC code runs on clip datasets:
``calculate_metrics(input1=VideoTensorDataset(fake), input2=..., feature_extractor=I3D_EXTRACTOR,
feature_extractor_weights_path="i3d_pretrained_400.pt", fid=True)``.

torch-fidelity 0.4 pitfalls handled here:

* its InceptionV3 loads its weight file with ``weights_only=False`` (full
  unpickling) and downloads when no path is given: :class:`SafeInceptionV3` reads
  the local file with ``weights_only=True`` (or safetensors) and hands torch-fidelity
  an in-memory copy containing only tensors; no path is an error;
* its class-conditional generator wrapper uses ``np.int`` (gone in numpy 2): inputs
  are always datasets of frames/clips here, never generator wrappers;
* feature caching writes under ``$TORCH_HOME``: ``cache=False``;
* the data loader starts ``min(4, 2 * cpus)`` worker processes that copy the
  in-memory tensors: ``save_cpu_ram=True`` keeps it in-process;
* ``cuda=True`` and ``verbose=True`` by default: both follow the arguments here.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import torch
from torch.utils.data import Dataset
from torch_fidelity import FeatureExtractorBase, FeatureExtractorInceptionV3, calculate_metrics
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from .names import (
    FRAME_METRICS,
    I3D_EXTRACTOR,
    INCEPTION_EXTRACTOR,
    INCEPTION_WEIGHTS_ENV,
    INCEPTION_WEIGHTS_FILE,
)
from .i3d import I3D, file_sha256, load_i3d, load_state_dict_file, resolve_weights_path
from .preprocess import get_preset, preprocess_video
from .video import Score

__all__ = [
    "I3D_EXTRACTOR",
    "INCEPTION_EXTRACTOR",
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "FRAME_METRICS",
    "I3DFeatureExtractor",
    "SafeInceptionV3",
    "VideoTensorDataset",
    "FrameDataset",
    "register_torch_fidelity",
    "frame_metrics",
]



def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.uint8:
        return x
    if not x.is_floating_point():
        raise TypeError(f"videos: expected float in [-1, 1] or uint8, got dtype {x.dtype}")
    return ((x.detach().float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


def _check_videos(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor (N, 3, T, H, W), got {type(x).__name__}")
    if x.dim() != 5 or x.shape[1] != 3:
        raise ValueError(f"{name}: expected (N, 3, T, H, W), got shape {tuple(x.shape)}")
    return x


class VideoTensorDataset(Dataset):
    """Clips of a ``(N, 3, T, H, W)`` tensor as a dataset of ``(3, T, H, W)`` uint8 items."""

    def __init__(self, videos: torch.Tensor) -> None:
        self.videos = _to_uint8(_check_videos(videos, "videos")).cpu()

    def __len__(self) -> int:
        return self.videos.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.videos[i]


class FrameDataset(Dataset):
    """Selected frames of every clip as a dataset of ``(3, H, W)`` uint8 images.

    Args:
        videos: ``(N, 3, T, H, W)`` float in [-1, 1] or uint8 (stored as uint8).
        frames: frame indices to use from each clip (``None``: all T).
    """

    def __init__(self, videos: torch.Tensor, frames: Sequence[int] | None = None) -> None:
        v = _check_videos(videos, "videos")
        t = v.shape[2]
        idx = list(range(t)) if frames is None else [int(f) for f in frames]
        if not idx or any(not 0 <= f < t for f in idx):
            raise ValueError(f"frames: expected indices in [0, {t}) for clips of T={t}, got {frames!r}")
        self.videos = _to_uint8(v[:, :, idx]).cpu()  # [N, 3, F, H, W]
        self.frames_per_clip = len(idx)
        self.frame_indices = idx

    def __len__(self) -> int:
        return self.videos.shape[0] * self.frames_per_clip

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.videos[i // self.frames_per_clip, :, i % self.frames_per_clip]


class I3DFeatureExtractor(FeatureExtractorBase):
    """The I3D as a torch-fidelity feature extractor (features ``"logits"`` and ``"pool"``).

    Extra keyword arguments of ``calculate_metrics`` that it reads:
    ``feature_extractor_weights_path`` (I3D file; else ``$VIDGAN_I3D_WEIGHTS``),
    ``i3d`` (an :class:`I3D` to use instead of loading one) and ``i3d_preprocess``
    (preset name or :class:`~.preprocess.Preprocess`, default ``"reference"``).
    Defaults: FID, KID and IS use the logits (FID is then FVD), PRC the pooled features.

    Shape:
        - input: ``(B, 3, T, H, W)`` uint8 or float in [-1, 1]
    """

    def __init__(
        self,
        name: str,
        features_list: Sequence[str],
        feature_extractor_weights_path: str | None = None,
        i3d: I3D | None = None,
        i3d_preprocess: object = "reference",
        **kwargs: object,
    ) -> None:
        super().__init__(name, list(features_list))
        self.i3d = i3d if i3d is not None else load_i3d(feature_extractor_weights_path)
        self.preprocess = get_preset(i3d_preprocess)  # type: ignore[arg-type]

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("logits", "pool")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return {"isc": "logits", "fid": "logits", "kid": "logits", "prc": "pool"}[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, 16, 224, 224, dtype=torch.uint8)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Requested features, in the order of ``features_list``.

        Shape:
            - x: ``(B, 3, T, H, W)``
            - output: ``(B, num_classes)`` for ``"logits"``, ``(B, 1024)`` for ``"pool"``
        """
        out = self.i3d(preprocess_video(x, self.preprocess))
        feats = {"logits": out.logits.float(), "pool": out.features.float()}
        return tuple(feats[f] for f in self.features_list)


class SafeInceptionV3(FeatureExtractorInceptionV3):
    """torch-fidelity's InceptionV3 reading its weights without unpickling code.

    ``feature_extractor_weights_path`` (else ``$VIDGAN_INCEPTION_WEIGHTS``) is read with
    ``torch.load(weights_only=True)`` or safetensors; the checked tensors are handed to
    torch-fidelity as an in-memory file. Nothing is downloaded.
    """

    def __init__(
        self, name: str, features_list: Sequence[str], feature_extractor_weights_path: str | None = None,
        **kwargs: object,
    ) -> None:  # fmt: skip
        path = resolve_weights_path(
            feature_extractor_weights_path, env=INCEPTION_WEIGHTS_ENV, expected=INCEPTION_WEIGHTS_FILE
        )
        buffer = io.BytesIO()
        torch.save(load_state_dict_file(path), buffer)
        buffer.seek(0)
        super().__init__(name, list(features_list), feature_extractor_weights_path=buffer, **kwargs)


def register_torch_fidelity() -> None:
    """Register :data:`I3D_EXTRACTOR` and :data:`INCEPTION_EXTRACTOR` with torch-fidelity (idempotent)."""
    for name, cls in ((I3D_EXTRACTOR, I3DFeatureExtractor), (INCEPTION_EXTRACTOR, SafeInceptionV3)):
        if name not in FEATURE_EXTRACTORS_REGISTRY:
            register_feature_extractor(name, cls)


def frame_metrics(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    metrics: Sequence[str] = FRAME_METRICS,
    feature_extractor: str = INCEPTION_EXTRACTOR,
    feature_extractor_weights_path: str | os.PathLike[str] | None = None,
    frames: Sequence[int] | None = None,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    is_splits: int = 10,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 2020,
    **fidelity_kwargs: object,
) -> dict[str, Score]:
    """Frame-level FID / IS / KID of generated clips against real clips, by torch-fidelity.

    Args:
        real, fake: clips, float in [-1, 1] or uint8 (stored as uint8 frames).
        metrics: any of :data:`FRAME_METRICS`; IS is computed on ``fake``.
        feature_extractor: a torch-fidelity extractor name (default: InceptionV3
            with safe weight loading; tests register a tiny one).
        feature_extractor_weights_path: weight file of the extractor (InceptionV3:
            torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``; else
            ``$VIDGAN_INCEPTION_WEIGHTS``).
        frames: frame indices used from every clip (``None``: all).
        batch_size: frames per extractor call.
        device: ``"cuda"`` runs the extractor on the GPU; default CPU.
        is_splits, kid_subsets, kid_subset_size: lowered to the frame counts if needed.
        fidelity_kwargs: further ``calculate_metrics`` options (e.g. ``feature_layer_fid``).

    Returns:
        ``{"frame_fid": Score, "frame_is": Score, "frame_kid": Score}`` (those requested).

    Shape:
        - real, fake: ``(N, 3, T, H, W)`` (N, H, W may differ between them; T >= every index in ``frames``)
    """
    unknown = set(metrics) - set(FRAME_METRICS)
    if unknown or not metrics:
        raise ValueError(f"metrics: expected a non-empty subset of {FRAME_METRICS}, got {list(metrics)}")
    register_torch_fidelity()
    real_ds, fake_ds = FrameDataset(real, frames), FrameDataset(fake, frames)
    n_real, n_fake = len(real_ds), len(fake_ds)
    weights_path: str | None = None
    sha = "none"
    if feature_extractor == INCEPTION_EXTRACTOR:
        weights_path = str(resolve_weights_path(
            feature_extractor_weights_path, env=INCEPTION_WEIGHTS_ENV, expected=INCEPTION_WEIGHTS_FILE
        ))  # fmt: skip
    elif feature_extractor_weights_path is not None:
        weights_path = str(feature_extractor_weights_path)
    if weights_path is not None:
        sha = file_sha256(weights_path)
    cuda = device is not None and torch.device(device).type == "cuda"
    splits = max(1, min(is_splits, n_fake))
    subset = min(kid_subset_size, n_real, n_fake)
    kwargs: dict[str, object] = dict(
        input1=fake_ds, input2=real_ds, fid="fid" in metrics, isc="is" in metrics, kid="kid" in metrics,
        feature_extractor=feature_extractor, feature_extractor_weights_path=weights_path, batch_size=batch_size,
        cuda=cuda, isc_splits=splits, kid_subsets=kid_subsets, kid_subset_size=subset, rng_seed=seed,
        verbose=False, cache=False, save_cpu_ram=True,
    )  # fmt: skip
    kwargs.update(fidelity_kwargs)
    out = calculate_metrics(**kwargs)
    base: dict[str, object] = {
        "network": {"name": feature_extractor, "weights_path": weights_path, "weights_sha256": sha},
        "implementation": "torch_fidelity.calculate_metrics",
        "preprocess": "inside the extractor (InceptionV3: uint8 frames, TF1 bilinear to 299x299)",
        "frames": real_ds.frame_indices if frames is not None else "all",
        "frames_per_clip": real_ds.frames_per_clip,
        "clips_real": real_ds.videos.shape[0],
        "clips_fake": fake_ds.videos.shape[0],
        "images_real": n_real,
        "images_fake": n_fake,
        "seed": seed,
    }
    scores: dict[str, Score] = {}
    if "fid" in metrics:
        proto = dict(base, metric="frame_fid", covariance="unbiased (numpy.cov)",
                     sqrtm="torch-fidelity: eigenvalues of S1 S2 (numpy.linalg.eigvals)")  # fmt: skip
        scores["frame_fid"] = Score("frame_fid", float(out["frechet_inception_distance"]), None, proto)
    if "is" in metrics:
        proto = dict(base, metric="frame_is", splits=splits, on="fake")
        scores["frame_is"] = Score(
            "frame_is", float(out["inception_score_mean"]), float(out["inception_score_std"]), proto
        )
    if "kid" in metrics:
        proto = dict(base, metric="frame_kid", subsets=kid_subsets, subset_size=subset,
                     kernel="poly(degree=3, gamma=1/D, coef0=1)")  # fmt: skip
        scores["frame_kid"] = Score(
            "frame_kid",
            float(out["kernel_inception_distance_mean"]),
            float(out["kernel_inception_distance_std"]),
            proto,
        )
    return scores
