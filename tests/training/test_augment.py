"""Differentiable video augmentation: references per transform, per-clip and per-view consistency, trainer option."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vidgan_blocks.training import GANTrainer, TrainerConfig
from vidgan_blocks.training.augment import AUGMENT_POLICIES, VideoAugment, parse_policy

from .test_trainer import _final_state, make
from .tiny import TinyDiscriminator, TinyGenerator, TinyVideos

ALL = "color,translation,cutout"


def _video(b=3, c=3, t=4, h=8, w=8, seed=0, dtype=torch.float32):
    return torch.randn(b, c, t, h, w, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------- policy and arguments


def test_parse_policy_orders_names_and_rejects_unknown_ones():
    assert parse_policy("cutout, color") == ("color", "cutout")
    assert parse_policy(["translation"]) == ("translation",)
    assert parse_policy("") == ()
    assert parse_policy(ALL) == AUGMENT_POLICIES
    with pytest.raises(ValueError, match="unknown transforms \\['flip'\\]"):
        parse_policy("color,flip")
    with pytest.raises(TypeError, match="policy"):
        parse_policy(3)


@pytest.mark.parametrize("kw", [{"translation": 0.5}, {"translation": -0.1}, {"cutout": 0.0}, {"cutout": 1.5}])
def test_bad_fractions_are_refused(kw):
    with pytest.raises(ValueError):
        VideoAugment(ALL, **kw)


def test_bad_views_are_refused():
    aug = VideoAugment(ALL)
    with pytest.raises(TypeError, match="'video'"):
        aug({"label": torch.zeros(2)})
    with pytest.raises(ValueError):
        aug({"video": torch.zeros(2, 3, 8, 8)})


# ---------------------------------------------------------------------------- each transform against a reference


def test_translation_is_a_zero_filled_integer_shift_per_sample():
    aug = VideoAugment("translation", translation=0.25)
    x = _video(b=6)
    p = aug.draw(6, (8, 8), generator=_gen(3))
    out = aug.apply(x, p, (8, 8))
    assert p["shift"].abs().max() <= 2 and p["shift"].abs().sum() > 0
    for i in range(6):
        dy, dx = (int(v) for v in p["shift"][i])
        ref = torch.zeros_like(x[i])
        src = x[i][..., max(0, -dy): 8 - max(0, dy), max(0, -dx): 8 - max(0, dx)]
        ref[..., max(0, dy): 8 - max(0, -dy), max(0, dx): 8 - max(0, -dx)] = src
        torch.testing.assert_close(out[i], ref, rtol=0, atol=0)


def test_cutout_zeroes_one_box_of_the_given_size_per_sample():
    aug = VideoAugment("cutout", cutout=0.5)
    x = _video(b=5) + 10  # no zeros of its own
    p = aug.draw(5, (8, 8), generator=_gen(4))
    out = aug.apply(x, p, (8, 8))
    for i in range(5):
        y0, x0, hh, ww = (int(v) for v in p["box"][i])
        ref = x[i].clone()
        ref[..., y0: y0 + hh, x0: x0 + ww] = 0
        torch.testing.assert_close(out[i], ref, rtol=0, atol=0)
        assert (out[i] == 0).sum() == 3 * 4 * 16


def test_color_is_brightness_then_saturation_then_contrast():
    aug = VideoAugment("color")
    x = _video(b=4, dtype=torch.float64)
    p = aug.draw(4, (8, 8), generator=_gen(5))
    out = aug.apply(x, p, (8, 8))
    for i in range(4):
        v = x[i] + p["brightness"][i]
        m = v.mean(dim=0, keepdim=True)
        v = m + p["saturation"][i] * (v - m)
        m = v.mean(dim=(0, 2, 3), keepdim=True)  # per frame
        v = m + p["contrast"][i] * (v - m)
        torch.testing.assert_close(out[i], v)


# ---------------------------------------------------------------------------- consistency


def test_every_frame_of_a_clip_gets_the_same_transform():
    frame = _video(b=4, t=1, h=16, w=16)
    x = frame.expand(-1, -1, 5, -1, -1).contiguous()
    out = VideoAugment(ALL)({"video": x}, generator=_gen(1))["video"]
    assert not torch.equal(out, x)
    for t in range(1, 5):
        torch.testing.assert_close(out[:, :, t], out[:, :, 0], rtol=0, atol=0)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", ALL])
def test_a_pooled_context_stays_the_exact_view_of_the_augmented_video(policy):
    """CVG's real pair (x^l, f_s(f_t(x^l))) is still a pair after augmentation (f_t = 2, f_s = 4, average pooling)."""
    x = _video(b=6, t=8, h=32, w=32, dtype=torch.float64)

    def view(v):
        sub = v[:, :, ::2]
        return F.avg_pool3d(sub, (1, 4, 4))

    low = view(x)
    out = VideoAugment(policy, translation=0.25)({"video": x, "low_res": low, "label": torch.arange(6)},
                                                 generator=_gen(2))
    torch.testing.assert_close(out["low_res"], view(out["video"]))
    assert torch.equal(out["label"], torch.arange(6))


def test_other_entries_pass_through_and_draws_repeat_with_the_seed():
    x = _video(b=2)
    other = torch.randn(5, 3, 4, 8, 8)  # another batch size: not part of the view's clips
    aug = VideoAugment(ALL)
    a = aug({"video": x, "other": other, "n": 3}, generator=_gen(7))
    b = aug({"video": x, "other": other, "n": 3}, generator=_gen(7))
    assert a["other"] is other and a["n"] == 3
    torch.testing.assert_close(a["video"], b["video"], rtol=0, atol=0)
    assert VideoAugment("")({"video": x})["video"] is x


def test_gradcheck_through_all_transforms():
    aug = VideoAugment(ALL, translation=0.25)
    x = _video(b=2, t=2, h=4, w=4, dtype=torch.float64).requires_grad_(True)
    p = aug.draw(2, (4, 4), generator=_gen(8))
    assert torch.autograd.gradcheck(lambda v: aug.apply(v, p, (4, 4)), (x,))


# ---------------------------------------------------------------------------- trainer option


def test_trainer_config_validates_the_policy():
    with pytest.raises(ValueError, match="unknown transforms"):
        TrainerConfig(augment="mixup")
    with pytest.raises(TypeError, match="augment"):
        TrainerConfig(augment=["color"])


class _Recorder(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d, self.seen = d, []

    def forward(self, video, y=None, **ctx):
        self.seen.append(video.detach().clone())
        return self.d(video, y, **ctx)


def test_d_sees_augmented_real_and_fake_clips_and_g_gets_gradients(device):
    torch.manual_seed(0)
    d = _Recorder(TinyDiscriminator(num_classes=3))
    data = TinyVideos(n=6)
    cfg = TrainerConfig(batch_size=2, max_steps=1, progress=False, log_every=0, tensorboard=False, n_dis=1,
                        augment="translation,cutout", shuffle=False)
    tr = GANTrainer(TinyGenerator(num_classes=3), d, data, cfg, device=device)
    tr.train_step()
    real = torch.stack([data[i]["video"] for i in range(6)]).to(device)
    first = d.seen[0][:2]  # the D step's joint call: the real half first
    assert not any(torch.equal(first[j], real[i]) for j in range(2) for i in range(6))
    assert (d.seen[0] == 0).any()  # zero fill / cutout reached D
    grads = [p.grad for p in tr.G.parameters() if p.grad is not None]  # the context encoder is unused here
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0  # D's gradient reached G through the augmentation


def test_exact_resume_with_augmentation(tmp_path, device):
    kw = dict(n_dis=2, checkpoint_every=0, augment=ALL, device=device)
    full = make(out_dir=tmp_path / "a", max_steps=4, **kw)
    full.fit()
    part = make(out_dir=tmp_path / "b", max_steps=2, **kw)
    part.fit()
    torch.manual_seed(123)
    resumed = GANTrainer(
        TinyGenerator(num_classes=3), TinyDiscriminator(num_classes=3), TinyVideos(n=6),
        TrainerConfig(batch_size=2, max_steps=4, progress=False, log_every=1, tensorboard=False, augment=ALL,
                      out_dir=str(tmp_path / "b")),
        device=device,
    )
    resumed.fit()
    a, _ = _final_state(full)
    b, _ = _final_state(resumed)
    mismatched = [k for k in a if not torch.equal(a[k], b[k])]
    assert not mismatched, mismatched[:5]
    plain = make(out_dir=tmp_path / "c", max_steps=4, n_dis=2, checkpoint_every=0, device=device)
    plain.fit()
    c, _ = _final_state(plain)
    assert any(not torch.equal(a[k], c[k]) for k in a if k.startswith("D/") or k.startswith("d/"))
