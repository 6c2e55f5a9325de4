"""Fréchet distance between Gaussians and streaming feature statistics.

The Fréchet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) is

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

(Heusel et al.'s FID; FVD in Unterthiner et al. is the same formula on I3D logits,
and DVD-GAN section 2.5 / SSW-GAN section 5 / CVG section 5 apply it to I3D
features). ``S1 S2`` is not symmetric, and the usual ``scipy.linalg.sqrtm`` of it
can return complex values or lose precision when the covariances are rank
deficient (fewer clips than feature dimensions, which is the common case for a
400-d or 1024-d feature and a few hundred clips). We use the identity

    tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2)),

where ``S1^(1/2) S2 S1^(1/2)`` is symmetric positive semi-definite: two symmetric
eigendecompositions in float64, with eigenvalues clipped at zero, give the trace
without complex arithmetic.

:class:`GaussianStats` accumulates the mean and the covariance of a stream of
feature batches in float64 with the pairwise (Chan et al.) update of centred
second moments, so statistics of tens of thousands of clips need O(D^2) memory
and agree with the batch computation to float64 rounding.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import torch

__all__ = [
    "CovarianceEstimator",
    "FRECHET_METHOD",
    "frechet_distance",
    "trace_sqrt_product",
    "GaussianStats",
]

CovarianceEstimator = Literal["unbiased", "biased"]
_ESTIMATORS = ("unbiased", "biased")

#: How :func:`frechet_distance` takes the matrix square root (recorded in every protocol).
FRECHET_METHOD = "float64 eigh of S1^1/2 S2 S1^1/2 (eigenvalues clipped at 0)"


def _as_float64(x: object, name: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor or numpy array, got {type(x).__name__}")
    return x.detach().to(dtype=torch.float64)


def _psd_sqrt(s: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (float64)."""
    evals, evecs = torch.linalg.eigh((s + s.T) / 2)
    root = evals.clamp_min(0).sqrt()
    return (evecs * root) @ evecs.T


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """``tr((S1 S2)^(1/2))`` for symmetric PSD ``S1``, ``S2`` (float64, see module docs).

    Shape:
        - sigma1, sigma2: ``(D, D)``
    """
    s1 = _as_float64(sigma1, "sigma1")
    s2 = _as_float64(sigma2, "sigma2")
    root1 = _psd_sqrt(s1)
    inner = root1 @ s2 @ root1
    evals = torch.linalg.eigvalsh((inner + inner.T) / 2)
    return float(evals.clamp_min(0).sqrt().sum())


def frechet_distance(
    mu1: torch.Tensor | np.ndarray,
    sigma1: torch.Tensor | np.ndarray,
    mu2: torch.Tensor | np.ndarray,
    sigma2: torch.Tensor | np.ndarray,
) -> float:
    """Squared Fréchet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Computed in float64; the matrix square root is taken as described in the
    module docstring (:data:`FRECHET_METHOD`). The result is clipped at 0, which
    only matters for identical statistics where rounding can leave ``-1e-12``.

    Args:
        mu1, mu2: means.
        sigma1, sigma2: covariances (symmetric positive semi-definite).

    Returns:
        the distance as a Python float.

    Raises:
        ValueError: shapes that do not match ``(D,)`` and ``(D, D)``.

    Shape:
        - mu1, mu2: ``(D,)``
        - sigma1, sigma2: ``(D, D)``
    """
    m1, m2 = _as_float64(mu1, "mu1"), _as_float64(mu2, "mu2")
    s1, s2 = _as_float64(sigma1, "sigma1"), _as_float64(sigma2, "sigma2")
    if m1.dim() != 1 or m1.shape != m2.shape:
        raise ValueError(f"mu1, mu2: expected two (D,) vectors, got {tuple(m1.shape)} and {tuple(m2.shape)}")
    d = m1.shape[0]
    for name, s in (("sigma1", s1), ("sigma2", s2)):
        if s.shape != (d, d):
            raise ValueError(f"{name}: expected ({d}, {d}) to match the means, got {tuple(s.shape)}")
    s2 = s2.to(s1.device)
    diff = m1.to(s1.device) - m2.to(s1.device)
    value = float(diff @ diff) + float(torch.trace(s1)) + float(torch.trace(s2)) - 2.0 * trace_sqrt_product(s1, s2)
    return max(value, 0.0)


class GaussianStats:
    """Streaming mean and covariance of feature vectors, accumulated in float64.

    Each :meth:`update` folds one batch in with the pairwise update of the mean and
    of the centred scatter matrix ``M2 = sum (x - mean)(x - mean)^T``; two
    accumulators built on different shards combine with :meth:`merge` (the same
    update). Memory is O(D^2) whatever the number of samples.

    Args:
        dim: feature dimension D.
        device: where the float64 accumulators live (the device of the features).

    Example:
        >>> stats = GaussianStats(4)
        >>> for batch in torch.randn(10, 8, 4):
        ...     stats.update(batch)
        >>> stats.count, tuple(stats.covariance().shape)
        (80, (4, 4))
    """

    def __init__(self, dim: int, device: torch.device | str | None = None) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim: expected a positive int, got {dim!r}")
        self.dim = dim
        self.count = 0
        self._mean = torch.zeros(dim, dtype=torch.float64, device=device)
        self._m2 = torch.zeros(dim, dim, dtype=torch.float64, device=device)

    def _combine(self, n_b: int, mean_b: torch.Tensor, m2_b: torch.Tensor) -> None:
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (n_b / n)
        self._m2 = self._m2 + m2_b + torch.outer(delta, delta) * (n_a * n_b / n)
        self.count = n

    def update(self, features: torch.Tensor) -> GaussianStats:
        """Add a batch of feature vectors; returns ``self``.

        Shape:
            - features: ``(N, D)``
        """
        if not isinstance(features, torch.Tensor):
            raise TypeError(f"features: expected a torch.Tensor (N, {self.dim}), got {type(features).__name__}")
        if features.dim() != 2 or features.shape[1] != self.dim:
            raise ValueError(f"features: expected shape (N, {self.dim}), got {tuple(features.shape)}")
        if features.shape[0] == 0:
            return self
        x = features.detach().to(device=self._mean.device, dtype=torch.float64)
        mean_b = x.mean(dim=0)
        xc = x - mean_b
        self._combine(x.shape[0], mean_b, xc.T @ xc)
        return self

    def merge(self, other: GaussianStats) -> GaussianStats:
        """Fold another accumulator (same D) into this one; returns ``self``."""
        if not isinstance(other, GaussianStats) or other.dim != self.dim:
            raise ValueError(f"merge: expected GaussianStats with dim={self.dim}, got {other!r}")
        if other.count:
            self._combine(other.count, other._mean.to(self._mean.device), other._m2.to(self._mean.device))
        return self

    def mean(self) -> torch.Tensor:
        """Sample mean, float64 ``(D,)``."""
        if self.count == 0:
            raise ValueError("GaussianStats: no samples were added")
        return self._mean.clone()

    def covariance(self, estimator: CovarianceEstimator = "unbiased") -> torch.Tensor:
        """Sample covariance, float64 ``(D, D)``.

        Args:
            estimator: ``"unbiased"`` divides by N - 1 (``numpy.cov``'s default, used by
                the TTUR FID code and torch-fidelity), ``"biased"`` by N.
        """
        if estimator not in _ESTIMATORS:
            raise ValueError(f"estimator: expected one of {_ESTIMATORS}, got {estimator!r}")
        denom = self.count - 1 if estimator == "unbiased" else self.count
        if denom < 1:
            raise ValueError(f"GaussianStats: the {estimator} covariance needs more samples, got {self.count}")
        return self._m2 / denom

    def frechet_distance(self, other: GaussianStats, estimator: CovarianceEstimator = "unbiased") -> float:
        """:func:`frechet_distance` between this and another accumulator."""
        return frechet_distance(self.mean(), self.covariance(estimator), other.mean(), other.covariance(estimator))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors that :meth:`from_state_dict` (and safetensors) round-trip."""
        return {
            "count": torch.tensor([self.count], dtype=torch.int64),
            "mean": self._mean.cpu().clone(),
            "m2": self._m2.cpu().clone(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> GaussianStats:
        """Rebuild an accumulator from :meth:`state_dict` output."""
        missing = {"count", "mean", "m2"} - set(state)
        if missing:
            raise KeyError(f"GaussianStats state: missing {sorted(missing)}")
        mean = state["mean"].to(torch.float64)
        out = cls(int(mean.shape[0]))
        out.count = int(state["count"].reshape(-1)[0])
        out._mean = mean.clone()
        out._m2 = state["m2"].to(torch.float64).clone()
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the statistics to a ``.safetensors`` file (e.g. reference statistics of a dataset)."""
        from safetensors.torch import save_file

        save_file(self.state_dict(), str(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GaussianStats:
        """Read statistics written by :meth:`save`."""
        from safetensors.torch import load_file

        return cls.from_state_dict(load_file(str(path)))

    def __repr__(self) -> str:
        return f"GaussianStats(dim={self.dim}, count={self.count})"
