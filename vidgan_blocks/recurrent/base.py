"""The interface every convolutional recurrent unit follows, and the machinery they share.

A unit maps a video ``x`` of shape ``(B, C_in, T, H, W)`` to the sequence of its
outputs ``(B, C_h, T, H, W)``, starting from a state ``h0`` (zeros, or features
from a conditioning encoder as in DVD-GAN-FP / TrIVD-GAN-FP appendix A).

Every equation of the units in this package applies a convolution to a
concatenation such as ``[h_{t-1}; x_t]``. A convolution of a concatenation is the
sum of convolutions of its parts, so each unit:

* keeps one spectrally normalised ``SNConv2d`` per gate, over the full
  concatenation, exactly as written in the papers (each gate has its own weight
  and its own spectral norm);
* reads each normalised weight once per call (one power iteration per call in
  training mode, not one per time step);
* applies the parts acting on ``x_t`` to all ``T`` frames at once, as one
  convolution over frames folded into the batch (bias included), before the
  time loop;
* inside the loop, applies the parts acting on the state with one fused
  convolution per dependency level (for instance the ``r`` and ``u`` gates of a
  ConvGRU share one convolution of ``h_{t-1}``).

The per-step work is then only what the recurrence makes sequential.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .._checks import check_frames, check_positive_int, check_video

__all__ = ["RecurrentUnit", "ActLayer"]

ActLayer = Callable[[], nn.Module]


def _shape(x: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


def split_fuse(
    convs: Sequence[nn.Conv2d], first: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Split the (normalised) weights of convolutions over ``[a; b]`` at input channel ``first``.

    Returns ``(w_a, w_b, bias)``: the weights acting on ``a`` stacked along the
    output axis, those acting on ``b`` likewise, and the stacked biases (or None).
    Each ``.weight`` is read once here.
    """
    weights = [c.weight for c in convs]
    w_a = torch.cat([w[:, :first] for w in weights], dim=0)
    w_b = torch.cat([w[:, first:] for w in weights], dim=0)
    biases = [c.bias for c in convs]
    bias = None if any(b is None for b in biases) else torch.cat(biases, dim=0)  # type: ignore[arg-type]
    return w_a, w_b, bias


def conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Same-size 2-D convolution with an odd square kernel."""
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)


def _cast_state(state: Any, dtype: torch.dtype) -> Any:
    """The state in the dtype of the projected input (they differ under autocast, where the
    gate convolutions run in bf16/fp16 while a zero or encoder state may be float32)."""
    if isinstance(state, torch.Tensor):
        return state if state.dtype == dtype or not state.is_floating_point() else state.to(dtype)
    if isinstance(state, (tuple, list)):
        return type(state)(_cast_state(s, dtype) for s in state)
    return state

class RecurrentUnit(nn.Module, metaclass=abc.ABCMeta):
    """Base class of the convolutional recurrent units (one interface for all).

    Attributes:
        in_channels: channels of each input frame ``x_t``.
        hidden_channels: channels of each output ``h_t`` (for ConvLSTM, the
            concatenated hidden state and memory cell).
        last_kernels: for the units that warp their state, the per-pixel
            kernels of the last call, detached, ``(B, k*k, T, H, W)`` (``T = 1``
            after :meth:`step`); feed them to
            :func:`vidgan_blocks.recurrent.expected_flow`. None for the others.

    Subclasses implement four hooks:

    * ``_prepare()`` reads the normalised weights once and returns whatever the
      step needs (fused weight tensors);
    * ``_project(xf, p)`` applies the input-path convolutions to frames
      ``(N, C_in, H, W)`` and returns a list of tensors with leading dim ``N``;
    * ``_cell(xp, state, p)`` runs one step given that step's projections and
      returns ``(new_state, kernels_or_None)``;
    * ``_check_state`` / ``state_from_features`` / ``output_from_state`` for
      units whose state is not one tensor (ConvLSTM).
    """

    in_channels: int
    hidden_channels: int
    last_kernels: torch.Tensor | None

    def __init__(self, in_channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.hidden_channels = check_positive_int(hidden_channels, "hidden_channels")
        self.last_kernels = None

    # ------------------------------------------------------------------ hooks

    @abc.abstractmethod
    def _prepare(self) -> Any:
        """Read every normalised weight once; return the fused tensors the step uses."""

    @abc.abstractmethod
    def _project(self, xf: torch.Tensor, p: Any) -> list[torch.Tensor]:
        """Input-path convolutions of frames ``(N, C_in, H, W)``; tensors with leading dim ``N``."""

    @abc.abstractmethod
    def _cell(self, xp: list[torch.Tensor], state: Any, p: Any) -> tuple[Any, torch.Tensor | None]:
        """One step from this step's projections; returns ``(state, kernels or None)``."""

    # ------------------------------------------------------------------ state

    def init_state(self, x_t: torch.Tensor) -> Any:
        """Zero state for a batch of frames ``x_t`` of shape ``(B, C_in, H, W)``."""
        check_frames(x_t, "x_t", channels=self.in_channels)
        b, _, h, w = x_t.shape
        return self.state_from_features(x_t.new_zeros(b, self.hidden_channels, h, w))

    def state_from_features(self, f: torch.Tensor) -> Any:
        """Turn encoder features ``(B, hidden_channels, H, W)`` into the unit's state.

        For the single-tensor units the features are the state ``h``.
        """
        return check_frames(f, "features", channels=self.hidden_channels)

    def output_from_state(self, state: Any) -> torch.Tensor:
        """The ``(B, hidden_channels, H, W)`` output of a state."""
        return state

    def _check_state(self, state: Any, x_t: torch.Tensor, name: str = "h") -> Any:
        """Check a state against the frames it will be combined with."""
        check_frames(state, name, channels=self.hidden_channels)
        b, _, hh, ww = x_t.shape
        if state.shape[0] != b or state.shape[2:] != x_t.shape[2:]:
            raise ValueError(
                f"{name}: expected ({b}, {self.hidden_channels}, {hh}, {ww}) to match the input frames, "
                f"got {_shape(state)}"
            )
        return state

    # ---------------------------------------------------------------- public

    def step(self, x_t: torch.Tensor, h: Any) -> Any:
        """One recurrence step: the state after reading frame ``x_t`` from state ``h``.

        Shape:
            - x_t: ``(B, C_in, H, W)``
            - h: ``(B, C_h, H, W)`` (ConvLSTM: a pair of ``(B, C_h / 2, H, W)``)
            - output: same as ``h``
        """
        check_frames(x_t, "x_t", channels=self.in_channels)
        state = self._check_state(h, x_t)
        p = self._prepare()
        proj = self._project(x_t, p)
        new_state, kernels = self._cell(proj, _cast_state(state, proj[0].dtype), p)
        if kernels is not None:
            self.last_kernels = kernels.detach().unsqueeze(2)
        return new_state

    def forward(self, x: torch.Tensor, h0: Any = None) -> torch.Tensor:
        """Unroll the unit over all frames of ``x``.

        Args:
            x: input video.
            h0: initial state: ``None`` (zeros), features ``(B, C_h, H, W)``
                (passed through :meth:`state_from_features`), or a state as
                :meth:`step` takes it.

        Returns:
            The outputs ``h_1 .. h_T`` stacked along time.

        Shape:
            - x: ``(B, C_in, T, H, W)``
            - h0: ``(B, C_h, H, W)`` or None
            - output: ``(B, C_h, T, H, W)``
        """
        check_video(x, "x", channels=self.in_channels)
        b, _, t, hh, ww = x.shape
        first = x[:, :, 0]
        if h0 is None:
            state = self.init_state(first)
        elif isinstance(h0, torch.Tensor):
            state = self.state_from_features(self._check_features(h0, first))
        else:
            state = self._check_state(h0, first, "h0")
        p = self._prepare()
        # Input path for all frames at once, laid out time-major so each step reads a contiguous slice.
        proj = self._project(rearrange(x, "b c t h w -> (t b) c h w"), p)
        # unbind (not indexing) so the backward stacks the T gradients once instead of
        # scattering each step's gradient into a zero-filled (T, B, P, H, W) buffer.
        per_step = list(zip(*(y.view(t, b, *y.shape[1:]).unbind(0) for y in proj)))  # T x [B, P, H, W]
        state = _cast_state(state, proj[0].dtype)
        outs: list[torch.Tensor] = []
        kernels: list[torch.Tensor] = []
        for i in range(t):
            state, k = self._cell(list(per_step[i]), state, p)
            outs.append(self.output_from_state(state))
            if k is not None:
                kernels.append(k.detach())
        if kernels:
            self.last_kernels = torch.stack(kernels, dim=2)  # [B, k*k, T, H, W]
        return torch.stack(outs, dim=2)  # [B, C_h, T, H, W]

    def _check_features(self, f: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        check_frames(f, "h0", channels=self.hidden_channels)
        b, _, hh, ww = x_t.shape
        if f.shape[0] != b or f.shape[2:] != x_t.shape[2:]:
            raise ValueError(
                f"h0: expected ({b}, {self.hidden_channels}, {hh}, {ww}) to match x, got {_shape(f)}"
            )
        return f

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, hidden_channels={self.hidden_channels}"
