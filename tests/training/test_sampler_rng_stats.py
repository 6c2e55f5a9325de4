from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vidgan_blocks.training import InfiniteRankSampler, StatsCollector, capture_rng_state, report, restore_rng_state


@given(length=st.integers(1, 23), world=st.integers(1, 4), seed=st.integers(0, 5), epoch=st.integers(0, 3))
def test_ranks_partition_each_epoch(length, world, seed, epoch):
    samplers = [InfiniteRankSampler(length, rank=r, world_size=world, seed=seed) for r in range(world)]
    per = samplers[0].per_rank
    assert per * world >= length and (per - 1) * world < length
    parts = [s.epoch_indices(epoch) for s in samplers]
    assert all(p.shape == (per,) for p in parts)
    allidx = torch.cat(parts)
    assert set(allidx.tolist()) == set(range(length))  # every sample seen, padding only repeats
    assert len(allidx) - len(set(allidx.tolist())) == per * world - length


@given(length=st.integers(1, 17), world=st.integers(1, 3), start=st.integers(0, 60), shuffle=st.booleans())
def test_resume_position_continues_stream(length, world, start, shuffle):
    rank = world - 1
    full = InfiniteRankSampler(length, rank=rank, world_size=world, seed=3, shuffle=shuffle)
    resumed = InfiniteRankSampler(length, rank=rank, world_size=world, seed=3, shuffle=shuffle, start=start)
    head = list(itertools.islice(iter(full), start + 10))
    tail = list(itertools.islice(iter(resumed), 10))
    assert head[start:] == tail
    assert [full.index_at(start + i) for i in range(10)] == tail


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        InfiniteRankSampler(4, rank=2, world_size=2)
    with pytest.raises(ValueError):
        InfiniteRankSampler(0)
    with pytest.raises(TypeError):
        InfiniteRankSampler(4, start=1.5)


def test_rng_roundtrip_all_generators():
    noise = torch.Generator().manual_seed(5)
    random.random(), np.random.rand(), torch.rand(1), torch.randn(1, generator=noise)
    random.gauss(0, 1)  # leaves a cached gaussian in Python's state
    state = capture_rng_state(noise)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    first = (random.random(), random.gauss(0, 1), np.random.rand(3), np.random.randn(), torch.rand(3), torch.randn(3, generator=noise))
    restore_rng_state(state, noise)
    second = (random.random(), random.gauss(0, 1), np.random.rand(3), np.random.randn(), torch.rand(3), torch.randn(3, generator=noise))
    assert first[0] == second[0] and first[1] == second[1]
    assert np.array_equal(first[2], second[2]) and first[3] == second[3]
    assert torch.equal(first[4], second[4]) and torch.equal(first[5], second[5])


def test_stats_collector_means_and_reset():
    c = StatsCollector()
    c.report("a", 1.0)
    c.report("a", torch.tensor([2.0, 3.0]))
    c.report("b", 4)
    assert c.collect() == {"a": 2.0, "b": 4.0}
    assert c.collect() == {}
    with pytest.raises(TypeError):
        c.report("x", "1")
    with pytest.raises(TypeError):
        c.report("", 1.0)


def test_report_goes_to_active_collector_only():
    report("ignored", 1.0)  # no active collector: no-op
    c = StatsCollector()
    with c.active():
        report("loss", torch.tensor(2.0))
        inner = StatsCollector()
        with inner.active():
            report("loss", 10.0)
        report("loss", 4.0)
    report("loss", 100.0)
    assert c.collect() == {"loss": 3.0}
    assert inner.collect() == {"loss": 10.0}


def test_metric_logger_jsonl_tensorboard_and_rank_gating(tmp_path):
    import json

    from vidgan_blocks.training import MetricLogger

    log = MetricLogger(tmp_path, tensorboard=True)
    log.scalars(3, {"loss/d": 1.5, "bad": float("nan")})
    log.event(3, "nonfinite_skip", which="d")
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[0]["loss/d"] == 1.5 and lines[0]["bad"] is None and lines[0]["nonfinite"] == ["bad"]
    assert lines[1]["event"] == "nonfinite_skip" and lines[1]["step"] == 3
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    other = MetricLogger(tmp_path / "rank1", enabled=False)
    other.scalars(1, {"x": 1.0})
    assert not (tmp_path / "rank1").exists() and other.records == []
