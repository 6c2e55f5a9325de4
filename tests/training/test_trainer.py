from __future__ import annotations

import functools
import json
import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vidgan_blocks.discriminators import DECOMPOSITIONS
from vidgan_blocks.layers import freeze_spectral_norm
from vidgan_blocks.losses import d_hinge_loss
from vidgan_blocks.training import (
    EMAMixin,
    GANTrainer,
    StandingStatsMixin,
    TrainerConfig,
    report,
    truncated_normal,
)

from tests.helpers import close, missing_grads

from .tiny import TinyDiscriminator, TinyGenerator, TinyVideos


class EMATrainer(EMAMixin, GANTrainer):
    """GANTrainer + EMA."""


class FullTrainer(EMAMixin, StandingStatsMixin, GANTrainer):
    """GANTrainer + EMA + standing statistics."""


def make(cls=GANTrainer, out_dir=None, classes=3, gen_kw=None, dis_kw=None, trainer_kw=None, device="cpu", **cfg):
    """A tiny trainer on ``device``; ``cfg`` are TrainerConfig fields."""
    torch.manual_seed(0)
    base = dict(batch_size=2, max_steps=2, progress=False, log_every=1, tensorboard=False)
    base.update(cfg)
    config = TrainerConfig(out_dir=None if out_dir is None else str(out_dir), **base)
    g = TinyGenerator(num_classes=classes, **(gen_kw or {}))
    d = TinyDiscriminator(num_classes=classes, **(dis_kw or {}))
    return cls(g, d, TinyVideos(n=6), config, device=device, **(trainer_kw or {}))


def params(m):
    return {k: v.detach().clone() for k, v in m.named_parameters()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_d_step_updates_only_d_and_g_step_only_g(device):
    tr = make(device=device)
    g0, d0 = params(tr.G), params(tr.D)
    loss = tr.d_step()
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert same(params(tr.G), g0) and not same(params(tr.D), d0)
    # only the matching head (used with low_res= only) has no gradient
    assert missing_grads(tr.D) and all(n.startswith(("m1.", "head_m.")) for n in missing_grads(tr.D))
    g1, d1 = params(tr.G), params(tr.D)
    tr.g_step()
    assert same(params(tr.D), d1) and not same(params(tr.G), g1)
    assert all(p.requires_grad for p in tr.D.parameters())


@pytest.mark.parametrize("classes", [None, 3])
def test_train_step_counts_and_data_position(classes, device):
    tr = make(classes=classes, n_dis=2, accumulation=2, device=device)
    tr.train_step()
    c = tr.counters
    assert (c.step, c.d_steps, c.g_steps) == (1, 2, 1)
    assert c.samples_seen == 2 * 2 * 2  # n_dis x accumulation x batch (the G step draws no data)
    assert tr.opt_g.param_groups[0]["betas"] == (0.0, 0.999)
    assert tr.opt_d.param_groups[0]["lr"] == 2e-4 and tr.opt_g.param_groups[0]["lr"] == 1e-4


def test_accumulated_gradient_is_mean_of_microbatches(device):
    tr = make(classes=3, accumulation=2, batch_size=2, device=device)
    freeze_spectral_norm(tr.D)
    freeze_spectral_norm(tr.G)
    seen = {}
    tr.opt_d.step = lambda *a, **k: seen.update({n: p.grad.clone() for n, p in tr.D.named_parameters() if p.grad is not None})
    noise_state, samples = tr.noise.get_state(), tr.counters.samples_seen
    tr.d_step()
    # Reference: replay the same two micro-batches and average their gradients.
    tr.noise.set_state(noise_state)
    tr.counters.samples_seen = samples
    tr._data_iter = None
    grads = {n: torch.zeros_like(p) for n, p in tr.D.named_parameters()}
    for _ in range(2):
        real = tr.prepare_real(tr.next_batch())
        with torch.no_grad():
            fake = tr.make_fake(2, tr.d_fake_context(real))
        tr.D.zero_grad()
        d_hinge_loss(tr.D(real["video"], real["label"]), tr.D(fake["video"], fake["label"])).backward()
        for n, p in tr.D.named_parameters():
            if p.grad is not None:
                grads[n] += p.grad / 2
    assert len(seen) > 10
    for n in seen:
        close(seen[n], grads[n], device, rtol=1e-5, atol=1e-6)


def _final_state(tr):
    tensors, state = tr.state_tensors()
    return tensors, state["counters"]


def test_exact_resume_single_process(tmp_path, device):
    """A run resumed from its step-2 checkpoint ends bit-identical to an uninterrupted one.

    Exact on CUDA too, given the suite's deterministic cuDNN and deterministic-algorithms
    settings (tests/conftest.py): a mismatch there means some kernel of the training step
    is not reproducible from run to run.
    """
    kw = dict(trainer_kw={"ema_start": 2, "ema_decay": 0.5}, n_dis=2, checkpoint_every=0, device=device)
    full = make(EMATrainer, out_dir=tmp_path / "a", max_steps=4, **kw)
    full.fit()
    part = make(EMATrainer, out_dir=tmp_path / "b", max_steps=2, **kw)
    part.fit()
    torch.manual_seed(123)  # a fresh process: different global RNG and fresh weights
    resumed = EMATrainer(
        TinyGenerator(num_classes=3), TinyDiscriminator(num_classes=3), TinyVideos(n=6),
        TrainerConfig(batch_size=2, max_steps=4, progress=False, log_every=1, tensorboard=False, out_dir=str(tmp_path / "b")),
        device=device, ema_start=2, ema_decay=0.5,
    )
    resumed.fit()
    assert resumed.logger.events("resumed")
    a, ca = _final_state(full)
    b, cb = _final_state(resumed)
    assert sorted(a) == sorted(b)
    assert any(k.startswith("ema/") for k in a) and any(k.startswith("opt_d/") for k in a)
    mismatched = [k for k in a if not torch.equal(a[k], b[k])]
    assert not mismatched, mismatched[:5]
    assert {k: ca[k] for k in ("step", "d_steps", "g_steps", "samples_seen")} == {
        k: cb[k] for k in ("step", "d_steps", "g_steps", "samples_seen")
    }


class _NaNInjector(torch.nn.Module):
    """Wraps a discriminator and poisons its outputs on chosen D-step calls."""

    def __init__(self, d, poison):
        super().__init__()
        self.d, self.poison, self.calls = d, poison, 0

    def forward(self, video, y=None, **ctx):
        out = self.d(video, y, **ctx)
        self.calls += 1
        if self.poison(self.calls):
            out = {k: v * float("nan") for k, v in out.items()}
        return out


def test_nan_step_is_skipped_and_training_continues(tmp_path, device):
    tr = make(out_dir=tmp_path, max_steps=3, n_dis=1, device=device)
    # call 1: D step 1 (real and fake in one call), call 2: G step 1, call 3: D step 2 -> poisoned
    tr.D_fwd = _NaNInjector(tr.D, lambda c: c == 3)
    tr.train_step()
    before = params(tr.D)
    opt_before = {k: v.clone() for k, v in tr.opt_d.state_dict()["state"][0].items()}
    tr.d_step()
    assert same(params(tr.D), before)
    assert all(torch.equal(v, tr.opt_d.state_dict()["state"][0][k]) for k, v in opt_before.items())
    assert tr.counters.skipped_d == 1 and tr.counters.consecutive_skips == 1
    tr.g_step()
    assert tr.counters.consecutive_skips == 0
    tr.fit()
    assert tr.step == 3
    ev = tr.logger.events("nonfinite_skip")
    assert len(ev) == 1 and ev[0]["which"] == "d" and ev[0]["loss_finite"] is False
    lines = [json.loads(x) for x in (tmp_path / "logs" / "log.jsonl").read_text().splitlines()]
    assert any(r.get("event") == "nonfinite_skip" for r in lines)


def test_repeated_nan_restores_last_good_checkpoint(tmp_path, device):
    tr = make(out_dir=tmp_path, max_steps=2, n_dis=1, nonfinite_patience=2, checkpoint_every=1, device=device)
    tr.fit()
    good = params(tr.G)
    state = {"bad": True}
    # Every D and G step of the next iterations fails, then the data recovers.
    tr.D_fwd = _NaNInjector(tr.D, lambda c: state["bad"])
    tr.train_step()  # D skip + G skip = 2 consecutive -> restore
    assert tr.counters.restores == 1 and tr.step == 2
    assert same(params(tr.G), good)
    assert tr.logger.events("nonfinite_restore")[0]["failed_at"] == 3
    state["bad"] = False
    tr.train_step()
    assert tr.step == 3 and tr.counters.consecutive_skips == 0


def test_restore_keeps_the_skip_counters(tmp_path, device):
    tr = make(out_dir=tmp_path, max_steps=1, n_dis=2, nonfinite_patience=3, checkpoint_every=1, device=device)
    tr.fit()
    assert (tr.counters.skipped_d, tr.counters.skipped_g) == (0, 0)
    tr.D_fwd = _NaNInjector(tr.D, lambda c: True)
    tr.train_step()  # two D skips + one G skip = 3 consecutive -> restore of the step-1 checkpoint
    assert tr.counters.restores == 1 and tr.step == 1
    skips = tr.logger.events("nonfinite_skip")
    assert len(skips) == 3
    assert (tr.counters.skipped_d, tr.counters.skipped_g) == (2, 1)
    assert tr.counters.consecutive_skips == 0
    tr.save()  # the totals travel with the next checkpoint as well
    _, state = tr.checkpoints.load()
    assert (state["counters"]["skipped_d"], state["counters"]["skipped_g"]) == (2, 1)


def _flip_bit(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_resume_falls_back_to_newest_checkpoint_that_verifies(tmp_path, device):
    from vidgan_blocks.training import load_checkpoint

    tr = make(out_dir=tmp_path, max_steps=3, n_dis=1, checkpoint_every=1, device=device)
    tr.fit()
    root = tmp_path / "checkpoints"
    assert sorted(d.name for d in root.iterdir()) == ["step_000000002", "step_000000003"]
    good, _ = load_checkpoint(root / "step_000000002")
    _flip_bit(root / "step_000000003" / "tensors.safetensors")

    resumed = make(out_dir=tmp_path, max_steps=2, n_dis=1, checkpoint_every=1, device=device)
    with pytest.warns(UserWarning) as caught:
        resumed.fit()
    messages = [str(w.message) for w in caught]
    assert any(re.search(r"step_000000003 refused: .*SHA-256", m) for m in messages), messages
    assert any("step_000000003 moved aside" in m for m in messages), messages
    assert resumed.step == 2
    refused = resumed.logger.events("checkpoint_refused")
    assert len(refused) == 1 and refused[0]["path"].endswith("step_000000003") and "SHA-256" in refused[0]["reason"]
    assert resumed.logger.events("resumed")[0]["path"].endswith("step_000000002")
    assert all(torch.equal(v.cpu(), good[f"G/{k}"]) for k, v in resumed.G.state_dict().items())
    # The refused checkpoint is kept for inspection but no longer counts as the latest.
    assert (root / "step_000000003.refused").is_dir()
    assert resumed.checkpoints.latest().name == "step_000000002"


def test_resume_with_every_checkpoint_corrupt_is_a_clear_error(tmp_path, device):
    from vidgan_blocks.training import CheckpointError

    tr = make(out_dir=tmp_path, max_steps=2, n_dis=1, checkpoint_every=1, device=device)
    tr.fit()
    root = tmp_path / "checkpoints"
    for d in root.iterdir():
        _flip_bit(d / "tensors.safetensors")
    resumed = make(out_dir=tmp_path, max_steps=3, n_dis=1, device=device)
    with pytest.warns(UserWarning, match="refused"), pytest.raises(
        CheckpointError, match=r"none of the 2 checkpoints verifies.*step_000000002: .*SHA-256.*step_000000001: "
    ):
        resumed.fit()
    assert len(resumed.logger.events("checkpoint_refused")) == 2
    assert sorted(d.name for d in root.iterdir()) == ["step_000000001", "step_000000002"]  # nothing moved


def test_persistent_nan_gives_up_after_max_restores(tmp_path, device):
    tr = make(out_dir=tmp_path, max_steps=1, n_dis=1, nonfinite_patience=1, max_restores=2, checkpoint_every=1, device=device)
    tr.fit()
    tr.D_fwd = _NaNInjector(tr.D, lambda c: True)
    with pytest.raises(RuntimeError, match="after 2 restores"):
        for _ in range(5):
            tr.train_step()
    assert len(tr.logger.events("nonfinite_restore")) == 2 and tr.logger.events("nonfinite_abort")


def test_nan_without_checkpoint_raises(device):
    tr = make(n_dis=1, nonfinite_patience=1, device=device)
    tr.D_fwd = _NaNInjector(tr.D, lambda c: True)
    with pytest.raises(RuntimeError, match="no checkpoint"):
        tr.train_step()


def test_ema_starts_with_weights_of_start_step(device):
    tr = make(EMATrainer, max_steps=5, trainer_kw={"ema_start": 3, "ema_decay": 0.75}, device=device)
    for _ in range(2):
        tr.train_step()
    assert tr.eval_model() is tr.G
    tr.train_step()  # step 3: EMA = weights now
    assert tr.eval_model() is tr.ema.module
    g3 = tr.G.state_dict()
    e3 = tr.ema.module.state_dict()
    assert all(torch.equal(e3[k], g3[k]) for k in g3)
    g3 = {k: v.clone() for k, v in g3.items()}
    tr.train_step()  # step 4: e = 0.75 e + 0.25 g
    g4, e4 = tr.G.state_dict(), tr.ema.module.state_dict()
    for k, v in g4.items():
        if v.is_floating_point():
            close(e4[k], 0.75 * g3[k] + 0.25 * v, device, rtol=1e-6, atol=1e-7)
        else:
            assert torch.equal(e4[k], v)
    assert not all(torch.equal(e4[k], g4[k]) for k in g4 if g4[k].is_floating_point())


def test_ema_default_is_papers_schedule():
    tr = make(EMATrainer)
    assert tr.ema.decay == 0.9999 and tr.ema_start == 20_000
    assert tr.ema.get_decay(20_000) == 0.0 and tr.ema.get_decay(20_001) == 0.9999


def test_standing_stats_change_bn_running_stats_and_nothing_else(device):
    tr = make(FullTrainer, trainer_kw={"ema_start": 0, "standing_passes": 3}, device=device)
    tr.train_step()
    g = tr.eval_model()
    before = {k: v.clone() for k, v in g.state_dict().items()}
    modes = {n: m.training for n, m in g.named_modules()}
    momenta = [m.momentum for m in g.modules() if hasattr(m, "running_mean")]
    rng, noise = torch.get_rng_state(), tr.noise.get_state()
    assert tr.standing_stats() == 3  # two conditional BNs in the GBlock + the final BN
    after = g.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    stat_keys = {k for k in before if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    assert changed and changed <= stat_keys
    assert {k for k in stat_keys if k.endswith("running_mean")} <= changed
    assert all(int(after[k]) == 3 for k in stat_keys if k.endswith("num_batches_tracked"))
    assert {n: m.training for n, m in g.named_modules()} == modes
    assert [m.momentum for m in g.modules() if hasattr(m, "running_mean")] == momenta
    assert torch.equal(torch.get_rng_state(), rng) and torch.equal(tr.noise.get_state(), noise)


def test_standing_stats_at_new_length(device):
    tr = make(FullTrainer, trainer_kw={"ema_start": 0, "standing_passes": 2}, gen_kw={"frames": 4}, device=device)
    tr.train_step()
    norms = [m for m in tr.G.modules() if hasattr(m, "running_mean")]
    assert all(m.frames == 4 for m in norms)
    tr.standing_stats(tr.G, frames=4, batch_size=3)
    assert all(int(m.num_batches_tracked) == 2 for m in norms)


def test_report_from_inside_model_is_logged(tmp_path, device):
    tr = make(out_dir=tmp_path, max_steps=2, dis_kw={"report_fn": report}, ortho_reg=1e-4, device=device)
    tr.fit()
    scal = [r for r in tr.logger.records if r["kind"] == "scalars"]
    assert len(scal) == 2
    for key in ("loss/d", "loss/g", "loss/g_ortho", "d/mean_spatial", "perf/sec_per_step"):
        assert key in scal[-1]
    lines = (tmp_path / "logs" / "log.jsonl").read_text().splitlines()
    assert any("loss/g_ortho" in json.loads(x) for x in lines)


def test_sample_export_and_eval_hooks(tmp_path, device):
    calls, evals = [], []

    def sample_fn(videos, step, out):
        calls.append((tuple(videos.shape), step, out))

    def eval_fn(trainer):
        evals.append(trainer.step)
        return {"score": float(-trainer.step)}

    tr = make(out_dir=tmp_path, max_steps=4, sample_every=2, eval_every=2, num_samples=3, best_metric="score",
              best_mode="max", trainer_kw={"sample_fn": sample_fn, "eval_fn": eval_fn}, device=device)
    tr.fit()
    assert [c[1] for c in calls] == [2, 4] and calls[0][0] == (3, 3, 4, 8, 8)
    assert calls[0][2] == tmp_path / "samples"
    assert evals == [2, 4]
    assert tr.checkpoints.best().name == "step_000000002"


def test_sample_is_deterministic_and_leaves_training_rng(device):
    tr = make(device=device)
    tr.train_step()  # eval-mode BN needs running statistics
    noise = tr.noise.get_state()
    a = tr.sample(3, truncation=0.5)
    b = tr.sample(3, truncation=0.5)
    assert a.shape == (3, 3, 4, 8, 8) and torch.equal(a, b) and a.abs().max() <= 1
    assert torch.equal(tr.noise.get_state(), noise) and tr.G.training


@given(threshold=st.floats(0.05, 3.0), n=st.integers(1, 50))
def test_truncated_normal_bounds(threshold, n):
    z = truncated_normal((n, 3), threshold, generator=torch.Generator().manual_seed(n))
    assert z.shape == (n, 3) and bool((z.abs() <= threshold).all())


def test_config_and_model_validation():
    with pytest.raises(ValueError, match="amp"):
        TrainerConfig(amp="fp8")
    with pytest.raises(ValueError, match="keep_last"):
        TrainerConfig(keep_last=1)
    with pytest.raises(TypeError, match="n_dis"):
        TrainerConfig(n_dis=1.5)
    with pytest.raises(TypeError, match="channels_last: expected a bool"):
        TrainerConfig(channels_last="yes")
    with pytest.raises(ValueError):
        TrainerConfig(batch_size=0)
    assert TrainerConfig.accumulation_for(512, 8, 4) == 16
    with pytest.raises(ValueError, match="multiple"):
        TrainerConfig.accumulation_for(500, 8, 4)
    cfg = TrainerConfig(lr_d=5e-4, betas=[0.0, 0.999])
    assert TrainerConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown"):
        TrainerConfig.from_dict({"bogus": 1})
    with pytest.raises(TypeError, match="z_dim"):
        GANTrainer(torch.nn.Linear(2, 2), TinyDiscriminator(), TinyVideos(), TrainerConfig(), device="cpu")
    with pytest.raises(TypeError, match="TrainerConfig"):
        GANTrainer(TinyGenerator(), TinyDiscriminator(), TinyVideos(), {"batch_size": 2}, device="cpu")


def test_fp16_request_on_cpu_falls_back_to_float32(device):
    """On the CPU an fp16 request falls back to float32 and says so.

    CUDA-specific check: there fp16 autocast is honoured (no fallback event), and a
    training step runs with the loss scalers.
    """
    tr = make(amp="fp16", device=device)
    if device.type == "cuda":
        assert tr.amp_dtype is torch.float16 and not tr.logger.events("amp_disabled")
    else:
        assert tr.amp_dtype is None and tr.logger.events("amp_disabled")
    tr.train_step()


def test_bf16_autocast_runs_convolutions_in_bf16_and_keeps_float32_state(device):
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16 support")
    tr = make(amp="bf16", device=device)
    assert tr.amp_dtype is torch.bfloat16 and not tr.logger.events("amp_disabled")
    seen = []
    hook = tr.G.out.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    before = params(tr.G)
    tr.train_step()
    hook.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in tr.G.parameters()) and not same(before, params(tr.G))
    assert all(torch.isfinite(p).all() for p in tr.D.parameters())
    assert tr.G.norm.running_mean.dtype == torch.float32
    assert tr.sample(2).dtype == torch.float32  # sampled under autocast, handed back as float32


def test_channels_last_lays_out_weights_and_batches_trains_the_same_and_resumes(tmp_path, device):
    from vidgan_blocks.ops import is_channels_last

    ref, tr = make(device=device), make(out_dir=tmp_path, channels_last=True, device=device)
    assert is_channels_last(tr.G) and is_channels_last(tr.D) and not is_channels_last(ref.D)
    assert any(p.dim() == 5 for p in tr.D.parameters()) and any(p.dim() == 4 for p in tr.D.parameters())
    for _ in range(2):
        ref.train_step()
        tr.train_step()
    assert tr.next_batch()["video"].is_contiguous(memory_format=torch.channels_last_3d)
    # D has no normalisation, so its Adam updates compare directly; G's conv biases and time offsets
    # feed per-frame BN and get (numerically) zero gradients that Adam turns into +-lr noise, so G
    # is compared through its samples.
    for (name, a), b in zip(ref.D.named_parameters(), tr.D.parameters(), strict=True):
        close(a, b, device, rtol=1e-4, atol=1e-5, msg=name)
    close(ref.sample(2), tr.sample(2), device, rtol=0, atol=2e-3)
    tr.save()  # safetensors needs contiguous tensors: the checkpoint copies them out
    back = make(out_dir=tmp_path, channels_last=True, device=device)
    back.load()
    assert is_channels_last(back.G) and back.step == tr.step
    for a, b in zip(tr.G.parameters(), back.G.parameters(), strict=True):
        assert torch.equal(a, b)


def test_compile_wraps_the_forwards_and_trains(monkeypatch, device):
    # Dynamo tracing and AOTAutograd as in a real run; "aot_eager" skips inductor's C++/Triton
    # code generation, which takes minutes on a small CPU (the GPU path is exercised by benchmarks).
    monkeypatch.setattr(torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    tr = make(compile=True, max_steps=1, classes=None, device=device)
    assert tr.G_fwd is not tr.G and tr.D_fwd is not tr.D
    before = params(tr.G)
    tr.train_step()
    assert not same(before, params(tr.G))


def test_bad_batches_are_rejected(device):
    class Bad(TinyVideos):
        def __getitem__(self, i):
            return {"video": self.videos[i][:2], "label": self.labels[i]}

    tr = make(device=device)
    tr.dataset = Bad(n=6)
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        tr.d_step()
    tr2 = make(classes=3, device=device)

    class NoLabel(TinyVideos):
        def __getitem__(self, i):
            return {"video": self.videos[i]}

    tr2.dataset = NoLabel(n=6)
    with pytest.raises(ValueError, match="label"):
        tr2.d_step()


# ---------------------------------------------------------------- one D call over real and fake


def _seed_view_generators(d, seed=0):
    """A generator per member with random views, reseeded: one call over [real; fake] then draws
    exactly what a call on real followed by a call on fake draws."""
    k = 0
    for m in d.modules():
        if isinstance(getattr(m, "generator", None), torch.Generator):
            m.generator = torch.Generator().manual_seed(seed + k)
            k += 1


def _views(b=2, classes=3, t=4, s=8):
    g = torch.Generator().manual_seed(1)

    def view():
        return {"video": torch.rand(b, 3, t, s, s, generator=g) * 2 - 1,
                "label": torch.randint(classes, (b,), generator=g),
                "low_res": torch.rand(b, 3, t // 2, s // 2, s // 2, generator=g) * 2 - 1}

    return view(), view()


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
def test_joint_d_call_equals_one_call_per_view(name, mixed):
    from vidgan_blocks.discriminators import DiscriminatorConfig
    from vidgan_blocks.training.trainer import _concat_views, _joint_plan, _split_outputs, context_of

    torch.manual_seed(0)
    d = DiscriminatorConfig(name, ch=2, multipliers=(1, 2), k=2, factor_t=2, factor_s=2, num_classes=3,
                            mixed_projection=mixed).build(generator=torch.Generator())
    freeze_spectral_norm(d)  # the same weights for every call
    plan = _joint_plan(d)
    assert plan is not None
    assert plan == (frozenset(d.names()) if mixed else frozenset())
    real, fake = _views()
    _seed_view_generators(d)
    joint = _concat_views(real, fake)
    out_real, out_fake = _split_outputs(d(joint["video"], joint["label"], **context_of(joint)), 2, 4, plan)
    _seed_view_generators(d)
    ref_real = d(real["video"], real["label"], low_res=real["low_res"])
    ref_fake = d(fake["video"], fake["label"], low_res=fake["low_res"])
    assert sorted(out_real) == sorted(ref_real) == sorted(out_fake)
    for k in ref_real:
        assert out_real[k].shape == ref_real[k].shape and out_fake[k].shape == ref_fake[k].shape
        torch.testing.assert_close(out_real[k], ref_real[k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out_fake[k], ref_fake[k], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(d_hinge_loss(out_real, out_fake), d_hinge_loss(ref_real, ref_fake))


def test_joint_d_call_plan_and_fallbacks(device):
    from vidgan_blocks.discriminators import CroppedDiscriminator
    from vidgan_blocks.layers import FrameBatchNorm, MixedProjectionHead
    from vidgan_blocks.training.trainer import _concat_views, _joint_plan, _split_outputs

    assert _joint_plan(TinyDiscriminator(num_classes=3)) == frozenset()
    single = CroppedDiscriminator(factor=2, ch=2, multipliers=(1, 2), num_classes=3, mixed_projection=True)
    assert _joint_plan(single) is True
    with_bn = torch.nn.Sequential(TinyDiscriminator(), FrameBatchNorm(3))
    assert _joint_plan(with_bn) is None  # batch statistics tie the samples of a call together
    assert _joint_plan(torch.nn.Sequential(MixedProjectionHead(4))) is None  # mixed outputs of unknown layout
    real, fake = _views()
    assert _concat_views(real, {k: v for k, v in fake.items() if k != "label"}) is None
    assert _concat_views(real, {**fake, "low_res": fake["low_res"][:, :, :1]}) is None
    assert _concat_views(real, {**fake, "label": fake["label"].float()}) is None
    joint = _concat_views(real, fake)
    assert joint["video"].shape[0] == 4 and torch.equal(joint["label"][2:], fake["label"])
    # mixed projection: the real-real and fake-fake blocks of the (2B, 2B, T) output
    pairs = torch.arange(32.0).view(4, 4, 2)
    r, f = _split_outputs(pairs, 2, 4, True)
    assert torch.equal(r, pairs[:2, :2]) and torch.equal(f, pairs[2:, 2:])
    with pytest.raises(ValueError, match="joint_d=False"):
        _split_outputs({"x": torch.zeros(3)}, 2, 4, frozenset())
    # The trainer: one call per D step by default, one per view with joint_d=False or with batch norm in D.
    calls = {}
    for key, kw in (("joint", {}), ("two", {"joint_d": False})):
        tr = make(n_dis=1, device=device, **kw)
        seen = []
        inner = tr.D_fwd
        tr.D_fwd = lambda v, y=None, _s=seen, _d=inner, **c: (_s.append(v.shape[0]), _d(v, y, **c))[1]
        tr.d_step()
        calls[key] = seen
    assert calls == {"joint": [4], "two": [2, 2]}
