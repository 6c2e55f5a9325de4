"""One level of a cascade: a generator, its discriminators and how it relates to the level below.

CVG (section 3) factorises a video model into ``p(x^L | x^{L-1}) ... p(x^1)``; level
``l`` sees the view ``x^l`` of a real clip, with ``x^{l-1} = f_s(f_t(x^l))``. A
:class:`Level` stores the factors ``(f_t, f_s)`` that make the view *below* it from
its own view, the length of its training window (SSW-GAN section 3.2; CVG section
3.2 "partial views"), and its optimiser settings. Level 1 has no level below and
its factors are unused.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .._checks import check_positive_int
from ..data.views import ViewFactors
from ..layers.norm import FrameBatchNorm
from ..training.mixins import check_window_context

__all__ = ["Level", "LevelOptim", "temporal_radius"]


@dataclass(frozen=True)
class LevelOptim:
    """Optimiser settings of one level (CVG section 4: lr G 1e-4, D 5e-4; D twice per G step).

    Attributes:
        lr_g, lr_d: Adam learning rates.
        betas: Adam betas (0, 0.999 in every paper of the library).
        n_dis: discriminator updates per generator update.
        ortho_reg: weight of G's orthogonal regularisation (0: off, as in HVG and SSW-GAN appendix A).
    """

    lr_g: float = 1e-4
    lr_d: float = 5e-4
    betas: tuple[float, float] = (0.0, 0.999)
    n_dis: int = 2
    ortho_reg: float = 0.0

    def __post_init__(self) -> None:
        if self.lr_g <= 0 or self.lr_d <= 0:
            raise ValueError(f"learning rates must be positive, got lr_g={self.lr_g}, lr_d={self.lr_d}")
        check_positive_int(self.n_dis, "n_dis")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LevelOptim:
        return cls(**{k: (tuple(v) if k == "betas" else v) for k, v in d.items()})


def temporal_radius(module: nn.Module) -> int:
    """Frames on each side an output frame of a time-convolutional network may depend on.

    The sum of ``dilation * (k_t - 1) / 2`` over every 3D / 1D convolution in
    ``module`` (``k_t`` the temporal kernel): an upper bound of the temporal
    receptive-field radius of any composition of these convolutions with
    per-frame layers (residual branches only make the true radius smaller).
    Recurrent layers and attention over time have unbounded reach; networks with
    them are not time-convolutional and must not be streamed.
    """
    radius = 0
    for m in module.modules():
        if isinstance(m, nn.Conv3d):
            radius += m.dilation[0] * (m.kernel_size[0] - 1) // 2
        elif isinstance(m, nn.Conv1d):
            radius += m.dilation[0] * (m.kernel_size[0] - 1) // 2
    return radius


def _unbounded_in_time(module: nn.Module) -> bool:
    """Whether ``module`` holds a layer whose reach over time has no bound.

    Recurrent units (each output frame depends on every earlier one) and
    self-attention over time; :func:`temporal_radius` only bounds networks
    without them.
    """
    from ..layers.attention import AxialSelfAttention
    from ..recurrent.base import RecurrentUnit

    return any(isinstance(m, RecurrentUnit) or (isinstance(m, AxialSelfAttention) and m.axis in ("t", "all"))
               for m in module.modules())


class Level:
    """A cascade level: generator, discriminator (decomposition), factors, window, optimiser.

    Args:
        generator: follows the shared convention (``z_dim``, ``num_classes``,
            ``G(z, y, **context)``); levels above the first take ``low_res=``.
        discriminator: scores this level's videos (a
            :class:`~vidgan_blocks.discriminators.MultiDiscriminator` or any module with
            ``D(video, y, **context)``); ``None`` for a level only used for sampling.
        factors: ``f_t``, ``f_s`` (and the ``f_s`` filter) that make the level
            below's view from this level's (CVG section 3). Unused for level 1.
        window: low-resolution frames per training window (CVG Kinetics level 2:
            6 frames of 32x32 upsampled to 12 of 128x128); ``None`` trains on
            whole views.
        window_context: low-resolution frames of context G gets on each side of a
            fake training window, whose own frames alone are scored (default 0, the
            papers' setup; see :class:`~vidgan_blocks.training.WindowedTrainingMixin`).
        optim: :class:`LevelOptim`.
        name: used for directories and logs (default ``level{l}``).
        generator_config, discriminator_config: JSON-able configs (objects with
            ``to_dict``) saved beside the weights so :meth:`Cascade.load` can
            rebuild the modules. Taken from ``generator.config`` when absent.

    After training, :attr:`sampler` is the network used to sample this level
    (the EMA generator only when one was asked for); before, it is the generator itself.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module | None = None,
        *,
        factors: ViewFactors | None = None,
        window: int | None = None,
        window_context: int = 0,
        optim: LevelOptim | None = None,
        name: str | None = None,
        generator_config: Any = None,
        discriminator_config: Any = None,
    ) -> None:
        if not isinstance(generator, nn.Module):
            raise TypeError(f"generator: expected an nn.Module, got {type(generator).__name__}")
        if not hasattr(generator, "z_dim") or not hasattr(generator, "num_classes"):
            raise TypeError("generator: expected attributes z_dim and num_classes (the shared calling convention)")
        if discriminator is not None and not isinstance(discriminator, nn.Module):
            raise TypeError(f"discriminator: expected an nn.Module or None, got {type(discriminator).__name__}")
        if factors is not None and not isinstance(factors, ViewFactors):
            raise TypeError(f"factors: expected ViewFactors, got {type(factors).__name__}")
        if optim is not None and not isinstance(optim, LevelOptim):
            raise TypeError(f"optim: expected LevelOptim, got {type(optim).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.factors = factors if factors is not None else ViewFactors()
        self.window = None if window is None else check_positive_int(window, "window")
        self.window_context = check_window_context(window_context, self.window)
        self.optim = optim if optim is not None else LevelOptim()
        self.name = name
        self.generator_config = generator_config if generator_config is not None else getattr(generator, "config", None)
        self.discriminator_config = discriminator_config
        self._sampler: nn.Module | None = None

    @property
    def frozen(self) -> bool:
        """Whether :meth:`freeze` has set a frozen sampling copy (after training or loading)."""
        return self._sampler is not None

    def unfreeze(self) -> None:
        """Drop the frozen copy: :attr:`sampler` is the generator itself again, as before training."""
        self._sampler = None

    @property
    def sampler(self) -> nn.Module:
        """The generator used to sample this level (frozen copy after training, else the generator)."""
        return self._sampler if self._sampler is not None else self.generator

    def freeze(self, model: nn.Module | None = None) -> nn.Module:
        """Set :attr:`sampler` to a frozen eval-mode copy of ``model`` (default: the generator).

        The copy's per-frame batch norms use local statistics only (no cross-replica
        reduction), so one rank can sample and re-estimate statistics on its own.
        """
        src = model if model is not None else self.generator
        frozen = copy.deepcopy(src).eval()
        frozen.requires_grad_(False)
        for m in frozen.modules():  # sampling is per process: statistics passes must not wait on other ranks
            if isinstance(m, FrameBatchNorm):
                m.cross_replica = False
        self._sampler = frozen
        return frozen

    @property
    def upsamples(self) -> bool:
        """Whether the generator is conditioned on the level below (a ``low_res`` level)."""
        return hasattr(self.generator, "factor_t")

    def spec(self) -> dict[str, Any]:
        """The JSON description of this level (without weights)."""

        def conf(c: Any) -> Any:
            return c.to_dict() if c is not None and hasattr(c, "to_dict") else None

        return {
            "name": self.name,
            "factors": {"temporal": self.factors.temporal, "spatial": self.factors.spatial, "mode": self.factors.mode},
            "window": self.window,
            **({"window_context": self.window_context} if self.window_context else {}),  # absent: 0, as in files written before it existed
            "optim": self.optim.to_dict(),
            "generator": conf(self.generator_config),
            "discriminator": conf(self.discriminator_config),
        }

    def __repr__(self) -> str:
        return (
            f"Level(name={self.name!r}, generator={type(self.generator).__name__}, "
            f"discriminator={type(self.discriminator).__name__ if self.discriminator is not None else None}, "
            f"factors=({self.factors.temporal}, {self.factors.spatial}), window={self.window}"
            + (f", window_context={self.window_context})" if self.window_context else ")")
        )


def _generator_device(module: nn.Module) -> torch.device:
    for p in module.parameters():
        return p.device
    return torch.device("cpu")
