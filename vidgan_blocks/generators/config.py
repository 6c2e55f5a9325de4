"""Frozen dataclass configurations of the generators, saved as JSON beside checkpoints.

Each config holds plain values only (ints, bools, tuples, names of recurrent
units), so it round-trips through JSON: ``type(c).from_json(c.to_json()) == c``
and :func:`config_from_dict` rebuilds any of them from the ``"kind"`` entry that
:meth:`to_dict` writes. :func:`vidgan_blocks.generators.build_generator` turns a
config into a module.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "DVDGeneratorConfig",
    "CascadeFirstLevelConfig",
    "FramePredictionConfig",
    "UpsamplingGeneratorConfig",
    "GeneratorConfig",
    "config_from_dict",
    "config_from_json",
]


class _JsonConfig:
    """JSON round trip for the frozen config dataclasses below."""

    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with a ``"kind"`` entry naming the config class."""
        d = dataclasses.asdict(self)  # type: ignore[call-overload]
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        return {"kind": self.kind, **d}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        data = dict(data)
        kind = data.pop("kind", cls.kind)
        if kind != cls.kind:
            raise ValueError(f"{cls.__name__}: expected kind {cls.kind!r}, got {kind!r}")
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown fields {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> Any:
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class DVDGeneratorConfig(_JsonConfig):
    """:class:`~vidgan_blocks.generators.DVDGenerator` (DVD-GAN A.2); defaults: 64x64, 12 frames."""

    kind: ClassVar[str] = "dvd"
    ch: int = 128
    multipliers: tuple[int, ...] = (8, 8, 8, 4, 2)
    recurrent: str = "mconv_gru"
    z_dim: int = 120
    num_classes: int | None = None
    class_dim: int = 120
    base_size: int = 4
    frames: int = 12
    recurrent_every_unit: bool = False
    recurrent_channels: int | None = None
    attention: bool = True
    separable_attention: bool = True
    frame_conv: bool = False
    blocks_per_unit: int = 2
    upsample_last_unit: bool = True
    sn: bool = True
    sn_stem: bool = True


@dataclass(frozen=True)
class CascadeFirstLevelConfig(_JsonConfig):
    """:class:`~vidgan_blocks.generators.CascadeFirstLevelGenerator` (SSW-GAN B.1); defaults: 25/32x32."""

    kind: ClassVar[str] = "cascade_first_level"
    ch: int = 128
    multipliers: tuple[int, ...] = (8, 8, 8, 4, 2)
    recurrent: str = "conv_gru"
    z_dim: int = 128
    num_classes: int | None = None
    class_dim: int = 128
    base_size: int = 4
    frames: int = 25
    blocks_per_unit: int = 2
    upsample_last_unit: bool = False
    sn: bool = True


@dataclass(frozen=True)
class FramePredictionConfig(_JsonConfig):
    """:class:`~vidgan_blocks.generators.FramePredictionGenerator`; defaults: DVD-GAN-FP's widths, 11 frames given 5.

    The paper configurations come from
    :func:`~vidgan_blocks.generators.dvd_gan_fp_generator` (dummy class, no ReLU on
    the 1x1 state convolution) and :func:`~vidgan_blocks.generators.trivd_gan_fp_generator`;
    ``state_relu`` defaults to True so configs saved before the field existed rebuild
    the same module.
    """

    kind: ClassVar[str] = "frame_prediction"
    ch: int = 128
    multipliers: tuple[int, ...] = (8, 8, 8, 4, 2)
    recurrent: str = "mconv_gru"
    z_dim: int = 120
    num_classes: int | None = None
    class_dim: int = 120
    base_size: int = 4
    frames: int = 11
    cond_frames: int = 5
    encoder_ch: int = 128
    encoder_multipliers: tuple[int, ...] = (2, 4, 8, 16, 16)
    unet_skips: bool = True
    state_kernel: int = 1
    state_relu: bool = True
    recurrent_every_unit: bool = False
    recurrent_channels: int | None = 512
    attention: bool = True
    separable_attention: bool = True
    frame_conv: bool = False
    blocks_per_unit: int = 2
    upsample_last_unit: bool = True
    sn: bool = True
    sn_stem: bool = True


@dataclass(frozen=True)
class UpsamplingGeneratorConfig(_JsonConfig):
    """:class:`~vidgan_blocks.generators.UpsamplingGenerator` (SSW-GAN B.2); defaults: Kinetics 6/32x32 -> 12/128x128.

    ``frames_in`` is the length of the training window of low-resolution frames;
    the module itself accepts any length. ``recurrent`` names a recurrent unit
    (``"conv_gru"`` for the ConvGRU generator of SSW-GAN / HVG appendix C) that
    replaces the separable 3D block of every unit; None (default, the papers'
    model) keeps the 3D blocks, so configs saved before the field existed
    rebuild the same module.
    """

    kind: ClassVar[str] = "upsampling"
    ch: int = 128
    multipliers: tuple[int, ...] = (8, 8, 8, 4, 2, 1)
    low_size: int = 32
    factor_s: int = 4
    factor_t: int = 2
    frames_in: int = 6
    z_dim: int = 128
    num_classes: int | None = None
    class_dim: int = 128
    blocks_per_unit: int = 2
    upsample_last_unit: bool = False
    sn: bool = True
    recurrent: str | None = None


GeneratorConfig = DVDGeneratorConfig | CascadeFirstLevelConfig | FramePredictionConfig | UpsamplingGeneratorConfig

_KINDS: dict[str, type] = {
    c.kind: c for c in (DVDGeneratorConfig, CascadeFirstLevelConfig, FramePredictionConfig, UpsamplingGeneratorConfig)
}


def config_from_dict(data: dict[str, Any]) -> GeneratorConfig:
    """Rebuild any generator config from :meth:`to_dict` output (dispatch on ``"kind"``)."""
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"kind: expected one of {sorted(_KINDS)}, got {kind!r}")
    return _KINDS[kind].from_dict(data)  # type: ignore[no-any-return, attr-defined]


def config_from_json(text: str) -> GeneratorConfig:
    """Rebuild any generator config from :meth:`to_json` output."""
    return config_from_dict(json.loads(text))
