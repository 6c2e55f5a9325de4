"""Fréchet distance against closed forms and scipy; streaming statistics against batch ones."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given
from hypothesis import strategies as st

from vidgan_blocks.metrics import GaussianStats, frechet_distance


def random_cov(d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
    return np.cov(x, rowvar=False)


def scipy_frechet(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_zero_for_identical_statistics():
    rng = np.random.default_rng(0)
    mu, s = rng.standard_normal(16), random_cov(16, 64, rng)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)


def test_zero_for_identical_rank_deficient_statistics():
    rng = np.random.default_rng(1)
    mu, s = rng.standard_normal(32), random_cov(32, 8, rng)  # rank 7
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-7)


def test_symmetric():
    rng = np.random.default_rng(2)
    a = (rng.standard_normal(10), random_cov(10, 40, rng))
    b = (rng.standard_normal(10), random_cov(10, 40, rng))
    assert frechet_distance(*a, *b) == pytest.approx(frechet_distance(*b, *a), rel=1e-10)


def test_diagonal_closed_form():
    rng = np.random.default_rng(3)
    d = 12
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    v1, v2 = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum())
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("d,n", [(8, 100), (64, 500), (48, 200)])
def test_matches_scipy_sqrtm(d, n):
    rng = np.random.default_rng(d + n)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_cov(d, n, rng), random_cov(d, n, rng)
    ours = frechet_distance(mu1, s1, mu2, s2)
    ref = scipy_frechet(mu1, s1, mu2, s2)
    assert abs(ours - ref) / abs(ref) < 1e-6


def test_accepts_torch_and_numpy_alike():
    rng = np.random.default_rng(4)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    s1, s2 = random_cov(6, 30, rng), random_cov(6, 30, rng)
    a = frechet_distance(mu1, s1, mu2, s2)
    b = frechet_distance(*(torch.from_numpy(v).float() for v in (mu1, s1, mu2, s2)))
    assert a == pytest.approx(b, rel=1e-5)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(D,\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(TypeError):
        frechet_distance([0.0], np.eye(1), np.zeros(1), np.eye(1))


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=6),
    d=st.integers(min_value=1, max_value=5),
)
def test_streaming_equals_batch(sizes, d):
    gen = torch.Generator().manual_seed(sum(sizes) * 7 + d)
    x = torch.randn(sum(sizes), d, generator=gen, dtype=torch.float64) * 3 + 5
    stats = GaussianStats(d)
    for chunk in torch.split(x, sizes):
        stats.update(chunk)
    assert stats.count == x.shape[0]
    assert torch.allclose(stats.mean(), x.mean(0), atol=1e-12)
    if x.shape[0] > 1:
        ref = np.cov(x.numpy(), rowvar=False).reshape(d, d)
        assert np.allclose(stats.covariance("unbiased").numpy(), ref, atol=1e-10)
        ref_b = np.cov(x.numpy(), rowvar=False, bias=True).reshape(d, d)
        assert np.allclose(stats.covariance("biased").numpy(), ref_b, atol=1e-10)


def test_merge_equals_single_stream():
    x = torch.randn(50, 4)
    a, b, full = GaussianStats(4), GaussianStats(4), GaussianStats(4)
    a.update(x[:13])
    b.update(x[13:])
    full.update(x)
    a.merge(b)
    assert a.count == 50
    assert torch.allclose(a.covariance(), full.covariance(), atol=1e-12)
    assert torch.allclose(a.mean(), full.mean(), atol=1e-12)


def test_float32_input_is_accumulated_in_float64():
    x = (torch.randn(1000, 3, dtype=torch.float64) * 1e-3 + 1e4).float()
    stats = GaussianStats(3).update(x)
    ref = np.cov(x.double().numpy(), rowvar=False)
    assert stats.covariance().dtype == torch.float64
    assert np.allclose(stats.covariance().numpy(), ref, rtol=1e-8, atol=1e-12)


def test_stats_distance_and_save_roundtrip(tmp_path):
    x, y = torch.randn(40, 5), torch.randn(30, 5) + 1
    sx, sy = GaussianStats(5).update(x), GaussianStats(5).update(y)
    ref = frechet_distance(x.double().mean(0), np.cov(x.double().numpy(), rowvar=False),
                           y.double().mean(0), np.cov(y.double().numpy(), rowvar=False))
    assert sx.frechet_distance(sy) == pytest.approx(ref, rel=1e-10)
    path = tmp_path / "stats.safetensors"
    sx.save(path)
    back = GaussianStats.load(path)
    assert back.count == 40 and torch.equal(back.covariance(), sx.covariance())


def test_stats_errors():
    stats = GaussianStats(3)
    with pytest.raises(ValueError, match="no samples"):
        stats.mean()
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        stats.update(torch.zeros(2, 4))
    with pytest.raises(TypeError):
        stats.update([[0.0, 0.0, 0.0]])
    stats.update(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="more samples"):
        stats.covariance()
    with pytest.raises(ValueError, match="estimator"):
        stats.covariance("mle")
    with pytest.raises(ValueError):
        GaussianStats(0)
