"""The public surface of the top-level package: pinned, importable, documented."""

from __future__ import annotations

import inspect

import vidgan_blocks

EXPECTED = {
    # ops
    "DownsampleMode", "RandomCrop", "SampleFrames", "SpatialDownsample", "TemporalRepeat", "TemporalSubsample",
    "gather_windows", "random_crop", "random_window_starts", "sample_frames", "spatial_downsample",
    "spatial_upsample", "temporal_repeat", "temporal_subsample", "temporal_windows", "widen_windows",
    "channels_last", "is_channels_last",
    # layers
    "AxialSelfAttention", "ConditionalBatchNorm", "FrameBatchNorm", "MixedProjectionHead", "ProjectionHead",
    "SNConv1d", "SNConv2d", "SNConv3d", "SNEmbedding", "SNLinear", "SelfAttention", "SeparableConv3d",
    "SeparableSelfAttention", "apply_spectral_norm", "freeze_spectral_norm", "group_spectral_norm", "has_spectral_norm",
    "orthogonal_init_", "spectral_norm_cache",
    # blocks
    "DBlock", "DBlock3d", "GBlock", "GBlock3d", "LowResSkip",
    # losses
    "DiscriminatorOutputs", "d_hinge_loss", "flatten_outputs", "g_hinge_loss", "orthogonal_regularization",
    # data
    "ContextSplit", "DataWarning", "EmptyDatasetError", "FrameFolder", "MovingShapes", "SkippedFile",
    "VideoFolder", "VideoInfo", "VideoReadError", "ViewFactors", "clip_frame_indices", "frames_grid",
    "make_views", "probe_video", "read_class_index", "read_video", "save_video", "split_context",
    "video_grid", "window_pair",
    # training
    "CheckpointError", "CheckpointInfo", "CheckpointManager", "DistributedContext", "EMAMixin",
    "FrameConditionalMixin", "GANTrainer", "InfiniteRankSampler", "MetricLogger", "StandingStatsMixin",
    "StatsCollector", "TrainerConfig", "VideoAugment", "WindowedTrainingMixin", "all_reduce_flag", "average_gradients",
    "broadcast_module", "capture_rng_state", "check_replicas_identical", "context_of", "enable_cross_replica_bn",
    "init_distributed", "is_checkpoint", "load_checkpoint", "report", "restore_rng_state", "save_checkpoint",
    "standing_stats", "truncated_normal",
    # metrics (the torch-fidelity pair is imported on first use)
    "I3D", "GaussianStats", "I3DFeatures", "I3DOutput", "Preprocess", "Score", "evaluate_videos",
    "extract_i3d_features", "frechet_distance", "fvd", "i3d_fid", "i3d_inception_score", "i3d_kid", "load_i3d",
    "plot_power_spectra", "power_spectrum", "preprocess_video", "psd_summary", "frame_metrics",
    "register_torch_fidelity",
    # ops: kernel warping
    "FactorizedKernels", "KernelWarp", "factorized_kernels", "kernel_offsets", "kernel_warp",
    # recurrent
    "ActLayer", "ConvGRU", "ConvLSTM", "FactorizedKernelNet", "KTrajGRU", "MultiplicativeConvGRU",
    "PixelwiseKernelNet", "RecurrentUnit", "TSRUVariant", "combine_flows", "expected_flow", "flow_to_rgb",
    # generators
    "CascadeFirstLevelConfig", "CascadeFirstLevelGenerator", "Conditioning", "ConditioningSkip", "DVDGenerator",
    "DVDGeneratorConfig", "FrameEncoder", "FramePredictionConfig", "FramePredictionGenerator", "GeneratorConfig",
    "GeneratorUnit", "NoiseStem", "OutputHead", "RecurrentFactory", "TruncationMode", "UpsamplingGenerator",
    "UpsamplingGeneratorConfig", "UpsamplingUnit", "build_generator", "cascade_upsampling_generator",
    "config_from_dict", "config_from_json", "count_parameters", "dvd_gan_config", "dvd_gan_fp_generator",
    "dvd_gan_generator", "encoder_trunk", "make_generator", "paper_generator_configs", "per_frame",
    "recurrent_factory", "reset_frame_stats", "sample_labels", "sample_noise", "sample_videos",
    "ssw_stage1_generator", "trivd_gan_fp_generator",
    # discriminators (decomposition builders stay in vidgan_blocks.discriminators)
    "CroppedDiscriminator", "DiscriminatorConfig", "DiscriminatorTrunk", "MatchingDiscriminator",
    "MultiDiscriminator", "ScoreHead", "SpatialDiscriminator", "TemporalDiscriminator", "VideoDiscriminator",
    "paper_discriminator", "prepend_cond_frames",
    # cascade
    "Cascade", "Level", "LevelOptim", "LevelTrainer", "UpsamplingLevelTrainer", "VideoStreamWriter", "chunk_plan",
    "temporal_radius",
}  # fmt: skip


def test_public_names_are_pinned():
    assert set(vidgan_blocks.__all__) == EXPECTED


def test_every_public_name_resolves_and_is_documented():
    undocumented = []
    for name in vidgan_blocks.__all__:
        obj = getattr(vidgan_blocks, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not (obj.__doc__ or "").strip():
            undocumented.append(name)
    assert undocumented == []


def test_no_name_is_exported_by_two_subpackages():
    seen: dict[str, str] = {}
    for pkg in (*vidgan_blocks._SUBPACKAGES, vidgan_blocks.metrics, vidgan_blocks.discriminators):
        for name in pkg.__all__:
            assert name not in seen, f"{name} exported by both {seen[name]} and {pkg.__name__}"
            seen[name] = pkg.__name__
