"""Random-number-generator states as plain tensors (safetensors-friendly).

Exact resumption needs every RNG that influences training: torch's CPU and CUDA
generators, Python's ``random``, NumPy's global generator, and the trainer's own
noise generator. Each state is stored as a tensor, so a checkpoint holds no
pickles and loads with ``weights_only``-style safety.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["capture_rng_state", "restore_rng_state"]


def capture_rng_state(noise: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Every global RNG state (plus ``noise``'s) as a name -> CPU tensor mapping."""
    state: dict[str, torch.Tensor] = {"torch": torch.get_rng_state().clone()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i in range(torch.cuda.device_count()):
            state[f"cuda{i}"] = torch.cuda.get_rng_state(i).clone()
    version, internal, gauss = random.getstate()
    state["python"] = torch.tensor([version, *internal], dtype=torch.int64)
    state["python_gauss"] = torch.tensor([0.0 if gauss is None else 1.0, 0.0 if gauss is None else gauss], dtype=torch.float64)
    name, keys, pos, has_gauss, cached = np.random.get_state()
    if name != "MT19937":
        raise RuntimeError(f"unsupported NumPy bit generator {name!r}")
    state["numpy"] = torch.from_numpy(np.concatenate([keys.astype(np.int64), [pos, has_gauss]]).astype(np.int64))
    state["numpy_gauss"] = torch.tensor([cached], dtype=torch.float64)
    if noise is not None:
        state["noise"] = noise.get_state().clone()
    return state


def restore_rng_state(state: dict[str, torch.Tensor], noise: torch.Generator | None = None) -> None:
    """Inverse of :func:`capture_rng_state`; missing entries are left as they are."""
    if "torch" in state:
        torch.set_rng_state(state["torch"].to(torch.uint8).cpu())
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            if f"cuda{i}" in state:
                torch.cuda.set_rng_state(state[f"cuda{i}"].to(torch.uint8).cpu(), i)
    if "python" in state:
        vals = [int(v) for v in state["python"].tolist()]
        flag, g = state["python_gauss"].tolist() if "python_gauss" in state else (0.0, 0.0)
        random.setstate((vals[0], tuple(vals[1:]), g if flag else None))
    if "numpy" in state:
        arr = state["numpy"].numpy()
        cached = float(state["numpy_gauss"][0]) if "numpy_gauss" in state else 0.0
        np.random.set_state(("MT19937", arr[:-2].astype(np.uint32), int(arr[-2]), int(arr[-1]), cached))
    if noise is not None and "noise" in state:
        noise.set_state(state["noise"].to(torch.uint8).cpu())
