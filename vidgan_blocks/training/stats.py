"""A small statistics collector: ``report(name, value)`` anywhere, averaged across ranks.

Code deep inside a model or a loss can call :func:`report` without a handle on the
trainer; the values go to whichever :class:`StatsCollector` is active (the trainer
activates its own while it trains). Outside an active collector, :func:`report`
does nothing, so models stay usable on their own. :meth:`StatsCollector.collect`
returns the mean of every name since the previous collect, averaged over all the
values reported on all ranks (one ``all_reduce`` of sums and counts).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import torch
import torch.distributed as dist

__all__ = ["StatsCollector", "report"]

_ACTIVE: contextvars.ContextVar[StatsCollector | None] = contextvars.ContextVar("vidgan_stats", default=None)


class StatsCollector:
    """Accumulates named scalars and averages them over reports and ranks.

    Values are accumulated as detached float64 sums on the device they come from,
    so reporting does not synchronise with the accelerator; :meth:`collect` does.
    """

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}

    def report(self, name: str, value: float | int | torch.Tensor) -> None:
        """Add one value (a number or a tensor, whose elements are each one value)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"name: expected a non-empty str, got {name!r}")
        if isinstance(value, torch.Tensor):
            v = value.detach().to(torch.float64).reshape(-1)
            total, count = v.sum(), v.numel()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            total, count = torch.tensor(float(value), dtype=torch.float64), 1
        else:
            raise TypeError(f"{name}: expected a number or a tensor, got {type(value).__name__}")
        if count == 0:
            return
        if name in self._sums:
            self._sums[name] = self._sums[name] + total.to(self._sums[name].device)
            self._counts[name] += count
        else:
            self._sums[name] = total
            self._counts[name] = count

    def names(self) -> list[str]:
        return sorted(self._sums)

    def collect(self, *, reduce: bool = True) -> dict[str, float]:
        """Means since the last collect, averaged over ranks; then reset.

        When a process group is initialised and ``reduce`` is true, every rank must
        call ``collect`` at the same point (it is a collective); names reported on
        some ranks only are averaged over the ranks that reported them.
        """
        distributed = reduce and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        names = self.names()
        if distributed:
            gathered: list[list[str] | None] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, names)
            names = sorted({n for part in gathered for n in (part or [])})
        if not names:
            self._sums.clear()
            self._counts.clear()
            return {}
        device = _collective_device() if distributed else torch.device("cpu")
        # One copy per device the sums live on (usually one), not one per name.
        sums = torch.zeros(len(names), dtype=torch.float64, device=device)
        by_device: dict[torch.device, list[int]] = {}
        for i, n in enumerate(names):
            if n in self._sums:
                by_device.setdefault(self._sums[n].device, []).append(i)
        for dev, idx in by_device.items():
            sums[idx] = torch.stack([self._sums[names[i]] for i in idx]).to(device)
        counts = torch.tensor([float(self._counts.get(n, 0)) for n in names], dtype=torch.float64, device=device)
        packed = torch.stack([sums, counts])
        if distributed:
            dist.all_reduce(packed)
        self._sums.clear()
        self._counts.clear()
        means = (packed[0] / packed[1].clamp_min(1.0)).tolist()
        return {n: float(m) for n, m in zip(names, means)}

    @contextlib.contextmanager
    def active(self) -> Iterator[StatsCollector]:
        """Make this collector the target of :func:`report` inside the block."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


def report(name: str, value: float | int | torch.Tensor) -> None:
    """Report a scalar to the active :class:`StatsCollector` (no-op when none is active)."""
    collector = _ACTIVE.get()
    if collector is not None:
        collector.report(name, value)


def _collective_device() -> torch.device:
    """The device collectives of the default process group expect (CUDA for NCCL)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
