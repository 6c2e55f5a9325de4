"""A seeded, infinite, rank-aware sampler whose position is one integer.

Each epoch is a permutation of the dataset drawn from ``(seed, epoch)``; rank ``r``
of ``W`` takes every ``W``-th index starting at ``r`` (the dataset is padded by
wrapping so every rank gets the same number of samples). The stream a rank sees
is therefore a pure function of ``(seed, rank, world_size, position)``: resuming
is setting ``position`` to the number of samples already consumed, whatever
the data loader prefetched.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from .._checks import check_int, check_positive_int

__all__ = ["InfiniteRankSampler"]


class InfiniteRankSampler(Sampler[int]):
    """Endless stream of dataset indices for one rank.

    Args:
        length: dataset size.
        rank, world_size: this process's share.
        seed: shared by all ranks (the permutation must agree).
        shuffle: permute each epoch (else indices in order).
        start: position (samples already consumed by this rank) to start from.
    """

    def __init__(
        self, length: int, *, rank: int = 0, world_size: int = 1, seed: int = 0, shuffle: bool = True, start: int = 0
    ) -> None:
        self.length = check_positive_int(length, "length")
        self.world_size = check_positive_int(world_size, "world_size")
        self.rank = check_int(rank, "rank", minimum=0)
        if self.rank >= self.world_size:
            raise ValueError(f"rank: expected 0 <= rank < world_size={world_size}, got {rank}")
        self.seed = int(seed)
        self.shuffle = shuffle
        self.start = check_int(start, "start", minimum=0)

    @property
    def per_rank(self) -> int:
        """Samples per rank per epoch (the dataset padded to a multiple of the world size)."""
        return -(-self.length // self.world_size)

    def epoch_indices(self, epoch: int) -> torch.Tensor:
        """This rank's indices for ``epoch``, shape ``(per_rank,)``."""
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(self.length, generator=g)
        else:
            perm = torch.arange(self.length)
        total = self.per_rank * self.world_size
        if total > self.length:  # wrap around (several times when the dataset is smaller than the world)
            perm = perm.repeat(-(-total // self.length))[:total]
        return perm[self.rank :: self.world_size]

    def index_at(self, position: int) -> int:
        """The index emitted at ``position`` (samples consumed before it)."""
        epoch, offset = divmod(position, self.per_rank)
        return int(self.epoch_indices(epoch)[offset])

    def __iter__(self) -> Iterator[int]:
        epoch, offset = divmod(self.start, self.per_rank)
        while True:
            idx = self.epoch_indices(epoch)
            for i in idx[offset:].tolist():
                yield i
            epoch, offset = epoch + 1, 0

    def __len__(self) -> int:
        # Infinite stream; DataLoader only needs len() for progress displays.
        return 2**62
