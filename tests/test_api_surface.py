"""The public surface of the top-level package: pinned, importable, documented."""

from __future__ import annotations

import vidgan_blocks

EXPECTED = {
    # ops
    "DownsampleMode", "RandomCrop", "SampleFrames", "SpatialDownsample", "TemporalRepeat", "TemporalSubsample",
    "gather_windows", "random_crop", "random_window_starts", "sample_frames", "spatial_downsample",
    "spatial_upsample", "temporal_repeat", "temporal_subsample", "temporal_windows",
    # layers
    "AxialSelfAttention", "ConditionalBatchNorm", "FrameBatchNorm", "MixedProjectionHead", "ProjectionHead",
    "SNConv1d", "SNConv2d", "SNConv3d", "SNEmbedding", "SNLinear", "SelfAttention", "SeparableConv3d",
    "SeparableSelfAttention", "apply_spectral_norm", "freeze_spectral_norm", "has_spectral_norm",
    "orthogonal_init_", "spectral_norm_cache",
    # blocks
    "DBlock", "DBlock3d", "GBlock", "GBlock3d", "LowResSkip",
    # losses
    "DiscriminatorOutputs", "d_hinge_loss", "flatten_outputs", "g_hinge_loss", "orthogonal_regularization",
}  # fmt: skip


def test_public_names_are_pinned():
    assert set(vidgan_blocks.__all__) == EXPECTED


def test_every_public_name_resolves_and_is_documented():
    for name in vidgan_blocks.__all__:
        obj = getattr(vidgan_blocks, name)
        if callable(obj) and not name[0].isupper() or isinstance(obj, type):
            assert obj.__doc__, f"{name} has no docstring"
