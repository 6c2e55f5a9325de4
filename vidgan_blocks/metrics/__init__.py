"""Video metrics: I3D, FVD and I3D FID/IS/KID, frame metrics, power spectra, FVD-MS on the built-in data.

The torch-fidelity integration (:mod:`.fidelity`) is imported on first use of one of
its names: torch-fidelity imports torchvision and CLIP code, which most uses of the
library (and ``vidgan-eval`` without frame metrics) never need.
"""

import importlib

from .frechet import FRECHET_METHOD, CovarianceEstimator, GaussianStats, frechet_distance, trace_sqrt_product
from .names import FRAME_METRICS, I3D_EXTRACTOR, INCEPTION_EXTRACTOR, INCEPTION_WEIGHTS_ENV, INCEPTION_WEIGHTS_FILE
from .i3d import (
    I3D,
    I3D_WEIGHTS_ENV,
    I3D_WEIGHTS_FILE,
    I3DOutput,
    file_sha256,
    load_i3d,
    load_state_dict_file,
    resolve_weights_path,
)
from .psd import plot_power_spectra, power_spectrum, psd_frequencies, psd_summary
from .preprocess import PRESETS, Preprocess, get_preset, preprocess_video
from .shapes_net import (
    SHAPES_NET_CLASSES,
    ShapesNet,
    ShapesNetOutput,
    class_accuracy,
    fvd_ms,
    kid_ms,
    load_shapes_net,
    shapes_features,
    train_shapes_net,
)
from .video import (
    VIDEO_METRICS,
    I3DFeatures,
    Score,
    evaluate_videos,
    extract_i3d_features,
    fvd,
    i3d_fid,
    i3d_inception_score,
    i3d_kid,
)

__all__ = [
    "FRECHET_METHOD",
    "CovarianceEstimator",
    "GaussianStats",
    "frechet_distance",
    "trace_sqrt_product",
    "FRAME_METRICS",
    "I3D_EXTRACTOR",
    "INCEPTION_EXTRACTOR",
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "FrameDataset",
    "I3DFeatureExtractor",
    "SafeInceptionV3",
    "VideoTensorDataset",
    "frame_metrics",
    "register_torch_fidelity",
    "I3D",
    "I3D_WEIGHTS_ENV",
    "I3D_WEIGHTS_FILE",
    "I3DOutput",
    "file_sha256",
    "load_i3d",
    "load_state_dict_file",
    "resolve_weights_path",
    "plot_power_spectra",
    "power_spectrum",
    "psd_frequencies",
    "psd_summary",
    "PRESETS",
    "Preprocess",
    "get_preset",
    "preprocess_video",
    "SHAPES_NET_CLASSES",
    "ShapesNet",
    "ShapesNetOutput",
    "class_accuracy",
    "fvd_ms",
    "kid_ms",
    "load_shapes_net",
    "shapes_features",
    "train_shapes_net",
    "VIDEO_METRICS",
    "I3DFeatures",
    "Score",
    "evaluate_videos",
    "extract_i3d_features",
    "fvd",
    "i3d_fid",
    "i3d_inception_score",
    "i3d_kid",
]

_LAZY = {
    "FrameDataset",
    "I3DFeatureExtractor",
    "SafeInceptionV3",
    "VideoTensorDataset",
    "frame_metrics",
    "register_torch_fidelity",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(".fidelity", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
