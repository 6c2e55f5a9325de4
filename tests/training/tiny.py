"""Tiny generators, discriminators and datasets that follow the shared calling conventions.

Built from library blocks only, small enough for CPU tests of the trainer.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn
from torch.utils.data import Dataset

from vidgan_blocks.blocks import DBlock, DBlock3d, GBlock
from vidgan_blocks.layers import FrameBatchNorm, ProjectionHead, SNConv2d, SNEmbedding, SNLinear
from vidgan_blocks.ops.views import spatial_upsample, temporal_repeat


class TinyGenerator(nn.Module):
    """z (+ class embedding) -> SNLinear -> 4x4 per-frame seed -> GBlock (8x8) -> BN, ReLU, conv, tanh.

    With ``cond_frames=`` (B, 3, C, 8, 8) the mean conditioning frame is added to the
    seed features through a 1x1 projection (a toy encoder); with ``low_res=``
    (B, 3, t, 4, 4) the output has ``t * temporal_factor`` frames and the low-res
    video is added to the seed features.
    """

    def __init__(self, z_dim=8, num_classes=None, ch=8, frames=4, sn=True, temporal_factor=2):
        super().__init__()
        self.z_dim, self.num_classes, self.ch, self.frames = z_dim, num_classes, ch, frames
        self.temporal_factor = temporal_factor
        e = 4 if num_classes is not None else 0
        self.embed = SNEmbedding(num_classes, e, sn=False) if num_classes is not None else None
        cond = z_dim + e
        self.linear = SNLinear(cond, ch * 16, sn=sn)
        self.time = nn.Parameter(torch.randn(ch, frames, 1, 1) * 0.1)
        self.enc = SNConv2d(3, ch, 1, sn=sn)
        self.block = GBlock(ch, ch, cond, upsample=True, sn=sn)
        self.norm = FrameBatchNorm(ch)
        self.out = SNConv2d(ch, 3, 3, padding=1, sn=sn)

    def forward(self, z, y=None, **context):
        b = z.shape[0]
        cond = z if self.embed is None else torch.cat([z, self.embed(y)], dim=1)
        seed = self.linear(cond).view(b, self.ch, 1, 4, 4)
        low = context.get("low_res")
        t = self.frames if low is None else low.shape[2] * self.temporal_factor
        time = self.time if t == self.frames else self.time[:, :1].expand(-1, t, -1, -1)
        h = seed + time  # [B, ch, T, 4, 4]
        if context.get("cond_frames") is not None:
            c = context["cond_frames"].mean(dim=2)  # [B, 3, 8, 8]
            c = nn.functional.avg_pool2d(c, 2)
            h = h + self.enc(c)[:, :, None]
        if low is not None:
            lr = temporal_repeat(low, self.temporal_factor)  # [B, 3, T, 4, 4]
            h = h + rearrange(self.enc(rearrange(lr, "b c t h w -> (b t) c h w")), "(b t) c h w -> b c t h w", b=b)
        h = self.block(h, cond)
        h = torch.relu(self.norm(h))
        x = self.out(rearrange(h, "b c t h w -> (b t) c h w"))
        return torch.tanh(rearrange(x, "(b t) c h w -> b c t h w", b=b))


class TinyDiscriminator(nn.Module):
    """Dict of outputs: per-frame 2D path ("spatial", (B, T)) and a 3D path ("temporal", (B,)).

    Conditioning frames are prepended in time; ``low_res`` (if given) is upsampled
    and scored against the video by a third head ("match", (B,)); other context
    keywords are ignored.
    """

    def __init__(self, num_classes=None, ch=8, sn=True, report_fn=None):
        super().__init__()
        self.b1 = DBlock(3, ch, preactivation=False, sn=sn)
        self.b2 = DBlock(ch, ch, sn=sn)
        self.head_s = ProjectionHead(ch, num_classes, sn=sn)
        self.t1 = DBlock3d(3, ch, preactivation=False, sn=sn)
        self.head_t = ProjectionHead(ch, num_classes, sn=sn)
        self.m1 = DBlock(6, ch, preactivation=False, sn=sn)
        self.head_m = ProjectionHead(ch, None, sn=sn)
        self.report_fn = report_fn

    def forward(self, video, y=None, **context):
        if context.get("cond_frames") is not None:
            video = torch.cat([context["cond_frames"], video], dim=2)
        b, _, t = video.shape[:3]
        h = torch.relu(self.b2(self.b1(video))).sum(dim=(3, 4))  # [B, ch, T]
        hs = rearrange(h, "b c t -> (b t) c")
        ys = None if y is None else y.repeat_interleave(t)
        spatial = self.head_s(hs, ys).view(b, t)
        ht = torch.relu(self.t1(video)).sum(dim=(2, 3, 4))
        out = {"spatial": spatial, "temporal": self.head_t(ht, y)}
        low = context.get("low_res")
        if low is not None:
            f_t = video.shape[2] // low.shape[2]
            up = spatial_upsample(temporal_repeat(low, f_t), video.shape[3] // low.shape[3])
            hm = torch.relu(self.m1(torch.cat([video, up], dim=1))).sum(dim=(2, 3, 4))
            out["match"] = self.head_m(hm)
        if self.report_fn is not None:
            self.report_fn("d/mean_spatial", spatial.detach())
        return out


class TinyVideos(Dataset):
    """Deterministic random clips ``{"video": (3, T, H, W) in [-1, 1], "label": int64}``."""

    def __init__(self, n=16, frames=4, size=8, num_classes=3, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.videos = torch.rand(n, 3, frames, size, size, generator=g) * 2 - 1
        self.labels = torch.randint(num_classes, (n,), generator=g)

    def __len__(self):
        return len(self.videos)

    def __getitem__(self, i):
        return {"video": self.videos[i], "label": self.labels[i]}
