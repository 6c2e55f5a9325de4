"""Small, orthogonal trainer mixins.

Each mixin overrides a few hooks of :class:`~vidgan_blocks.training.GANTrainer` and
calls ``super()`` so they compose, e.g.
``class Trainer(EMAMixin, StandingStatsMixin, FrameConditionalMixin, GANTrainer)``.
Mixin options are keyword arguments of the combined constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .._checks import check_int, check_positive_int, check_video
from ..layers.norm import FrameBatchNorm
from ..ops.views import gather_windows, random_window_starts, spatial_downsample, temporal_subsample, widen_windows
from .trainer import View

__all__ = ["EMAMixin", "StandingStatsMixin", "FrameConditionalMixin", "WindowedTrainingMixin", "standing_stats"]


def _match_buffer_shapes(target: nn.Module, source: nn.Module) -> None:
    """Give ``target``'s buffers the shapes of ``source``'s (per-frame BN stats change length)."""
    src = dict(source.named_buffers())
    for name, buf in list(target.named_buffers()):
        other = src.get(name)
        if other is not None and other.shape != buf.shape:
            owner_name, _, attr = name.rpartition(".")
            owner = target.get_submodule(owner_name) if owner_name else target
            setattr(owner, attr, other.detach().clone().to(buf.device, buf.dtype))


class EMAMixin:
    """Exponential moving average of G's weights (DVD-GAN A.3; TrIVD-GAN-FP E.2).

    DVD-GAN: "we use an exponential moving average of G's weights ... with decay
    0.9999 ... started after 20k training steps". Implemented with
    ``timm.utils.ModelEmaV3``: its ``get_decay(step)`` returns 0 (a plain copy)
    while ``step <= update_after_step + 1``; with ``update_after_step = ema_start - 1``
    and the trainer calling ``update(G, step)`` with the number of completed
    iterations, the average equals G's weights after iteration ``ema_start`` and
    decays from iteration ``ema_start + 1``. Updates before ``ema_start`` are
    skipped (they would be overwritten), and until then :meth:`eval_model` is the
    raw generator. Buffers (per-frame BN statistics, spectral-norm vectors) are
    averaged too.

    Keywords: ``ema_decay`` (0.9999), ``ema_start`` (20000).
    """

    def __init__(self, *args: Any, ema_decay: float = 0.9999, ema_start: int = 20_000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay: expected a value in [0, 1), got {ema_decay}")
        self.ema_start = check_int(ema_start, "ema_start", minimum=0)
        from timm.utils.model_ema import ModelEmaV3  # imported here: timm is slow to import

        self.ema = ModelEmaV3(self.G, decay=ema_decay, update_after_step=self.ema_start - 1)
        self.ema.requires_grad_(False)

    @property
    def ema_active(self) -> bool:
        return self.step >= self.ema_start

    def after_g_step(self) -> None:
        super().after_g_step()
        if self.step >= self.ema_start:
            _match_buffer_shapes(self.ema.module, self.G)
            self.ema.update(self.G, step=self.step)

    def eval_model(self) -> nn.Module:
        return self.ema.module if self.ema_active else super().eval_model()

    def extra_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors, state = super().extra_state()
        tensors = {**tensors, **{f"ema/{k}": v for k, v in self.ema.module.state_dict().items()}}
        return tensors, {**state, "ema": {"decay": self.ema.decay, "start": self.ema_start}}

    def load_extra_state(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        super().load_extra_state(tensors, state)
        ema = {k[4:]: v for k, v in tensors.items() if k.startswith("ema/")}
        if ema:
            self.ema.module.load_state_dict(ema)


def standing_stats(
    model: nn.Module,
    run: Callable[[int], object],
    passes: int,
    *,
    frames: int | None = None,
) -> int:
    """Re-estimate per-time-step BN statistics with ``passes`` forward passes.

    SSW-GAN (appendix A): "we recompute the per-timestep batch normalization
    statistics by running 200 dummy forward passes through the model"; DVD-GAN and
    BigGAN call this "standing statistics". For every
    :class:`~vidgan_blocks.layers.FrameBatchNorm` (and its conditional subclass):
    momentum ``None`` (a cumulative average), ``reset_running_stats(frames=...)``,
    then ``run(i)`` for ``i < passes`` with **only** the batch norms in training
    mode and gradients off, then the momenta and every module's mode are restored.
    Everything else in the model (weights, spectral-norm vectors) is untouched.

    Args:
        model: the network whose statistics are re-estimated.
        run: ``run(i)`` performs forward pass ``i`` of ``model``.
        passes: number of forward passes.
        frames: per-BN number of time steps to size the statistics for; ``None``
            keeps each layer's current length (resized automatically by the first
            pass if the input length differs).

    Returns:
        The number of batch-norm layers updated.
    """
    check_positive_int(passes, "passes")
    norms = [m for m in model.modules() if isinstance(m, FrameBatchNorm) and m.track_running_stats]
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in norms}
    try:
        model.eval()
        for m in norms:
            m.momentum = None
            m.reset_running_stats(frames=frames)
            m.training = True  # this layer only: its children (e.g. spectral-norm maps) stay in eval
        with torch.no_grad():
            for i in range(passes):
                run(i)
    finally:
        for m, mode in modes.items():
            m.training = mode
        for m, mom in momenta.items():
            m.momentum = mom
    return len(norms)


class StandingStatsMixin:
    """Adds :meth:`standing_stats` to the trainer (re-estimate BN statistics before use).

    The passes draw noise from a private generator seeded with
    ``standing_seed``, so the training noise stream and the global RNG are not
    advanced: running standing statistics in the middle of training does not
    change the training trajectory.

    With cross-replica statistics enabled (world size > 1), every rank must call
    :meth:`standing_stats` together, since each pass reduces statistics across ranks.

    Keywords: ``standing_passes`` (200, SSW-GAN), ``standing_seed`` (0).
    """

    def __init__(self, *args: Any, standing_passes: int = 200, standing_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standing_passes = check_positive_int(standing_passes, "standing_passes")
        self.standing_seed = int(standing_seed)

    def standing_context(self, n: int, generator: torch.Generator) -> dict[str, Any]:
        """Context keywords for a standing-statistics pass (default: the sample context)."""
        return self.sample_context(n)

    def standing_stats(
        self,
        model: nn.Module | None = None,
        *,
        passes: int | None = None,
        batch_size: int | None = None,
        frames: int | None = None,
    ) -> int:
        """Re-estimate the per-frame BN statistics of ``model`` (default: :meth:`eval_model`)."""
        g = model if model is not None else self.eval_model()
        n = batch_size or self.config.batch_size
        gen = torch.Generator(device=self.device).manual_seed(self.standing_seed)
        state = torch.get_rng_state()

        def run(_: int) -> None:
            with self.autocast():
                self.make_fake(n, self.standing_context(n, gen), model=g, generator=gen)

        try:
            count = standing_stats(g, run, passes or self.standing_passes, frames=frames)
        finally:
            torch.set_rng_state(state)
        self.logger.event(self.step, "standing_stats", passes=passes or self.standing_passes, layers=count)
        return count


class FrameConditionalMixin:
    """Video prediction: the first ``cond_frames`` frames of each clip condition G.

    DVD-GAN-FP / TrIVD-GAN-FP: G sees ``C`` real frames and predicts the rest; D
    scores the predicted frames with the conditioning frames passed as
    ``cond_frames=`` (the discriminators prepend them in time). Fakes in the D
    step are conditioned on the same real frames as the real view; the G step
    draws its own data batch for its conditioning frames.

    Keyword: ``cond_frames`` (5 in DVD-GAN-FP and TrIVD-GAN-FP).
    """

    def __init__(self, *args: Any, cond_frames: int = 5, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cond_frames = check_positive_int(cond_frames, "cond_frames")

    def split_clip(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(conditioning, target)`` frames of a ``(B, 3, T, H, W)`` clip, ``T > cond_frames``."""
        check_video(video, "video", channels=3, min_t=self.cond_frames + 1)
        return video[:, :, : self.cond_frames], video[:, :, self.cond_frames :]

    def prepare_real(self, batch: dict[str, torch.Tensor]) -> View:
        view = super().prepare_real(batch)
        cond, target = self.split_clip(view["video"])
        return {**view, "video": target, "cond_frames": cond}

    def g_context(self, n: int) -> dict[str, Any]:
        ctx = super().g_context(n)
        cond, _ = self.split_clip(self.next_batch()["video"])
        return {**ctx, "cond_frames": cond[:n]}

    def sample_context(self, n: int) -> dict[str, Any]:
        """Conditioning frames of the first ``n`` dataset clips (fixed across exports)."""
        clips = torch.stack([self.dataset[i % len(self.dataset)]["video"] for i in range(n)]).to(self.device)
        cond, _ = self.split_clip(clips)
        return {**super().sample_context(n), "cond_frames": cond}


def check_window_context(window_context: int, window: int | None) -> int:
    """Validate a windowed level's ``window_context`` (low-resolution frames of context per side)."""
    check_int(window_context, "window_context", minimum=0)
    if window_context and window is None:
        raise ValueError(f"window_context: a level trained on whole clips (window=None) has no window to widen, "
                         f"got window_context={window_context}")
    return window_context


class WindowedTrainingMixin:
    """Partial-view (windowed) training of an upsampling cascade level.

    CVG section 3.2 / SSW-GAN section 3.2: level ``l`` is trained on random
    temporal windows. The real pair comes from one clip ``x^l``:
    ``x^{l-1} = f_s(f_t(x^l))`` (:meth:`real_pair`), and the *same* window is taken
    from both (``w`` low-resolution frames from start ``s``; ``w * f`` frames from
    ``s * f`` at full resolution, ``f`` the temporal factor). The fake pair is a
    window of a sample of the frozen lower levels (:meth:`sample_lower`) and G's
    output conditioned on it through ``low_res=``. D receives the low-resolution
    window as ``low_res=`` (used by the matching discriminator).

    Hook points for the cascade code: :meth:`real_pair`, :meth:`sample_lower`,
    :meth:`window_starts`.

    With ``window_context`` > 0 the generator is given the fake window widened by up to
    ``window_context`` low-resolution frames on each side (within the lower-level sample,
    :func:`~vidgan_blocks.ops.widen_windows`), and only the frames of the window
    itself are kept and scored. The papers feed the window alone (0, the default),
    so that every trained frame lies near a padded edge; unrolling at inference
    asks the level for frames far from one. With ``window_context`` at least the
    generator's temporal radius in low-resolution frames
    (``ceil(temporal_radius(G) / f_t)``), the kept frames are computed as unrolling
    computes them, at the cost of running G on ``window + 2 * window_context`` frames.

    Keywords:
        lower_level: ``lower_level(n, labels, generator) -> (n, 3, t, h, w)``,
            samples of the frozen lower levels (called under ``no_grad``).
        window: low-resolution frames per window; ``None`` trains on whole clips.
        temporal_factor, spatial_factor: ``f_t`` and ``f_s`` between the levels.
        window_context: low-resolution frames of context given to G on each side
            of a fake window (default 0); needs a ``window``.
    """

    def __init__(
        self,
        *args: Any,
        lower_level: Callable[[int, torch.Tensor | None, torch.Generator | None], torch.Tensor],
        window: int | None = None,
        temporal_factor: int = 1,
        spatial_factor: int = 1,
        window_context: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not callable(lower_level):
            raise TypeError(f"lower_level: expected a callable, got {type(lower_level).__name__}")
        self.lower_level = lower_level
        self.window = None if window is None else check_positive_int(window, "window")
        self.window_context = check_window_context(window_context, self.window)
        self.temporal_factor = check_positive_int(temporal_factor, "temporal_factor")
        self.spatial_factor = check_positive_int(spatial_factor, "spatial_factor")

    # hook points -----------------------------------------------------------

    def real_pair(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x^l, x^{l-1})`` from one real clip: ``x^{l-1} = f_s(f_t(x^l))`` (CVG section 3)."""
        low = spatial_downsample(temporal_subsample(video, self.temporal_factor), self.spatial_factor)
        return video, low

    def sample_lower(self, n: int, labels: torch.Tensor | None, generator: torch.Generator | None) -> torch.Tensor:
        """Samples of the frozen lower levels, ``(n, 3, t, h, w)``."""
        with torch.no_grad():
            low = self.lower_level(n, labels, generator)
        return check_video(low, "lower_level output", channels=3).detach()

    def window_starts(self, n: int, low_length: int, generator: torch.Generator | None) -> torch.Tensor:
        """Low-resolution window starts, uniform in ``[0, low_length - window]``."""
        return random_window_starts(n, low_length, self.window, generator=generator)

    # plumbing ----------------------------------------------------------------

    def _windows(self, high: torch.Tensor | None, low: torch.Tensor, generator: torch.Generator | None):
        if self.window is None:
            return high, low
        starts = self.window_starts(low.shape[0], low.shape[2], generator)
        low_w = gather_windows(low, starts, self.window)
        high_w = None
        if high is not None:
            f = self.temporal_factor
            high_w = gather_windows(high, starts * f, self.window * f)
        return high_w, low_w

    def prepare_real(self, batch: dict[str, torch.Tensor]) -> View:
        view = super().prepare_real(batch)
        high, low = self.real_pair(view["video"])
        high_w, low_w = self._windows(high, low, self.noise)
        return {**view, "video": high_w, "low_res": low_w}

    def d_fake_context(self, real: View) -> dict[str, Any]:
        ctx = super().d_fake_context(real)
        ctx.pop("low_res", None)  # fakes are conditioned on lower-level samples, not on real frames
        return ctx

    def make_fake(self, n: int, context: dict[str, Any], *, model=None, generator=None, truncation=None, labels=None) -> View:
        if "low_res" in context:  # an explicit low-resolution input (e.g. unrolling a given video)
            return super().make_fake(n, context, model=model, generator=generator, truncation=truncation, labels=labels)
        gen = generator if generator is not None else self.noise
        if labels is None and self.conditional:
            labels = torch.randint(int(self.G.num_classes), (n,), generator=gen, device=self.device)
        low = self.sample_lower(n, labels, gen)
        if not self.window_context:
            _, low_w = self._windows(None, low, gen)
            ctx = {**context, "low_res": low_w}
            return super().make_fake(n, ctx, model=model, generator=generator, truncation=truncation, labels=labels)
        assert self.window is not None  # check_window_context
        starts = self.window_starts(low.shape[0], low.shape[2], gen)
        wide_starts, wide, offsets = widen_windows(starts, low.shape[2], self.window, self.window_context)
        low_wide = gather_windows(low, wide_starts, wide)
        view = super().make_fake(n, {**context, "low_res": low_wide}, model=model, generator=generator,
                                 truncation=truncation, labels=labels)
        f = self.temporal_factor
        view["video"] = gather_windows(view["video"], offsets * f, self.window * f)  # the frames D scores
        view["low_res"] = gather_windows(low_wide, offsets, self.window)  # their own low-res window, for the MD
        return view


