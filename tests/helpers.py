"""Helpers shared by tests (importable as ``tests.helpers``)."""

from __future__ import annotations

import torch


def missing_grads(module: torch.nn.Module) -> list[str]:
    """Names of trainable parameters whose ``.grad`` is missing or all zero."""
    return [
        n
        for n, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))
    ]
