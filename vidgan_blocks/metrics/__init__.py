"""Video metrics: I3D, FVD and I3D FID/IS/KID, frame metrics, power spectra."""

from .frechet import FRECHET_METHOD, CovarianceEstimator, GaussianStats, frechet_distance, trace_sqrt_product
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
from .preprocess import PRESETS, Preprocess, get_preset, preprocess_video
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
    "I3D",
    "I3D_WEIGHTS_ENV",
    "I3D_WEIGHTS_FILE",
    "I3DOutput",
    "file_sha256",
    "load_i3d",
    "load_state_dict_file",
    "resolve_weights_path",
    "PRESETS",
    "Preprocess",
    "get_preset",
    "preprocess_video",
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
