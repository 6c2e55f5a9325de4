"""Typed builders for the paper configurations, and the config -> module edge.

Each ``*_generator`` builder returns a module with its frozen config attached as
``module.config`` (save it with :meth:`to_json`; rebuild with
:func:`build_generator`). Keyword ``overrides`` replace config fields, e.g.
``ch=4`` for a tiny test model. The widths come from DVD-GAN A.2 / A.4,
TrIVD-GAN-FP A, SSW-GAN B.1-B.2 and HVG B.1-B.2 (tables in each builder's
docstring); where a paper leaves a value open, the docstring says
what is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from torch import nn

from ..layers.spectral import group_spectral_norm
from .config import (
    CascadeFirstLevelConfig,
    DVDGeneratorConfig,
    FramePredictionConfig,
    GeneratorConfig,
    UpsamplingGeneratorConfig,
)
from .dvd import CascadeFirstLevelGenerator, DVDGenerator
from .prediction import FramePredictionGenerator
from .upsampling import UpsamplingGenerator

__all__ = [
    "RECURRENT_UNIT_NAMES",
    "recurrent_factory",
    "dvd_gan_config",
    "build_generator",
    "count_parameters",
    "dvd_gan_generator",
    "dvd_gan_fp_generator",
    "trivd_gan_fp_generator",
    "ssw_stage1_generator",
    "cascade_upsampling_generator",
    "paper_generator_configs",
]

RECURRENT_UNIT_NAMES = ("conv_gru", "mconv_gru", "conv_lstm", "ktraj_gru", "tsru_c", "tsru_p", "tsru_s", "ptsru")


def recurrent_factory(name: str) -> Callable[..., nn.Module]:
    """The recurrent-unit class (or partial) a config names.

    ``conv_gru``, ``mconv_gru`` (multiplicative ConvGRU, DVD-GAN A.2), ``conv_lstm``,
    ``ktraj_gru``, ``tsru_c`` / ``tsru_p`` / ``tsru_s`` (TrIVD-GAN-FP 3.2) and ``ptsru``.
    """
    from .. import recurrent as rec

    table: dict[str, Callable[..., nn.Module]] = {
        "conv_gru": rec.ConvGRU,
        "mconv_gru": rec.MultiplicativeConvGRU,
        "conv_lstm": rec.ConvLSTM,
        "ktraj_gru": rec.KTrajGRU,
        "tsru_c": partial(rec.TSRU, variant="c"),
        "tsru_p": partial(rec.TSRU, variant="p"),
        "tsru_s": partial(rec.TSRU, variant="s"),
        "ptsru": rec.PTSRU,
    }
    if name not in table:
        raise ValueError(f"recurrent: expected one of {RECURRENT_UNIT_NAMES}, got {name!r}")
    return table[name]


def build_generator(config: GeneratorConfig) -> nn.Module:
    """Build the generator a config describes; the config is attached as ``.config``."""
    fields = dataclasses.asdict(config)
    module: nn.Module
    if isinstance(config, UpsamplingGeneratorConfig):
        fields.pop("frames_in")
        name = fields.pop("recurrent")
        rnn_up = None if name is None else recurrent_factory(name)
        module = UpsamplingGenerator(fields.pop("ch"), fields.pop("multipliers"), recurrent_layer=rnn_up, **fields)
    elif isinstance(config, (DVDGeneratorConfig, CascadeFirstLevelConfig, FramePredictionConfig)):
        cls = {
            DVDGeneratorConfig: DVDGenerator,
            CascadeFirstLevelConfig: CascadeFirstLevelGenerator,
            FramePredictionConfig: FramePredictionGenerator,
        }[type(config)]
        rnn = recurrent_factory(fields.pop("recurrent"))
        module = cls(fields.pop("ch"), fields.pop("multipliers"), rnn, **fields)
    else:
        raise TypeError(f"config: expected a generator config dataclass, got {type(config).__name__}")
    module.config = config  # type: ignore[assignment]
    return group_spectral_norm(module)  # one batched power iteration per call


def count_parameters(module: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of parameter entries (spectral-norm weights counted once)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def _apply(config: Any, overrides: dict[str, Any]) -> Any:
    return dataclasses.replace(config, **overrides) if overrides else config


def dvd_gan_config(
    resolution: Literal[64, 128, 256] = 64, frames: Literal[12, 48] = 12, *, num_classes: int | None = 600, **overrides: Any
) -> DVDGeneratorConfig:
    """Config of :func:`dvd_gan_generator`."""
    if resolution not in (64, 128, 256):
        raise ValueError(f"resolution: expected 64, 128 or 256, got {resolution}")
    if frames not in (12, 48):
        raise ValueError(f"frames: expected 12 or 48, got {frames}")
    mults = {64: (8, 8, 8, 4, 2), 128: (16, 16, 8, 4, 2, 1), 256: (16, 16, 8, 8, 4, 2, 1)}[resolution]
    ch = 128 if resolution == 64 and frames < 48 else 64
    cfg = DVDGeneratorConfig(
        ch=ch,
        multipliers=mults,
        recurrent="conv_gru" if frames >= 48 else "mconv_gru",
        num_classes=num_classes,
        frames=frames,
    )
    return _apply(cfg, overrides)


def dvd_gan_generator(
    resolution: Literal[64, 128, 256] = 64, frames: Literal[12, 48] = 12, *, num_classes: int | None = 600, **overrides: Any
) -> DVDGenerator:
    """DVD-GAN generator (A.2) at 64, 128 or 256 pixels, 12 or 48 frames.

    ===========  =====  ==========================  ==========================
    resolution   ch     multipliers                 recurrent unit
    ===========  =====  ==========================  ==========================
    64           128    [8, 8, 8, 4, 2]             MConvGRU (< 48 f), ConvGRU
    128          64     [16, 16, 8, 4, 2, 1]        same rule
    256          64     [16, 16, 8, 8, 4, 2, 1]     same rule
    ===========  =====  ==========================  ==========================

    ``ch`` is 64 for 48 frames at any resolution ("64 for models at greater than
    64x64 resolution, or which generate 48 frames"). z and e(y) are 120-d;
    ``num_classes`` defaults to Kinetics-600. A.2 gives no list for 256x256: BigGAN's
    256x256 multipliers are used.
    """
    return build_generator(dvd_gan_config(resolution, frames, num_classes=num_classes, **overrides))  # type: ignore[return-value]


def dvd_gan_fp_generator(
    resolution: Literal[64, 128] = 64, *, cond_frames: int = 5, frames: int = 11, **overrides: Any
) -> FramePredictionGenerator:
    """DVD-GAN-FP (A.4): DVD-GAN's generator, initial RNN state from a D_S-trunk encoder.

    The encoder has D_S's widths (ch 128, ``[2, 4, 8, 16, 16]`` at 64x64 and
    ``[1, 2, 4, 8, 16, 16]`` at 128x128); the conditioning frames are folded into
    channels and a 1x1 convolution reduces them to the 512-channel recurrent
    state. A.4 names no activation after that convolution, so none is applied
    (``state_relu=False``; the recurrent state may take negative values). U-Net
    skips join encoder and generator blocks of equal resolution. The class is a
    dummy constant zero label (``num_classes=1``; TrIVD-GAN-FP appendix A says
    DVD-GAN-FP puts one wherever a class label is used): its learned embedding
    gives every conditional batch norm a learned constant scale and offset, which
    the bias-free gain/offset maps cannot provide from z alone (without a class,
    z = 0 would give plain batch norm). Kinetics-600 prediction: 11 frames given 5.
    """
    if resolution not in (64, 128):
        raise ValueError(f"resolution: expected 64 or 128, got {resolution}")
    big = resolution == 128
    cfg = FramePredictionConfig(
        ch=64 if big else 128,
        multipliers=(16, 16, 8, 4, 2, 1) if big else (8, 8, 8, 4, 2),
        encoder_multipliers=(1, 2, 4, 8, 16, 16) if big else (2, 4, 8, 16, 16),
        num_classes=1,
        state_kernel=1,
        state_relu=False,
        cond_frames=cond_frames,
        frames=frames,
    )
    return build_generator(_apply(cfg, overrides))  # type: ignore[return-value]


def trivd_gan_fp_generator(
    width: Literal[48, 120] = 48, *, cond_frames: int = 5, frames: int = 11, **overrides: Any
) -> FramePredictionGenerator:
    """TrIVD-GAN-FP generator (appendix A): three stages from 8x8, TSRU-p in every stage.

    Each stage is a TSRU (variant p, section 4.2), a 3x3 convolution and two G blocks, the
    second upsampling; each TSRU's initial state comes from the encoder features at
    its resolution; z and the (dummy, constant) class features are 128-d each; the
    stem's linear map has no spectral norm. ``width`` is the channel multiplier ``ch``
    (48, or 120 for the large model); the per-stage multipliers ``[8, 8, 4, 2]`` are
    DVD-GAN's 64x64 list from 8x8 on (the paper leaves them to DVD-GAN). The encoder is
    "identical to the spatial discriminator network" (appendix A): the D trunk
    ``[2, 4, 8, 16, 16]`` at the D width, which on Kinetics equals ``width`` (48, or
    120 for the large model, E.2 / Table 3); pass ``encoder_ch`` when D is wider
    (BAIR, C.1: 92). Each initial state comes from a 3x3 convolution followed by a
    ReLU over the encoder features (appendix F.3).
    """
    if width not in (48, 120):
        raise ValueError(f"width: expected 48 or 120, got {width}")
    cfg = FramePredictionConfig(
        ch=width,
        multipliers=(8, 8, 4, 2),
        recurrent="tsru_p",
        z_dim=128,
        num_classes=1,
        class_dim=128,
        base_size=8,
        frames=frames,
        cond_frames=cond_frames,
        encoder_ch=width,
        encoder_multipliers=(2, 4, 8, 16, 16),
        state_kernel=3,
        state_relu=True,
        recurrent_every_unit=True,
        recurrent_channels=None,
        attention=False,
        separable_attention=False,
        frame_conv=True,
        sn_stem=False,
    )
    return build_generator(_apply(cfg, overrides))  # type: ignore[return-value]


def ssw_stage1_generator(
    resolution: Literal[32, 64] = 32, frames: int = 25, *, num_classes: int | None = None, **overrides: Any
) -> CascadeFirstLevelGenerator:
    """First cascade level (SSW-GAN B.1, HVG B.1): ConvGRU + two 2D blocks per unit.

    32x32: ch 128, per-unit ``[8, 8, 4, 2]`` (input 8*ch), 25 frames in SSW-GAN, 24 in
    CVG Kinetics. 64x64 (CVG UCF101 8 frames, BDD100K 12 frames): one more unit,
    ``[8, 8, 4, 2, 1]`` (the papers give no 64x64 list; this follows the 32x32 one).
    """
    if resolution not in (32, 64):
        raise ValueError(f"resolution: expected 32 or 64, got {resolution}")
    mults = (8, 8, 8, 4, 2) if resolution == 32 else (8, 8, 8, 4, 2, 1)
    cfg = CascadeFirstLevelConfig(multipliers=mults, frames=frames, num_classes=num_classes)
    return build_generator(_apply(cfg, overrides))  # type: ignore[return-value]


# (dataset, level) -> (ch, per-unit multipliers, low-res size, factor_s, factor_t, training window in)
_UPSAMPLING = {
    ("kinetics", 2): (128, (8, 8, 4, 2, 1), 32, 4, 2, 6),
    ("ucf101", 2): (128, (8, 8, 4, 2, 1), 64, 2, 2, 8),
    ("bdd100k", 2): (96, (8, 8, 4, 2, 1), 64, 2, 2, 6),
    ("bdd100k", 3): (96, (8, 4, 4, 4, 2, 1), 128, 2, 2, 6),
}


def cascade_upsampling_generator(
    dataset: Literal["kinetics", "ucf101", "bdd100k"] = "kinetics",
    level: int = 2,
    *,
    num_classes: int | None = None,
    **overrides: Any,
) -> UpsamplingGenerator:
    """Upsampling level of a cascade (SSW-GAN B.2, HVG B.2, CVG section 4).

    ==========  =====  ====  ===================  =========================
    dataset     level  ch    per-unit mults       input -> output window
    ==========  =====  ====  ===================  =========================
    kinetics    2      128   [8, 8, 4, 2, 1]      6/32x32 -> 12/128x128
    ucf101      2      128   [8, 8, 4, 2, 1]      8/64x64 -> 16/128x128
    bdd100k     2      96    [8, 8, 4, 2, 1]      6/64x64 -> 12/128x128
    bdd100k     3      96    [8, 4, 4, 4, 2, 1]   6/128x128 -> 12/256x256
    ==========  =====  ====  ===================  =========================

    Every unit but the last upsamples, so the stem is 8x8. The BDD100K lists are HVG
    B.2's 128x128 and 256x256 generators (SSW-GAN's BDD list ``[8, 4, 4, 2, 2]`` belongs
    to its own 3-stage model). UCF101's level 2 has no widths of its own in the
    papers; Kinetics' are used.

    ``recurrent="conv_gru"`` gives the ConvGRU comparison model of SSW-GAN / HVG
    appendix C (one ConvGRU per unit in place of the separable 3D block).
    """
    key = (dataset, level)
    if key not in _UPSAMPLING:
        raise ValueError(f"(dataset, level): expected one of {sorted(_UPSAMPLING)}, got {key}")
    ch, per_unit, low, fs, ft, t_in = _UPSAMPLING[key]
    cfg = UpsamplingGeneratorConfig(
        ch=ch,
        multipliers=(per_unit[0], *per_unit),
        low_size=low,
        factor_s=fs,
        factor_t=ft,
        frames_in=t_in,
        num_classes=num_classes,
    )
    return build_generator(_apply(cfg, overrides))  # type: ignore[return-value]


def paper_generator_configs() -> dict[str, Callable[..., nn.Module]]:
    """Every paper configuration as ``name -> builder`` (call with overrides, e.g. ``ch=4``)."""
    out: dict[str, Callable[..., nn.Module]] = {}
    for res in (64, 128, 256):
        for t in (12, 48):
            out[f"dvd_gan_{res}_{t}f"] = partial(dvd_gan_generator, resolution=res, frames=t)
    out["dvd_gan_fp_64"] = partial(dvd_gan_fp_generator, resolution=64)
    out["dvd_gan_fp_128"] = partial(dvd_gan_fp_generator, resolution=128)
    out["trivd_gan_fp_48"] = partial(trivd_gan_fp_generator, width=48)
    out["trivd_gan_fp_120"] = partial(trivd_gan_fp_generator, width=120)
    out["ssw_stage1_32"] = partial(ssw_stage1_generator, resolution=32, frames=25)
    out["cvg_kinetics_level1"] = partial(ssw_stage1_generator, resolution=32, frames=24)
    out["cvg_ucf101_level1"] = partial(ssw_stage1_generator, resolution=64, frames=8)
    out["cvg_bdd100k_level1"] = partial(ssw_stage1_generator, resolution=64, frames=12)
    for dataset, level in _UPSAMPLING:
        out[f"cascade_{dataset}_level{level}"] = partial(cascade_upsampling_generator, dataset=dataset, level=level)
    return out
