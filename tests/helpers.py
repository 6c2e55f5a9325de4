"""Helpers shared by tests (importable as ``tests.helpers``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import torch

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark_module(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (the folder is not a package) as ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is created
    spec.loader.exec_module(mod)
    return mod


def missing_grads(module: torch.nn.Module) -> list[str]:
    """Names of trainable parameters whose ``.grad`` is missing or all zero."""
    return [
        n
        for n, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))
    ]
