"""Every paper configuration: at paper width on the meta device, at tiny width on the test device; configs as JSON."""

from __future__ import annotations

import pytest
import torch

from tests.generators._toy import meta_device, missing_grads_except_pre_norm_bias, open_attention
from vidgan_blocks.generators import (
    CascadeFirstLevelConfig,
    DVDGeneratorConfig,
    FramePredictionConfig,
    FramePredictionGenerator,
    UpsamplingGenerator,
    UpsamplingGeneratorConfig,
    build_generator,
    cascade_upsampling_generator,
    config_from_dict,
    config_from_json,
    count_parameters,
    dvd_gan_fp_generator,
    dvd_gan_generator,
    paper_generator_configs,
    reset_frame_stats,
    ssw_stage1_generator,
    trivd_gan_fp_generator,
)

BUILDERS = paper_generator_configs()

# Paper output (frames, size) of every configuration.
EXPECTED = {
    "dvd_gan_64_12f": (12, 64),
    "dvd_gan_64_48f": (48, 64),
    "dvd_gan_128_12f": (12, 128),
    "dvd_gan_128_48f": (48, 128),
    "dvd_gan_256_12f": (12, 256),
    "dvd_gan_256_48f": (48, 256),
    "dvd_gan_fp_64": (11, 64),
    "dvd_gan_fp_128": (11, 128),
    "trivd_gan_fp_48": (11, 64),
    "trivd_gan_fp_120": (11, 64),
    "ssw_stage1_32": (25, 32),
    "cvg_kinetics_level1": (24, 32),
    "cvg_ucf101_level1": (8, 64),
    "cvg_bdd100k_level1": (12, 64),
    "cascade_kinetics_level2": (12, 128),
    "cascade_ucf101_level2": (16, 128),
    "cascade_bdd100k_level2": (12, 128),
    "cascade_bdd100k_level3": (12, 256),
}

# Tiny widths and sizes: a 1x1 (or 2x2) stem and 8-pixel low-resolution inputs keep every
# unit, block and skip of the paper layout while the spatial sizes shrink.
TINY_FRAMES = 2
TINY: dict[str, dict] = {}
for name in BUILDERS:
    ones = (1,) * (6 if name.endswith("128") else 5)
    if name.startswith("dvd_gan_fp"):
        TINY[name] = {"ch": 8, "multipliers": ones, "base_size": 1, "frames": TINY_FRAMES, "cond_frames": 2,
                      "encoder_ch": 1, "recurrent_channels": 8}
    elif name.startswith("dvd_gan"):
        TINY[name] = {"ch": 8, "multipliers": (1,) * {"64": 5, "128": 6, "256": 7}[name.split("_")[2]], "base_size": 1}
    elif name.startswith("trivd"):
        TINY[name] = {"ch": 2, "base_size": 2, "frames": TINY_FRAMES, "cond_frames": 2, "encoder_ch": 1}
    elif name.startswith("cascade_"):
        TINY[name] = {"ch": 1, "frames_in": 1, "low_size": 16 if "level3" in name else 8}
    else:
        TINY[name] = {"ch": 1, "base_size": 1, "frames": TINY_FRAMES}


def _inputs(g, batch: int, frames: int | None = None, device: torch.device | None = None):
    """Noise, labels, context and output length for ``g`` (``device=None``: the default or ambient device)."""
    cfg = g.config
    z = torch.randn(batch, g.z_dim, device=device)
    y = torch.randint(g.num_classes, (batch,), device=device) if g.num_classes else None
    if isinstance(g, UpsamplingGenerator):
        low = torch.rand(batch, 3, cfg.frames_in, g.low_size, g.low_size, device=device) * 2 - 1
        return z, y, {"low_res": low}, cfg.frames_in * cfg.factor_t
    if isinstance(g, FramePredictionGenerator):
        cond = torch.rand(batch, 3, cfg.cond_frames, g.resolution, g.resolution, device=device) * 2 - 1
        return z, y, {"cond_frames": cond}, cfg.frames
    if frames is not None:
        return z, y, {"frames": frames}, frames
    return z, y, {}, cfg.frames


def test_every_configuration_is_listed():
    assert set(BUILDERS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_paper_width_on_meta(name):
    with meta_device():
        g = BUILDERS[name]()
        z, y, ctx, t = _inputs(g, 2)
        reset_frame_stats(g, t)
        v = g.eval()(z, y, **ctx)
    frames, size = EXPECTED[name]
    assert v.is_meta and v.shape == (2, 3, frames, size, size)
    assert all(p.is_meta for p in g.parameters())
    n = count_parameters(g)
    assert n > 10_000_000
    print(f"{name}: {n:,d} parameters")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_tiny_width_on_device(name, device):
    g = open_attention(BUILDERS[name](**TINY[name])).to(device)
    z, y, ctx, t = _inputs(g, 2, TINY_FRAMES, device)
    v = g(z, y, **ctx)
    size = g.resolution
    assert v.shape == (2, 3, t, size, size) and size < EXPECTED[name][1]
    assert torch.isfinite(v).all() and v.abs().max() <= 1
    v.square().mean().backward()
    assert missing_grads_except_pre_norm_bias(g) == []


def test_paper_layouts():
    with meta_device():
        dvd12, dvd48 = dvd_gan_generator(64, 12), dvd_gan_generator(128, 48)
        fp, trivd = dvd_gan_fp_generator(), trivd_gan_fp_generator(120)
        ssw, up = ssw_stage1_generator(), cascade_upsampling_generator("kinetics", 2)
    assert type(dvd12.units[0].recurrent).__name__ == "MultiplicativeConvGRU"
    assert type(dvd48.units[0].recurrent).__name__ == "ConvGRU"
    assert dvd12.units[0].recurrent.hidden_channels == 1024 and dvd48.ch == 64
    assert (dvd12.z_dim, dvd12.conditioning.class_dim, dvd12.num_classes) == (120, 120, 600)
    assert fp.units[0].recurrent.hidden_channels == 512 and fp.num_classes == 1
    assert [b.out_channels for b in fp.encoder.blocks] == [256, 512, 1024, 2048, 2048]
    assert sorted(fp.skips) == ["0", "1", "2"]  # 8, 16 and 32 pixels
    assert trivd.ch == 120 and trivd.base_size == 8 and len(trivd.units) == 3
    assert all(type(u.recurrent).__name__ == "TSRU" and u.recurrent.variant == "p" for u in trivd.units)
    assert all(u.frame_conv is not None for u in trivd.units)
    assert sorted(trivd.state_convs) == ["0", "1", "2"] and trivd.conditioning.cond_dim == 256
    assert not hasattr(trivd.stem.linear, "parametrizations")
    assert all(type(u.recurrent).__name__ == "ConvGRU" for u in ssw.units) and ssw.resolution == 32
    assert [u.out_channels for u in ssw.units] == [1024, 1024, 512, 256]
    assert up.base_size == 8 and up.low_size == 32 and [u.out_channels for u in up.units] == [1024, 1024, 512, 256, 128]
    assert len(trivd.encoder.blocks) == 3 and trivd.encoder.sizes(64) == [32, 16, 8]


@pytest.mark.parametrize(
    "config",
    [
        DVDGeneratorConfig(),
        DVDGeneratorConfig(ch=64, multipliers=(16, 16, 8, 4, 2, 1), num_classes=101, recurrent="conv_gru"),
        CascadeFirstLevelConfig(num_classes=600),
        FramePredictionConfig(recurrent="tsru_p", recurrent_channels=None, encoder_multipliers=(1, 2)),
        UpsamplingGeneratorConfig(low_size=64, factor_s=2),
    ],
)
def test_config_json_round_trip(config):
    text = config.to_json()
    assert type(config).from_json(text) == config
    assert config_from_json(text) == config
    assert config_from_dict(config.to_dict()) == config
    assert isinstance(config_from_json(text).multipliers, tuple)


def test_rebuild_from_saved_config_gives_same_module():
    g = ssw_stage1_generator(ch=1, frames=2)
    h = build_generator(config_from_json(g.config.to_json()))
    assert type(h) is type(g) and h.config == g.config
    assert {k: v.shape for k, v in g.state_dict().items()} == {k: v.shape for k, v in h.state_dict().items()}
    h.load_state_dict(g.state_dict())


def test_config_errors():
    with pytest.raises(ValueError, match="unknown fields"):
        DVDGeneratorConfig.from_dict({"kind": "dvd", "width": 3})
    with pytest.raises(ValueError, match="expected kind 'dvd'"):
        DVDGeneratorConfig.from_dict({"kind": "upsampling"})
    with pytest.raises(ValueError, match="kind: expected one of"):
        config_from_dict({"kind": "nope"})
    with pytest.raises(ValueError, match="recurrent: expected one of"):
        build_generator(DVDGeneratorConfig(ch=1, recurrent="lstm9"))
    with pytest.raises(TypeError):
        build_generator({"kind": "dvd"})
    with pytest.raises(dataclasses_error()):
        DVDGeneratorConfig().ch = 3  # frozen


def dataclasses_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


@pytest.mark.parametrize(
    "call",
    [
        lambda: dvd_gan_generator(32),
        lambda: dvd_gan_generator(64, 24),
        lambda: dvd_gan_fp_generator(256),
        lambda: trivd_gan_fp_generator(64),
        lambda: ssw_stage1_generator(128),
        lambda: cascade_upsampling_generator("kinetics", 3),
    ],
)
def test_builders_reject_unknown_settings(call):
    with pytest.raises(ValueError):
        call()


def test_count_parameters_counts_spectral_weights_once():
    from vidgan_blocks.layers import SNConv2d

    conv = SNConv2d(2, 3, 3)
    assert count_parameters(conv) == 2 * 3 * 9 + 3
    conv.bias.requires_grad_(False)
    assert count_parameters(conv) == 54 and count_parameters(conv, trainable_only=False) == 57


def test_trivd_gan_fp_states_and_encoder_follow_appendix_a_and_f3():
    # F.3: each initial state is a 3x3 convolution followed by a ReLU; A: the encoder is
    # the spatial discriminator's network, so it has D's width (48 / 120 on Kinetics).
    from vidgan_blocks.discriminators import trivd_gan_fp_config

    for width, large in ((48, False), (120, True)):
        with meta_device():
            g = trivd_gan_fp_generator(width)
        assert g.config.state_kernel == 3 and g.config.state_relu
        assert g.config.encoder_ch == trivd_gan_fp_config(large=large).ch == width
        for seq in g.state_convs.values():
            conv, act = seq
            assert conv.kernel_size == (3, 3) and conv.padding == (1, 1) and isinstance(act, torch.nn.ReLU)
        assert [b.out_channels for b in g.encoder.blocks] == [2 * width, 4 * width, 8 * width]


def test_dvd_gan_fp_has_a_learned_constant_class_and_a_plain_1x1_state():
    # TrIVD-GAN-FP A: DVD-GAN-FP uses a dummy constant zero class; DVD-GAN A.4: a 1x1
    # convolution to 512 channels forms the state, with no activation named.
    torch.manual_seed(0)
    g = dvd_gan_fp_generator(**TINY["dvd_gan_fp_64"])
    assert g.num_classes == 1 and g.config.num_classes == 1 and not g.config.state_relu
    conv, act = g.state_convs["0"]
    assert conv.kernel_size == (1, 1) and isinstance(act, torch.nn.Identity)
    embedding = [p for n, p in g.conditioning.named_parameters() if "embed" in n]
    assert embedding and all(p.requires_grad for p in embedding)
    z, y, ctx, _ = _inputs(g, 2)
    assert y is not None and (y == 0).all()
    g(z, y, **ctx).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in embedding)
    # the state can be negative: no ReLU clips it
    feats = [f.flatten(1, 2) for f in g.encoder(ctx["cond_frames"])]
    state = g.state_convs["0"](feats[g._state_source["0"]])
    assert (state < 0).any()


def test_cvg_bdd100k_level2_is_hvg_b2_at_paper_width():
    # HVG B.2, BDD100K 128x128: G base 96 channels, multipliers [8, 8, 4, 2, 1].
    with meta_device():
        g = cascade_upsampling_generator("bdd100k", 2)
    assert g.config.ch == 96 and g.config.multipliers[1:] == (8, 8, 4, 2, 1)
    assert [u.out_channels for u in g.units] == [96 * m for m in (8, 8, 4, 2, 1)]
    assert count_parameters(g) == 110_119_491  # 110.1M
