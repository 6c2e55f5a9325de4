"""Cascades of video generators: views, level-by-level training, unrolled and streamed sampling.

CVG models a video as ``p(x^L | x^{L-1}) ... p(x^2 | x^1) p(x^1)`` (eq. 1). The real
data of level ``l`` is the view ``x^l`` of a clip (``x^{l-1} = f_s(f_t(x^l))``);
levels are trained one after another, level ``l`` against frozen samples of the
levels below (CVG eq. 3; SSW-GAN eq. 6 pairs the matching discriminator's real
inputs from one clip and its fake inputs from the generated window and the
lower-level window it was conditioned on). At inference every upsampling level
runs convolutionally over the whole previous output (CVG section 3.2,
"convolutional unrolling"; SSW-GAN section 3.2) after re-estimating its
per-time-step batch-norm statistics at the new length (SSW-GAN appendix A:
200 dummy forward passes). Before a level trains, the frozen levels below it get
the very statistics generation gives them (same passes, batch and seed), so a
level is trained on the lower-level sampler it is later run on. Levels keep no
moving average of their weights and no orthogonal penalty unless asked (HVG and
SSW-GAN appendix A).

Streaming (:meth:`Cascade.generate_stream`): an upsampling generator made of
temporal convolutions and per-frame layers has a finite temporal receptive
field (:func:`~vidgan_blocks.cascade.temporal_radius`), and per-frame batch
norm never mixes time steps, neither in eval mode nor while statistics are
estimated. So the top level can be run on chunks of the lower-level video
widened by a halo of ``ceil(radius / f_t)`` low-resolution frames per side, each
chunk using the columns of the per-frame statistics that belong to its frames,
and keeping only the chunk's own frames: the result equals the one-shot output.
The statistics themselves are estimated chunk by chunk in the same way (the
cumulative average is element-wise per time step).

A top level with a recurrent layer (the ConvGRU generator of SSW-GAN / HVG
appendix C) or attention over time has no finite receptive field: no halo makes
a chunk's frames equal the one-shot output. :meth:`Cascade.generate_stream`
then runs that level over the whole lower-level video in one pass, as
:meth:`Cascade.generate` does, and hands its output out in chunks: the frames
are the same, but peak memory grows with the length.

Sampling temperature (SSW-GAN appendix D, HVG appendix H: figures and videos
were sampled with noise of standard deviation 0.5, evaluations with unit
variance): ``truncation=`` narrows the noise of every level (``"scale"``) or
truncates it (``"resample"``), including the noise of the standing-statistics
passes, so the statistics are those of the distribution that is sampled.

Evaluation on short windows (CVG section 4, HVG section 5.2):
:meth:`Cascade.generate_windows` samples the levels below the top in full,
takes one random window of the training length from each sample and upsamples
only that window (12 output frames from 6 low-resolution ones on Kinetics).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import Dataset

from .._checks import check_int, check_positive_int, check_video
from ..data.views import ViewFactors, make_views
from ..generators.sampling import TruncationMode
from ..layers.norm import FrameBatchNorm
from ..ops.views import gather_windows, random_window_starts
from ..training.mixins import EMAMixin, StandingStatsMixin, WindowedTrainingMixin, standing_stats
from ..training.trainer import GANTrainer, TrainerConfig, View
from .level import Level, LevelOptim, _unbounded_in_time, temporal_radius
from .stream import VideoStreamWriter

__all__ = ["Cascade", "LevelTrainer", "UpsamplingLevelTrainer", "chunk_plan"]

CASCADE_FILE = "cascade.json"
WEIGHTS_FILE = "sampler.safetensors"


def _mix_seed(*parts: int) -> int:
    """A deterministic 63-bit seed from integers (seeds of the standing-statistics passes)."""
    h = 1469598103934665603
    for p in parts:
        h = ((h ^ (int(p) & 0xFFFFFFFFFFFF)) * 1099511628211) % (2**63 - 1)
    return h


def _check_truncation(truncation: float | None, mode: str) -> None:
    if mode not in ("resample", "scale"):
        raise ValueError(f"truncation_mode: expected 'resample' or 'scale', got {mode!r}")
    if truncation is not None and (isinstance(truncation, bool) or not float(truncation) >= 0):
        raise ValueError(f"truncation: expected None or a number >= 0, got {truncation!r}")


def _noise(n: int, dim: int, gen: torch.Generator, truncation: float | None = None,
           mode: TruncationMode = "scale") -> torch.Tensor:
    """``(n, dim)`` latent noise drawn from ``gen`` on its device.

    ``truncation=None`` is plain ``N(0, I)``, the very draws the cascade made
    before the option existed. ``"scale"``: ``truncation * N(0, I)`` (the papers'
    sigma 0.5). ``"resample"``: ``N(0, I)`` truncated to ``[-truncation, truncation]``,
    the distribution of :func:`~vidgan_blocks.generators.sample_noise`'s mode of
    that name, drawn here by the inverse CDF from the same one normal draw, so no
    value is read back to the host. A truncation of 0 gives the mode ``z = 0``.
    """
    z = torch.randn(n, dim, generator=gen, device=gen.device)  # [n, dim]
    if truncation is None:
        return z
    t = float(truncation)
    if t == 0:
        return torch.zeros_like(z)
    if mode == "scale":
        return z * t
    root2 = math.sqrt(2.0)
    edge = math.erf(t / root2)  # 2 * Phi(t) - 1: the truncated interval in erf units
    u = torch.erf(z / root2) * edge  # 2 * Phi(z') - 1 for z' uniform in probability on [-t, t]
    return (root2 * torch.erfinv(u)).clamp_(-t, t)


def chunk_plan(length: int, chunk: int, halo: int) -> list[tuple[int, int, int, int]]:
    """Chunks ``[a, b)`` covering ``[0, length)``, each with its widened input range ``[a2, b2)``.

    ``a2 = max(0, a - halo)`` and ``b2 = min(length, b + halo)``.

    Returns:
        ``[(a, b, a2, b2), ...]`` in order.
    """
    check_positive_int(length, "length")
    check_positive_int(chunk, "chunk")
    check_int(halo, "halo", minimum=0)
    return [(a, min(a + chunk, length), max(0, a - halo), min(length, a + chunk + halo)) for a in range(0, length, chunk)]


def _norms(model: nn.Module) -> list[FrameBatchNorm]:
    return [m for m in model.modules() if isinstance(m, FrameBatchNorm) and m.track_running_stats]


class _LevelViewMixin:
    """Turns a data batch of top-level clips into level ``l``'s view before anything else."""

    def __init__(self, *args: Any, view_fn: Callable[[torch.Tensor], torch.Tensor], pair_factors: ViewFactors | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view_fn = view_fn
        self.pair_factors = pair_factors

    def prepare_real(self, batch: dict[str, torch.Tensor]) -> View:
        return super().prepare_real({**batch, "video": self.view_fn(batch["video"])})  # type: ignore[misc]

    def real_pair(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x^l, x^{l-1})`` with the level's own ``f_s`` filter (CVG section 3)."""
        if self.pair_factors is None:
            return super().real_pair(video)  # type: ignore[misc]
        return video, self.pair_factors.apply(video)


class LevelTrainer(_LevelViewMixin, StandingStatsMixin, GANTrainer):
    """Trainer of a first cascade level: its real data is the coarsest view ``x^1``.

    No moving average of G's weights: HVG and SSW-GAN (appendix A of both) train
    their levels without one. :meth:`Cascade.make_trainer` adds
    :class:`~vidgan_blocks.training.EMAMixin` when asked (``ema_start=``).
    """


class UpsamplingLevelTrainer(_LevelViewMixin, WindowedTrainingMixin, StandingStatsMixin, GANTrainer):
    """Trainer of an upsampling level: windowed pairs against frozen lower levels (CVG eq. 3, SSW-GAN eq. 6).

    No moving average of G's weights unless :meth:`Cascade.make_trainer` is given ``ema_start=``.
    """


class _EMALevelTrainer(_LevelViewMixin, EMAMixin, StandingStatsMixin, GANTrainer):
    """:class:`LevelTrainer` with an exponential moving average of G (opt-in)."""


class _EMAUpsamplingLevelTrainer(_LevelViewMixin, WindowedTrainingMixin, EMAMixin, StandingStatsMixin, GANTrainer):
    """:class:`UpsamplingLevelTrainer` with an exponential moving average of G (opt-in)."""


def _check_matching(level: Level, index: int) -> None:
    """Every matching discriminator of an upsampling level must use the level's own views.

    Its fake pairs are ``(G output, the window G was given)`` and its real pairs
    ``(x^l, f_s(f_t(x^l)))`` made with ``level.factors``; it downsamples the first
    member itself, so the pair of a real clip only matches exactly when its
    ``factor_t``, ``factor_s`` and filter are the level's.
    """
    from ..discriminators.single import MatchingDiscriminator

    if level.discriminator is None:
        return
    f = level.factors
    for m in level.discriminator.modules():
        if isinstance(m, MatchingDiscriminator) and (m.factor_t, m.factor_s, m.mode) != (f.temporal, f.spatial, f.mode):
            raise ValueError(
                f"level {index}: its matching discriminator downsamples with (factor_t={m.factor_t}, "
                f"factor_s={m.factor_s}, mode={m.mode!r}) but the level's views use (temporal={f.temporal}, "
                f"spatial={f.spatial}, mode={f.mode!r}); a real pair would not match its own downsample"
            )


class Cascade:
    """An ordered list of :class:`Level` s, coarsest first.

    Example (CVG Kinetics, two levels)::

        cascade = Cascade([
            Level(ssw_stage1_generator(32, 24), DiscriminatorConfig("dvd_gan", ...).build()),
            Level(cascade_upsampling_generator("kinetics", 2), cascade_level(2, 4),
                  factors=ViewFactors(2, 4), window=6),
        ])
    """

    def __init__(self, levels: Sequence[Level]) -> None:
        levels = list(levels)
        if not levels or not all(isinstance(lv, Level) for lv in levels):
            raise TypeError("levels: expected a non-empty sequence of Level")
        for i, lv in enumerate(levels):
            if lv.name is None:
                lv.name = f"level{i + 1}"
            if i > 0 and not lv.upsamples:
                raise TypeError(f"level {i + 1}: expected an upsampling generator (with factor_t and low_res=), "
                                f"got {type(lv.generator).__name__}")
            if i > 0 and getattr(lv.generator, "factor_t", lv.factors.temporal) != lv.factors.temporal:
                raise ValueError(f"level {i + 1}: generator factor_t={lv.generator.factor_t} but the level's "
                                 f"temporal factor is {lv.factors.temporal}")
            if i > 0:
                _check_matching(lv, i + 1)
        self.levels = levels

    def __len__(self) -> int:
        return len(self.levels)

    def __getitem__(self, l: int) -> Level:
        """Level ``l`` (1-based, as in the papers)."""
        self._check_level(l)
        return self.levels[l - 1]

    def _check_level(self, l: int) -> int:
        check_int(l, "level", minimum=1)
        if l > len(self.levels):
            raise ValueError(f"level: expected 1..{len(self.levels)}, got {l}")
        return l

    # ------------------------------------------------------------------ views

    def views(self, clip: torch.Tensor) -> list[torch.Tensor]:
        """Per-level real views ``[x^1, ..., x^L]`` of top-level clips (CVG section 3).

        Shape:
            - clip: ``(B, 3, T, H, W)`` (the view of the top level)
            - output[l - 1]: ``(B, 3, T_l, H_l, W_l)``
        """
        check_video(clip, "clip", channels=3)
        return make_views(clip, [lv.factors for lv in self.levels[1:]])

    def view(self, clip: torch.Tensor, l: int) -> torch.Tensor:
        """Level ``l``'s view of top-level clips (only the factors above ``l`` are applied)."""
        self._check_level(l)
        check_video(clip, "clip", channels=3)
        x = clip
        for lv in reversed(self.levels[l:]):
            x = lv.factors.apply(x)
        return x

    @property
    def temporal_factor(self) -> int:
        """Output frames per first-level frame (product of the levels' ``f_t``)."""
        return math.prod(lv.factors.temporal for lv in self.levels[1:])

    # ------------------------------------------------------------------ sampling helpers

    def _device(self) -> torch.device:
        for p in self.levels[0].sampler.parameters():
            return p.device
        return torch.device("cpu")

    def _labels(self, n: int, classes: torch.Tensor | Sequence[int] | None, gen: torch.Generator) -> torch.Tensor | None:
        nc = self.levels[0].generator.num_classes
        dev = gen.device
        if classes is not None:
            if nc is None:
                raise ValueError("classes given but the cascade is not class-conditional")
            y = torch.as_tensor(classes, dtype=torch.long, device=dev)
            if y.shape != (n,):
                raise ValueError(f"classes: expected shape ({n},), got {tuple(y.shape)}")
            return y
        return None if nc is None else torch.randint(int(nc), (n,), generator=gen, device=dev)

    def _run_level(self, k: int, z: torch.Tensor, y: torch.Tensor | None, low: torch.Tensor | None,
                   frames: int | None) -> torch.Tensor:
        g = self.levels[k].sampler
        if k == 0:
            return g(z, y, frames=frames) if frames is not None else g(z, y)
        return g(z, y, low_res=low)

    def _chain(self, upto: int, n: int, gen: torch.Generator, frames: int | None,
               labels: torch.Tensor | None = None, draw: Callable[..., torch.Tensor] = _noise,
               ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Sample levels ``0..upto-1`` (0-based) with ``gen``; returns (last output, labels)."""
        y = labels if labels is not None else self._labels(n, None, gen)
        x = None
        for k in range(upto):
            z = draw(n, int(self.levels[k].generator.z_dim), gen)
            x = self._run_level(k, z, y, x, frames)
        return x, y

    def sample_lower(self, l: int, n: int, labels: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
        """Samples of the frozen levels below ``l`` (eval mode, no gradient): ``x̂^{l-1}``.

        The first level runs at its training length; levels in between run over
        their whole input. :meth:`train_level` re-estimates the statistics of all
        of them (level 1 included) at those lengths first, as :meth:`generate` does.

        Shape:
            - output: ``(n, 3, T_{l-1}, H_{l-1}, W_{l-1})``
        """
        self._check_level(l)
        if l == 1:
            raise ValueError("level 1 has no level below")
        gen = generator if generator is not None else torch.Generator(device=self._device())
        with torch.no_grad():
            x, _ = self._chain(l - 1, n, gen, None, labels)
        assert x is not None
        return x

    def _standing_one_shot(self, k: int, passes: int, batch: int, seed: int, frames: int | None,
                           draw: Callable[..., torch.Tensor] = _noise, window: int | None = None) -> None:
        """Standing statistics of level ``k`` (0-based) over whole lower-level samples, or random
        ``window``-frame windows of them (:meth:`generate_windows`)."""
        g = self.levels[k].sampler
        dev = self._device()

        def run(i: int) -> None:
            pg = torch.Generator(device=dev).manual_seed(_mix_seed(seed, k, i))
            low, y = self._chain(k, batch, pg, frames, draw=draw)
            z = draw(batch, int(g.z_dim), pg)
            if window is not None:
                assert low is not None
                low = gather_windows(low, random_window_starts(batch, low.shape[2], window, generator=pg), window)
            self._run_level(k, z, y, low, frames)

        standing_stats(g, run, passes)

    # ------------------------------------------------------------------ inference

    def _first_frames(self, frames: int | None) -> int | None:
        if frames is None:
            return None
        check_positive_int(frames, "frames")
        f = self.temporal_factor
        if frames % f:
            raise ValueError(f"frames: expected a multiple of {f} (the cascade's temporal factor), got {frames}")
        return frames // f

    def _draw_inputs(self, n: int, classes: torch.Tensor | Sequence[int] | None, seed: int, passes: int,
                     stats_batch: int, truncation: float | None, truncation_mode: TruncationMode):
        """Check the sampling arguments, then ``(generator, noise drawer, labels, one z per level)``.

        Labels first, then each level's noise, all from one generator seeded with
        ``seed`` on the cascade's device: every sampling method draws the same inputs.
        """
        check_positive_int(n, "n")
        check_positive_int(passes, "passes")
        check_positive_int(stats_batch, "stats_batch")
        _check_truncation(truncation, truncation_mode)
        draw = functools.partial(_noise, truncation=truncation, mode=truncation_mode)
        gen = torch.Generator(device=self._device()).manual_seed(seed)
        y = self._labels(n, classes, gen)
        zs = [draw(n, int(lv.generator.z_dim), gen) for lv in self.levels]
        return gen, draw, y, zs

    @torch.no_grad()
    def generate(
        self,
        n: int,
        classes: torch.Tensor | Sequence[int] | None = None,
        frames: int | None = None,
        *,
        seed: int = 0,
        passes: int = 200,
        stats_batch: int = 16,
        stats_seed: int = 0,
        truncation: float | None = None,
        truncation_mode: TruncationMode = "scale",
        return_levels: bool = False,
        levels: int | None = None,
    ) -> torch.Tensor | list[torch.Tensor]:
        """Sample ``n`` videos through every level, unrolling the upsampling levels.

        Level 1 runs at ``frames / prod(f_t)`` steps; every upsampling level runs
        convolutionally over the whole previous output. Before each level runs,
        its per-time-step statistics are re-estimated at the new length with
        ``passes`` forward passes of ``stats_batch`` samples (SSW-GAN appendix A).

        Args:
            n: number of videos.
            classes: ``(n,)`` labels for a class-conditional cascade (random if ``None``).
            frames: output length (default: level 1's training length times ``prod(f_t)``).
            seed: fixes noise and labels.
            passes, stats_batch: standing-statistics passes and their batch size.
            stats_seed: fixes the noise of the statistics passes. With ``frames=None``
                and the ``passes``, ``stats_batch`` and ``stats_seed`` given to
                :meth:`train_level`, every lower level gets the statistics it had
                while the level above it trained, so for the same noise it gives
                the same output.
            truncation: ``None`` (default): unit-variance noise, as in the papers'
                evaluations. Otherwise the standard deviation (``"scale"``; SSW-GAN
                appendix D and HVG appendix H sample their figures and videos with
                0.5) or the truncation threshold (``"resample"``) of the noise of
                every level, the standing-statistics passes included. 0 samples
                every level at ``z = 0``.
            truncation_mode: ``"scale"`` or ``"resample"`` (see
                :func:`~vidgan_blocks.generators.sample_noise`).
            return_levels: return every level's output, coarsest first.
            levels: stop after this many levels (default all), e.g. to score a
                level while the ones above it are not trained yet. The noise of
                the levels it runs is the same as in a full pass.

        Shape:
            - output: ``(n, 3, frames, H_L, W_L)`` in [-1, 1]
        """
        upto = len(self.levels) if levels is None else check_int(levels, "levels", minimum=1)
        if upto > len(self.levels):
            raise ValueError(f"levels: expected at most {len(self.levels)} (the cascade's levels), got {levels}")
        t1 = self._first_frames(frames)
        gen, draw, y, zs = self._draw_inputs(n, classes, seed, passes, stats_batch, truncation, truncation_mode)
        outs: list[torch.Tensor] = []
        x = None
        for k in range(upto):
            self._standing_one_shot(k, passes, stats_batch, stats_seed, t1, draw)
            x = self._run_level(k, zs[k], y, x, t1)
            outs.append(x)
        return outs if return_levels else outs[-1]

    @torch.no_grad()
    def generate_windows(
        self,
        n: int,
        classes: torch.Tensor | Sequence[int] | None = None,
        *,
        window: int | None = None,
        seed: int = 0,
        passes: int = 200,
        stats_batch: int = 16,
        stats_seed: int = 0,
        truncation: float | None = None,
        truncation_mode: TruncationMode = "scale",
        return_windows: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Short outputs as the papers evaluate them: the top level upsamples one random window per sample.

        CVG section 4 (Kinetics) also scores its two-level model on 12/128x128
        videos by feeding the second level random 6-frame windows of the first
        level's 24-frame output, the setup it was trained in; HVG section 5.2
        states the same protocol (generate 24/32x32 frames, pick 6 consecutive
        ones at random, upsample them to 12/128x128), which is how it compares
        with 12-frame models. Here every level below the top runs in full (level 1
        at its training length, as :meth:`generate` with ``frames=None``), one
        window start per sample is drawn uniformly on the cascade's device, and
        the top level runs on those windows only. Its per-time-step statistics
        are re-estimated at the window length, on random windows of fresh
        lower-level samples (SSW-GAN appendix A's dummy passes). The draws of
        labels and of the noise of every level are those of :meth:`generate` with
        the same ``seed``, so the lower levels' samples are :meth:`generate`'s
        (``return_levels=True``); the window starts are drawn after them.

        Args:
            n: number of videos.
            classes: ``(n,)`` labels for a class-conditional cascade (random if ``None``).
            window: low-resolution frames per window (default: the top level's
                training window).
            seed, passes, stats_batch, stats_seed, truncation, truncation_mode: as in :meth:`generate`.
            return_windows: also return the low-resolution windows and their starts.

        Returns:
            The top level's videos, or ``(videos, low-resolution windows, starts)``
            with ``low_windows[i] == lower[i, :, starts[i] : starts[i] + window]``.
            Everything stays on the cascade's device.

        Shape:
            - output: ``(n, 3, window * f_t, H_L, W_L)`` in [-1, 1]
            - low-resolution windows: ``(n, 3, window, H_{L-1}, W_{L-1})``; starts: ``(n,)`` int64
        """
        if len(self.levels) < 2:
            raise ValueError("generate_windows needs an upsampling level on top")
        top = len(self.levels) - 1
        w = window if window is not None else self.levels[top].window
        if w is None:
            raise ValueError(f"window: level {top + 1} trains on whole inputs; give window= explicitly")
        check_positive_int(w, "window")
        gen, draw, y, zs = self._draw_inputs(n, classes, seed, passes, stats_batch, truncation, truncation_mode)
        x = None
        for k in range(top):
            self._standing_one_shot(k, passes, stats_batch, stats_seed, None, draw)
            x = self._run_level(k, zs[k], y, x, None)
        assert x is not None
        if w > x.shape[2]:
            raise ValueError(f"window: expected at most the {x.shape[2]} frames of level {top}, got {w}")
        starts = random_window_starts(n, x.shape[2], w, generator=gen)  # [n] on the cascade's device
        low = gather_windows(x, starts, w)  # [n, 3, w, H_{L-1}, W_{L-1}]
        self._standing_one_shot(top, passes, stats_batch, stats_seed, None, draw, window=w)
        out = self._run_level(top, zs[top], y, low, None)
        return (out, low, starts) if return_windows else out

    @torch.no_grad()
    def generate_stream(
        self,
        n: int,
        classes: torch.Tensor | Sequence[int] | None = None,
        frames: int | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        on_chunk: Callable[[torch.Tensor], None] | None = None,
        chunk: int | None = None,
        seed: int = 0,
        passes: int = 200,
        stats_batch: int = 16,
        stats_seed: int = 0,
        fps: float = 8,
        truncation: float | None = None,
        truncation_mode: TruncationMode = "scale",
    ) -> int:
        """Sample like :meth:`generate` but produce the top level chunk by chunk.

        The levels below the top are sampled in one go (they are ``prod(f_t)`` times
        shorter and ``f_s^2`` times smaller); the top level runs on chunks of
        ``chunk`` low-resolution frames (default: its training window) plus a
        halo of ``ceil(temporal_radius / f_t)`` frames on each side, so peak memory
        does not grow with the length, and the frames equal :meth:`generate`'s
        for the same arguments. Each finished chunk goes to ``on_chunk`` and/or is
        appended to the mp4 at ``path``. ``truncation`` and ``truncation_mode``
        are :meth:`generate`'s.

        A top level whose reach over time is unbounded (a recurrent layer, such
        as the ConvGRU generator of SSW-GAN / HVG appendix C, or attention over
        time) cannot be cut into chunks with a finite halo: it runs over the
        whole lower-level video in one pass, with one-shot standing statistics,
        and its output is then handed out in chunks of ``chunk * f_t`` frames.
        The frames still equal :meth:`generate`'s; the memory is that of
        :meth:`generate`.

        Returns:
            The number of output frames produced.

        Shape:
            - chunks passed to ``on_chunk``: ``(n, 3, t, H_L, W_L)``, concatenating to ``(n, 3, frames, H_L, W_L)``
        """
        check_positive_int(n, "n")
        if len(self.levels) < 2:
            raise ValueError("generate_stream needs an upsampling level on top; use generate for a single level")
        t1 = self._first_frames(frames)
        gen, draw, y, zs = self._draw_inputs(n, classes, seed, passes, stats_batch, truncation, truncation_mode)
        x = None
        top = len(self.levels) - 1
        for k in range(top):
            self._standing_one_shot(k, passes, stats_batch, stats_seed, t1, draw)
            x = self._run_level(k, zs[k], y, x, t1)
        assert x is not None
        level = self.levels[top]
        g = level.sampler
        ft = int(g.factor_t)
        size = check_positive_int(chunk if chunk is not None else (level.window or x.shape[2]), "chunk")
        if _unbounded_in_time(g):
            return self._stream_one_pass(top, zs[top], y, x, t1, size * ft, draw, passes, stats_batch, stats_seed,
                                         on_chunk, path, fps)
        halo = math.ceil(temporal_radius(g) / ft)
        plan = chunk_plan(x.shape[2], size, halo)
        # Per-frame statistics do not depend on the chunking (each frame's depend only on its receptive
        # field), so they are estimated on chunks of at least 4 halos: at most 1.5x the one-shot work
        # instead of (size + 2 halo) / size times, still bounded in memory whatever the length.
        stats_plan = chunk_plan(x.shape[2], max(size, 4 * halo), halo)
        self._standing_streamed(top, stats_plan, ft, passes, stats_batch, stats_seed, t1, draw)
        writer = VideoStreamWriter(path, fps) if path is not None else None
        norms = _norms(g)
        full = {m: (m.running_mean, m.running_var) for m in norms}
        produced = 0
        try:
            for a, b, a2, b2 in plan:
                for m in norms:
                    m.running_mean = full[m][0][:, a2 * ft : b2 * ft].contiguous()  # [C, (b2-a2)*ft]
                    m.running_var = full[m][1][:, a2 * ft : b2 * ft].contiguous()
                out = g(zs[top], y, low_res=x[:, :, a2:b2])[:, :, (a - a2) * ft : (b - a2) * ft]  # [n, 3, (b-a)*ft, H, W]
                produced += out.shape[2]
                if on_chunk is not None:
                    on_chunk(out)
                if writer is not None:
                    writer.write(out)
        finally:
            for m in norms:
                m.running_mean, m.running_var = full[m]
            if writer is not None:
                writer.close()
        return produced

    def _stream_one_pass(self, k: int, z: torch.Tensor, y: torch.Tensor | None, low: torch.Tensor,
                         frames: int | None, size: int, draw: Callable[..., torch.Tensor], passes: int, batch: int,
                         seed: int, on_chunk: Callable[[torch.Tensor], None] | None,
                         path: str | os.PathLike[str] | None, fps: float) -> int:
        """Level ``k`` over its whole input at once, handed out in chunks of ``size`` frames (unbounded reach)."""
        self._standing_one_shot(k, passes, batch, seed, frames, draw)
        out = self._run_level(k, z, y, low, frames)  # [n, 3, T_L, H, W]
        writer = VideoStreamWriter(path, fps) if path is not None else None
        try:
            for part in out.split(size, dim=2):
                if on_chunk is not None:
                    on_chunk(part)
                if writer is not None:
                    writer.write(part)
        finally:
            if writer is not None:
                writer.close()
        return out.shape[2]

    def _standing_streamed(self, k: int, plan: list[tuple[int, int, int, int]], ft: int, passes: int, batch: int,
                           seed: int, frames: int | None, draw: Callable[..., torch.Tensor] = _noise) -> None:
        """Standing statistics of level ``k`` estimated chunk by chunk (equal to :meth:`_standing_one_shot`)."""
        g = self.levels[k].sampler
        dev = self._device()
        norms = _norms(g)
        length = plan[-1][1] * ft
        acc = {m: (m.running_mean.new_zeros(m.num_features, length), m.running_var.new_ones(m.num_features, length))
               for m in norms}
        modes = {m: m.training for m in g.modules()}
        momenta = {m: m.momentum for m in norms}
        try:
            g.eval()
            for m in norms:
                m.momentum = None
                m.training = True
            for i in range(passes):
                pg = torch.Generator(device=dev).manual_seed(_mix_seed(seed, k, i))
                low, y = self._chain(k, batch, pg, frames, draw=draw)
                assert low is not None
                z = draw(batch, int(g.z_dim), pg)
                for a, b, a2, b2 in plan:
                    for m in norms:
                        m.running_mean = acc[m][0][:, a2 * ft : b2 * ft].clone()
                        m.running_var = acc[m][1][:, a2 * ft : b2 * ft].clone()
                        m.num_batches_tracked.fill_(i)
                    g(z, y, low_res=low[:, :, a2:b2])
                    keep = slice((a - a2) * ft, (b - a2) * ft)
                    for m in norms:
                        acc[m][0][:, a * ft : b * ft] = m.running_mean[:, keep]
                        acc[m][1][:, a * ft : b * ft] = m.running_var[:, keep]
        finally:
            for m, mode in modes.items():
                m.training = mode
            for m, mom in momenta.items():
                m.momentum = mom
            for m in norms:
                m.running_mean, m.running_var = acc[m]
                m.num_batches_tracked.fill_(passes)

    # ------------------------------------------------------------------ training

    def _check_lower_trained(self, l: int) -> None:
        for j, lower in enumerate(self.levels[: l - 1], start=1):
            if not lower.frozen:
                raise RuntimeError(f"level {l} is trained after level {j}: train or load level {j} first")

    def make_trainer(
        self,
        l: int,
        dataset: Dataset,
        config: TrainerConfig,
        *,
        ema_start: int | None = None,
        ema_decay: float = 0.9999,
        standing_passes: int = 200,
        **trainer_kwargs: Any,
    ) -> GANTrainer:
        """The trainer of level ``l`` (1-based) on ``dataset`` (dicts with top-level ``"video"`` clips).

        ``config`` gives everything but the optimiser settings, which come from the
        level (:class:`LevelOptim`, whose orthogonal penalty is off by default);
        ``out_dir`` is replaced by ``config.out_dir/<level name>``.
        Levels below ``l`` must already be trained (or loaded): they are frozen and
        sampled in eval mode through :attr:`Level.sampler` to condition level ``l``.

        By default G keeps no moving average of its weights: HVG and SSW-GAN
        (appendix A of both) train every level without weight averaging and
        without an orthogonal penalty, so the raw generator is what gets frozen
        and conditions the next level. ``ema_start=N`` opts in to an EMA of G
        (decay ``ema_decay``) from iteration ``N`` (:class:`~vidgan_blocks.training.EMAMixin`);
        the averaged weights are then the ones frozen.
        """
        self._check_level(l)
        level = self.levels[l - 1]
        if level.discriminator is None:
            raise ValueError(f"level {l}: no discriminator to train against")
        self._check_lower_trained(l)
        opt: LevelOptim = level.optim
        cfg = dataclasses.replace(
            config,
            lr_g=opt.lr_g,
            lr_d=opt.lr_d,
            betas=opt.betas,
            n_dis=opt.n_dis,
            ortho_reg=opt.ortho_reg,
            out_dir=None if config.out_dir is None else str(Path(config.out_dir) / str(level.name)),
            progress_label=f"level {l}/{len(self.levels)}",
        )
        ema = {} if ema_start is None else {"ema_start": ema_start, "ema_decay": ema_decay}
        common = dict(
            **ema,
            standing_passes=standing_passes,
            view_fn=lambda clip: self.view(clip, l),
            model_config={"cascade_level": l, "level": level.spec()},
            **trainer_kwargs,
        )
        if l == 1:
            first = LevelTrainer if ema_start is None else _EMALevelTrainer
            return first(level.generator, level.discriminator, dataset, cfg, **common)
        upper = UpsamplingLevelTrainer if ema_start is None else _EMAUpsamplingLevelTrainer
        return upper(
            level.generator,
            level.discriminator,
            dataset,
            cfg,
            lower_level=lambda n, labels, gen: self.sample_lower(l, n, labels, gen),
            window=level.window,
            window_context=level.window_context,
            temporal_factor=level.factors.temporal,
            spatial_factor=level.factors.spatial,
            pair_factors=level.factors,
            **common,
        )

    def train_level(
        self,
        l: int,
        dataset: Dataset,
        config: TrainerConfig,
        *,
        passes: int = 200,
        stats_batch: int = 16,
        stats_seed: int = 0,
        **trainer_kwargs: Any,
    ) -> dict[str, Any]:
        """Train level ``l`` (resuming from its checkpoints per ``config.resume``), then freeze it.

        First every frozen level below ``l`` (level 1 included) gets its standing
        statistics re-estimated, coarsest first, exactly as :meth:`generate` does
        with ``frames=None`` and the same ``passes``, ``stats_batch`` and
        ``stats_seed``: level 1 at its training length, the levels in between
        over their whole input. The lower-level sampler that conditions level
        ``l`` during training is then the one that conditions it at generation
        (SSW-GAN appendix A re-estimates per-time-step statistics with 200 passes
        before sampling; the training-time running averages are not used).
        After training, :attr:`Level.sampler` is a frozen copy of the trainer's
        evaluation generator (the EMA weights only when ``ema_start=`` turned
        them on) and, with an ``out_dir``, the level's weights and config are
        exported to ``out_dir/<level name>/`` (see :meth:`save`).

        Returns:
            The trainer's summary (step, counters, signal).
        """
        self._check_level(l)
        check_positive_int(passes, "passes")
        check_positive_int(stats_batch, "stats_batch")
        self._check_lower_trained(l)
        for k in range(l - 1):
            self._standing_one_shot(k, passes, stats_batch, stats_seed, None)
        trainer = self.make_trainer(l, dataset, config, standing_passes=passes, **trainer_kwargs)
        try:
            summary = trainer.fit()
            self.levels[l - 1].freeze(trainer.eval_model())
            if config.out_dir is not None and trainer.ctx.is_main:
                self.save(config.out_dir, levels=[l])
            trainer.ctx.barrier()
        finally:
            trainer.close()
        return summary

    # ------------------------------------------------------------------ persistence

    def spec(self) -> dict[str, Any]:
        return {"format": 1, "levels": [lv.spec() for lv in self.levels]}

    def save(self, root: str | os.PathLike[str], *, levels: Sequence[int] | None = None) -> Path:
        """Write ``cascade.json`` and each level's sampling weights to ``root/<level name>/``.

        ``levels`` (1-based) restricts which levels' weights are written (default:
        all with a frozen sampler). Weights are safetensors; configs are JSON.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        chosen = range(1, len(self.levels) + 1) if levels is None else levels
        for l in chosen:
            lv = self[l]
            if not lv.frozen:
                continue
            d = root / str(lv.name)
            d.mkdir(parents=True, exist_ok=True)
            tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in lv.sampler.state_dict().items()}
            tmp = d / (WEIGHTS_FILE + ".tmp")
            save_file(tensors, str(tmp))
            os.replace(tmp, d / WEIGHTS_FILE)
            (d / "level.json").write_text(json.dumps(lv.spec(), indent=2))
        tmp = root / (CASCADE_FILE + ".tmp")
        tmp.write_text(json.dumps(self.spec(), indent=2))
        os.replace(tmp, root / CASCADE_FILE)
        return root

    @classmethod
    def load(cls, root: str | os.PathLike[str], *, device: str | torch.device = "cpu",
             discriminators: bool = False) -> Cascade:
        """Rebuild a cascade from ``root`` (written by :meth:`save`) ready to sample.

        Generators are rebuilt from their JSON configs and their sampling weights
        loaded; levels without weights keep fresh generators. With
        ``discriminators`` the discriminators are rebuilt too (untrained; their
        weights live in the training checkpoints).
        """
        from ..discriminators.builders import DiscriminatorConfig
        from ..generators import build_generator, config_from_dict

        root = Path(root)
        spec = json.loads((root / CASCADE_FILE).read_text())
        levels = []
        for entry in spec["levels"]:
            if entry.get("generator") is None:
                raise ValueError(f"{root}: level {entry.get('name')!r} has no generator config; it cannot be rebuilt")
            gcfg = config_from_dict(entry["generator"])
            g = build_generator(gcfg).to(device)
            dcfg = DiscriminatorConfig.from_dict(entry["discriminator"]) if entry.get("discriminator") else None
            d = dcfg.build().to(device) if (discriminators and dcfg is not None) else None
            f = entry["factors"]
            lv = Level(
                g,
                d,
                factors=ViewFactors(f["temporal"], f["spatial"], f["mode"]),
                window=entry.get("window"),
                window_context=entry.get("window_context", 0),
                optim=LevelOptim.from_dict(entry["optim"]),
                name=entry["name"],
                generator_config=gcfg,
                discriminator_config=dcfg,
            )
            weights = root / str(entry["name"]) / WEIGHTS_FILE
            if weights.exists():
                g.load_state_dict(load_file(str(weights), device=str(device)))
                lv.freeze(g)
            levels.append(lv)
        return cls(levels)

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __repr__(self) -> str:
        return "Cascade(\n" + "".join(f"  {lv!r},\n" for lv in self.levels) + ")"
