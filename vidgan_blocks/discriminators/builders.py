"""Named discriminator decompositions, their JSON config, and the papers' widths.

Decompositions (TrIVD-GAN-FP Table 1 notation; names of the dict outputs in brackets):

=====================  ==========================================  ===========================
builder                members                                     paper
=====================  ==========================================  ===========================
dvd_gan                F [spatial] + dV [temporal]                 DVD-GAN 3.1
dvd_gan_fp             F + dV, frame conditioning                  DVD-GAN A.4
trivd_faster           dF [spatial] + crV [cropped]                TrIVD-GAN-FP 3.1
trivd_stronger         dF + crV + dV [temporal]                    TrIVD-GAN-FP 3.1
mocogan_like(k)        F + clV [temporal]                          TrIVD-GAN-FP Table 1
clip                   clV                                         Table 1 baseline
downsampled            dV                                          Table 1 baseline
cropped                crV                                         Table 1 baseline
cropped_downsampled    crV + dV                                    Table 1 baseline
cascade_level          F + dV + matching [matching]                SSW-GAN B.2, CVG 3
=====================  ==========================================  ===========================

Each builder returns a :class:`MultiDiscriminator`. The Table-1 builders default
to TrIVD-GAN-FP's setting (video prediction: frame conditioning, mixed projection,
no classes, ch = 48); ``dvd_gan`` and ``cascade_level`` default to projection
heads with per-frame scores summed.

Widths at paper scale (``ch`` x ``multipliers``, input side first):

* DVD-GAN A.2: D ch = 128; ``(2, 4, 8, 16, 16)`` at 64x64, ``(1, 2, 4, 8, 16, 16)``
  at 128x128, for D_S and D_T alike.
* TrIVD-GAN-FP appendix A: five blocks, the first four downsample; the text gives
  one channel multiplier for the model, 48 (120 for the large model), and no
  per-block constants. Reading used here: ch = 48 / 120 with DVD-GAN's 64x64
  constants ``(2, 4, 8, 16, 16)``.
* SSW-GAN B.1 stage 1 (32x32 frames): "128 ... [16, 16, 8, 4, 2]". Every other
  list in the papers is written input side first with widths growing; read in
  that order the first block would have 16 ch and the last 2 ch, unlike any
  BigGAN discriminator, so the list is read output side first:
  ``(2, 4, 8, 16, 16)``. Both readings give valid shapes at 32x32 (four
  downsamplings leave 2x2 for F and 1x1 for the pooled dV input); only this one
  matches DVD-GAN, which stage 1 re-implements.
* SSW-GAN B.2 Kinetics 128x128: ch 96, ``(1, 2, 4, 8, 16, 16)``; BDD100K 128x128:
  ch 64, ``(1, 2, 4, 8, 8, 16)``. HVG appendix B: Kinetics and BDD100K 128x128
  ch 96 ``(1, 2, 4, 8, 16, 16)``; BDD100K 256x256 ch 96 ``(1, 2, 4, 8, 8, 16, 16)``.
* The matching discriminator "utilizes the same architecture as the 3D
  discriminator" (SSW-GAN B.2); its input is already at the low resolution, so
  it is not pooled again by the temporal discriminator's factor 2.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ..layers.spectral import group_spectral_norm
from ..ops import DownsampleMode
from .multi import MultiDiscriminator
from .single import CroppedDiscriminator, MatchingDiscriminator, SpatialDiscriminator, TemporalDiscriminator
from .trunk import Reduction

__all__ = [
    "DVD_GAN_64",
    "DVD_GAN_128",
    "dvd_gan",
    "dvd_gan_fp",
    "trivd_faster",
    "trivd_stronger",
    "mocogan_like",
    "clip",
    "downsampled",
    "cropped",
    "cropped_downsampled",
    "cascade_level",
    "DECOMPOSITIONS",
    "DiscriminatorConfig",
    "PAPER_CONFIGS",
    "paper_config",
    "paper_discriminator",
    "dvd_gan_64_config",
    "dvd_gan_128_config",
    "dvd_gan_fp_config",
    "trivd_gan_fp_config",
    "ssw_gan_stage1_config",
    "ssw_gan_stage2_kinetics_config",
    "ssw_gan_stage2_bdd_config",
    "hvg_kinetics_level2_config",
    "hvg_bdd128_config",
    "hvg_bdd256_config",
]

DVD_GAN_64: tuple[int, ...] = (2, 4, 8, 16, 16)
"""DVD-GAN A.2 discriminator multipliers at 64x64 (also TrIVD-GAN-FP, SSW-GAN stage 1)."""
DVD_GAN_128: tuple[int, ...] = (1, 2, 4, 8, 16, 16)
"""DVD-GAN A.2 discriminator multipliers at 128x128 (also SSW-GAN / HVG Kinetics 128x128)."""

_TRIVD_CH = 48


def _spatial(k, downsample, *, ch, multipliers, num_classes, mixed_projection, reduce, downsample_mode, generator, sn):
    return SpatialDiscriminator(
        k,
        downsample,
        ch=ch,
        multipliers=multipliers,
        num_classes=num_classes,
        mixed_projection=mixed_projection,
        reduce=reduce,
        downsample_mode=downsample_mode,
        generator=generator,
        sn=sn,
    )


def _temporal(downsample, *, ch, multipliers, blocks_3d, num_classes, mixed_projection, reduce, downsample_mode, sn):
    return TemporalDiscriminator(
        downsample,
        ch=ch,
        multipliers=multipliers,
        blocks_3d=blocks_3d,
        num_classes=num_classes,
        mixed_projection=mixed_projection,
        reduce=reduce,
        downsample_mode=downsample_mode,
        sn=sn,
    )


def _cropped(factor, *, ch, multipliers, blocks_3d, num_classes, mixed_projection, reduce, generator, sn):
    return CroppedDiscriminator(
        factor=factor,
        ch=ch,
        multipliers=multipliers,
        blocks_3d=blocks_3d,
        num_classes=num_classes,
        mixed_projection=mixed_projection,
        reduce=reduce,
        generator=generator,
        sn=sn,
    )


def dvd_gan(
    *,
    ch: int = 128,
    multipliers: Sequence[int] = DVD_GAN_64,
    k: int = 8,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = False,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = False,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """DVD-GAN's dual discriminator (section 3.1, A.2): F on k frames + dV pooled by s.

    Returns ``{"spatial": D_S(video), "temporal": D_T(video)}``; the defaults are
    the paper's 64x64 model (ch 128, k = 8, 2x2 average pooling).
    """
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "spatial": _spatial(k, 1, ch=ch, multipliers=multipliers, downsample_mode=downsample_mode, generator=generator, **head),
            "temporal": _temporal(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode=downsample_mode, **head),
        },
        frame_conditioning=frame_conditioning,
    )


def dvd_gan_fp(
    *,
    ch: int = 128,
    multipliers: Sequence[int] = DVD_GAN_64,
    k: int = 8,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = False,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """DVD-GAN-FP (A.4): the dual discriminator on conditioning + predicted frames, no classes."""
    return dvd_gan(
        ch=ch,
        multipliers=multipliers,
        k=k,
        downsample=downsample,
        num_classes=num_classes,
        mixed_projection=mixed_projection,
        reduce=reduce,
        downsample_mode=downsample_mode,
        blocks_3d=blocks_3d,
        frame_conditioning=frame_conditioning,
        generator=generator,
        sn=sn,
    )


def trivd_faster(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    k: int = 8,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """DVD-GAN-FP_faster (TrIVD-GAN-FP 3.1): dF (k frames / s) + crV (T x H/s x W/s crop).

    Processes ``(K + T) x H/s x W/s`` pixels per video instead of DVD-GAN-FP's
    ``K x H x W + T x H/s x W/s``.
    """
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "spatial": _spatial(k, downsample, ch=ch, multipliers=multipliers, downsample_mode=downsample_mode, generator=generator, **head),
            "cropped": _cropped(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, generator=generator, **head),
        },
        frame_conditioning=frame_conditioning,
    )


def trivd_stronger(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    k: int = 8,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """DVD-GAN-FP_stronger (TrIVD-GAN-FP 3.1): dF + crV + dV, the decomposition of TrIVD-GAN-FP."""
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "spatial": _spatial(k, downsample, ch=ch, multipliers=multipliers, downsample_mode=downsample_mode, generator=generator, **head),
            "cropped": _cropped(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, generator=generator, **head),
            "temporal": _temporal(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode=downsample_mode, **head),
        },
        frame_conditioning=frame_conditioning,
    )


def mocogan_like(
    k: int = 8,
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """MoCoGAN-like (TrIVD-GAN-FP Table 1): F on k full-resolution frames + clV on the full clip.

    Table 1 evaluates K = 1 (MoCoGAN's own setting) and K = 8.
    """
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "spatial": _spatial(k, 1, ch=ch, multipliers=multipliers, downsample_mode="avg", generator=generator, **head),
            "temporal": _temporal(1, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode="avg", **head),
        },
        frame_conditioning=frame_conditioning,
    )


def clip(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    sn: bool = True,
) -> MultiDiscriminator:
    """Clip baseline (TrIVD-GAN-FP Table 1): clV alone, the full-resolution clip."""
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {"temporal": _temporal(1, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode="avg", **head)},
        frame_conditioning=frame_conditioning,
    )


def downsampled(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    sn: bool = True,
) -> MultiDiscriminator:
    """Downsampled baseline (TrIVD-GAN-FP Table 1): dV alone."""
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {"temporal": _temporal(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode=downsample_mode, **head)},
        frame_conditioning=frame_conditioning,
    )


def cropped(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """Cropped baseline (TrIVD-GAN-FP Table 1): crV alone (crop of H/s x W/s)."""
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {"cropped": _cropped(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, generator=generator, **head)},
        frame_conditioning=frame_conditioning,
    )


def cropped_downsampled(
    *,
    ch: int = _TRIVD_CH,
    multipliers: Sequence[int] = DVD_GAN_64,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = True,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = True,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """Cropped + Downsampled baseline (TrIVD-GAN-FP Table 1): crV + dV."""
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "cropped": _cropped(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, generator=generator, **head),
            "temporal": _temporal(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode=downsample_mode, **head),
        },
        frame_conditioning=frame_conditioning,
    )


def cascade_level(
    factor_t: int = 2,
    factor_s: int = 4,
    mode: DownsampleMode = "bilinear",
    *,
    ch: int = 96,
    multipliers: Sequence[int] = DVD_GAN_128,
    k: int = 8,
    downsample: int = 2,
    num_classes: int | None = None,
    mixed_projection: bool = False,
    reduce: Reduction = "sum",
    downsample_mode: DownsampleMode = "avg",
    blocks_3d: int = 2,
    frame_conditioning: bool = False,
    generator: torch.Generator | None = None,
    sn: bool = True,
) -> MultiDiscriminator:
    """Discriminators of an upsampling level (SSW-GAN B.2, CVG 3): F + dV + matching.

    The matching member needs ``low_res=`` in the call context: the
    low-resolution window the video was generated from (or, for real data, the
    same window seen through the level's views). Defaults: SSW-GAN's Kinetics
    stage 2 (ch 96, 32x32 -> 128x128, 6 -> 12 frames).
    """
    head = dict(num_classes=num_classes, mixed_projection=mixed_projection, reduce=reduce, sn=sn)
    return MultiDiscriminator(
        {
            "spatial": _spatial(k, 1, ch=ch, multipliers=multipliers, downsample_mode=downsample_mode, generator=generator, **head),
            "temporal": _temporal(downsample, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, downsample_mode=downsample_mode, **head),
            "matching": MatchingDiscriminator(
                factor_t, factor_s, mode, ch=ch, multipliers=multipliers, blocks_3d=blocks_3d, **head
            ),
        },
        frame_conditioning=frame_conditioning,
    )


# --------------------------------------------------------------------------- config

_COMMON = ("ch", "multipliers", "num_classes", "mixed_projection", "reduce", "blocks_3d", "frame_conditioning", "sn")

#: name -> (builder, config fields it takes besides the common ones, takes a generator)
DECOMPOSITIONS: dict[str, tuple[Callable[..., MultiDiscriminator], tuple[str, ...], bool]] = {
    "dvd_gan": (dvd_gan, ("k", "downsample", "downsample_mode"), True),
    "dvd_gan_fp": (dvd_gan_fp, ("k", "downsample", "downsample_mode"), True),
    "trivd_faster": (trivd_faster, ("k", "downsample", "downsample_mode"), True),
    "trivd_stronger": (trivd_stronger, ("k", "downsample", "downsample_mode"), True),
    "mocogan_like": (mocogan_like, ("k",), True),
    "clip": (clip, (), False),
    "downsampled": (downsampled, ("downsample", "downsample_mode"), False),
    "cropped": (cropped, ("downsample",), True),
    "cropped_downsampled": (cropped_downsampled, ("downsample", "downsample_mode"), True),
    "cascade_level": (
        cascade_level,
        ("k", "downsample", "downsample_mode", "factor_t", "factor_s", "mode"),
        True,
    ),
}


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Everything needed to rebuild a named decomposition; saved as JSON beside checkpoints.

    Fields a decomposition does not take (e.g. ``k`` for ``clip``, the matching
    factors outside ``cascade_level``) are stored but not used.
    """

    decomposition: str
    ch: int = 128
    multipliers: tuple[int, ...] = DVD_GAN_64
    num_classes: int | None = None
    mixed_projection: bool = False
    reduce: str = "sum"
    blocks_3d: int = 2
    frame_conditioning: bool = False
    sn: bool = True
    k: int = 8
    downsample: int = 2
    downsample_mode: str = "avg"
    factor_t: int = 2
    factor_s: int = 4
    mode: str = "bilinear"
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.decomposition not in DECOMPOSITIONS:
            raise ValueError(f"decomposition: expected one of {sorted(DECOMPOSITIONS)}, got {self.decomposition!r}")
        object.__setattr__(self, "multipliers", tuple(int(m) for m in self.multipliers))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["multipliers"] = list(self.multipliers)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiscriminatorConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"DiscriminatorConfig: unknown keys {sorted(unknown)}; expected a subset of {sorted(names)}")
        return cls(**dict(data))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DiscriminatorConfig:
        return cls.from_dict(json.loads(text))

    def build(self, generator: torch.Generator | None = None) -> MultiDiscriminator:
        """Build the decomposition (``generator`` drives its random frames and crops)."""
        builder, extra, takes_generator = DECOMPOSITIONS[self.decomposition]
        kwargs = {name: getattr(self, name) for name in (*_COMMON, *extra)}
        if takes_generator:
            kwargs["generator"] = generator
        return group_spectral_norm(builder(**kwargs))  # one batched power iteration per call


# --------------------------------------------------------------------------- paper widths


def dvd_gan_64_config(num_classes: int | None = None) -> DiscriminatorConfig:
    """DVD-GAN 64x64 (A.2): ch 128, (2, 4, 8, 16, 16), k = 8, 2x2 average pooling."""
    return DiscriminatorConfig("dvd_gan", ch=128, multipliers=DVD_GAN_64, num_classes=num_classes, notes="DVD-GAN A.2, 64x64")


def dvd_gan_128_config(num_classes: int | None = None) -> DiscriminatorConfig:
    """DVD-GAN 128x128 (A.2): ch 128, (1, 2, 4, 8, 16, 16)."""
    return DiscriminatorConfig("dvd_gan", ch=128, multipliers=DVD_GAN_128, num_classes=num_classes, notes="DVD-GAN A.2, 128x128")


def dvd_gan_fp_config() -> DiscriminatorConfig:
    """DVD-GAN-FP 64x64 (A.4): the 64x64 D on conditioning + predicted frames, no classes."""
    return DiscriminatorConfig(
        "dvd_gan_fp", ch=128, multipliers=DVD_GAN_64, frame_conditioning=True, notes="DVD-GAN A.4, 64x64"
    )


def trivd_gan_fp_config(decomposition: str = "trivd_stronger", *, large: bool = False) -> DiscriminatorConfig:
    """TrIVD-GAN-FP (3.1, A, E.1): dF + crV (+ dV), mixed projection, ch 48 (large: 120).

    ``decomposition`` may be any Table-1 name (``"trivd_faster"``, ``"mocogan_like"``,
    ``"clip"``, ...) to build that row at the same width.
    """
    return DiscriminatorConfig(
        decomposition,
        ch=120 if large else _TRIVD_CH,
        multipliers=DVD_GAN_64,
        mixed_projection=True,
        frame_conditioning=True,
        notes="TrIVD-GAN-FP appendix A / E.1",
    )


def ssw_gan_stage1_config(num_classes: int | None = None) -> DiscriminatorConfig:
    """SSW-GAN stage 1 (B.1), 32x32 / 25 frames: ch 128, (2, 4, 8, 16, 16) (see module notes)."""
    return DiscriminatorConfig(
        "dvd_gan", ch=128, multipliers=DVD_GAN_64, num_classes=num_classes, notes="SSW-GAN B.1 (list read output side first)"
    )


def ssw_gan_stage2_kinetics_config(num_classes: int | None = None) -> DiscriminatorConfig:
    """SSW-GAN stage 2 Kinetics (B.2): 6/32x32 -> 12/128x128, ch 96, (1, 2, 4, 8, 16, 16), nearest f_s."""
    return DiscriminatorConfig(
        "cascade_level",
        ch=96,
        multipliers=DVD_GAN_128,
        num_classes=num_classes,
        factor_t=2,
        factor_s=4,
        mode="nearest",
        notes="SSW-GAN B.2 Kinetics 128x128",
    )


def ssw_gan_stage2_bdd_config() -> DiscriminatorConfig:
    """SSW-GAN BDD100K 128x128 (B.2): 6/64x64 -> 12/128x128, ch 64, (1, 2, 4, 8, 8, 16), nearest f_s."""
    return DiscriminatorConfig(
        "cascade_level",
        ch=64,
        multipliers=(1, 2, 4, 8, 8, 16),
        factor_t=2,
        factor_s=2,
        mode="nearest",
        notes="SSW-GAN B.2 BDD100K 128x128",
    )


def hvg_kinetics_level2_config(num_classes: int | None = None) -> DiscriminatorConfig:
    """HVG / CVG Kinetics level 2 (HVG B.2): 6/32x32 -> 12/128x128, ch 96, (1, 2, 4, 8, 16, 16), bilinear f_s."""
    return DiscriminatorConfig(
        "cascade_level",
        ch=96,
        multipliers=DVD_GAN_128,
        num_classes=num_classes,
        factor_t=2,
        factor_s=4,
        mode="bilinear",
        notes="HVG appendix B.2 Kinetics 128x128",
    )


def hvg_bdd128_config() -> DiscriminatorConfig:
    """HVG BDD100K 128x128 (B.2): 6/64x64 -> 12/128x128, ch 96, (1, 2, 4, 8, 16, 16)."""
    return DiscriminatorConfig(
        "cascade_level",
        ch=96,
        multipliers=DVD_GAN_128,
        factor_t=2,
        factor_s=2,
        mode="bilinear",
        notes="HVG appendix B.2 BDD100K 128x128",
    )


def hvg_bdd256_config() -> DiscriminatorConfig:
    """HVG BDD100K 256x256 (B.2): 6/128x128 -> 12/256x256, ch 96, (1, 2, 4, 8, 8, 16, 16)."""
    return DiscriminatorConfig(
        "cascade_level",
        ch=96,
        multipliers=(1, 2, 4, 8, 8, 16, 16),
        factor_t=2,
        factor_s=2,
        mode="bilinear",
        notes="HVG appendix B.2 BDD100K 256x256",
    )


PAPER_CONFIGS: dict[str, Callable[[], DiscriminatorConfig]] = {
    "dvd_gan_64": dvd_gan_64_config,
    "dvd_gan_128": dvd_gan_128_config,
    "dvd_gan_fp": dvd_gan_fp_config,
    "trivd_gan_fp": trivd_gan_fp_config,
    "trivd_gan_fp_large": lambda: trivd_gan_fp_config(large=True),
    "ssw_gan_stage1": ssw_gan_stage1_config,
    "ssw_gan_stage2_kinetics": ssw_gan_stage2_kinetics_config,
    "ssw_gan_stage2_bdd": ssw_gan_stage2_bdd_config,
    "hvg_kinetics_level2": hvg_kinetics_level2_config,
    "hvg_bdd128": hvg_bdd128_config,
    "hvg_bdd256": hvg_bdd256_config,
}


def paper_config(name: str, **overrides: Any) -> DiscriminatorConfig:
    """The paper-width config called ``name`` (a key of :data:`PAPER_CONFIGS`), with field overrides.

    Example: ``paper_config("dvd_gan_128", num_classes=600)``.
    """
    if name not in PAPER_CONFIGS:
        raise ValueError(f"name: expected one of {sorted(PAPER_CONFIGS)}, got {name!r}")
    return dataclasses.replace(PAPER_CONFIGS[name](), **overrides)


def paper_discriminator(name: str, *, generator: torch.Generator | None = None, **overrides: Any) -> MultiDiscriminator:
    """Build the paper-width discriminator called ``name``; e.g. ``paper_discriminator("ssw_gan_stage2_kinetics")``."""
    return paper_config(name, **overrides).build(generator=generator)
