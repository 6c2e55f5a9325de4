"""FVD / I3D FID / IS / KID against plain computations on the same I3D outputs (the network on the test device)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.helpers import tolerances
from vidgan_blocks.metrics import (
    I3D,
    Preprocess,
    evaluate_videos,
    extract_i3d_features,
    frechet_distance,
    fvd,
    i3d_fid,
    i3d_inception_score,
    i3d_kid,
    preprocess_video,
)

TINY = Preprocess("tiny", size=32)


@pytest.fixture(scope="module")
def net(device) -> I3D:
    """A random quarter-width I3D on the test device; the metric functions follow its device."""
    torch.manual_seed(0)
    return I3D(num_classes=10, width=0.125).eval().to(device)


@pytest.fixture(scope="module")
def clips() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    real = torch.rand(8, 3, 6, 20, 20, generator=g) * 2 - 1
    fake = (torch.rand(8, 3, 6, 20, 20, generator=g) * 2 - 1) * 0.3
    return real, fake


def direct(net: I3D, x: torch.Tensor):
    with torch.no_grad():
        return net(preprocess_video(x.to(next(net.parameters()).device), TINY))


def test_fvd_and_fid_are_frechet_of_logits_and_pool(net, clips):
    real, fake = clips
    r, f = direct(net, real), direct(net, fake)

    def ref(a, b):
        a, b = a.double().cpu().numpy(), b.double().cpu().numpy()
        return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))

    got = fvd(real, fake, i3d=net, preprocess=TINY, batch_size=3)
    assert got.value == pytest.approx(ref(r.logits, f.logits), rel=1e-4)
    assert got.value > 0
    assert i3d_fid(real, fake, i3d=net, preprocess=TINY).value == pytest.approx(ref(r.features, f.features), rel=1e-4)


def test_identical_sets_give_zero(net, clips):
    real, _ = clips
    assert fvd(real, real, i3d=net, preprocess=TINY).value == pytest.approx(0.0, abs=1e-6)


def test_streamed_batches_equal_one_tensor(net, clips, device):
    real, _ = clips
    a = extract_i3d_features(real, net, preprocess=TINY, batch_size=8)
    b = extract_i3d_features(iter([real[:3], real[3:5], real[5:]]), net, preprocess=TINY)
    assert a.count == b.count == 8 and a.frames == 6
    # float64 statistics of float32 network outputs: the outputs' device tolerance applies
    cov = tolerances(device, torch.float32, atol=1e-8)
    assert torch.allclose(a.logits_stats.covariance(), b.logits_stats.covariance(), **cov)
    assert torch.allclose(a.pool, b.pool, **tolerances(device, atol=1e-5))


def test_inception_score_matches_plain_formula(net, clips, device):
    _, fake = clips
    logits = direct(net, fake).logits.double()
    p = logits.softmax(1)
    kl = (p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean()
    got = i3d_inception_score(fake, i3d=net, splits=1, shuffle=False, preprocess=TINY)
    tol = tolerances(device, rtol=1e-5)
    assert got.value == pytest.approx(math.exp(float(kl)), rel=tol.get("rtol"), abs=tol.get("atol"))
    assert got.protocol["splits"] == 1 and got.protocol["clips"] == 8


def test_kid_matches_plain_unbiased_mmd(net, clips, device):
    real, fake = clips
    x, y = direct(net, real).logits.double(), direct(net, fake).logits.double()
    d, m = x.shape[1], x.shape[0]

    def k(a, b):
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    ref = (kxx.sum() - kxx.diag().sum()) / (m * (m - 1)) + (kyy.sum() - kyy.diag().sum()) / (m * (m - 1))
    ref -= 2 * kxy.mean()
    got = i3d_kid(real, fake, i3d=net, subsets=3, subset_size=8, preprocess=TINY)
    tol = tolerances(device, rtol=1e-3, atol=1e-6)
    assert got.value == pytest.approx(float(ref), rel=tol["rtol"], abs=tol["atol"])
    assert got.std == pytest.approx(0.0, abs=1e-6)  # every subset is the whole set


def test_evaluate_records_the_protocol(net, clips):
    real, fake = clips
    scores = evaluate_videos(real, fake[:6], i3d=net, preprocess=TINY, is_splits=2, kid_subsets=4)
    assert set(scores) == {"fvd", "fid", "is", "kid"}
    proto = scores["fvd"].protocol
    assert proto["clips_real"] == 8 and proto["clips_fake"] == 6 and proto["frames"] == 6
    assert proto["preprocess"]["name"] == "tiny" and proto["preprocess"]["resize"] == "tf1_bilinear"
    assert proto["covariance"] == "unbiased" and "eigh" in proto["sqrtm"]
    assert proto["network"]["weights_sha256"] == "random" and proto["network"]["bn_eps"] == 1e-3
    assert scores["kid"].protocol["subset_size"] == 6
    assert scores["fvd"].to_dict()["value"] == scores["fvd"].value


def test_reused_features_and_frames_option(net, clips, device):
    real, fake = clips
    r = extract_i3d_features(real, net, preprocess=TINY, frames=4)
    f = extract_i3d_features(fake, net, preprocess=TINY, frames=4)
    assert r.frames == 4
    direct_value = fvd(real[:, :, :4], fake[:, :, :4], i3d=net, preprocess=TINY).value
    tol = tolerances(device, rtol=1e-6)
    assert fvd(r, f).value == pytest.approx(direct_value, rel=tol.get("rtol"), abs=tol.get("atol"))
    with pytest.raises(ValueError, match="same protocol"):
        fvd(r, extract_i3d_features(fake, net, preprocess=TINY, frames=5))
    with pytest.raises(ValueError, match="at least 7 frames"):
        extract_i3d_features(real, net, preprocess=TINY, frames=7)


def test_errors(net, clips):
    real, fake = clips
    with pytest.raises(ValueError, match="I3D network"):
        fvd(real, fake)
    with pytest.raises(TypeError, match="I3D"):
        extract_i3d_features(real, torch.nn.Identity())
    with pytest.raises(ValueError, match=r"\(N, 3, T, H, W\)"):
        extract_i3d_features(real[0], net)
    with pytest.raises(ValueError, match="T=6"):
        extract_i3d_features(iter([real, real[:, :, :5]]), net, preprocess=TINY)
    with pytest.raises(ValueError, match="metrics"):
        evaluate_videos(real, fake, i3d=net, metrics=("psnr",))
    with pytest.raises(ValueError, match="splits"):
        i3d_inception_score(real, i3d=net, splits=9, preprocess=TINY)
