"""The public surface of vidgan_blocks.metrics."""

from __future__ import annotations

import vidgan_blocks.metrics as metrics

EXPECTED = {
    "FRECHET_METHOD", "CovarianceEstimator", "GaussianStats", "frechet_distance", "trace_sqrt_product",
    "FRAME_METRICS", "I3D_EXTRACTOR", "INCEPTION_EXTRACTOR", "INCEPTION_WEIGHTS_ENV", "INCEPTION_WEIGHTS_FILE",
    "FrameDataset", "I3DFeatureExtractor", "SafeInceptionV3", "VideoTensorDataset", "frame_metrics",
    "register_torch_fidelity", "I3D", "I3D_WEIGHTS_ENV", "I3D_WEIGHTS_FILE", "I3DOutput", "file_sha256",
    "load_i3d", "load_state_dict_file", "resolve_weights_path", "plot_power_spectra", "power_spectrum",
    "psd_frequencies", "psd_summary", "PRESETS", "Preprocess", "get_preset", "preprocess_video", "VIDEO_METRICS",
    "I3DFeatures", "Score", "evaluate_videos", "extract_i3d_features", "fvd", "i3d_fid", "i3d_inception_score",
    "i3d_kid", "SHAPES_NET_CLASSES", "ShapesNet", "ShapesNetOutput", "class_accuracy", "fvd_ms", "kid_ms",
    "load_shapes_net", "shapes_features", "train_shapes_net",
}  # fmt: skip


def test_all_lists_the_public_names_and_each_resolves():
    assert set(metrics.__all__) == EXPECTED
    for name in metrics.__all__:
        assert getattr(metrics, name) is not None, name


def test_unknown_attribute_raises():
    try:
        metrics.not_a_metric  # noqa: B018
    except AttributeError as err:
        assert "not_a_metric" in str(err)
    else:
        raise AssertionError("expected AttributeError")
