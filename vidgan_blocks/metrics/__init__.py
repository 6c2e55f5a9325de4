"""Video metrics: I3D, FVD and I3D FID/IS/KID, frame metrics, power spectra."""

from .frechet import FRECHET_METHOD, CovarianceEstimator, GaussianStats, frechet_distance, trace_sqrt_product

__all__ = [
    "FRECHET_METHOD",
    "CovarianceEstimator",
    "GaussianStats",
    "frechet_distance",
    "trace_sqrt_product",
]
