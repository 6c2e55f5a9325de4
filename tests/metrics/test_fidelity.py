"""torch-fidelity path: frame FID/IS/KID on video tensors with a tiny extractor, I3D as an extractor."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch_fidelity import FeatureExtractorBase, FeatureExtractorInceptionV3, calculate_metrics
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from vidgan_blocks.metrics import I3D, Preprocess, frechet_distance, preprocess_video
from vidgan_blocks.metrics.fidelity import (
    I3D_EXTRACTOR,
    INCEPTION_WEIGHTS_ENV,
    FrameDataset,
    SafeInceptionV3,
    VideoTensorDataset,
    frame_metrics,
    register_torch_fidelity,
)

TINY_NAME = "vidgan-test-tiny"


class TinyExtractor(FeatureExtractorBase):
    """Random-weight stand-in for InceptionV3: uint8 (B, 3, H, W) -> 6-d features and 5 logits."""

    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)
        g = torch.Generator().manual_seed(0)
        self.proj = nn.Parameter(torch.randn(3 * 4 * 4, 6, generator=g) * 0.3)
        self.head = nn.Parameter(torch.randn(6, 5, generator=g))

    @staticmethod
    def get_provided_features_list():
        return ("feat", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"fid": "feat", "kid": "feat", "isc": "logits", "prc": "feat"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 3, 8, 8, dtype=torch.uint8)

    def forward(self, x):
        assert x.dtype == torch.uint8 and x.dim() == 4
        f = torch.nn.functional.adaptive_avg_pool2d(x.float() / 255, 4).flatten(1) @ self.proj
        out = {"feat": f, "logits": f @ self.head}
        return tuple(out[k] for k in self.features_list)


if TINY_NAME not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor(TINY_NAME, TinyExtractor)


def clips(seed, n=6, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 4, 10, 12, generator=g) * 2 - 1) * scale


def test_frame_dataset_order_and_uint8():
    v = clips(0, n=2)
    ds = FrameDataset(v, frames=[0, 3])
    assert len(ds) == 4 and ds[0].dtype == torch.uint8 and ds[0].shape == (3, 10, 12)
    ref = ((v[1, :, 3] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    assert torch.equal(ds[3], ref)
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        FrameDataset(v, frames=[4])
    with pytest.raises(ValueError, match=r"\(N, 3, T, H, W\)"):
        FrameDataset(v[0])
    assert len(VideoTensorDataset(v)) == 2


def test_frame_metrics_match_plain_computations():
    real, fake = clips(1), clips(2, scale=0.5)
    scores = frame_metrics(real, fake, feature_extractor=TINY_NAME, is_splits=1, kid_subsets=2, batch_size=5)
    assert set(scores) == {"frame_fid", "frame_is", "frame_kid"}
    ext = TinyExtractor(TINY_NAME, ["feat", "logits"])
    fr, lr = ext(FrameDataset(real).videos.permute(0, 2, 1, 3, 4).reshape(-1, 3, 10, 12))
    ff, lf = ext(FrameDataset(fake).videos.permute(0, 2, 1, 3, 4).reshape(-1, 3, 10, 12))
    a, b = fr.detach().double().numpy(), ff.detach().double().numpy()
    ref_fid = frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert scores["frame_fid"].value == pytest.approx(ref_fid, rel=1e-3)
    p = lf.detach().double().softmax(1)
    ref_is = math.exp(float((p * (p.log() - p.mean(0, keepdim=True).log())).sum(1).mean()))
    assert scores["frame_is"].value == pytest.approx(ref_is, rel=1e-5)
    x, y = torch.from_numpy(a), torch.from_numpy(b)
    m, d = x.shape
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3), ((y @ y.T / d + 1) ** 3), ((x @ y.T / d + 1) ** 3)
    ref_kid = (kxx.sum() - kxx.diag().sum() + kyy.sum() - kyy.diag().sum()) / (m * (m - 1)) - 2 * kxy.mean()
    assert scores["frame_kid"].value == pytest.approx(float(ref_kid), rel=1e-3, abs=1e-5)
    proto = scores["frame_fid"].protocol
    assert proto["images_real"] == 24 and proto["clips_fake"] == 6 and proto["frames_per_clip"] == 4
    assert scores["frame_kid"].protocol["subset_size"] == 24


def test_frame_metrics_identical_sets_and_errors():
    real = clips(3)
    fid = frame_metrics(real, real, metrics=("fid",), feature_extractor=TINY_NAME, frames=[0, 2])
    assert fid["frame_fid"].value == pytest.approx(0.0, abs=1e-5)
    assert fid["frame_fid"].protocol["frames"] == [0, 2]
    with pytest.raises(ValueError, match="metrics"):
        frame_metrics(real, real, metrics=("lpips",), feature_extractor=TINY_NAME)


def test_i3d_registered_as_torch_fidelity_extractor():
    register_torch_fidelity()
    register_torch_fidelity()  # idempotent
    net = I3D(num_classes=6, width=0.125).eval()
    tiny = Preprocess("tiny", size=32)
    real, fake = clips(4, n=5), clips(5, n=5, scale=0.3)
    out = calculate_metrics(
        input1=VideoTensorDataset(fake), input2=VideoTensorDataset(real), feature_extractor=I3D_EXTRACTOR,
        i3d=net, i3d_preprocess=tiny, fid=True, kid=True, isc=True, isc_splits=1, kid_subset_size=5,
        kid_subsets=2, cuda=False, verbose=False, cache=False, save_cpu_ram=True, batch_size=3,
    )  # fmt: skip
    with torch.no_grad():
        lr = net(preprocess_video(real, tiny)).logits.double().numpy()
        lf = net(preprocess_video(fake, tiny)).logits.double().numpy()
    ref = frechet_distance(lr.mean(0), np.cov(lr, rowvar=False), lf.mean(0), np.cov(lf, rowvar=False))
    assert out["frechet_inception_distance"] == pytest.approx(ref, rel=1e-2, abs=1e-6)
    assert out["inception_score_mean"] >= 1.0 and "kernel_inception_distance_mean" in out


def random_inception_file(path):
    class _Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True):
            return None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    torch.save(_Unloaded("x", ["2048"], feature_extractor_weights_path=empty).state_dict(), path)


def test_safe_inception_loads_local_weights_only(tmp_path, monkeypatch):
    path = tmp_path / "inception.pth"
    random_inception_file(path)
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(path))
    net = SafeInceptionV3("vidgan-inception-v3", ["2048", "logits_unbiased"])
    feats, logits = net(torch.randint(0, 256, (1, 3, 40, 40), dtype=torch.uint8))
    assert feats.shape == (1, 2048) and logits.shape == (1, 1008)

    class Payload:
        def __reduce__(self):
            return (print, ("executed",))

    torch.save({"fc.weight": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="evil.pth' refused: loading it would execute code"):
        SafeInceptionV3("vidgan-inception-v3", ["2048"], feature_extractor_weights_path=str(tmp_path / "evil.pth"))
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV)
    with pytest.raises(FileNotFoundError, match="weights-inception-2015-12-05"):
        SafeInceptionV3("vidgan-inception-v3", ["2048"])
