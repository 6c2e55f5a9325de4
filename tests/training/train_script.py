"""Training entry used by the subprocess tests (signals, torchrun). Not collected by pytest.

    python tests/training/train_script.py signal OUT_DIR MAX_STEPS
    torchrun --standalone --nproc_per_node=2 tests/training/train_script.py ddp OUT_DIR
    torchrun --standalone --nproc_per_node=2 tests/training/train_script.py equiv OUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from tests.training.tiny import TinyDiscriminator, TinyGenerator, TinyVideos  # noqa: E402
from vidgan_blocks.layers import FrameBatchNorm  # noqa: E402
from vidgan_blocks.training import (  # noqa: E402
    EMAMixin,
    GANTrainer,
    StatsCollector,
    TrainerConfig,
    check_replicas_identical,
    init_distributed,
)


class PlainTrainer(GANTrainer):
    def after_g_step(self) -> None:
        super().after_g_step()
        if self.ctx.is_main:
            print(f"STEP {self.step}", flush=True)


class Trainer(EMAMixin, PlainTrainer):
    """With an EMA of G."""


def build(out_dir, max_steps, ctx=None, seed_models=0, ema=True, **cfg):
    torch.manual_seed(seed_models)
    config = TrainerConfig(batch_size=2, max_steps=max_steps, out_dir=str(out_dir), progress=False, log_every=1,
                           tensorboard=False, n_dis=2, **cfg)
    models = (TinyGenerator(num_classes=3), TinyDiscriminator(num_classes=3), TinyVideos(n=8), config)
    if not ema:
        return PlainTrainer(*models, device="cpu", context=ctx)
    return Trainer(*models, device="cpu", context=ctx, ema_start=1, ema_decay=0.5)


class GlobalNoiseTrainer(EMAMixin, GANTrainer):
    """Every rank draws the noise of the whole global micro-batch from one shared stream and keeps its rows.

    With the data sampler's split (rank ``r`` of ``W`` takes every ``W``-th index), ``W``
    ranks with batch ``b`` then see exactly the real and fake videos of one process with
    batch ``W * b``: the runs must end with the same weights.
    """

    @staticmethod
    def _rank_seed(seed: int, rank: int) -> int:
        return GANTrainer._rank_seed(seed, 0)

    def sample_noise(self, n, *, generator=None, truncation=None):
        if generator is not None:
            return super().sample_noise(n, generator=generator, truncation=truncation)
        w, r = self.ctx.world_size, self.ctx.rank
        z, y = super().sample_noise(n * w, truncation=truncation)
        rows = slice(r * n, (r + 1) * n)
        return z[rows], (None if y is None else y[rows])


EQUIV_STEPS = 2


def build_equiv(ctx, world_size: int, **cfg) -> GlobalNoiseTrainer:
    """Global batch 4 per optimiser step: 2 accumulation micro-batches of 2 videos over all ranks.

    Adam's epsilon is raised to 1e-4: gradients that cancel to rounding noise (biases that
    feed batch norm, the score bias under a balanced hinge loss) would otherwise become
    +-lr steps whose sign is that of the noise, and the comparison is about the gradients.
    """
    torch.manual_seed(5)
    config = TrainerConfig(batch_size=2 // world_size, accumulation=2, n_dis=2, max_steps=EQUIV_STEPS, out_dir=None,
                           progress=False, log_every=0, tensorboard=False, ortho_reg=1e-4, adam_eps=1e-4, **cfg)
    models = (TinyGenerator(num_classes=3), TinyDiscriminator(num_classes=3), TinyVideos(n=8), config)
    return GlobalNoiseTrainer(*models, device="cpu", context=ctx, ema_start=1, ema_decay=0.5)


def equiv_state(tr) -> dict[str, torch.Tensor]:
    """Weights and buffers (spectral-norm vectors, BN statistics) of G, D and the EMA."""
    out = {f"G/{k}": v for k, v in tr.G.state_dict().items()}
    out.update({f"D/{k}": v for k, v in tr.D.state_dict().items()})
    out.update({f"ema/{k}": v for k, v in tr.ema.module.state_dict().items()})
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def run_equiv(out_dir: str) -> None:
    """Today's flat path (two D calls, one flat all-reduce) and DDP (joint D call), 2 ranks, with accumulation."""
    from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

    ctx = init_distributed("cpu", timeout_s=60)
    assert ctx.world_size == 2
    for mode in ("flat", "ddp", "ddp_channels_last", "ddp_two_d_calls"):
        sync = "flat" if mode == "flat" else "ddp"
        tr = build_equiv(ctx, 2, grad_sync=sync, joint_d=mode in ("ddp", "ddp_channels_last"),
                         channels_last=mode == "ddp_channels_last")
        calls = {"G": 0, "D": 0}
        if sync == "ddp":
            assert tr.G_ddp is not None and tr.D_ddp is not None
            for name, ddp in (("G", tr.G_ddp), ("D", tr.D_ddp)):
                def counted(state, bucket, name=name):
                    calls[name] += 1
                    return allreduce_hook(state, bucket)

                ddp.register_comm_hook(None, counted)
        else:
            assert tr.G_ddp is None and tr.D_ddp is None
        tr.fit()
        if sync == "ddp":
            # One bucket each (tiny models): one all-reduce per optimiser step, none on the no_sync micro-batch.
            assert calls == {"G": EQUIV_STEPS, "D": 2 * EQUIV_STEPS}, calls
        state = equiv_state(tr)
        bad = gather_equal(state)
        assert not bad, f"{mode}: ranks differ: {bad[:4]}"
        if ctx.is_main:
            save_file(state, str(Path(out_dir) / f"{mode}.safetensors"))
        tr.close()
    print(f"RANK {ctx.rank} EQUIV OK", flush=True)
    dist.barrier()
    dist.destroy_process_group()


def run_signal(out_dir: str, max_steps: int) -> None:
    tr = build(out_dir, max_steps, ema=False)
    summary = tr.fit()
    resumed = tr.logger.events("resumed")
    print(f"DONE {summary['step']} RESUMED {resumed[0]['step'] if resumed else -1}", flush=True)


def check_cross_replica_bn(ctx) -> None:
    torch.manual_seed(1)
    full = torch.randn(4, 3, 2, 3, 3, dtype=torch.float64)
    ref = FrameBatchNorm(3).double()
    expected = ref(full)
    bn = FrameBatchNorm(3).double()
    bn.cross_replica = True
    local = full[2 * ctx.rank : 2 * ctx.rank + 2].clone().requires_grad_(True)
    out = bn(local)
    assert torch.allclose(out, expected[2 * ctx.rank : 2 * ctx.rank + 2], atol=1e-10), "cross-replica output"
    assert torch.allclose(bn.running_mean, ref.running_mean, atol=1e-12), "cross-replica running mean"
    assert torch.allclose(bn.running_var, ref.running_var, atol=1e-12), "cross-replica running var"
    # gradient of the summed loss over ranks matches the single-process gradient
    w = torch.arange(full.numel(), dtype=torch.float64).view_as(full).sin()
    (out * w[2 * ctx.rank : 2 * ctx.rank + 2]).sum().backward()
    full_req = full.clone().requires_grad_(True)
    (FrameBatchNorm(3).double()(full_req) * w).sum().backward()
    assert torch.allclose(local.grad, full_req.grad[2 * ctx.rank : 2 * ctx.rank + 2], atol=1e-10), "cross-replica grad"


class Poison(torch.nn.Module):
    def __init__(self, d, at):
        super().__init__()
        self.d, self.at, self.calls = d, at, 0

    def forward(self, video, y=None, **ctx):
        self.calls += 1
        out = self.d(video, y, **ctx)
        return {k: v * float("nan") for k, v in out.items()} if self.calls == self.at else out


def gather_equal(tensors: dict[str, torch.Tensor]) -> list[str]:
    bad = []
    for k, v in sorted(tensors.items()):
        if not v.is_floating_point():
            continue
        parts = [torch.empty_like(v) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, v.contiguous())
        if not all(torch.equal(parts[0], p) for p in parts[1:]):
            bad.append(k)
    return bad


def run_ddp(out_dir: str) -> None:
    ctx = init_distributed("cpu", timeout_s=60)
    assert ctx.world_size == 2
    check_cross_replica_bn(ctx)
    stats = StatsCollector()
    stats.report("x", float(ctx.rank))
    stats.report("x", torch.tensor([2.0 * ctx.rank, 0.0]))
    if ctx.rank == 1:
        stats.report("only_rank1", 5.0)
    got = stats.collect()
    assert got == {"x": 0.5, "only_rank1": 5.0}, got  # mean over all values of all ranks
    root = Path(out_dir)
    full = build(root / "a", 3, ctx, seed_models=ctx.rank)  # rank 1 differs: the broadcast must align it
    full.fit()
    part = build(root / "b", 2, ctx, seed_models=11 * ctx.rank)
    part.fit()
    resumed = build(root / "b", 3, ctx, seed_models=20 + ctx.rank)
    resumed.fit()
    assert resumed.logger.events("resumed") or not ctx.is_main
    a, _ = full.state_tensors()
    b, _ = resumed.state_tensors()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"rank {ctx.rank}: resumed state differs: {diff[:4]}"
    models = {f"G/{k}": v for k, v in full.G.state_dict().items()}
    models.update({f"D/{k}": v for k, v in full.D.state_dict().items()})
    models.update({f"ema/{k}": v for k, v in full.ema.module.state_dict().items()})
    bad = gather_equal(models)
    assert not bad, f"ranks differ: {bad[:4]}"
    # different data and noise per rank
    noise = torch.tensor([float(torch.randn(1, generator=full.noise))])
    parts = [torch.empty_like(noise) for _ in range(2)]
    dist.all_gather(parts, noise)
    assert not torch.equal(parts[0], parts[1]), "per-rank noise streams must differ"
    # A non-finite loss on rank 1 only: both ranks skip that D step together and stay identical.
    nan = build(root / "nan", 2, ctx, ema=False)
    # Calls 1-2 are the D steps of iteration 1 (the G step calls the unwrapped D); call 3 is poisoned.
    assert nan.D_ddp is not None and nan.D_fwd is nan.D_ddp and nan.D_fwd_frozen is nan.D
    nan.D_fwd = Poison(nan.D_fwd, 3 if ctx.rank == 1 else -1)
    nan.fit()
    assert nan.counters.skipped_d == 1 and nan.counters.skipped_g == 0, nan.counters
    assert not gather_equal({k: v for k, v in nan.D.state_dict().items()})
    # The pre-save consistency check catches diverged replicas.
    with torch.no_grad():
        next(nan.G.parameters()).add_(float(ctx.rank))
    try:
        check_replicas_identical({"G": nan.G})
    except RuntimeError as e:
        assert "differ between ranks" in str(e)
    else:
        raise AssertionError("diverged replicas were not detected")
    print(f"RANK {ctx.rank} OK steps={full.step}", flush=True)
    for trainer in (full, part, resumed, nan):
        trainer.close()
    dist.barrier()  # both ranks are done with every collective before the group goes away
    dist.destroy_process_group()


if __name__ == "__main__":
    torch.set_num_threads(1)
    mode = sys.argv[1]
    if mode == "signal":
        run_signal(sys.argv[2], int(sys.argv[3]))
    elif mode in ("ddp", "equiv"):
        (run_ddp if mode == "ddp" else run_equiv)(sys.argv[2])
        # Leave without the interpreter's teardown of gloo's C++ objects, which once
        # aborted a finished rank ("terminate called without an active exception").
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    else:
        raise SystemExit(f"unknown mode {mode!r}")

